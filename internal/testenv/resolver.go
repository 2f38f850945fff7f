package testenv

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"sync"
)

// Resolver answers host name lookups from a table, for the outbound guard
// (config.Config.TargetResolver), so a test can point a name at 127.0.0.1,
// or at a public address first and at 127.0.0.1 after (DNS rebinding),
// without touching the machine's DNS.
type Resolver struct {
	mu      sync.Mutex
	answers map[string][][]netip.Addr
	asked   map[string]int
}

// NewResolver returns a resolver that knows no name.
func NewResolver() *Resolver {
	return &Resolver{answers: map[string][][]netip.Addr{}, asked: map[string]int{}}
}

// Set makes host resolve to addrs on every lookup.
func (r *Resolver) Set(host string, addrs ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answers[strings.ToLower(host)] = [][]netip.Addr{parse(addrs)}
}

// Rebind makes host resolve to first on the first lookup and to then on
// every later one.
func (r *Resolver) Rebind(host, first, then string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answers[strings.ToLower(host)] = [][]netip.Addr{parse([]string{first}), parse([]string{then})}
}

// Lookups is how many times host was looked up.
func (r *Resolver) Lookups(host string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.asked[strings.ToLower(host)]
}

func parse(ss []string) []netip.Addr {
	out := make([]netip.Addr, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParseAddr(s)
	}
	return out
}

// LookupNetIP implements netguard.Resolver. An unknown name is "no such
// host", as DNS says it.
func (r *Resolver) LookupNetIP(_ context.Context, network, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	r.asked[host]++
	answers, ok := r.answers[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	addrs := answers[0]
	if len(answers) > 1 {
		r.answers[host] = answers[1:]
	}
	var out []netip.Addr
	for _, a := range addrs {
		if network == "ip" || (network == "ip4") == a.Unmap().Is4() {
			out = append(out, a)
		}
	}
	return out, nil
}
