package store_test

import (
	"cmp"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, for creating test schemas
	"github.com/jmoiron/sqlx"
	"github.com/pressly/goose/v3"
	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/store"
	"github.com/hookflow/hookflow/store/migrations"
	"github.com/hookflow/hookflow/store/storetest"
)

// defaultPostgresURL is the PostgreSQL server of the development machines
// and CI; HOOKFLOW_TEST_POSTGRES_URL points the tests at another one.
const defaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

func postgresURL() string {
	return cmp.Or(os.Getenv("HOOKFLOW_TEST_POSTGRES_URL"), defaultPostgresURL)
}

func openStore(tb testing.TB, url string) *store.SQL {
	tb.Helper()
	s, err := store.Open(context.Background(), url)
	require.NoError(tb, err)
	tb.Cleanup(func() { require.NoError(tb, s.Close()) })
	return s
}

func sqliteURL(tb testing.TB) string {
	return "sqlite://" + filepath.Join(tb.TempDir(), "hookflow.db")
}

func randomName(tb testing.TB, prefix string) string {
	b := make([]byte, 8)
	_, err := rand.Read(b)
	require.NoError(tb, err)
	return prefix + hex.EncodeToString(b)
}

// connect opens base and fails the test, rather than skipping it, when the
// server does not answer: the store must be proven on PostgreSQL too.
func connect(tb testing.TB, base string) *sql.DB {
	tb.Helper()
	db, err := sql.Open("pgx", base)
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = db.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(tb, db.PingContext(ctx),
		"PostgreSQL is not reachable at %s; start it or set HOOKFLOW_TEST_POSTGRES_URL", base)
	return db
}

// withParam returns base with one more query parameter.
func withParam(tb testing.TB, base, key, value string) string {
	tb.Helper()
	u, err := url.Parse(base)
	require.NoError(tb, err)
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}

// postgresSchemaURL creates an empty schema in the database of base, drops
// it when the test ends, and returns a URL whose connections use it, so that
// tests running at the same time never see each other's tables.
func postgresSchemaURL(tb testing.TB, base string) string {
	tb.Helper()
	db := connect(tb, base)
	schema := randomName(tb, "hf_")
	_, err := db.ExecContext(context.Background(), "CREATE SCHEMA "+schema)
	require.NoError(tb, err)
	tb.Cleanup(func() {
		_, err := db.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		require.NoError(tb, err)
	})
	return withParam(tb, base, "search_path", schema)
}

func TestSQLite(t *testing.T) {
	storetest.Exercise(t, func(t *testing.T) store.Store {
		return openStore(t, sqliteURL(t))
	})
}

func TestPostgres(t *testing.T) {
	base := postgresURL()
	connect(t, base)
	storetest.Exercise(t, func(t *testing.T) store.Store {
		return openStore(t, postgresSchemaURL(t, base))
	})
}

// The docker image of PostgreSQL, like most installations, creates its
// databases with a linguistic collation, under which "sub_B" sorts after
// "sub_a". The suite runs once more in such a database so that id order
// and cursors stay byte order there too.
func TestPostgresLinguisticCollation(t *testing.T) {
	base := postgresURL()
	admin := connect(t, base)
	name := randomName(t, "hf_icu_")
	_, err := admin.ExecContext(t.Context(), "CREATE DATABASE "+name+
		" TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C.UTF-8' LOCALE_PROVIDER icu ICU_LOCALE 'en-US'")
	require.NoError(t, err)
	t.Cleanup(func() {
		_, err := admin.ExecContext(context.Background(), "DROP DATABASE "+name+" WITH (FORCE)")
		require.NoError(t, err)
	})
	u, err := url.Parse(base)
	require.NoError(t, err)
	u.Path = "/" + name
	icu := u.String()

	var lowerFirst bool
	require.NoError(t, connect(t, icu).QueryRowContext(t.Context(), "SELECT 'sub_a' < 'sub_B'").Scan(&lowerFirst))
	require.True(t, lowerFirst, "the database must really order linguistically for this test to mean anything")

	storetest.Exercise(t, func(t *testing.T) store.Store {
		return openStore(t, postgresSchemaURL(t, icu))
	})
}

func TestOpenRejectsUnknownScheme(t *testing.T) {
	for _, u := range []string{"mysql://localhost/x", "", "sqlite:/missing-slashes.db", "file.db"} {
		_, err := store.Open(t.Context(), u)
		require.ErrorContains(t, err, "unsupported database url", "url %q", u)
	}
}

