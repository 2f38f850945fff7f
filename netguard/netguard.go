// Package netguard keeps Hookflow's outbound webhook requests away from the
// network Hookflow itself runs in: loopback, private ranges, link-local
// (including the cloud metadata address), carrier-grade NAT, multicast and
// the other special-purpose ranges, in IPv4 and in every IPv6 form that
// carries an IPv4 address (IPv4-mapped, IPv4-compatible, NAT64, 6to4, Teredo).
//
// It guards twice:
//
//   - at create time, [Policy.CheckURL] refuses a subscriber URL whose shape
//     is wrong or whose host is, or resolves to, a refused address, so the
//     API can answer 400 with a reason in words;
//   - at connect time, [Policy.DialControl] runs as [net.Dialer.Control] and
//     checks the address the socket is about to connect to, after DNS, so a
//     name that resolved to a public address when the subscription was made
//     and to 127.0.0.1 now (DNS rebinding) is still refused.
//
// [Policy.Transport] and [NewHTTPClient] build the HTTP client that delivery
// should use: connect-time guard on, environment proxies off (a proxy would
// connect on Hookflow's behalf and bypass the guard), redirects never
// followed.
package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Resolver looks host names up. *net.Resolver satisfies it; tests inject a
// fake.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Policy says which destinations outbound requests may reach. The zero value
// is the strict policy: every special-purpose address refused, http allowed.
type Policy struct {
	// AllowPrivate lifts every address check (HOOKFLOW_ALLOW_PRIVATE_TARGETS);
	// development and tests set it to deliver to 127.0.0.1. The URL shape
	// checks still apply.
	AllowPrivate bool
	// Allow lists prefixes that are reachable although a check would refuse
	// them (HOOKFLOW_ALLOWED_TARGET_CIDRS), for example an internal receiver
	// at 10.1.2.0/24. An address matches if it, its unmapped IPv4 form, or the
	// IPv4 address an IPv6 form embeds lies in one of them.
	Allow []netip.Prefix
	// RequireHTTPS refuses http:// URLs in CheckURL (HOOKFLOW_REQUIRE_HTTPS).
	RequireHTTPS bool
	// Resolver resolves host names, in CheckURL and, when it is not a
	// *net.Resolver, in the dialer of Transport too, so that both guards see
	// the same answers. Nil means net.DefaultResolver.
	Resolver Resolver
}

// DefaultLookupTimeout bounds the host lookup of CheckURL, which has no
// context of its own. CheckURLContext uses the caller's context instead.
const DefaultLookupTimeout = 5 * time.Second

// Errors returned by CheckURL, CheckURLContext and DialControl, for errors.Is.
// Their messages are sentences meant for the API caller.
var (
	// ErrInvalidURL marks a URL of the wrong shape: not absolute, not http(s),
	// no host, userinfo, bad port, http where https is required.
	ErrInvalidURL = errors.New("invalid url")
	// ErrBlocked marks a destination refused because of its address; the
	// error is a *BlockedError.
	ErrBlocked = errors.New("destination not allowed")
	// ErrLookup marks a host name that could not be resolved; the resolver's
	// error is wrapped too. A caller may treat it as a soft failure, since
	// the connect-time guard checks the address again anyway.
	ErrLookup = errors.New("host lookup failed")
)

// BlockedError says which address was refused and why.
type BlockedError struct {
	// Host is the host name that resolved to Addr, empty for an IP literal
	// and at connect time.
	Host string
	// Addr is the refused address; invalid for a name refused without
	// resolving it (localhost).
	Addr netip.Addr
	// Reason is a phrase such as "a private address".
	Reason string
}

// Error reads like "example.test resolves to 10.0.0.5, a private address".
func (e *BlockedError) Error() string {
	switch {
	case !e.Addr.IsValid():
		return fmt.Sprintf("%s is %s", e.Host, e.Reason)
	case e.Host == "":
		return fmt.Sprintf("%s is %s", e.Addr, e.Reason)
	default:
		return fmt.Sprintf("%s resolves to %s, %s", e.Host, e.Addr, e.Reason)
	}
}

// Is makes errors.Is(err, ErrBlocked) true.
func (e *BlockedError) Is(target error) bool { return target == ErrBlocked }

