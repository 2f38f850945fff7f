package receiver

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// testClock is a clock the test moves by hand.
type testClock struct{ now time.Time }

func (c *testClock) Now() time.Time { return c.now }

func claim(t *testing.T, s *MemoryStore, id string, ttl time.Duration) ClaimState {
	t.Helper()
	state, err := s.Claim(context.Background(), id, ttl)
	require.NoError(t, err)
	return state
}

func TestMemoryStoreClaimCompleteRelease(t *testing.T) {
	ctx := context.Background()
	s := NewMemoryStore(MemoryStoreOptions{})

	require.Equal(t, ClaimAcquired, claim(t, s, "a", time.Minute))
	require.Equal(t, ClaimInProgress, claim(t, s, "a", time.Minute))
	require.Equal(t, ClaimAcquired, claim(t, s, "b", time.Minute), "ids are independent")

	require.NoError(t, s.Release(ctx, "a"))
	require.Equal(t, ClaimAcquired, claim(t, s, "a", time.Minute), "a released id can be claimed again")

	require.NoError(t, s.Complete(ctx, "a", time.Minute))
	require.Equal(t, ClaimAlreadyDone, claim(t, s, "a", time.Minute))
	require.Equal(t, ClaimAlreadyDone, claim(t, s, "a", time.Minute), "claiming a done id does not change it")

	require.NoError(t, s.Release(ctx, "never seen"))
	require.Equal(t, 2, s.Len())
}

func TestMemoryStoreExpiresEntries(t *testing.T) {
	ctx := context.Background()
	clk := &testClock{now: time.Unix(1_800_000_000, 0)}
	s := NewMemoryStore(MemoryStoreOptions{Now: clk.Now})

	require.Equal(t, ClaimAcquired, claim(t, s, "held", time.Minute))
	clk.now = clk.now.Add(time.Minute - time.Nanosecond)
	require.Equal(t, ClaimInProgress, claim(t, s, "held", time.Minute))
	clk.now = clk.now.Add(time.Nanosecond)
	require.Equal(t, ClaimAcquired, claim(t, s, "held", time.Minute), "a claim whose holder vanished lapses")

	require.NoError(t, s.Complete(ctx, "done", 10*time.Minute))
	clk.now = clk.now.Add(10*time.Minute - time.Second)
	require.Equal(t, ClaimAlreadyDone, claim(t, s, "done", time.Minute))
	clk.now = clk.now.Add(time.Second)
	require.Equal(t, ClaimAcquired, claim(t, s, "done", time.Minute))

	// Expired entries are dropped on the next write, not only ignored.
	for i := range 5 {
		require.NoError(t, s.Complete(ctx, fmt.Sprint("old", i), time.Minute))
	}
	clk.now = clk.now.Add(time.Hour)
	require.Equal(t, ClaimAcquired, claim(t, s, "new", time.Minute))
	require.Equal(t, 1, s.Len())
}

func TestMemoryStoreShorterTTLBehindALongerOneStillExpires(t *testing.T) {
	clk := &testClock{now: time.Unix(1_800_000_000, 0)}
	s := NewMemoryStore(MemoryStoreOptions{Now: clk.Now})
	require.NoError(t, s.Complete(context.Background(), "long", time.Hour))
	require.NoError(t, s.Complete(context.Background(), "short", time.Minute))
	clk.now = clk.now.Add(time.Minute)
	require.Equal(t, ClaimAcquired, claim(t, s, "short", time.Minute))
	require.Equal(t, ClaimAlreadyDone, claim(t, s, "long", time.Minute))
}

func TestMemoryStoreForgetsTheOldestBeyondMaxEntries(t *testing.T) {
	ctx := context.Background()
	s := NewMemoryStore(MemoryStoreOptions{MaxEntries: 3})
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		require.NoError(t, s.Complete(ctx, id, time.Hour))
	}
	require.Equal(t, 3, s.Len())
	for _, id := range []string{"e", "d", "c"} {
		require.Equal(t, ClaimAlreadyDone, claim(t, s, id, time.Hour), id)
	}
	require.Equal(t, ClaimAcquired, claim(t, s, "a", time.Hour), "the oldest went first")
	require.Equal(t, 3, s.Len())

	// Completing a claimed id moves it to the back of the line.
	require.NoError(t, s.Complete(ctx, "c", time.Hour))
	require.Equal(t, ClaimAcquired, claim(t, s, "x", time.Hour))
	require.Equal(t, ClaimAlreadyDone, claim(t, s, "c", time.Hour))
	require.Equal(t, ClaimAcquired, claim(t, s, "d", time.Hour), "d was older than the rewritten c")
}

// Every delivery writes its id twice (claim, then complete or release), so
// most records go stale; the queue must not grow with them.
func TestMemoryStoreQueueStaysBounded(t *testing.T) {
	ctx := context.Background()
	const maxEntries = 10
	s := NewMemoryStore(MemoryStoreOptions{MaxEntries: maxEntries})
	for i := range 10_000 {
		id := fmt.Sprint("evt_", i%25)
		state := claim(t, s, id, time.Hour)
		if state == ClaimAcquired {
			if i%2 == 0 {
				require.NoError(t, s.Release(ctx, id))
			} else {
				require.NoError(t, s.Complete(ctx, id, time.Hour))
			}
		}
		require.LessOrEqual(t, s.Len(), maxEntries)
		s.mu.Lock()
		queued := len(s.queue) - s.head
		s.mu.Unlock()
		require.LessOrEqual(t, queued, 2*maxEntries+1, "step %d", i)
	}
}

func TestMemoryStoreGrantsOneConcurrentClaim(t *testing.T) {
	s := NewMemoryStore(MemoryStoreOptions{})
	const n = 64
	states := make([]ClaimState, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			state, err := s.Claim(context.Background(), "same", time.Minute)
			if err == nil {
				states[i] = state
			}
		})
	}
	close(start)
	wg.Wait()
	acquired := 0
	for _, state := range states {
		require.Contains(t, []ClaimState{ClaimAcquired, ClaimInProgress}, state)
		if state == ClaimAcquired {
			acquired++
		}
	}
	require.Equal(t, 1, acquired)
}

func TestClaimStateString(t *testing.T) {
	require.Equal(t, "acquired", ClaimAcquired.String())
	require.Equal(t, "already done", ClaimAlreadyDone.String())
	require.Equal(t, "in progress", ClaimInProgress.String())
	require.Equal(t, "unknown", ClaimState(0).String())
}
