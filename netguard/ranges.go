package netguard

import (
	"fmt"
	"net/netip"
)

// special is one refused range and the words that say why. More specific
// entries come first: the first match gives the reason.
type special struct {
	prefix netip.Prefix
	reason string
}

func mustPrefix(s, reason string) special {
	return special{prefix: netip.MustParsePrefix(s), reason: reason}
}

// specials lists the ranges no webhook may reach: the IANA IPv4 and IPv6
// special-purpose registries, less the few entries that are globally
// reachable on purpose, and less the IPv6 ranges that embed an IPv4 address
// (those are judged by the address they embed, see embeddedIPv4).
var specials = []special{
	// IPv4
	mustPrefix("0.0.0.0/32", "the unspecified address"),
	mustPrefix("0.0.0.0/8", `a "this network" address`),
	mustPrefix("10.0.0.0/8", "a private address"),
	mustPrefix("100.64.0.0/10", "a shared (carrier-grade NAT) address"),
	mustPrefix("127.0.0.0/8", "a loopback address"),
	mustPrefix("169.254.169.254/32", "the cloud metadata address"),
	mustPrefix("169.254.0.0/16", "a link-local address"),
	mustPrefix("172.16.0.0/12", "a private address"),
	mustPrefix("192.0.0.0/24", "an IETF protocol assignment address"),
	mustPrefix("192.0.2.0/24", "a documentation address"),
	mustPrefix("192.88.99.0/24", "a deprecated 6to4 relay address"),
	mustPrefix("192.168.0.0/16", "a private address"),
	mustPrefix("198.18.0.0/15", "a benchmarking address"),
	mustPrefix("198.51.100.0/24", "a documentation address"),
	mustPrefix("203.0.113.0/24", "a documentation address"),
	mustPrefix("224.0.0.0/4", "a multicast address"),
	mustPrefix("255.255.255.255/32", "the broadcast address"),
	mustPrefix("240.0.0.0/4", "a reserved address"),

	// IPv6
	mustPrefix("::/128", "the unspecified address"),
	mustPrefix("::1/128", "a loopback address"),
	mustPrefix("64:ff9b:1::/48", "a local-use NAT64 address"),
	mustPrefix("100::/64", "a discard-only address"),
	mustPrefix("2001:2::/48", "a benchmarking address"),
	mustPrefix("2001:10::/28", "a deprecated ORCHID address"),
	mustPrefix("2001:db8::/32", "a documentation address"),
	mustPrefix("3fff::/20", "a documentation address"),
	mustPrefix("fd00:ec2::254/128", "the cloud metadata address"),
	mustPrefix("fc00::/7", "a private (unique local) address"),
	mustPrefix("fe80::/10", "a link-local address"),
	mustPrefix("fec0::/10", "a deprecated site-local address"),
	mustPrefix("ff00::/8", "a multicast address"),
}

// IPv6 ranges whose addresses carry an IPv4 address.
var (
	ipv4Compatible = netip.MustParsePrefix("::/96")        // deprecated, RFC 4291
	nat64          = netip.MustParsePrefix("64:ff9b::/96") // RFC 6052
	sixToFour      = netip.MustParsePrefix("2002::/16")    // RFC 3056
	teredo         = netip.MustParsePrefix("2001::/32")    // RFC 4380
)

// embeddedIPv4 returns the IPv4 address an IPv6 address carries and the
// name of the form, for the forms other than IPv4-mapped (which Unmap
// handles).
func embeddedIPv4(a netip.Addr) (netip.Addr, string, bool) {
	if !a.Is6() || a.Is4In6() {
		return netip.Addr{}, "", false
	}
	b := a.As16()
	switch {
	case nat64.Contains(a):
		return netip.AddrFrom4([4]byte(b[12:16])), "a NAT64", true
	case ipv4Compatible.Contains(a):
		return netip.AddrFrom4([4]byte(b[12:16])), "an IPv4-compatible", true
	case sixToFour.Contains(a):
		return netip.AddrFrom4([4]byte(b[2:6])), "a 6to4", true
	case teredo.Contains(a):
		// The client's public IPv4 address, stored with every bit flipped.
		return netip.AddrFrom4([4]byte{^b[12], ^b[13], ^b[14], ^b[15]}), "a Teredo", true
	}
	return netip.Addr{}, "", false
}

// Blocked reports whether the policy refuses addr, and why in a phrase such
// as "a private address". AllowPrivate lifts every check; an Allow prefix
// containing the address (or its IPv4 form) lifts the checks for it. An
// invalid address is always refused.
func (p Policy) Blocked(addr netip.Addr) (reason string, blocked bool) {
	if !addr.IsValid() {
		return "not a valid IP address", true
	}
	if p.AllowPrivate {
		return "", false
	}
	addr = addr.WithZone("") // prefixes never contain an address with a zone
	if p.allowListed(addr) {
		return "", false
	}
	return classify(addr)
}

func (p Policy) allowListed(addr netip.Addr) bool {
	candidates := []netip.Addr{addr, addr.Unmap()}
	if v4, _, ok := embeddedIPv4(addr); ok {
		candidates = append(candidates, v4)
	}
	for _, prefix := range p.Allow {
		for _, c := range candidates {
			if prefix.Contains(c) {
				return true
			}
		}
	}
	return false
}

// classify applies the strict checks, without the policy's exceptions.
func classify(addr netip.Addr) (string, bool) {
	if addr.Is4In6() {
		v4 := addr.Unmap()
		if reason, blocked := classify(v4); blocked {
			return fmt.Sprintf("an IPv4-mapped form of %s, %s", v4, reason), true
		}
		return "", false
	}
	for _, s := range specials {
		if s.prefix.Contains(addr) {
			return s.reason, true
		}
	}
	if v4, form, ok := embeddedIPv4(addr); ok {
		if reason, blocked := classify(v4); blocked {
			return fmt.Sprintf("%s form of %s, %s", form, v4, reason), true
		}
		if form == "an IPv4-compatible" {
			// Deprecated since 2006 and routed nowhere; nothing legitimate
			// lives there.
			return "a deprecated IPv4-compatible address", true
		}
	}
	return "", false
}
