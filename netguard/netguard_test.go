package netguard_test

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/netguard"
)

// fakeResolver answers from a map and records what it was asked. A host
// with several answers in turn (rebinding) gets the next one on each call,
// the last one forever after.
type fakeResolver struct {
	mu      sync.Mutex
	answers map[string][][]netip.Addr
	asked   []string
}

func newFakeResolver() *fakeResolver {
	return &fakeResolver{answers: map[string][][]netip.Addr{}}
}

// set makes host resolve to addrs on every call.
func (r *fakeResolver) set(host string, addrs ...string) *fakeResolver {
	r.answers[host] = [][]netip.Addr{parseAddrs(addrs)}
	return r
}

// rebind makes host resolve to first on the first call and to then after.
func (r *fakeResolver) rebind(host, first, then string) *fakeResolver {
	r.answers[host] = [][]netip.Addr{parseAddrs([]string{first}), parseAddrs([]string{then})}
	return r
}

func parseAddrs(ss []string) []netip.Addr {
	out := make([]netip.Addr, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParseAddr(s)
	}
	return out
}

var errNoSuchHost = errors.New("no such host")

func (r *fakeResolver) LookupNetIP(_ context.Context, network, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.asked = append(r.asked, host)
	host = strings.ToLower(host) // as DNS does
	answers, ok := r.answers[host]
	if !ok {
		return nil, errNoSuchHost
	}
	addrs := answers[0]
	if len(answers) > 1 {
		r.answers[host] = answers[1:]
	}
	var out []netip.Addr
	for _, a := range addrs {
		if network == "ip" || (network == "ip4") == a.Is4() {
			out = append(out, a)
		}
	}
	return out, nil
}

func (r *fakeResolver) questions() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.asked...)
}

// refused lists one address of every refused family, the words its reason
// must contain, and a name for the test.
var refused = []struct {
	name, addr, reason string
}{
	{"IPv4 loopback", "127.0.0.1", "a loopback address"},
	{"IPv4 loopback, far end of 127/8", "127.255.255.254", "a loopback address"},
	{"IPv6 loopback", "::1", "a loopback address"},
	{"private 10/8", "10.0.0.5", "a private address"},
	{"private 172.16/12", "172.31.255.1", "a private address"},
	{"private 192.168/16", "192.168.1.1", "a private address"},
	{"IPv6 unique local", "fd12:3456::1", "a private (unique local) address"},
	{"IPv6 unique local, fc half", "fc00::1", "a private (unique local) address"},
	{"link-local", "169.254.10.20", "a link-local address"},
	{"cloud metadata", "169.254.169.254", "the cloud metadata address"},
	{"IPv6 cloud metadata", "fd00:ec2::254", "the cloud metadata address"},
	{"IPv6 link-local", "fe80::1", "a link-local address"},
	{"IPv6 link-local with zone", "fe80::1%eth0", "a link-local address"},
	{"IPv6 site-local", "fec0::1", "a deprecated site-local address"},
	{"carrier-grade NAT", "100.64.0.1", "a shared (carrier-grade NAT) address"},
	{"carrier-grade NAT, top", "100.127.255.254", "a shared (carrier-grade NAT) address"},
	{"IPv4 multicast", "224.0.0.251", "a multicast address"},
	{"IPv4 multicast, top", "239.255.255.250", "a multicast address"},
	{"IPv6 multicast", "ff02::1", "a multicast address"},
	{"IPv4 unspecified", "0.0.0.0", "the unspecified address"},
	{"IPv6 unspecified", "::", "the unspecified address"},
	{"this network 0/8", "0.1.2.3", `a "this network" address`},
	{"broadcast", "255.255.255.255", "the broadcast address"},
	{"reserved 240/4", "240.0.0.1", "a reserved address"},
	{"benchmarking", "198.18.0.1", "a benchmarking address"},
	{"benchmarking, second /16", "198.19.255.1", "a benchmarking address"},
	{"IPv6 benchmarking", "2001:2::1", "a benchmarking address"},
	{"TEST-NET-1", "192.0.2.1", "a documentation address"},
	{"TEST-NET-2", "198.51.100.7", "a documentation address"},
	{"TEST-NET-3", "203.0.113.9", "a documentation address"},
	{"IPv6 documentation", "2001:db8::1", "a documentation address"},
	{"IPv6 documentation 3fff::/20", "3fff::1", "a documentation address"},
	{"IETF protocol assignments", "192.0.0.8", "an IETF protocol assignment address"},
	{"6to4 relay anycast", "192.88.99.1", "a deprecated 6to4 relay address"},
	{"IPv6 discard-only", "100::1", "a discard-only address"},
	{"local-use NAT64", "64:ff9b:1::a00:5", "a local-use NAT64 address"},
	{"IPv4-mapped loopback", "::ffff:127.0.0.1", "an IPv4-mapped form of 127.0.0.1, a loopback address"},
	{"IPv4-mapped private", "::ffff:10.0.0.5", "an IPv4-mapped form of 10.0.0.5, a private address"},
	{"IPv4-mapped metadata", "::ffff:169.254.169.254", "an IPv4-mapped form of 169.254.169.254, the cloud metadata address"},
	{"IPv4-compatible loopback", "::127.0.0.1", "an IPv4-compatible form of 127.0.0.1, a loopback address"},
	{"IPv4-compatible public", "::8.8.8.8", "a deprecated IPv4-compatible address"},
	{"NAT64 loopback", "64:ff9b::127.0.0.1", "a NAT64 form of 127.0.0.1, a loopback address"},
	{"NAT64 metadata", "64:ff9b::a9fe:a9fe", "a NAT64 form of 169.254.169.254, the cloud metadata address"},
	{"6to4 private", "2002:c0a8:0101::1", "a 6to4 form of 192.168.1.1, a private address"},
	{"Teredo loopback client", "2001:0:4136:e378:8000:63bf:80ff:fffe", "a Teredo form of 127.0.0.1, a loopback address"},
}

