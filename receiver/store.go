package receiver

import (
	"context"
	"sync"
	"time"
)

// ClaimState is what [SeenStore.Claim] found for a webhook-id.
type ClaimState int

const (
	// ClaimAcquired means the caller now holds the id: it runs the handler,
	// then calls Complete on success or Release on failure.
	ClaimAcquired ClaimState = iota + 1
	// ClaimAlreadyDone means a handler already succeeded for the id; the
	// delivery is acknowledged without running the handler again.
	ClaimAlreadyDone
	// ClaimInProgress means another delivery of the id holds it right now.
	ClaimInProgress
)

// String names the state, for logs.
func (s ClaimState) String() string {
	switch s {
	case ClaimAcquired:
		return "acquired"
	case ClaimAlreadyDone:
		return "already done"
	case ClaimInProgress:
		return "in progress"
	default:
		return "unknown"
	}
}

// SeenStore remembers which webhook-ids have been handled, so that a
// redelivered webhook runs its handler once. Implementations must be safe
// for concurrent use; [MemoryStore] is the default, and a store shared by
// several processes (Redis SET NX, a SQL row with a unique key) makes
// receipt idempotent across replicas too.
type SeenStore interface {
	// Claim atomically reserves id unless it is already done or held. A
	// claim lasts at most ttl, so that a store which outlives the process
	// frees an id whose holder died.
	Claim(ctx context.Context, id string, ttl time.Duration) (ClaimState, error)
	// Complete marks id as done, for ttl from now.
	Complete(ctx context.Context, id string, ttl time.Duration) error
	// Release forgets the claim on id, so that the next delivery runs the
	// handler again. Releasing an unknown id is not an error.
	Release(ctx context.Context, id string) error
}

// DefaultMaxEntries is how many ids a [MemoryStore] holds at most unless
// told otherwise: about ten minutes of 150 webhooks a second.
const DefaultMaxEntries = 100_000

// MemoryStoreOptions configures a [MemoryStore].
type MemoryStoreOptions struct {
	// MaxEntries bounds the number of ids held. When it is reached the
	// oldest entry is forgotten first, even if it has not expired, so a
	// burst weakens deduplication instead of growing memory. Defaults to
	// DefaultMaxEntries.
	MaxEntries int
	// Now is the clock that entries expire by. Defaults to time.Now.
	Now func() time.Time
}

// MemoryStore is a [SeenStore] in process memory. Entries expire after their
// ttl and the store never holds more than MaxEntries of them. It does not
// survive a restart and is not shared between processes.
type MemoryStore struct {
	maxEntries int
	now        func() time.Time

	mu      sync.Mutex
	entries map[string]memoryEntry
	// queue lists entries in the order they were written, so that expired
	// and surplus entries are found from the front without a scan. A record
	// whose seq no longer matches its entry is stale and skipped.
	queue []memoryRecord
	head  int
	seq   uint64
}

type memoryEntry struct {
	done    bool
	expires time.Time
	seq     uint64
}

type memoryRecord struct {
	id  string
	seq uint64
}

// NewMemoryStore returns an empty store.
func NewMemoryStore(opts MemoryStoreOptions) *MemoryStore {
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = DefaultMaxEntries
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &MemoryStore{
		maxEntries: opts.MaxEntries,
		now:        opts.Now,
		entries:    make(map[string]memoryEntry),
	}
}

// Claim implements [SeenStore].
func (s *MemoryStore) Claim(_ context.Context, id string, ttl time.Duration) (ClaimState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.sweep(now)
	if e, ok := s.entries[id]; ok && now.Before(e.expires) {
		if e.done {
			return ClaimAlreadyDone, nil
		}
		return ClaimInProgress, nil
	}
	s.put(id, false, now.Add(ttl))
	return ClaimAcquired, nil
}

// Complete implements [SeenStore].
func (s *MemoryStore) Complete(_ context.Context, id string, ttl time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.sweep(now)
	s.put(id, true, now.Add(ttl))
	return nil
}

// Release implements [SeenStore].
func (s *MemoryStore) Release(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.entries, id)
	return nil
}

// Len returns the number of ids held, expired ones included until the next
// write sweeps them.
func (s *MemoryStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries)
}

// put writes an entry and evicts the oldest ones beyond maxEntries.
func (s *MemoryStore) put(id string, done bool, expires time.Time) {
	s.seq++
	s.entries[id] = memoryEntry{done: done, expires: expires, seq: s.seq}
	s.queue = append(s.queue, memoryRecord{id: id, seq: s.seq})
	for len(s.entries) > s.maxEntries && s.popFront(func(memoryEntry) bool { return true }) {
	}
	// Released and rewritten ids leave stale records behind; drop them
	// before they outnumber the live ones.
	if len(s.queue)-s.head > 2*s.maxEntries {
		s.compact()
	}
}

// sweep forgets entries that have expired, oldest first. It stops at the
// first live entry; an expired one behind it (written with a shorter ttl)
// is already treated as absent by Claim and goes when it reaches the front.
func (s *MemoryStore) sweep(now time.Time) {
	for s.popFront(func(e memoryEntry) bool { return !now.Before(e.expires) }) {
	}
}

// popFront drops the stale records at the front of the queue, then the
// first current one and its entry if evict agrees. It reports whether it
// dropped an entry.
func (s *MemoryStore) popFront(evict func(memoryEntry) bool) bool {
	defer s.shrink()
	for s.head < len(s.queue) {
		rec := s.queue[s.head]
		e, ok := s.entries[rec.id]
		current := ok && e.seq == rec.seq
		if current && !evict(e) {
			return false
		}
		s.queue[s.head] = memoryRecord{}
		s.head++
		if current {
			delete(s.entries, rec.id)
			return true
		}
	}
	return false
}

// shrink gives back the consumed front of the queue once it is half of it.
func (s *MemoryStore) shrink() {
	switch {
	case s.head == len(s.queue):
		s.queue, s.head = s.queue[:0], 0
	case s.head > len(s.queue)/2:
		s.compact()
	}
}

// compact copies the current records to a fresh slice, in order.
func (s *MemoryStore) compact() {
	live := make([]memoryRecord, 0, len(s.entries))
	for _, rec := range s.queue[s.head:] {
		if e, ok := s.entries[rec.id]; ok && e.seq == rec.seq {
			live = append(live, rec)
		}
	}
	s.queue, s.head = live, 0
}
