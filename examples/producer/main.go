// Command producer posts one event to Hookflow's API, the way a service that
// produces events would.
//
//	go run ./examples/producer -type order.created -data '{"order_id":1001}'
//
// Flags mirror the environment: HOOKFLOW_API_URL (default
// http://127.0.0.1:8080) and HOOKFLOW_API_KEY (a bearer token, when the
// API has keys).
package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "producer:", err)
		os.Exit(1)
	}
}

func run() error {
	api := flag.String("api", cmp.Or(os.Getenv("HOOKFLOW_API_URL"), "http://127.0.0.1:8080"), "Hookflow API base URL")
	key := flag.String("key", os.Getenv("HOOKFLOW_API_KEY"), "API key (bearer token)")
	eventType := flag.String("type", "", "event type, like order.created (required)")
	data := flag.String("data", "{}", "event data, a JSON object")
	id := flag.String("id", "", "event id; the same id again is not delivered twice (optional)")
	flag.Parse()
	if *eventType == "" {
		return fmt.Errorf("-type is required")
	}
	if !json.Valid([]byte(*data)) {
		return fmt.Errorf("-data is not valid JSON")
	}
	body, err := json.Marshal(map[string]any{"type": *eventType, "data": json.RawMessage(*data)})
	if err != nil {
		return err
	}
	req, err := http.NewRequest(http.MethodPost, *api+"/v1/events", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if *id != "" {
		req.Header.Set("Idempotency-Key", *id)
	}
	if *key != "" {
		req.Header.Set("Authorization", "Bearer "+*key)
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	fmt.Printf("%s\n%s\n", resp.Status, answer)
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("the event was not accepted")
	}
	return nil
}