// allowed lists public addresses, in every form, that the strict policy
// lets through.
var allowed = []string{
	"93.184.216.34",
	"8.8.8.8",
	"1.1.1.1",
	"100.128.0.1",   // just above 100.64/10
	"172.32.0.1",    // just above 172.16/12
	"192.169.0.1",   // just above 192.168/16
	"198.20.0.1",    // just above 198.18/15
	"223.255.255.1", // just below multicast
	"::ffff:8.8.8.8",
	"64:ff9b::808:808", // NAT64 of a public address
	"2002:808:808::1",  // 6to4 of a public address
	"2606:4700:4700::1111",
	"2a00:1450:4001:800::200e",
}

func TestBlockedRefusesEverySpecialFamily(t *testing.T) {
	var strict netguard.Policy
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			reason, blocked := strict.Blocked(netip.MustParseAddr(tc.addr))
			require.True(t, blocked)
			require.Equal(t, tc.reason, reason)
		})
	}
}

func TestBlockedLetsPublicAddressesThrough(t *testing.T) {
	var strict netguard.Policy
	for _, addr := range allowed {
		reason, blocked := strict.Blocked(netip.MustParseAddr(addr))
		require.False(t, blocked, "%s refused as %s", addr, reason)
	}
}

func TestBlockedRefusesTheZeroAddressEvenWhenPrivateIsAllowed(t *testing.T) {
	_, blocked := netguard.Policy{AllowPrivate: true}.Blocked(netip.Addr{})
	require.True(t, blocked)
}

func TestAllowPrivateLiftsEveryCheck(t *testing.T) {
	open := netguard.Policy{AllowPrivate: true}
	for _, tc := range refused {
		_, blocked := open.Blocked(netip.MustParseAddr(tc.addr))
		require.False(t, blocked, tc.name)
	}
}

func TestAllowListLiftsOnlyItsPrefixes(t *testing.T) {
	allow, err := netguard.ParseAllowList("10.1.0.0/16, 127.0.0.1, fd00:1::/32")
	require.NoError(t, err)
	p := netguard.Policy{Allow: allow}

	for _, addr := range []string{
		"10.1.2.3",
		"::ffff:10.1.2.3",  // mapped form of a listed address
		"64:ff9b::a01:203", // NAT64 form of 10.1.2.3
		"127.0.0.1",        // listed as a bare address
		"fd00:1:2::5",      // IPv6 prefix
		"fd00:1::9%eth0",   // a zone does not hide it
	} {
		_, blocked := p.Blocked(netip.MustParseAddr(addr))
		require.False(t, blocked, addr)
	}
	for _, addr := range []string{"10.2.0.1", "127.0.0.2", "::1", "169.254.169.254", "fd00:2::1"} {
		_, blocked := p.Blocked(netip.MustParseAddr(addr))
		require.True(t, blocked, addr)
	}
}

