package e2e

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/hookflow/hookflow/activities"
	"github.com/hookflow/hookflow/app"
	"github.com/hookflow/hookflow/codec"
	"github.com/hookflow/hookflow/config"
	"github.com/hookflow/hookflow/internal/leakcheck"
	"github.com/hookflow/hookflow/internal/testenv"
	"github.com/hookflow/hookflow/store"
)

type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Details []struct {
			Field   string `json:"field"`
			Message string `json:"message"`
		} `json:"details"`
	} `json:"error"`
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return hex.EncodeToString(b)
}

func randomKey(t *testing.T) string {
	t.Helper()
	b := make([]byte, 32)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return base64.StdEncoding.EncodeToString(b)
}

// hostPort is the host:port of an httptest server's URL.
func hostPort(t *testing.T, serverURL string) (host, port string) {
	t.Helper()
	u, err := url.Parse(serverURL)
	require.NoError(t, err)
	return u.Hostname(), u.Port()
}

// urlFor builds an http URL for an address or a name, bracketing IPv6.
func urlFor(host, port, path string) string {
	return "http://" + net.JoinHostPort(host, port) + path
}

// refusedTargets has one address of every family the outbound guard
// refuses, and the reason the API must give for it.
var refusedTargets = []struct {
	name, addr, reason string
}{
	{"IPv4 loopback", "127.0.0.1", "a loopback address"},
	{"IPv6 loopback", "::1", "a loopback address"},
	{"private 10/8", "10.0.0.5", "a private address"},
	{"private 172.16/12", "172.16.0.1", "a private address"},
	{"private 192.168/16", "192.168.1.1", "a private address"},
	{"IPv6 unique local fc00::/7", "fd12:3456::1", "a private (unique local) address"},
	{"IPv4 link-local", "169.254.10.20", "a link-local address"},
	{"cloud metadata", "169.254.169.254", "the cloud metadata address"},
	{"IPv6 cloud metadata", "fd00:ec2::254", "the cloud metadata address"},
	{"IPv6 link-local", "fe80::1", "a link-local address"},
	{"carrier-grade NAT", "100.64.0.1", "a shared (carrier-grade NAT) address"},
	{"IPv4 multicast", "224.0.0.251", "a multicast address"},
	{"IPv6 multicast", "ff02::1", "a multicast address"},
	{"IPv4 unspecified", "0.0.0.0", "the unspecified address"},
	{"IPv6 unspecified", "::", "the unspecified address"},
	{"IPv4-mapped loopback", "::ffff:127.0.0.1", "an IPv4-mapped form of 127.0.0.1, a loopback address"},
	{"IPv4-mapped private", "::ffff:10.0.0.5", "an IPv4-mapped form of 10.0.0.5, a private address"},
	{"IPv4-mapped metadata", "::ffff:169.254.169.254", "an IPv4-mapped form of 169.254.169.254, the cloud metadata address"},
	{"NAT64 metadata", "64:ff9b::a9fe:a9fe", "a NAT64 form of 169.254.169.254, the cloud metadata address"},
}

// createSubscription posts a subscription and returns the status with the
// created subscription or the error.
func createSubscription(t *testing.T, h *testenv.Hookflow, body map[string]any, headers ...string) (int, subscription, apiError) {
	t.Helper()
	var raw map[string]any
	code := h.Do(t, http.MethodPost, "/v1/subscriptions", body, &raw, headers...)
	var sub subscription
	var apiErr apiError
	if code == http.StatusCreated {
		sub.ID, _ = raw["id"].(string)
		sub.Secret, _ = raw["secret"].(string)
		sub.Status, _ = raw["status"].(string)
	} else {
		e, _ := raw["error"].(map[string]any)
		apiErr.Error.Code, _ = e["code"].(string)
		apiErr.Error.Message, _ = e["message"].(string)
		details, _ := e["details"].([]any)
		for _, d := range details {
			m, _ := d.(map[string]any)
			field, _ := m["field"].(string)
			msg, _ := m["message"].(string)
			apiErr.Error.Details = append(apiErr.Error.Details, struct {
				Field   string `json:"field"`
				Message string `json:"message"`
			}{field, msg})
		}
	}
	return code, sub, apiErr
}

