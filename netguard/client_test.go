package netguard_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/netguard"
)

// receiver is a subscriber on 127.0.0.1 that counts the requests it gets,
// so a test can tell a refused connection from a delivered one.
type receiver struct {
	*httptest.Server
	hits atomic.Int32
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	r := &receiver{}
	mux := http.NewServeMux()
	mux.HandleFunc("/hook", func(w http.ResponseWriter, _ *http.Request) {
		r.hits.Add(1)
		_, _ = io.WriteString(w, "ok")
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, req *http.Request) {
		r.hits.Add(1)
		http.Redirect(w, req, "/hook", http.StatusFound)
	})
	r.Server = httptest.NewServer(mux)
	t.Cleanup(r.Close)
	return r
}

// port returns the receiver's port.
func (r *receiver) port(t *testing.T) string {
	t.Helper()
	u, err := url.Parse(r.URL)
	require.NoError(t, err)
	return u.Port()
}

func post(t *testing.T, c *http.Client, target string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, target, nil)
	require.NoError(t, err)
	resp, err := c.Do(req)
	if err == nil {
		t.Cleanup(func() { _ = resp.Body.Close() })
	}
	return resp, err
}

func TestClientRefusesLoopbackAtConnectTime(t *testing.T) {
	rcv := newReceiver(t)
	c := netguard.NewHTTPClient(netguard.Policy{}, netguard.ClientOptions{})

	_, err := post(t, c, rcv.URL+"/hook")
	require.ErrorIs(t, err, netguard.ErrBlocked)
	require.ErrorContains(t, err, "127.0.0.1 is a loopback address")

	// localhost through the system resolver: refused at connect time even
	// though nothing called CheckURL.
	_, err = post(t, c, "http://localhost:"+rcv.port(t)+"/hook")
	require.ErrorIs(t, err, netguard.ErrBlocked)

	require.Zero(t, rcv.hits.Load())
}

func TestClientRefusesDNSRebindingAtConnectTime(t *testing.T) {
	rcv := newReceiver(t)
	r := newFakeResolver().rebind("hooks.rebind.test", "93.184.216.34", "127.0.0.1")
	p := netguard.Policy{Resolver: r}
	target := "http://hooks.rebind.test:" + rcv.port(t) + "/hook"

	// When the subscription is made the name points at a public address...
	require.NoError(t, p.CheckURL(target))
	// ...and by delivery time at loopback.
	_, err := post(t, netguard.NewHTTPClient(p, netguard.ClientOptions{}), target)
	require.ErrorIs(t, err, netguard.ErrBlocked)
	require.ErrorContains(t, err, "127.0.0.1 is a loopback address")
	require.Zero(t, rcv.hits.Load())
	require.Equal(t, []string{"hooks.rebind.test", "hooks.rebind.test"}, r.questions())
}

func TestClientDeliversWhenTheAllowSwitchesPermit(t *testing.T) {
	loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	other := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	cases := []struct {
		name      string
		policy    netguard.Policy
		delivered bool
	}{
		{"strict", netguard.Policy{}, false},
		{"allow private", netguard.Policy{AllowPrivate: true}, true},
		{"allow-list containing 127.0.0.1", netguard.Policy{Allow: loopback}, true},
		{"allow-list not containing 127.0.0.1", netguard.Policy{Allow: other}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rcv := newReceiver(t)
			r := newFakeResolver().set("hooks.rebind.test", "127.0.0.1")
			tc.policy.Resolver = r
			c := netguard.NewHTTPClient(tc.policy, netguard.ClientOptions{})
			for _, target := range []string{
				rcv.URL + "/hook", // IP literal
				"http://hooks.rebind.test:" + rcv.port(t) + "/hook", // name
			} {
				resp, err := post(t, c, target)
				if !tc.delivered {
					require.ErrorIs(t, err, netguard.ErrBlocked, target)
					continue
				}
				require.NoError(t, err, target)
				require.Equal(t, http.StatusOK, resp.StatusCode)
			}
			want := int32(0)
			if tc.delivered {
				want = 2
			}
			require.Equal(t, want, rcv.hits.Load())
		})
	}
}

func TestClientDoesNotFollowRedirects(t *testing.T) {
	rcv := newReceiver(t)
	c := netguard.NewHTTPClient(netguard.Policy{AllowPrivate: true}, netguard.ClientOptions{})
	resp, err := post(t, c, rcv.URL+"/moved")
	require.NoError(t, err)
	require.Equal(t, http.StatusFound, resp.StatusCode)
	require.Equal(t, "/hook", resp.Header.Get("Location"))
	require.Equal(t, int32(1), rcv.hits.Load(), "the redirect target must not be requested")
}

func TestTransportIgnoresEnvironmentProxies(t *testing.T) {
	tr := netguard.Policy{}.Transport()
	require.Nil(t, tr.Proxy)
	require.NotNil(t, tr.DialContext)
	require.Equal(t, 16, tr.MaxIdleConnsPerHost)
	require.NotZero(t, tr.TLSHandshakeTimeout)
	require.Zero(t, tr.ResponseHeaderTimeout)
	require.Equal(t, int64(64<<10), tr.MaxResponseHeaderBytes, "a receiver's headers are capped")

	tr = netguard.Policy{}.TransportWith(netguard.ClientOptions{MaxIdleConnsPerHost: 4})
	require.Equal(t, 4, tr.MaxIdleConnsPerHost)
}
