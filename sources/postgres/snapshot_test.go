package postgres

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluice-cdc/sluice/change"
	"github.com/sluice-cdc/sluice/internal/harness"
)

// failingEmitter accepts events until it has seen after of them, then
// fails every Emit with errEmit.
type failingEmitter struct {
	after, seen int
}

var errEmit = errors.New("emit refused")

func (f *failingEmitter) Emit(_ context.Context, evs []change.Event) error {
	f.seen += len(evs)
	if f.seen >= f.after {
		return errEmit
	}
	return nil
}

func (f *failingEmitter) Heartbeat(context.Context, string, int64) error { return nil }
func (f *failingEmitter) Commit(context.Context, []byte) error           { return nil }

// TestSnapshotStopsReadingOnError: the snapshot reads a table through one
// streaming SELECT; when the pipeline fails early, the error reaches Run
// and the query is cancelled rather than read to the end of the table
// (the server fetches a fraction of the rows, as its statistics show).
func TestSnapshotStopsReadingOnError(t *testing.T) {
	if testing.Short() {
		t.Skip("real PostgreSQL: -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pg := harness.StartPostgres(t)
	const rows = 100_000
	if err := pg.Exec(ctx, "postgres", `CREATE TABLE big (id bigint PRIMARY KEY, v text NOT NULL);
		INSERT INTO big SELECT g, repeat(md5(g::text), 16) FROM generate_series(1, 100000) g;`); err != nil {
		t.Fatal(err)
	}
	src, err := New(Options{Name: "snapfail", DSN: pg.DSN("postgres"), Include: []string{`public\.big`},
		SnapshotMode: SnapshotInitialOnly, SnapshotFetchSize: 1000,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	em := &failingEmitter{after: 2000}
	if err := src.Run(ctx, nil, em); !errors.Is(err, errEmit) {
		t.Fatalf("Run: %v, want %v", err, errEmit)
	}

	// The snapshot's backend has gone (its connection was closed) and
	// flushed its statistics: the rows its index scan fetched.
	conn, err := pgx.Connect(ctx, pg.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var fetched int64
	for deadline := time.Now().Add(30 * time.Second); ; {
		if _, err := conn.Exec(ctx, "SELECT pg_stat_clear_snapshot()"); err != nil {
			t.Fatal(err)
		}
		var active int
		err := conn.QueryRow(ctx, `SELECT (SELECT idx_tup_fetch FROM pg_stat_user_tables WHERE relname = 'big'),
			(SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT "id", "v" FROM%')`).Scan(&fetched, &active)
		if err != nil {
			t.Fatal(err)
		}
		if fetched > 0 && active == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 30s: %d rows fetched, %d snapshot queries still running", fetched, active)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if fetched > rows/2 {
		t.Errorf("the server fetched %d of %d rows for a snapshot that failed after %d events", fetched, rows, em.seen)
	}
	t.Logf("server fetched %d of %d rows; %d events emitted", fetched, rows, em.seen)
}