func requireURLRefused(t *testing.T, code int, e apiError, wantInMessage string) {
	t.Helper()
	require.Equal(t, http.StatusBadRequest, code)
	require.Equal(t, "validation_failed", e.Error.Code)
	require.Len(t, e.Error.Details, 1)
	require.Equal(t, "url", e.Error.Details[0].Field)
	require.Contains(t, e.Error.Details[0].Message, wantInMessage)
}

// Create time: every refused family, as an IP literal and as a name that
// resolves to it, through the real API, with and without the switches.
func TestSubscriptionURLsIntoOurNetworkAreRefusedWhenSet(t *testing.T) {
	resolver := testenv.NewResolver()
	nameOf := map[string]string{}
	for i, tc := range refusedTargets {
		name := fmt.Sprintf("target%d.hookflow.test", i)
		resolver.Set(name, tc.addr)
		nameOf[tc.addr] = name
	}
	resolver.Set("public.hookflow.test", "93.184.216.34")
	resolver.Set("internal.hookflow.test", "10.1.2.3")
	start := func(change func(*config.Config)) *testenv.Hookflow {
		return testenv.StartHookflow(t, tp, app.ModeAPI, func(c *config.Config) {
			c.AllowPrivateTargets = false
			c.TargetResolver = resolver
			if change != nil {
				change(c)
			}
		})
	}
	strict := start(nil)
	open := start(func(c *config.Config) { c.AllowPrivateTargets = true })
	listed := start(func(c *config.Config) { c.AllowedTargetCIDRs = "10.1.0.0/16" })
	httpsOnly := start(func(c *config.Config) { c.RequireHTTPS = true })
	body := func(u string) map[string]any { return map[string]any{"url": u, "event_types": []string{"order.*"}} }

	for _, tc := range refusedTargets {
		t.Run(tc.name, func(t *testing.T) {
			literal := urlFor(tc.addr, "8080", "/hook")
			name := urlFor(nameOf[tc.addr], "8080", "/hook")

			code, _, e := createSubscription(t, strict, body(literal))
			requireURLRefused(t, code, e, tc.addr+" is "+tc.reason)
			code, _, e = createSubscription(t, strict, body(name))
			requireURLRefused(t, code, e, nameOf[tc.addr]+" resolves to "+tc.addr+", "+tc.reason)

			// HOOKFLOW_ALLOW_PRIVATE_TARGETS=true lifts the address checks.
			code, sub, _ := createSubscription(t, open, body(literal))
			require.Equal(t, http.StatusCreated, code)
			require.NotEmpty(t, sub.Secret)
			code, _, _ = createSubscription(t, open, body(name))
			require.Equal(t, http.StatusCreated, code)
		})
	}

	t.Run("names for this machine and ambiguous IPv4 forms", func(t *testing.T) {
		for _, u := range []string{"http://localhost:8080/", "http://api.localhost/hook", "http://LOCALHOST./"} {
			code, _, e := createSubscription(t, strict, body(u))
			requireURLRefused(t, code, e, "a name for this machine (loopback)")
		}
		for _, u := range []string{"http://2130706433/", "http://0x7f.1/", "http://127.1/", "http://017700000001/"} {
			code, _, e := createSubscription(t, strict, body(u))
			requireURLRefused(t, code, e, "non-standard form")
		}
		require.Zero(t, resolver.Lookups("localhost"), "localhost is refused without a lookup")
	})

	t.Run("HOOKFLOW_ALLOWED_TARGET_CIDRS lifts the checks for its prefixes only", func(t *testing.T) {
		for _, u := range []string{"http://10.1.2.3/hook", "http://[::ffff:10.1.0.9]/hook", "http://internal.hookflow.test/hook"} {
			code, _, _ := createSubscription(t, listed, body(u))
			require.Equal(t, http.StatusCreated, code, u)
		}
		code, _, e := createSubscription(t, listed, body("http://10.2.0.1/hook"))
		requireURLRefused(t, code, e, "10.2.0.1 is a private address")
		code, _, e = createSubscription(t, listed, body("http://169.254.169.254/latest/meta-data/"))
		requireURLRefused(t, code, e, "the cloud metadata address")
	})

	t.Run("HOOKFLOW_REQUIRE_HTTPS refuses http", func(t *testing.T) {
		code, _, e := createSubscription(t, httpsOnly, body("http://public.hookflow.test/hook"))
		requireURLRefused(t, code, e, "must use https")
		code, _, _ = createSubscription(t, httpsOnly, body("https://public.hookflow.test/hook"))
		require.Equal(t, http.StatusCreated, code)
	})

	t.Run("a name that does not resolve yet is accepted; the connect-time guard checks it later", func(t *testing.T) {
		code, _, _ := createSubscription(t, strict, body("https://not-yet-published.hookflow.test/hook"))
		require.Equal(t, http.StatusCreated, code)
	})
}