func TestParseAllowList(t *testing.T) {
	got, err := netguard.ParseAllowList(" 10.1.2.3/8 ,, 192.168.5.5 ,fd00::/8,")
	require.NoError(t, err)
	require.Equal(t, []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"), // masked
		netip.MustParsePrefix("192.168.5.5/32"),
		netip.MustParsePrefix("fd00::/8"),
	}, got)

	got, err = netguard.ParseAllowList("")
	require.NoError(t, err)
	require.Empty(t, got)

	for _, bad := range []string{"10.0.0.0/33", "not-an-ip", "10.0.0.0/8,300.1.1.1", "10.0.0.0/"} {
		_, err := netguard.ParseAllowList(bad)
		require.Error(t, err, bad)
	}
	_, err = netguard.ParseAllowList("10.0.0.0/8,nope")
	require.ErrorContains(t, err, `"nope"`)
}

func TestCheckURLRefusesIPLiteralsOfEveryFamily(t *testing.T) {
	var strict netguard.Policy
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			host := tc.addr
			if strings.Contains(host, ":") {
				host = "[" + strings.Replace(host, "%", "%25", 1) + "]"
			}
			err := strict.CheckURL("http://" + host + ":8080/hook")
			require.ErrorIs(t, err, netguard.ErrBlocked)
			var be *netguard.BlockedError
			require.ErrorAs(t, err, &be)
			require.Equal(t, tc.reason, be.Reason)
			require.Empty(t, be.Host)
			require.Contains(t, err.Error(), "is "+tc.reason)
		})
	}
}

func TestCheckURLRefusesNamesThatResolveToEveryFamily(t *testing.T) {
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			r := newFakeResolver().set("hooks.example.test", tc.addr)
			err := netguard.Policy{Resolver: r}.CheckURL("https://hooks.example.test/in")
			require.ErrorIs(t, err, netguard.ErrBlocked)
			want := "hooks.example.test resolves to " + netip.MustParseAddr(tc.addr).String() + ", " + tc.reason
			require.Equal(t, want, err.Error())
			require.Equal(t, []string{"hooks.example.test"}, r.questions())
		})
	}
}

func TestCheckURLRefusesANameIfAnyAddressIsRefused(t *testing.T) {
	r := newFakeResolver().set("mixed.example.test", "93.184.216.34", "2606:4700::1", "10.0.0.5")
	err := netguard.Policy{Resolver: r}.CheckURL("https://mixed.example.test/")
	require.EqualError(t, err, "mixed.example.test resolves to 10.0.0.5, a private address")
}

func TestCheckURLAcceptsPublicDestinations(t *testing.T) {
	r := newFakeResolver().set("hooks.example.test", "93.184.216.34", "2606:4700::1")
	p := netguard.Policy{Resolver: r}
	for _, raw := range []string{
		"https://hooks.example.test/in?x=1",
		"http://hooks.example.test:8443/",
		"HTTPS://HOOKS.EXAMPLE.TEST/upper",
		"https://93.184.216.34/",
		"https://[2606:4700:4700::1111]:443/",
		"https://[::ffff:8.8.8.8]/",
	} {
		require.NoError(t, p.CheckURL(raw), raw)
	}
}

func TestCheckURLRefusesLocalhostWithoutResolving(t *testing.T) {
	r := newFakeResolver().set("localhost", "93.184.216.34").set("api.localhost", "93.184.216.34")
	p := netguard.Policy{Resolver: r}
	for _, raw := range []string{
		"http://localhost/",
		"http://LOCALHOST:8080/",
		"http://localhost./",
		"http://api.localhost/hook",
	} {
		err := p.CheckURL(raw)
		require.ErrorIs(t, err, netguard.ErrBlocked, raw)
		require.Contains(t, err.Error(), "is a name for this machine (loopback)")
	}
	require.Empty(t, r.questions())

	require.NoError(t, netguard.Policy{AllowPrivate: true, Resolver: r}.CheckURL("http://localhost:8080/"))
	loopbackListed := netguard.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, Resolver: r}
	require.NoError(t, loopbackListed.CheckURL("http://localhost:8080/"))
	require.Empty(t, r.questions())
}

func TestCheckURLRefusesNonStandardIPv4Forms(t *testing.T) {
	r := newFakeResolver()
	p := netguard.Policy{Resolver: r}
	for _, raw := range []string{
		"http://0x7f.1/",
		"http://0x7f000001/",
		"http://2130706433/",
		"http://017700000001/",
		"http://127.1/",
		"http://127.000.000.001/",
		"http://10.0.0.5./",
	} {
		err := p.CheckURL(raw)
		require.ErrorIs(t, err, netguard.ErrInvalidURL, raw)
		require.Contains(t, err.Error(), "non-standard form")
	}
	require.Empty(t, r.questions())
}

