package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluice-cdc/sluice/internal/harness"
)

// TestPostgresHeartbeatAdvancesSlot: with heartbeat.interval, heartbeat
// records are written and the slot's confirmed position moves past WAL
// written by tables sluice does not capture.
func TestPostgresHeartbeatAdvancesSlot(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pg := harness.StartPostgres(t)
	must(t, pg.Exec(ctx, "postgres", `
		CREATE TABLE captured (id int PRIMARY KEY);
		CREATE TABLE heartbeat (id int PRIMARY KEY, ts timestamptz);
		CREATE TABLE noise (id serial PRIMARY KEY, pad text);`))
	d := runDaemon(t, pgSourceYAML("hb", pg.DSN("postgres"),
		"tables: [public.captured, public.heartbeat]",
		"heartbeat.interval: 200ms",
		`heartbeat.action.query: "INSERT INTO heartbeat VALUES (1, now()) ON CONFLICT (id) DO UPDATE SET ts = now()"`))
	waitStatus(t, d, "hb", time.Minute, streaming)
	must(t, pg.Exec(ctx, "postgres", `INSERT INTO noise (pad) SELECT repeat('x', 200) FROM generate_series(1, 5000)`))
	conn, err := pgx.Connect(ctx, pg.DSN("postgres"))
	must(t, err)
	defer conn.Close(context.Background())
	var target string
	must(t, conn.QueryRow(ctx, "SELECT pg_current_wal_lsn()::text").Scan(&target))

	hb := newConsumer(t, d.Brokers(), "__sluice-heartbeat.hb")
	recs := hb.next(2, time.Minute)
	if recs[0].Key["serverName"] != "hb" || recs[0].Value["ts_ms"] == nil {
		t.Errorf("heartbeat record: key %v value %v", recs[0].Key, recs[0].Value)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		var ok bool
		must(t, conn.QueryRow(ctx, "SELECT confirmed_flush_lsn >= $1::pg_lsn FROM pg_replication_slots WHERE slot_name = 'sluice_hb'", target).Scan(&ok))
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("slot did not advance past %s within a minute", target)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestPostgresToastPlaceholder: an update that leaves a TOASTed column
// unchanged carries unavailable.value.placeholder (REPLICA IDENTITY
// DEFAULT), and the real value with REPLICA IDENTITY FULL.
func TestPostgresToastPlaceholder(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pg := harness.StartPostgres(t)
	must(t, pg.Exec(ctx, "postgres", `
		CREATE TABLE docs (id int PRIMARY KEY, body text, n int);
		ALTER TABLE docs ALTER COLUMN body SET STORAGE EXTERNAL;
		CREATE TABLE docs_full (id int PRIMARY KEY, body text, n int);
		ALTER TABLE docs_full ALTER COLUMN body SET STORAGE EXTERNAL;
		ALTER TABLE docs_full REPLICA IDENTITY FULL;`))
	d := runDaemon(t, pgSourceYAML("toast", pg.DSN("postgres"), "tables: [public.docs, public.docs_full]", "snapshot: never"))
	waitStatus(t, d, "toast", time.Minute, streaming)
	must(t, pg.Exec(ctx, "postgres", `
		INSERT INTO docs VALUES (1, repeat('0123456789', 1000), 0);
		INSERT INTO docs_full VALUES (1, repeat('0123456789', 1000), 0);
		UPDATE docs SET n = 1; UPDATE docs_full SET n = 1;`))
	c := newConsumer(t, d.Brokers(), "toast.public.docs")
	recs := c.next(2, time.Minute)
	if after := recs[1].Value["after"].(map[string]any); after["body"] != "__debezium_unavailable_value" || !jsonEq(after["n"], 1) {
		t.Errorf("update with default identity: after = %.200v", after)
	}
	cf := newConsumer(t, d.Brokers(), "toast.public.docs_full")
	recs = cf.next(2, time.Minute)
	if after := recs[1].Value["after"].(map[string]any); len(after["body"].(string)) != 10000 {
		t.Errorf("update with full identity: body has %d characters, want 10000", len(after["body"].(string)))
	}
}