// deliveryOf waits until the only delivery of an event has ended and
// returns it with its attempt log.
func deliveryOf(t *testing.T, h *testenv.Hookflow, eventID string) (store.Delivery, []store.Attempt) {
	t.Helper()
	var deliveryID string
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		var ev eventView
		require.Equal(c, http.StatusOK, h.Do(t, http.MethodGet, "/v1/events/"+eventID, nil, &ev))
		require.Len(c, ev.Deliveries, 1)
		require.Contains(c, []string{"succeeded", "failed", "cancelled"}, ev.Deliveries[0].Status)
		deliveryID = ev.Deliveries[0].ID
	}, 60*time.Second, 100*time.Millisecond)
	ctx := context.Background()
	d, err := h.App.Store().GetDelivery(ctx, store.DefaultApplication, deliveryID)
	require.NoError(t, err)
	attempts, err := h.App.Store().ListAttempts(ctx, deliveryID)
	require.NoError(t, err)
	return d, attempts
}

// oneAttempt is a retry policy that gives up after the first attempt.
var oneAttempt = map[string]any{"max_attempts": 1}

// Connect time: a name that pointed at a public address when the
// subscription was made and at 127.0.0.1 when the worker dials it (DNS
// rebinding) is refused in the delivery client's dialer; the switches let
// the same name through.
func TestConnectTimeGuardRefusesANameThatRebindsToLoopback(t *testing.T) {
	const host = "receiver.hookflow.test"
	cases := []struct {
		name      string
		change    func(*config.Config)
		rebind    bool
		delivered bool
	}{
		{"strict", func(c *config.Config) { c.AllowPrivateTargets = false }, true, false},
		{"HOOKFLOW_ALLOW_PRIVATE_TARGETS=true", func(c *config.Config) { c.AllowPrivateTargets = true }, false, true},
		{"HOOKFLOW_ALLOWED_TARGET_CIDRS=127.0.0.0/8", func(c *config.Config) {
			c.AllowPrivateTargets, c.AllowedTargetCIDRs = false, "127.0.0.0/8"
		}, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := testenv.NewReceiver(t)
			_, port := hostPort(t, r.URL)
			resolver := testenv.NewResolver()
			if tc.rebind {
				resolver.Rebind(host, "93.184.216.34", "127.0.0.1")
			} else {
				resolver.Set(host, "127.0.0.1")
			}
			h := testenv.StartHookflow(t, tp, app.ModeServe, func(c *config.Config) {
				tc.change(c)
				c.TargetResolver = resolver
				c.FailedRetention = 0
			})
			code, sub, e := createSubscription(t, h, map[string]any{
				"url": urlFor(host, port, "/hook"), "event_types": []string{"rebind.test"}, "retry": oneAttempt,
			})
			require.Equal(t, http.StatusCreated, code, "%+v", e)
			r.SetSecret(sub.Secret)
			acc := publish(t, h, map[string]any{"type": "rebind.test", "data": map[string]any{"n": 1}})

			d, attempts := deliveryOf(t, h, acc.ID)
			require.Len(t, attempts, 1)
			if tc.delivered {
				require.Equal(t, store.DeliverySucceeded, d.Status)
				require.Equal(t, 1, r.Count())
				require.NoError(t, r.Requests()[0].VerifyErr)
				return
			}
			require.Equal(t, store.DeliveryFailed, d.Status)
			require.Zero(t, attempts[0].StatusCode)
			require.Equal(t, "refused by the outbound guard: 127.0.0.1 is a loopback address; nothing was sent", attempts[0].Error)
			require.Zero(t, r.Count(), "nothing reached the receiver")
			require.GreaterOrEqual(t, resolver.Lookups(host), 2, "looked up at create time and again at connect time")
		})
	}
}

