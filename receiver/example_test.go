package receiver_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strconv"
	"time"

	"github.com/hookflow/hookflow/receiver"
	"github.com/hookflow/hookflow/signing"
)

func Example() {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" // the subscription's secret

	rcv, err := receiver.New(secret)
	if err != nil {
		log.Fatal(err)
	}
	rcv.On("user.registered", func(ctx context.Context, e receiver.Event) error {
		fmt.Printf("%s %s %s\n", e.Type, e.ID, e.Data)
		return nil
	})
	srv := httptest.NewServer(rcv) // or http.ListenAndServe("127.0.0.1:9000", rcv)
	defer srv.Close()

	// What Hookflow sends:
	body := []byte(`{"id":"evt_1","type":"user.registered","timestamp":"2026-11-28T09:00:00Z","data":{"email":"ada@example.com"}}`)
	now := time.Now()
	sig, err := signing.Sign([]string{secret}, "evt_1", now, body)
	if err != nil {
		log.Fatal(err)
	}
	for range 2 { // a retry of a handled event does not run the handler again
		req, err := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
		if err != nil {
			log.Fatal(err)
		}
		req.Header.Set("webhook-id", "evt_1")
		req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
		req.Header.Set("webhook-signature", sig)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		_ = resp.Body.Close()
		fmt.Println(resp.Status)
	}
	// Output:
	// user.registered evt_1 {"email":"ada@example.com"}
	// 204 No Content
	// 204 No Content
}
