// Package receiver is what a subscriber imports to receive Hookflow webhooks
// in Go. It verifies the Standard Webhooks signature (standardwebhooks.com),
// refuses stale and replayed requests, runs each event's handler once per
// webhook-id, and answers so that Hookflow retries exactly what failed. It
// imports nothing but the standard library.
//
//	rcv, err := receiver.New(os.Getenv("WEBHOOK_SECRET"))
//	if err != nil {
//		log.Fatal(err)
//	}
//	rcv.On("user.registered", func(ctx context.Context, e receiver.Event) error {
//		log.Printf("welcome %s: %s", e.ID, e.Data)
//		return nil // an error answers 500 and Hookflow delivers the event again
//	})
//	http.Handle("POST /webhooks", rcv)
//	log.Fatal(http.ListenAndServe("127.0.0.1:9000", nil))
//
// # What is checked
//
// A webhook carries three headers: webhook-id (the event id, the same on every
// retry), webhook-timestamp (Unix seconds of the attempt) and
// webhook-signature, one or more space-separated "v1,<base64>" entries, each
// an HMAC-SHA256 of "id.timestamp.body" keyed by the base64 decoding of a
// secret after its "whsec_" prefix. The request is accepted when the
// timestamp is within Options.Tolerance (5 minutes) of the clock in either
// direction and any entry matches any configured secret, compared in
// constant time. During a secret rotation Hookflow signs with the old and the
// new secret for 24 hours, so either one alone verifies; list both with
// [New] to switch without a gap. The signature covers the raw body: only
// after it matches is the body decoded into an [Event].
//
// # Answers
//
//	204  the handler succeeded, or had already succeeded for this webhook-id
//	     (its handler is not run again), or no handler matches the event type
//	400  a header is missing, the timestamp is not an integer, or the
//	     verified body is not a Hookflow event
//	401  no signature matches, or the timestamp is too old or too new
//	405  the method is not POST
//	409  another request is handling the same webhook-id right now
//	413  the body is larger than Options.MaxBodyBytes (1 MiB)
//	500  the handler returned an error
//	503  the SeenStore failed, so the delivery could not be claimed
//
// A handler that panics gets no answer: net/http drops the connection.
// Hookflow treats any 2xx as success and retries every other answer, and a
// dropped connection, under the subscription's retry policy. Refusals are
// logged at Warn level with their reason, handler errors at Error level; the
// response body names the reason of a refusal but never the text of a
// handler's error.
//
// # Events nobody handles
//
// An event whose type has neither a handler of its own ([Receiver.On]) nor a
// fallback ([Receiver.OnAny]) is acknowledged with 204 and dropped, as Stripe
// and Svix advise: the subscription may list more types than this process
// handles, and a refusal would only make Hookflow retry a delivery that no
// retry can fix. Register a fallback to see such events.
//
// # Handled once
//
// Hookflow delivers at least once: a retry can arrive after a success whose
// answer was lost, and a captured request can be replayed while its timestamp
// is fresh. Before running a handler the receiver claims the webhook-id in its
// [SeenStore]. A delivery of an id whose handler succeeded is answered 204
// without running it again; a delivery of an id that another request is
// handling is answered 409, so the two never run at once and the event is not
// lost if the running handler fails; a failed or panicking handler releases
// its claim, so the next retry runs it again. Handled ids are remembered for
// Options.Retention (twice the tolerance, which covers every replay the
// timestamp check lets through). The default [MemoryStore] lives in the
// process and holds at most [DefaultMaxEntries] ids; run several replicas
// behind one URL with a shared SeenStore, or make handlers idempotent
// themselves.
package receiver