// memWatch samples the heap while a delivery runs, to show that what a
// receiver sends is not held in memory.
type memWatch struct {
	before   runtime.MemStats
	peakHeap atomic.Uint64
	stop     chan struct{}
	done     chan struct{}
}

func watchMemory() *memWatch {
	w := &memWatch{stop: make(chan struct{}), done: make(chan struct{})}
	runtime.GC()
	runtime.ReadMemStats(&w.before)
	w.peakHeap.Store(w.before.HeapAlloc)
	go func() {
		defer close(w.done)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-w.stop:
				return
			case <-tick.C:
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				if m.HeapAlloc > w.peakHeap.Load() {
					w.peakHeap.Store(m.HeapAlloc)
				}
			}
		}
	}()
	return w
}

// end returns how much the heap grew at its peak and how much was
// allocated in all while watching.
func (w *memWatch) end() (peakGrowth, allocated uint64) {
	close(w.stop)
	<-w.done
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	peak := w.peakHeap.Load()
	if peak > w.before.HeapAlloc {
		peakGrowth = peak - w.before.HeapAlloc
	}
	return peakGrowth, after.TotalAlloc - w.before.TotalAlloc
}

// A receiver that redirects, one that streams 100 MiB, one that never
// answers and one whose headers never end: each attempt ends as the
// contract says, and the worker's memory stays bounded.
func TestMisbehavingReceiversEndAsTheContractSays(t *testing.T) {
	h := testenv.StartHookflow(t, tp, app.ModeServe, func(c *config.Config) { c.FailedRetention = 0 })
	run := func(t *testing.T, handler http.HandlerFunc, extra map[string]any) (store.Delivery, []store.Attempt) {
		t.Helper()
		srv := httptest.NewServer(handler)
		t.Cleanup(srv.Close)
		eventType := "misbehave." + randomHex(t, 4)
		sub := map[string]any{"url": srv.URL + "/hook", "event_types": []string{eventType}, "retry": oneAttempt}
		for k, v := range extra {
			sub[k] = v
		}
		code, _, e := createSubscription(t, h, sub)
		require.Equal(t, http.StatusCreated, code, "%+v", e)
		acc := publish(t, h, map[string]any{"type": eventType, "data": map[string]any{"n": 1}})
		return deliveryOf(t, h, acc.ID)
	}

	t.Run("redirect: not followed, a failed attempt with the Location in the log", func(t *testing.T) {
		target := testenv.NewReceiver(t)
		d, attempts := run(t, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target.URL+"/elsewhere", http.StatusTemporaryRedirect)
		}, nil)
		require.Equal(t, store.DeliveryFailed, d.Status)
		require.Len(t, attempts, 1)
		require.Equal(t, http.StatusTemporaryRedirect, attempts[0].StatusCode)
		require.Equal(t, "redirects are not followed (Location: "+target.URL+"/elsewhere)", attempts[0].Error)
		require.Zero(t, target.Count(), "the redirect target got nothing")
	})

	t.Run("stream of 100 MiB: 64 KiB read, 1 KiB kept, the rest never read", func(t *testing.T) {
		const streamSize = 100 << 20
		var written atomic.Int64
		mem := watchMemory()
		d, attempts := run(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusOK)
			chunk := []byte(strings.Repeat("0123456789abcdef", 2048)) // 32 KiB
			for written.Load() < streamSize {
				n, err := w.Write(chunk)
				written.Add(int64(n))
				if err != nil {
					return // the worker hung up
				}
			}
		}, nil)
		peakGrowth, allocated := mem.end()
		t.Logf("receiver wrote %d KiB before the worker hung up; heap grew %d KiB at its peak; %d KiB allocated in all",
			written.Load()>>10, peakGrowth>>10, allocated>>10)

		require.Equal(t, store.DeliverySucceeded, d.Status, "any 2xx is success")
		require.Len(t, attempts, 1)
		require.Equal(t, http.StatusOK, attempts[0].StatusCode)
		require.Len(t, attempts[0].ResponseExcerpt, activities.ExcerptSize)
		require.Less(t, written.Load(), int64(streamSize/4), "the worker stopped reading long before the end")
		require.Less(t, peakGrowth, uint64(32<<20), "the heap never held the stream")
		require.Less(t, allocated, uint64(streamSize/2), "the stream was never copied through memory")
	})

	t.Run("never answers: the attempt times out and fails", func(t *testing.T) {
		stop := make(chan struct{})
		defer close(stop)
		d, attempts := run(t, func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done(): // the worker gave up and closed the connection
			case <-stop:
			}
		}, map[string]any{"timeout_seconds": 1})
		require.Equal(t, store.DeliveryFailed, d.Status)
		require.Len(t, attempts, 1)
		require.Zero(t, attempts[0].StatusCode)
		require.Equal(t, "timed out waiting for the receiver", attempts[0].Error)
		require.GreaterOrEqual(t, attempts[0].DurationMs, int64(1000), "it waited for the whole attempt timeout")
	})

	t.Run("headers without end: refused past 64 KiB", func(t *testing.T) {
		d, attempts := run(t, func(w http.ResponseWriter, r *http.Request) {
			for i := range 64 {
				w.Header().Set(fmt.Sprintf("X-Filler-%d", i), strings.Repeat("x", 16<<10))
			}
			w.WriteHeader(http.StatusOK)
		}, nil)
		require.Equal(t, store.DeliveryFailed, d.Status)
		require.Len(t, attempts, 1)
		require.Zero(t, attempts[0].StatusCode)
		require.Contains(t, attempts[0].Error, "server response headers exceeded 65536 bytes")
	})
}