func TestOpenSQLiteCreatesFoldersAndKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "hookflow.db")
	s, err := store.Open(t.Context(), "sqlite://"+path)
	require.NoError(t, err)
	sub := store.Subscription{ApplicationID: store.DefaultApplication, ID: "sub_1", URL: "https://example.test", Secret: "whsec_eA==", Status: store.SubscriptionActive,
		EventTypes: []string{"*"}, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	require.NoError(t, s.CreateSubscription(t.Context(), sub))
	require.NoError(t, s.Close())
	require.FileExists(t, path)

	// Opening again migrates nothing and finds the data.
	s = openStore(t, "sqlite://"+path)
	got, err := s.GetSubscription(t.Context(), store.DefaultApplication, "sub_1")
	require.NoError(t, err)
	require.Equal(t, sub.URL, got.URL)
}

func TestOpenPostgresAgainKeepsData(t *testing.T) {
	u := postgresSchemaURL(t, postgresURL())
	s, err := store.Open(t.Context(), u)
	require.NoError(t, err)
	_, _, err = s.CreateEvent(t.Context(), store.Event{ApplicationID: store.DefaultApplication, ID: "evt_1", Type: "t", Payload: []byte("{}"), BodyHash: "h", WorkflowID: "w"})
	require.NoError(t, err)
	require.NoError(t, s.Close())

	s = openStore(t, u)
	got, err := s.GetEvent(t.Context(), store.DefaultApplication, "evt_1")
	require.NoError(t, err)
	require.Equal(t, "h", got.BodyHash)
}

// The API and every worker replica open the same database when they start,
// often at the same moment (docker compose up --scale worker=3): the schema
// must be migrated once, and no process may fail on the others' migration.
func TestOpenConcurrentlyOnFreshDatabase(t *testing.T) {
	for name, newURL := range map[string]func(testing.TB) string{
		"sqlite":   sqliteURL,
		"postgres": func(tb testing.TB) string { return postgresSchemaURL(tb, postgresURL()) },
	} {
		t.Run(name, func(t *testing.T) {
			u := newURL(t)
			const processes = 4
			stores := make([]*store.SQL, processes)
			errs := make([]error, processes)
			var wg sync.WaitGroup
			for i := range processes {
				wg.Go(func() { stores[i], errs[i] = store.Open(t.Context(), u) })
			}
			wg.Wait()
			for i := range processes {
				require.NoError(t, errs[i], "opener %d", i)
				require.NoError(t, stores[i].Ping(t.Context()))
				require.NoError(t, stores[i].Close())
			}
		})
	}
}