// ParseAllowList parses a comma-separated list of CIDR prefixes such as
// "10.1.0.0/16, fd00:1::/64". A bare address stands for itself (/32 or
// /128). Empty entries are ignored, so "" gives an empty list.
func ParseAllowList(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for entry := range strings.SplitSeq(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		if !strings.Contains(entry, "/") {
			addr, err := netip.ParseAddr(entry)
			if err != nil {
				return nil, fmt.Errorf("allow-list entry %q is neither a CIDR prefix nor an IP address", entry)
			}
			addr = addr.WithZone("")
			out = append(out, netip.PrefixFrom(addr, addr.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(entry)
		if err != nil {
			return nil, fmt.Errorf("allow-list entry %q is not a CIDR prefix", entry)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// CheckURL is CheckURLContext with a lookup bounded by DefaultLookupTimeout.
// Handlers that have a request context should call CheckURLContext.
func (p Policy) CheckURL(raw string) error {
	ctx, cancel := context.WithTimeout(context.Background(), DefaultLookupTimeout)
	defer cancel()
	return p.CheckURLContext(ctx, raw)
}

// CheckURLContext reports whether raw may be a webhook destination: an
// absolute http or https URL (https only under RequireHTTPS) with a host and
// no userinfo, whose host is an allowed IP address or a name every address
// of which is allowed. localhost and *.localhost are refused without asking
// the resolver. The error wraps ErrInvalidURL, ErrBlocked (as *BlockedError)
// or ErrLookup.
func (p Policy) CheckURLContext(ctx context.Context, raw string) error {
	host, err := p.checkShape(raw)
	if err != nil {
		return err
	}
	if addr, err := netip.ParseAddr(host); err == nil {
		if reason, blocked := p.Blocked(addr); blocked {
			return &BlockedError{Addr: addr, Reason: reason}
		}
		return nil
	}
	name := strings.ToLower(strings.TrimSuffix(host, "."))
	if looksNumeric(name) {
		return fmt.Errorf("%w: host %q looks like an IPv4 address in a non-standard form; write it as a.b.c.d", ErrInvalidURL, host)
	}
	if name == "localhost" || strings.HasSuffix(name, ".localhost") {
		if _, blocked := p.Blocked(netip.AddrFrom4([4]byte{127, 0, 0, 1})); blocked {
			return &BlockedError{Host: host, Reason: "a name for this machine (loopback)"}
		}
		return nil
	}
	if p.AllowPrivate {
		return nil
	}
	addrs, err := p.resolver().LookupNetIP(ctx, "ip", host)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrLookup, host, err)
	}
	if len(addrs) == 0 {
		return fmt.Errorf("%w: %s has no addresses", ErrLookup, host)
	}
	for _, addr := range addrs {
		if reason, blocked := p.Blocked(addr); blocked {
			return &BlockedError{Host: host, Addr: addr, Reason: reason}
		}
	}
	return nil
}

// checkShape validates everything but the address and returns the host.
func (p Policy) checkShape(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("%w: %s", ErrInvalidURL, strings.TrimPrefix(err.Error(), "parse "))
	}
	switch {
	case !u.IsAbs():
		return "", fmt.Errorf("%w: must be absolute, starting with https:// or http://", ErrInvalidURL)
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("%w: scheme %q is not http or https", ErrInvalidURL, u.Scheme)
	case p.RequireHTTPS && u.Scheme != "https":
		return "", fmt.Errorf("%w: must use https", ErrInvalidURL)
	case u.Opaque != "" || u.Hostname() == "":
		return "", fmt.Errorf("%w: has no host", ErrInvalidURL)
	case u.User != nil:
		return "", fmt.Errorf("%w: must not carry a user name or password", ErrInvalidURL)
	}
	if port := u.Port(); port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return "", fmt.Errorf("%w: port %q is not between 1 and 65535", ErrInvalidURL, port)
		}
	}
	return u.Hostname(), nil
}

// looksNumeric reports whether the last label of a host name is a number
// (decimal, octal or 0x-hex), which URL parsers and C resolvers read as an
// IPv4 address in a short or non-decimal form such as 0x7f.1 or 2130706433.
// netip refuses those forms, so they must not reach a resolver as names.
func looksNumeric(name string) bool {
	label := name[strings.LastIndexByte(name, '.')+1:]
	if label == "" {
		return false
	}
	digits := label
	if strings.HasPrefix(label, "0x") {
		digits = label[2:]
		return strings.Trim(digits, "0123456789abcdef") == ""
	}
	return strings.Trim(digits, "0123456789") == ""
}

func (p Policy) resolver() Resolver {
	if p.Resolver == nil {
		return net.DefaultResolver
	}
	return p.Resolver
}

// DialControl is a net.Dialer.Control function: it refuses to connect a
// socket to an address the policy blocks. It sees the address after DNS, so
// it stops DNS rebinding and every other way a name can point inward.
func (p Policy) DialControl(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot check connect address %q of %s: %w", ErrBlocked, address, network, err)
	}
	if reason, blocked := p.Blocked(ap.Addr()); blocked {
		return &BlockedError{Addr: ap.Addr(), Reason: reason}
	}
	return nil
}