// echoReceiver answers with the request body it got, 500 to the first
// request and 200 after, so the response excerpt (in the attempt results
// and failures of the history) holds the event data.
func echoReceiver(t *testing.T, path string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.URL.Path != path {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		if n.Add(1) == 1 {
			w.WriteHeader(http.StatusInternalServerError)
		}
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// With HOOKFLOW_CODEC_KEYS set, the history the Temporal server keeps
// holds neither the event data, nor the subscriber URL, nor the secret in
// plaintext; /v1/codec decodes it for a caller with an API key and refuses
// one without. Without the codec the same check finds the data, so the
// check is known to bite.
func TestCodecKeepsPayloadsPrivateInTemporal(t *testing.T) {
	for _, codecOn := range []bool{true, false} {
		t.Run(fmt.Sprintf("codec on: %v", codecOn), func(t *testing.T) {
			apiKey := "key-" + randomHex(t, 16)
			auth := []string{"Authorization", "Bearer " + apiKey}
			h := testenv.StartHookflow(t, tp, app.ModeServe, func(c *config.Config) {
				if codecOn {
					c.CodecKeys = "k1:" + randomKey(t)
				}
				c.APIKeys = []string{apiKey}
				c.Retry.InitialInterval, c.Retry.MaxInterval = 100*time.Millisecond, time.Second
				c.FailedRetention = 0
			})
			dataMarker, urlMarker := "note-"+randomHex(t, 8), "path-"+randomHex(t, 8)
			path := "/hooks/" + urlMarker
			srv, hits := echoReceiver(t, path)
			code, sub, e := createSubscription(t, h, map[string]any{"url": srv.URL + path, "event_types": []string{"private.order"}}, auth...)
			require.Equal(t, http.StatusCreated, code, "%+v", e)
			var acc accepted
			require.Equal(t, http.StatusAccepted, h.Do(t, http.MethodPost, "/v1/events",
				map[string]any{"type": "private.order", "data": map[string]any{"note": dataMarker}}, &acc, auth...))

			var ev eventView
			require.EventuallyWithT(t, func(c *assert.CollectT) {
				require.Equal(c, http.StatusOK, h.Do(t, http.MethodGet, "/v1/events/"+acc.ID, nil, &ev, auth...))
				require.Len(c, ev.Deliveries, 1)
				assert.Equal(c, "succeeded", ev.Deliveries[0].Status)
			}, 60*time.Second, 100*time.Millisecond)
			require.Equal(t, int32(2), hits.Load(), "one failed attempt, one that succeeded")

			ctx := context.Background()
			delivery, err := testenv.History(ctx, tp.Client, ev.Deliveries[0].WorkflowID, "")
			require.NoError(t, err)
			event, err := testenv.History(ctx, tp.Client, acc.WorkflowID, "")
			require.NoError(t, err)
			needles := append([]leakcheck.Needle{
				{Name: "the event data", Bytes: []byte(dataMarker)},
				{Name: "the subscriber URL", Bytes: []byte(urlMarker)},
			}, leakcheck.SecretForms("the subscriber secret", sub.Secret)...)
			found, err := leakcheck.Find(delivery, needles)
			require.NoError(t, err)
			eventFound, err := leakcheck.Find(event, needles)
			require.NoError(t, err)
			found = append(found, eventFound...)

			if !codecOn {
				// The excerpt of what the receiver echoed is there in clear,
				// and the URL, but never the secret.
				require.Contains(t, strings.Join(found, "\n"), "holds the event data")
				require.Contains(t, strings.Join(found, "\n"), "holds the subscriber URL")
				require.NotContains(t, strings.Join(found, "\n"), "secret")
				return
			}
			require.Empty(t, found, "the raw history is ciphertext")

			payloads := leakcheck.Payloads(delivery)
			encrypted := 0
			for _, p := range payloads {
				if string(p.GetMetadata()[converter.MetadataEncoding]) == codec.MetadataEncodingEncrypted {
					encrypted++
				}
			}
			require.Greater(t, encrypted, 3, "inputs, results, summaries and failures are encrypted")

			remote := func(headers ...string) converter.PayloadCodec {
				return converter.NewRemotePayloadCodec(converter.RemotePayloadCodecOptions{
					Endpoint: h.URL + "/v1/codec",
					ModifyRequest: func(r *http.Request) error {
						for i := 0; i+1 < len(headers); i += 2 {
							r.Header.Set(headers[i], headers[i+1])
						}
						return nil
					},
				})
			}
			decoded, err := remote(auth...).Decode(payloads)
			require.NoError(t, err)
			var plain strings.Builder
			for _, p := range decoded {
				require.NotEqual(t, codec.MetadataEncodingEncrypted, string(p.GetMetadata()[converter.MetadataEncoding]))
				plain.Write(p.GetData())
			}
			require.Contains(t, plain.String(), dataMarker, "the excerpt decodes")
			require.Contains(t, plain.String(), urlMarker, "the summaries and inputs decode")
			require.Contains(t, plain.String(), "HTTP 500", "the failure message decodes")
			require.NotContains(t, plain.String(), strings.TrimPrefix(sub.Secret, "whsec_"), "no secret, even decoded")

			_, err = remote().Decode(payloads)
			require.ErrorContains(t, err, "Unauthorized")
			_, err = remote("Authorization", "Bearer not-"+apiKey).Decode(payloads)
			require.ErrorContains(t, err, "Unauthorized")

			// The Web UI's preflight from its own origin passes; another
			// origin gets no CORS grant.
			preflight := func(origin string) *http.Response {
				req, err := http.NewRequest(http.MethodOptions, h.URL+"/v1/codec/decode", nil)
				require.NoError(t, err)
				req.Header.Set("Origin", origin)
				req.Header.Set("Access-Control-Request-Method", "POST")
				req.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
				resp, err := http.DefaultClient.Do(req)
				require.NoError(t, err)
				_ = resp.Body.Close()
				return resp
			}
			resp := preflight("http://127.0.0.1:8233")
			require.Equal(t, http.StatusNoContent, resp.StatusCode)
			require.Equal(t, "http://127.0.0.1:8233", resp.Header.Get("Access-Control-Allow-Origin"))
			resp = preflight("https://evil.example")
			require.Equal(t, http.StatusForbidden, resp.StatusCode)
			require.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))
		})
	}
}

