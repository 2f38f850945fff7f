package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"time"
)

// KindResume pauses the scenario's subscriptions, posts Events while they
// are paused (each delivery is held), and once every one is held resumes
// them: the clock runs from the resume to the last arrival, which is what
// waking thousands of held deliveries costs.
const KindResume = "resume"

var heldGauge = regexp.MustCompile(`(?m)^hookflow_deliveries_held ([0-9]+)`)

// holdAndResume pauses every subscription, posts the burst, waits until
// hookflow_deliveries_held counts every delivery, then resumes them. It
// returns the posts and when the resume was asked.
func (b *bench) holdAndResume(ctx context.Context, sc Scenario, p *producer, eventType string) ([]post, time.Time, error) {
	var subs struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := p.call(ctx, http.MethodGet, "/v1/subscriptions?limit=100", nil, http.StatusOK, &subs); err != nil {
		return nil, time.Time{}, err
	}
	setAll := func(status string) error {
		body, _ := json.Marshal(map[string]any{"status": status})
		for _, s := range subs.Data {
			var out json.RawMessage
			if err := p.call(ctx, http.MethodPatch, "/v1/subscriptions/"+s.ID, body, http.StatusOK, &out); err != nil {
				return err
			}
		}
		return nil
	}
	if err := setAll("paused"); err != nil {
		return nil, time.Time{}, err
	}
	posts := b.postBurst(ctx, sc, p, eventType)
	b.progress("  waiting until %d deliveries are held", sc.Deliveries())
	for {
		held, err := p.metric(ctx, heldGauge)
		if err != nil {
			return nil, time.Time{}, err
		}
		if held >= sc.Deliveries() {
			break
		}
		select {
		case <-ctx.Done():
			return nil, time.Time{}, fmt.Errorf("%d of %d deliveries held when the scenario timed out", held, sc.Deliveries())
		case <-time.After(time.Second):
		}
	}
	resumed := time.Now()
	b.progress("  resuming")
	return posts, resumed, setAll("active")
}

// metric reads one gauge from the API's /metrics.
func (p *producer) metric(ctx context.Context, re *regexp.Regexp) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer func() { _ = resp.Body.Close() }()
	text, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return 0, err
	}
	m := re.FindSubmatch(text)
	if m == nil {
		return 0, nil
	}
	return strconv.Atoi(string(m[1]))
}