func TestCheckURLRefusesBadShapes(t *testing.T) {
	r := newFakeResolver().set("example.test", "93.184.216.34")
	p := netguard.Policy{Resolver: r}
	cases := map[string]string{
		"":                                "must be absolute",
		"/relative/path":                  "must be absolute",
		"example.test/hook":               "must be absolute",
		"ftp://example.test/":             `scheme "ftp" is not http or https`,
		"javascript:alert(1)":             `scheme "javascript" is not http or https`,
		"http:example.test":               "has no host",
		"http:///path":                    "has no host",
		"https://user:pass@example.test/": "must not carry a user name or password",
		"https://token@example.test/":     "must not carry a user name or password",
		"https://example.test:0/":         `port "0" is not between 1 and 65535`,
		"https://example.test:70000/":     `port "70000" is not between 1 and 65535`,
		"https://example.test:port/":      "invalid url",
		"https://exa mple.test/":          "invalid url",
		"https://[::1/":                   "invalid url",
	}
	for raw, want := range cases {
		err := p.CheckURL(raw)
		require.ErrorIs(t, err, netguard.ErrInvalidURL, raw)
		require.ErrorContains(t, err, want, raw)
	}
	require.Empty(t, r.questions())
}

func TestCheckURLRequireHTTPS(t *testing.T) {
	r := newFakeResolver().set("example.test", "93.184.216.34")
	p := netguard.Policy{RequireHTTPS: true, Resolver: r}
	err := p.CheckURL("http://example.test/")
	require.ErrorIs(t, err, netguard.ErrInvalidURL)
	require.EqualError(t, err, "invalid url: must use https")
	require.NoError(t, p.CheckURL("https://example.test/"))

	// AllowPrivate does not lift the scheme rule.
	p.AllowPrivate = true
	require.ErrorIs(t, p.CheckURL("http://127.0.0.1/"), netguard.ErrInvalidURL)
}

func TestCheckURLReportsLookupFailures(t *testing.T) {
	r := newFakeResolver().set("empty.example.test")
	p := netguard.Policy{Resolver: r}

	err := p.CheckURL("https://nowhere.example.test/")
	require.ErrorIs(t, err, netguard.ErrLookup)
	require.ErrorIs(t, err, errNoSuchHost)
	require.NotErrorIs(t, err, netguard.ErrBlocked)

	require.ErrorIs(t, p.CheckURL("https://empty.example.test/"), netguard.ErrLookup)
}

func TestCheckURLWithAllowSwitches(t *testing.T) {
	r := newFakeResolver().set("internal.example.test", "10.1.2.3").set("other.example.test", "10.9.9.9")

	open := netguard.Policy{AllowPrivate: true, Resolver: r}
	require.NoError(t, open.CheckURL("http://internal.example.test/"))
	require.NoError(t, open.CheckURL("http://127.0.0.1:9000/"))
	require.NoError(t, open.CheckURL("http://[::ffff:169.254.169.254]/"))

	listed := netguard.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}, Resolver: r}
	require.NoError(t, listed.CheckURL("http://internal.example.test/"))
	require.NoError(t, listed.CheckURL("http://[::ffff:10.1.0.1]/"))
	require.ErrorIs(t, listed.CheckURL("http://other.example.test/"), netguard.ErrBlocked)
	require.ErrorIs(t, listed.CheckURL("http://127.0.0.1/"), netguard.ErrBlocked)
}

func TestDialControlChecksTheConnectAddress(t *testing.T) {
	var strict netguard.Policy
	for _, address := range []string{"127.0.0.1:80", "[::1]:443", "[::ffff:127.0.0.1]:80", "169.254.169.254:80", "[fe80::1%eth0]:80"} {
		err := strict.DialControl("tcp", address, nil)
		require.ErrorIs(t, err, netguard.ErrBlocked, address)
	}
	require.EqualError(t, strict.DialControl("tcp4", "10.0.0.5:443", nil), "10.0.0.5 is a private address")
	require.ErrorIs(t, strict.DialControl("tcp", "not-an-address", nil), netguard.ErrBlocked)
	require.NoError(t, strict.DialControl("tcp4", "93.184.216.34:443", nil))
	require.NoError(t, strict.DialControl("tcp6", "[2606:4700::1]:443", nil))

	require.NoError(t, netguard.Policy{AllowPrivate: true}.DialControl("tcp4", "127.0.0.1:80", nil))
}