// secretLeaks fetches every history in the namespace (every run of every
// workflow) and reports each one that holds any form of any of secrets.
func secretLeaks(ctx context.Context, c client.Client, secrets []string) (leaks []string, histories int, err error) {
	var needles []leakcheck.Needle
	for i, s := range secrets {
		needles = append(needles, leakcheck.SecretForms(fmt.Sprintf("secret %d", i+1), s)...)
	}
	var token []byte
	for {
		page, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{PageSize: 500, NextPageToken: token})
		if err != nil {
			return nil, histories, fmt.Errorf("list workflows: %w", err)
		}
		for _, ex := range page.GetExecutions() {
			id, run := ex.GetExecution().GetWorkflowId(), ex.GetExecution().GetRunId()
			h, err := testenv.History(ctx, c, id, run)
			if err != nil {
				return nil, histories, fmt.Errorf("history of %s: %w", id, err)
			}
			histories++
			found, err := leakcheck.Find(h, needles)
			if err != nil {
				return nil, histories, err
			}
			for _, f := range found {
				leaks = append(leaks, id+" run "+run+": "+f)
			}
		}
		if token = page.GetNextPageToken(); len(token) == 0 {
			return leaks, histories, nil
		}
	}
}

// Every secret the tests of this package saw, generated or given, in every
// history they produced: none. Besides this test, TestMain runs the same
// search after every test of the package.
func TestNoSubscriberSecretReachesAnyHistory(t *testing.T) {
	h := testenv.StartHookflow(t, tp, app.ModeServe, func(c *config.Config) {
		c.Retry.InitialInterval, c.Retry.MaxInterval = 100*time.Millisecond, time.Second
		c.FailedRetention = 0
		c.SecretKey = "k1:" + randomKey(t)
	})
	// A receiver that fails once, one that redirects, and one that echoes
	// its own secret and the signature back: what a receiver answers goes
	// into the history, and must not carry the secret there.
	flaky := testenv.NewReceiver(t)
	flaky.Respond = func(n int, w http.ResponseWriter) {
		if n == 1 {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		w.WriteHeader(http.StatusOK)
	}
	redirecting := testenv.NewReceiver(t)
	redirecting.Respond = func(_ int, w http.ResponseWriter) {
		w.Header().Set("Location", "http://169.254.169.254/latest/meta-data/")
		w.WriteHeader(http.StatusFound)
	}
	var echoSecret atomic.Value
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secret, _ := echoSecret.Load().(string)
		w.WriteHeader(http.StatusBadRequest)
		_, _ = fmt.Fprintf(w, "my secret is %s, its key %s; you signed %s", secret, strings.TrimPrefix(secret, "whsec_"), r.Header.Get("webhook-signature"))
	}))
	t.Cleanup(echo.Close)

	given := "whsec_" + randomKey(t)
	subs := map[string]subscription{}
	for name, body := range map[string]map[string]any{
		"flaky":       {"url": flaky.URL, "event_types": []string{"secret.test"}},
		"given":       {"url": flaky.URL + "/given", "event_types": []string{"secret.test"}, "secret": given},
		"redirecting": {"url": redirecting.URL, "event_types": []string{"secret.test"}, "retry": oneAttempt},
		"echo":        {"url": echo.URL, "event_types": []string{"secret.test"}, "retry": oneAttempt},
	} {
		code, sub, e := createSubscription(t, h, body)
		require.Equal(t, http.StatusCreated, code, "%+v", e)
		subs[name] = sub
	}
	require.Equal(t, given, subs["given"].Secret)
	echoSecret.Store(subs["echo"].Secret)

	// The secret is shown at creation and on explicit request only.
	var got struct {
		Secret string `json:"secret"`
	}
	require.Equal(t, http.StatusOK, h.Do(t, http.MethodGet, "/v1/subscriptions/"+subs["flaky"].ID+"/secret", nil, &got))
	require.Equal(t, subs["flaky"].Secret, got.Secret)
	var plain map[string]any
	require.Equal(t, http.StatusOK, h.Do(t, http.MethodGet, "/v1/subscriptions/"+subs["flaky"].ID, nil, &plain))
	require.NotContains(t, plain, "secret")
	var list struct {
		Data []map[string]any `json:"data"`
	}
	require.Equal(t, http.StatusOK, h.Do(t, http.MethodGet, "/v1/subscriptions", nil, &list))
	require.Len(t, list.Data, 4)
	for _, s := range list.Data {
		require.NotContains(t, s, "secret")
	}
	var nf apiError
	require.Equal(t, http.StatusNotFound, h.Do(t, http.MethodGet, "/v1/subscriptions/sub_nope/secret", nil, &nf))
	require.Equal(t, "not_found", nf.Error.Code)

	// HOOKFLOW_SECRET_KEY is set: the database holds the secrets sealed.
	db, err := sql.Open("sqlite", strings.TrimPrefix(h.Config.DatabaseURL, "sqlite://"))
	require.NoError(t, err)
	defer func() { _ = db.Close() }()
	for name, sub := range subs {
		var stored string
		require.NoError(t, db.QueryRow(`SELECT secret FROM subscriptions WHERE id = ?`, sub.ID).Scan(&stored))
		require.True(t, strings.HasPrefix(stored, "enc:v1:k1:"), name)
		require.NotContains(t, stored, strings.TrimPrefix(sub.Secret, "whsec_"), name)
	}

	acc := publish(t, h, map[string]any{"type": "secret.test", "data": map[string]any{"n": 1}})
	var ev eventView
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.Equal(c, http.StatusOK, h.Do(t, http.MethodGet, "/v1/events/"+acc.ID, nil, &ev))
		require.Len(c, ev.Deliveries, 4)
		assert.Equal(c, "completed", ev.Status)
	}, 60*time.Second, 100*time.Millisecond)
	for _, d := range ev.Deliveries {
		if d.SubscriptionID == subs["echo"].ID {
			attempts, err := h.App.Store().ListAttempts(context.Background(), d.ID)
			require.NoError(t, err)
			require.Len(t, attempts, 1)
			require.Contains(t, attempts[0].ResponseExcerpt, "my secret is [redacted], its key [redacted]")
		}
	}
	require.Len(t, flaky.Requests(), 3, "flaky: a failed attempt and a success; given: a success")

	secrets := testenv.SeenSecrets()
	for _, sub := range subs {
		require.Contains(t, secrets, sub.Secret)
	}
	ctx := context.Background()
	var histories int
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		leaks, n, err := secretLeaks(ctx, tp.Client, secrets)
		require.NoError(c, err)
		require.Empty(c, leaks)
		// Every delivery of this test is listed (visibility may lag).
		ids := map[string]bool{}
		page, err := tp.Client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Query: fmt.Sprintf("HookflowEventID = %q", acc.ID),
		})
		require.NoError(c, err)
		for _, ex := range page.GetExecutions() {
			ids[ex.GetExecution().GetWorkflowId()] = true
		}
		for _, d := range ev.Deliveries {
			require.True(c, ids[d.WorkflowID], d.WorkflowID)
		}
		histories = n
	}, 60*time.Second, 500*time.Millisecond)
	t.Logf("searched %d histories for %d secrets in %d forms each", histories, len(secrets), len(leakcheck.SecretForms("", secrets[0])))
}
