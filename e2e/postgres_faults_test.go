package e2e

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/internal/harness"
	"github.com/sluice-cdc/sluice/internal/kafka"
	"github.com/sluice-cdc/sluice/internal/runtime"
	"github.com/sluice-cdc/sluice/sources/postgres"
)

func pgSourceYAML(name, dsn string, extra ...string) string {
	return sourceYAML("postgres", name, dsn, extra...)
}

// streaming reports whether a Postgres source has reached the streaming phase.
func streaming(st runtime.Status) bool {
	d, ok := st.Details.(postgres.StatusSnapshot)
	return st.State == runtime.StateRunning && ok && d.State == "streaming"
}

func failedWith(substr string) func(runtime.Status) bool {
	return func(st runtime.Status) bool {
		return st.State == runtime.StateFailed && strings.Contains(st.Error, substr)
	}
}

func TestPostgresFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	pg := harness.StartPostgres(t)
	must(t, pg.CreateDatabase(ctx, "app"))
	must(t, pg.Exec(ctx, "app", `
		CREATE TABLE accounts (id int PRIMARY KEY, owner text NOT NULL);
		CREATE TABLE audit (at int, what text);
		ALTER TABLE audit REPLICA IDENTITY FULL;
		CREATE ROLE plain LOGIN;
		GRANT SELECT ON ALL TABLES IN SCHEMA public TO plain;`))

	t.Run("role without REPLICATION", func(t *testing.T) {
		dsn := strings.Replace(pg.DSN("app"), "postgres@", "plain@", 1)
		d := runDaemon(t, pgSourceYAML("norepl", dsn, "tables: [public.accounts]"))
		st := waitStatus(t, d, "norepl", time.Minute, failedWith("REPLICATION"))
		t.Logf("status: %s", st.Error)
	})

	t.Run("table does not exist", func(t *testing.T) {
		d := runDaemon(t, pgSourceYAML("missing", pg.DSN("app"), "tables: [public.accounts, public.nope]"))
		waitStatus(t, d, "missing", time.Minute, failedWith("table public.nope does not exist"))
	})

	t.Run("table without primary key has null keys", func(t *testing.T) {
		d := runDaemon(t, pgSourceYAML("nopk", pg.DSN("app"), "tables: [public.audit]", "snapshot: never"))
		waitStatus(t, d, "nopk", time.Minute, streaming)
		must(t, pg.Exec(ctx, "app", `INSERT INTO audit VALUES (1, 'login'); UPDATE audit SET what = 'logout' WHERE at = 1; DELETE FROM audit WHERE at = 1;`))
		c := newConsumer(t, d.Brokers(), "nopk.public.audit")
		// Debezium follows a delete with a tombstone even when the key is
		// null; so does sluice.
		recs := c.next(4, time.Minute)
		for i, op := range []string{"c", "u", "d", "tombstone"} {
			if recs[i].op() != op || recs[i].RawKey != nil {
				t.Errorf("record %d: op %s key %q, want op %s and a null key", i, recs[i].op(), recs[i].RawKey, op)
			}
		}
		c.none(500 * time.Millisecond)
	})

	t.Run("database restart", func(t *testing.T) {
		d := runDaemon(t, pgSourceYAML("restart", pg.DSN("app"), "tables: [public.accounts]"))
		c := newConsumer(t, d.Brokers(), "restart.public.accounts")
		waitStatus(t, d, "restart", time.Minute, streaming)
		for i := 1; i <= 50; i++ {
			must(t, pg.Exec(ctx, "app", fmt.Sprintf("INSERT INTO accounts VALUES (%d, 'before')", i)))
		}
		c.next(50, time.Minute)
		must(t, pg.Stop(ctx))
		waitStatus(t, d, "restart", time.Minute, func(st runtime.Status) bool { return st.State == runtime.StateRestarting })
		must(t, pg.Start(ctx))
		for i := 51; i <= 100; i++ {
			must(t, pg.Exec(ctx, "app", fmt.Sprintf("INSERT INTO accounts VALUES (%d, 'after')", i)))
		}
		recs := c.next(50, 2*time.Minute)
		for i, r := range recs {
			if r.op() != "c" || !jsonEq(r.Key, map[string]any{"id": 51 + i}) {
				t.Fatalf("after restart, record %d: op %s key %v; want c of id %d", i, r.op(), r.Key, 51+i)
			}
		}
		c.none(time.Second)
		must(t, pg.Exec(ctx, "app", "DELETE FROM accounts"))
	})

	t.Run("slot dropped while running", func(t *testing.T) {
		d := runDaemon(t, pgSourceYAML("dropped", pg.DSN("app"), "tables: [public.accounts]"))
		waitStatus(t, d, "dropped", time.Minute, streaming)
		deadline := time.Now().Add(30 * time.Second)
		for {
			err := pg.Exec(ctx, "app", `SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = 'sluice_dropped' AND active_pid IS NOT NULL;
				SELECT pg_drop_replication_slot('sluice_dropped');`)
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("drop slot: %v", err)
			}
			time.Sleep(20 * time.Millisecond)
		}
		st := waitStatus(t, d, "dropped", time.Minute, failedWith(`replication slot "sluice_dropped"`))
		t.Logf("status: %s", st.Error)
	})
}

func TestPostgresWalLevelNotLogical(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: -short")
	}
	pg := harness.StartPostgres(t, harness.WithPGSetting("wal_level", "replica"))
	must(t, pg.Exec(context.Background(), "postgres", "CREATE TABLE t (id int PRIMARY KEY)"))
	d := runDaemon(t, pgSourceYAML("replica", pg.DSN("postgres")))
	st := waitStatus(t, d, "replica", time.Minute, failedWith("wal_level=logical"))
	t.Logf("status: %s", st.Error)
}

// TestBrokerUnreachableAtStart starts sluice against a broker address
// where nothing listens: the connector retries with the cause in its
// status, and once a broker appears there it snapshots and streams.
func TestBrokerUnreachableAtStart(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: -short")
	}
	ctx := context.Background()
	pg := harness.StartPostgres(t)
	must(t, pg.Exec(ctx, "postgres", "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1), (2);"))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	addr := ln.Addr().String()
	ln.Close()

	d := runDaemon(t, "kafka: {brokers: ["+addr+"]}\n"+pgSourceYAML("late", pg.DSN("postgres")))
	st := waitStatus(t, d, "late", 2*time.Minute, func(st runtime.Status) bool {
		return st.State == runtime.StateRestarting && st.Error != ""
	})
	t.Logf("status while the broker is down: %s", st.Error)
	if !strings.Contains(st.Error, "kafka") {
		t.Errorf("status error %q does not say it is about Kafka", st.Error)
	}

	b, err := kafka.StartEmbedded(kafka.EmbeddedOptions{Listen: addr})
	must(t, err)
	defer b.Close()
	c := newConsumer(t, []string{addr}, "late.public.t")
	recs := c.next(2, 3*time.Minute)
	for i, r := range recs {
		if r.op() != "r" {
			t.Errorf("record %d: op %s, want r", i, r.op())
		}
	}
	waitStatus(t, d, "late", time.Minute, func(st runtime.Status) bool { return st.State == runtime.StateRunning })
}