// Subscriptions written before migration 3 (which copies each one's status
// next to its event types for MatchSubscriptions) must match as before it.
// Records written before migration 6 (applications) belong to default and
// keep their workflow ids. Since migration 13 a paused subscription
// matches too (its deliveries are held), and the migration says so for the
// ones paused before it.
func TestMigrationCopiesStatusOfExistingSubscriptions(t *testing.T) {
	for name, tc := range map[string]struct {
		url     func(testing.TB) string
		driver  string
		dialect goose.Dialect
		dir     string
		fsys    fs.FS
	}{
		"sqlite":   {sqliteURL, "sqlite", goose.DialectSQLite3, "sqlite", migrations.SQLite},
		"postgres": {func(tb testing.TB) string { return postgresSchemaURL(tb, postgresURL()) }, "pgx", goose.DialectPostgres, "postgres", migrations.Postgres},
	} {
		t.Run(name, func(t *testing.T) {
			u := tc.url(t)
			dsn := u
			if tc.driver == "sqlite" {
				dsn = "file:" + strings.TrimPrefix(u, "sqlite://")
			}
			db, err := sql.Open(tc.driver, dsn)
			require.NoError(t, err)
			defer func() { _ = db.Close() }()
			fsys, err := fs.Sub(tc.fsys, tc.dir)
			require.NoError(t, err)
			provider, err := goose.NewProvider(tc.dialect, db, fsys)
			require.NoError(t, err)
			_, err = provider.UpTo(t.Context(), 2)
			require.NoError(t, err)

			q := func(query string) string { return sqlx.Rebind(sqlx.BindType(tc.driver), query) }
			// The paused one sorts first: were it still taken for active, a
			// page of one would come back empty and end the caller's paging.
			for _, sub := range []struct{ id, status string }{{"sub_b_on", "active"}, {"sub_a_off", "paused"}} {
				_, err := db.ExecContext(t.Context(), q(`INSERT INTO subscriptions (id, url, secret, status, created_at, updated_at)
					VALUES (?, 'https://example.test', 'whsec_eA==', ?, 1, 1)`), sub.id, sub.status)
				require.NoError(t, err)
				_, err = db.ExecContext(t.Context(), q(`INSERT INTO subscription_event_types (pattern, subscription_id) VALUES ('*', ?)`), sub.id)
				require.NoError(t, err)
			}
			_, err = db.ExecContext(t.Context(), `INSERT INTO events (id, type, payload, body_hash, workflow_id, created_at)
				VALUES ('evt_old', 'order.created', '{}', 'h', 'event:evt_old', 1)`)
			require.NoError(t, err)
			_, err = db.ExecContext(t.Context(), `INSERT INTO deliveries (id, event_id, subscription_id, url, status, workflow_id, updated_at)
				VALUES ('evt_old:sub_b_on', 'evt_old', 'sub_b_on', 'https://example.test', 'retrying', 'delivery:evt_old:sub_b_on', 1)`)
			require.NoError(t, err)

			s := openStore(t, u)
			ev, err := s.GetEvent(t.Context(), store.DefaultApplication, "evt_old")
			require.NoError(t, err)
			require.Equal(t, "event:evt_old", ev.WorkflowID, "an old event keeps its workflow id")
			d, err := s.GetDelivery(t.Context(), store.DefaultApplication, "evt_old:sub_b_on")
			require.NoError(t, err)
			require.Equal(t, "delivery:evt_old:sub_b_on", d.WorkflowID)
			unfinished, err := s.ListUnfinishedDeliveries(t.Context(), store.DefaultApplication, "", 0)
			require.NoError(t, err)
			require.Len(t, unfinished, 1)
			sub, err := s.GetSubscription(t.Context(), store.DefaultApplication, "sub_a_off")
			require.NoError(t, err)
			require.Equal(t, store.DefaultApplication, sub.ApplicationID)
			matched, err := s.MatchSubscriptions(t.Context(), store.DefaultApplication, "order.created", "", 10)
			require.NoError(t, err)
			require.Len(t, matched, 2)
			require.Equal(t, "sub_a_off", matched[0].ID, "paused before migration 13: its deliveries are held")
			require.Equal(t, "sub_b_on", matched[1].ID)
			listed, err := s.ListSubscriptions(t.Context(), store.ListSubscriptionsParams{ApplicationID: store.DefaultApplication, EventType: "order.created"})
			require.NoError(t, err)
			require.Len(t, listed, 2, "listing still shows the paused one")
		})
	}
}

// BenchmarkMatchSubscriptions pages through every subscription that
// receives one event type, as the event workflow does, among 10,000: a
// type few subscribe to, and one that every active subscription receives.
func BenchmarkMatchSubscriptions(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchmarkMatch(b, openStore(b, sqliteURL(b))) })
	b.Run("postgres", func(b *testing.B) { benchmarkMatch(b, openStore(b, postgresSchemaURL(b, postgresURL()))) })
}

func benchmarkMatch(b *testing.B, s store.Store) {
	const (
		total    = 10_000
		pageSize = 100
	)
	ctx := context.Background()
	now := time.Now()
	for i := range total {
		// 200 exact types over 10 services, 1% "*", 1% "svcN.*", and
		// everyone on "fleet.*". One in seven is paused.
		pattern := fmt.Sprintf("svc%d.evt%d", i%10, (i/10)%20)
		switch i % 100 {
		case 0:
			pattern = "*"
		case 1:
			pattern = fmt.Sprintf("svc%d.*", i%10)
		}
		status := store.SubscriptionActive
		if i%7 == 0 {
			status = store.SubscriptionPaused
		}
		sub := store.Subscription{ApplicationID: store.DefaultApplication, ID: fmt.Sprintf("sub_%05d", i), URL: "https://example.test/" + fmt.Sprint(i),
			EventTypes: []string{pattern, "fleet.*"}, Secret: "whsec_eA==", Status: status, CreatedAt: now, UpdatedAt: now}
		require.NoError(b, s.CreateSubscription(ctx, sub))
	}

	for _, eventType := range []string{"svc3.evt7", "fleet.heartbeat"} {
		b.Run(eventType, func(b *testing.B) {
			matched := 0
			for b.Loop() {
				matched = 0
				after := ""
				for {
					page, err := s.MatchSubscriptions(ctx, store.DefaultApplication, eventType, after, pageSize)
					if err != nil {
						b.Fatal(err)
					}
					if len(page) == 0 {
						break
					}
					matched += len(page)
					after = page[len(page)-1].ID
				}
			}
			require.Positive(b, matched)
			b.ReportMetric(float64(matched), "matches/op")
		})
	}
}
