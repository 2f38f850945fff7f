package activities

import (
	"net"
	"net/http"
	"syscall"
	"time"
)

// NewHTTPClient returns the one client every delivery shares: pooled
// connections (webhook traffic goes to few hosts, many times), no proxy from
// the environment, and redirects never followed, since a 3xx from a
// receiver is an answer to log, not an instruction to send elsewhere.
func NewHTTPClient(dial func(network, address string, c syscall.RawConn) error) *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, Control: dial}
	transport := &http.Transport{
		DialContext:           dialer.DialContext,
		MaxIdleConns:          512,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{
		Transport: transport,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
