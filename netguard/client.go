package netguard

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"time"
)

// ClientOptions tunes the client NewHTTPClient builds. The zero value gives
// the defaults below.
type ClientOptions struct {
	// DialTimeout bounds one TCP connect. Defaults to 10 seconds.
	DialTimeout time.Duration
	// TLSHandshakeTimeout bounds the TLS handshake. Defaults to 10 seconds.
	TLSHandshakeTimeout time.Duration
	// MaxIdleConnsPerHost is how many idle connections are kept per
	// subscriber host; a busy subscriber receives many deliveries in a row.
	// Defaults to 16.
	MaxIdleConnsPerHost int
	// MaxIdleConns caps idle connections over all hosts. Defaults to 256.
	MaxIdleConns int
	// IdleConnTimeout closes a connection idle this long. Defaults to 90 s.
	IdleConnTimeout time.Duration
	// MaxResponseHeaderBytes caps the status line and headers of a
	// response; a receiver sending more fails the request instead of
	// filling memory. Defaults to 64 KiB.
	MaxResponseHeaderBytes int64
	// TLSClientConfig is used as given (cloned) when set; otherwise TLS 1.2
	// or later with the system roots.
	TLSClientConfig *tls.Config
}

func (o ClientOptions) withDefaults() ClientOptions {
	if o.DialTimeout <= 0 {
		o.DialTimeout = 10 * time.Second
	}
	if o.TLSHandshakeTimeout <= 0 {
		o.TLSHandshakeTimeout = 10 * time.Second
	}
	if o.MaxIdleConnsPerHost <= 0 {
		o.MaxIdleConnsPerHost = 16
	}
	if o.MaxIdleConns <= 0 {
		o.MaxIdleConns = 256
	}
	if o.IdleConnTimeout <= 0 {
		o.IdleConnTimeout = 90 * time.Second
	}
	if o.MaxResponseHeaderBytes <= 0 {
		o.MaxResponseHeaderBytes = 64 << 10
	}
	return o
}

// NewHTTPClient returns the client webhook deliveries should use: the
// transport of TransportWith, redirects never followed (the 3xx response is
// returned as it is, and counts as a failed attempt), and no overall
// timeout, since each attempt runs under its own context deadline.
func NewHTTPClient(p Policy, opts ClientOptions) *http.Client {
	return &http.Client{
		Transport:     p.TransportWith(opts),
		CheckRedirect: NoRedirects,
	}
}

// NoRedirects is an http.Client.CheckRedirect that returns every redirect
// response to the caller instead of following it. A followed redirect would
// send the signed payload to a URL nobody checked.
func NoRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// Transport is TransportWith with the default options.
func (p Policy) Transport() *http.Transport { return p.TransportWith(ClientOptions{}) }

// TransportWith returns a pooled transport whose every connection passes
// DialControl. Proxies from the environment are off: a proxy would make the
// connection on Hookflow's behalf, out of the guard's sight. Response
// headers have no timeout of their own; the caller's context bounds the
// attempt.
func (p Policy) TransportWith(opts ClientOptions) *http.Transport {
	opts = opts.withDefaults()
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	if opts.TLSClientConfig != nil {
		tlsConfig = opts.TLSClientConfig.Clone()
	}
	return &http.Transport{
		Proxy:                  nil,
		DialContext:            p.dialContext(opts.DialTimeout),
		ForceAttemptHTTP2:      true,
		TLSClientConfig:        tlsConfig,
		TLSHandshakeTimeout:    opts.TLSHandshakeTimeout,
		MaxIdleConns:           opts.MaxIdleConns,
		MaxIdleConnsPerHost:    opts.MaxIdleConnsPerHost,
		IdleConnTimeout:        opts.IdleConnTimeout,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: opts.MaxResponseHeaderBytes,
	}
}

// Dialer returns a net.Dialer whose Control is DialControl. When the
// policy's Resolver is a *net.Resolver the dialer uses it.
func (p Policy) Dialer(timeout time.Duration) *net.Dialer {
	d := &net.Dialer{
		Timeout:   timeout,
		KeepAlive: 30 * time.Second,
		Control:   p.DialControl,
	}
	if r, ok := p.Resolver.(*net.Resolver); ok {
		d.Resolver = r
	}
	return d
}

// dialContext dials through Dialer. A Resolver that is not a *net.Resolver
// cannot be handed to net.Dialer, so the name is resolved here and each
// address tried in turn; DialControl checks each one all the same.
func (p Policy) dialContext(timeout time.Duration) func(ctx context.Context, network, address string) (net.Conn, error) {
	d := p.Dialer(timeout)
	if _, std := p.Resolver.(*net.Resolver); p.Resolver == nil || std {
		return d.DialContext
	}
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(address)
		if err != nil {
			return nil, err
		}
		if _, err := netip.ParseAddr(host); err == nil {
			return d.DialContext(ctx, network, address)
		}
		lookupNetwork := "ip"
		switch network {
		case "tcp4":
			lookupNetwork = "ip4"
		case "tcp6":
			lookupNetwork = "ip6"
		}
		addrs, err := p.Resolver.LookupNetIP(ctx, lookupNetwork, host)
		if err != nil {
			return nil, &net.OpError{Op: "dial", Net: network, Err: fmt.Errorf("%w: %s: %w", ErrLookup, host, err)}
		}
		if len(addrs) == 0 {
			return nil, &net.OpError{Op: "dial", Net: network, Err: fmt.Errorf("%w: %s has no addresses", ErrLookup, host)}
		}
		var errs []error
		for _, addr := range addrs {
			conn, err := d.DialContext(ctx, network, net.JoinHostPort(addr.String(), port))
			if err == nil {
				return conn, nil
			}
			errs = append(errs, err)
			if ctx.Err() != nil {
				break
			}
		}
		if len(errs) == 1 {
			return nil, errs[0]
		}
		return nil, errors.Join(errs...)
	}
}
