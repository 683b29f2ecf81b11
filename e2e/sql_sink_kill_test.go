package e2e

import (
	"context"
	stdsql "database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/internal/harness"
)

// TestSQLSinkKill9 kills the real binary running three SQL sinks
// (PostgreSQL, MariaDB, SQLite targets) with SIGKILL 20 times at random
// moments while a source streams an append-only, keyless table into them
// with insert_mode: insert. A change applied twice would be a duplicate
// row, a lost one a gap: afterwards every target holds each source row
// exactly once.
func TestSQLSinkKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: -short")
	}
	bin := buildSluice(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 9))

	pg := harness.StartPostgres(t)
	must(t, pg.CreateDatabase(ctx, "log"))
	must(t, pg.Exec(ctx, "log", `CREATE TABLE events (seq bigint NOT NULL, body text, at timestamptz DEFAULT now())`))
	must(t, pg.CreateDatabase(ctx, "target"))
	my := harness.StartMariaDB(t)
	must(t, my.CreateDatabase(ctx, "target"))
	dir := t.TempDir()
	sqlitePath := filepath.Join(dir, "events.db")

	src := runDaemon(t, pgSourceYAML("log", pg.DSN("log"), "tables: [public.events]"))
	waitStatus(t, src, "log", time.Minute, streaming)
	cfg := filepath.Join(dir, "sink.yaml")
	yaml := fmt.Sprintf("state_dir: %s\nkafka: {brokers: [%s]}\napi: {listen: \"\"}\nsinks:\n", filepath.Join(dir, "state"), src.Brokers()[0])
	targets := map[string]string{"events-pg": pg.DSN("target"), "events-mariadb": my.DSN("target"), "events-sqlite": "sqlite://" + sqlitePath}
	for name, dsn := range targets {
		yaml += fmt.Sprintf("  - {name: %s, type: sql, topics: [log.public.events], dsn: %q, table: \"${source.table}\", insert_mode: insert, batch_size: 40}\n", name, dsn)
	}
	must(t, os.WriteFile(cfg, []byte(yaml), 0o644))

	// The writer: small transactions until the kills are over.
	var (
		mu    sync.Mutex
		total int
		werr  error
	)
	stopWork, workDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(workDone)
		wr := rand.New(rand.NewPCG(seed, 10))
		for {
			select {
			case <-stopWork:
				return
			default:
			}
			n := 1 + wr.IntN(60)
			mu.Lock()
			from := total
			mu.Unlock()
			if err := pg.Exec(ctx, "log", "INSERT INTO events (seq, body) SELECT g, 'event ' || g FROM generate_series($1::bigint, $2::bigint) g", from+1, from+n); err != nil {
				werr = err
				return
			}
			mu.Lock()
			total += n
			mu.Unlock()
			time.Sleep(3 * time.Millisecond)
		}
	}()

	const kills = 20
	sink := runBinary(t, bin, cfg)
	sink.killRestart(rng, kills, 150*time.Millisecond, 450*time.Millisecond)
	close(stopWork)
	<-workDone
	must(t, werr)
	t.Cleanup(func() { _ = sink.stop() })

	dbs := map[string]*stdsql.DB{}
	for name, driver := range map[string][2]string{
		"events-pg":      {"pgx", pg.DSN("target")},
		"events-mariadb": {"mysql", my.GoSQLDSN("target")},
		"events-sqlite":  {"sqlite", "file:" + sqlitePath + "?_pragma=busy_timeout(10000)"},
	} {
		db, err := stdsql.Open(driver[0], driver[1])
		must(t, err)
		defer db.Close()
		dbs[name] = db
	}
	for name, db := range dbs {
		deadline := time.Now().Add(time.Minute)
		var n, distinct int
		var lo, hi int64
		for {
			err := db.QueryRowContext(ctx, "SELECT COUNT(*), COUNT(DISTINCT seq), COALESCE(MIN(seq), 0), COALESCE(MAX(seq), 0) FROM events").Scan(&n, &distinct, &lo, &hi)
			if err == nil && n >= total {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d of %d rows (err %v)", name, n, total, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
		time.Sleep(200 * time.Millisecond)
		must(t, db.QueryRowContext(ctx, "SELECT COUNT(*), COUNT(DISTINCT seq), MIN(seq), MAX(seq) FROM events").Scan(&n, &distinct, &lo, &hi))
		if n != total || distinct != total || lo != 1 || hi != int64(total) {
			t.Errorf("%s: %d rows, %d distinct, seq %d..%d; want %d rows 1..%d exactly once", name, n, distinct, lo, hi, total, total)
		} else {
			t.Logf("%s: %d rows exactly once after %d kills", name, n, kills)
		}
	}
}
