package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluice-cdc/sluice/internal/harness"
	"github.com/sluice-cdc/sluice/internal/runtime"
)

// benchPG measures the PG snapshot and the PG streaming backlog drain
// (exactly-once on and off).
func benchPG(ctx context.Context, e *env) ([]result, error) {
	return snapshotAndStreaming(ctx, e, benchPGSnapshot, benchPGStreaming)
}

// pgOrders is the benchmark table: mixed types, ~200 bytes a row; ts_us
// is when the row was last written (clock_timestamp(), µs), for latency.
const pgOrders = `
CREATE TABLE orders (
  id bigserial PRIMARY KEY,
  customer_id bigint NOT NULL,
  status text NOT NULL,
  amount numeric(12,2) NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  note text,
  ts_us bigint NOT NULL DEFAULT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint
);
INSERT INTO orders (customer_id, status, amount, note)
SELECT g %% 5000, (ARRAY['new','paid','shipped','returned'])[1 + g %% 4], (g %% 100000) / 100.0, repeat(md5(g::text), 3)
FROM generate_series(1, %d) g;
ANALYZE orders;`

// createPGOrders creates database db with the orders table of rows rows.
func createPGOrders(ctx context.Context, pg *harness.Postgres, db string, rows int) error {
	if err := pg.CreateDatabase(ctx, db); err != nil {
		return err
	}
	if err := pg.Exec(ctx, db, fmt.Sprintf(pgOrders, rows)); err != nil {
		return fmt.Errorf("create %s.orders: %w", db, err)
	}
	return nil
}

// pgSnapshotYAML is a source taking an initial_only snapshot of db.orders.
func pgSnapshotYAML(name, dsn string) string {
	return fmt.Sprintf(`
sources:
  - name: %s
    type: postgres
    dsn: %s
    tables: [public.orders]
    snapshot: initial_only
`, name, dsn)
}

// finished is done when the connector has finished (initial_only).
func finished(st status) (bool, error) {
	return st.Connector.State == runtime.StateFinished, failed(st)
}

func benchPGSnapshot(ctx context.Context, e *env) (result, error) {
	rows := e.sz.Rows
	if err := createPGOrders(ctx, e.pg, "snap", rows); err != nil {
		return result{}, err
	}
	logf("PG snapshot of %d rows: psql's COPY, then sluice (%d runs each)", rows, e.sz.SnapshotRuns)
	base, u, err := alternate(e.sz.SnapshotRuns, func() (time.Duration, error) {
		return timedDump(ctx, e.pg.Bin("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", e.pg.DSN("snap"),
			"-c", "COPY (SELECT * FROM orders ORDER BY id) TO STDOUT")
	}, func() (usage, error) {
		return e.runSluiceAlone(ctx, "snap", pgSnapshotYAML("snap", e.pg.DSN("snap")), finished)
	})
	if err != nil {
		return result{}, err
	}
	return newRunsResult("PG snapshot", int64(rows), "rows", u, base, "psql -c 'COPY (SELECT ...) TO STDOUT' → /dev/null", targetSnapshot), nil
}

// preparePGStream creates database db for streaming: the orders table
// (10,000 rows, REPLICA IDENTITY FULL), a marker table, the publication
// bench over both, and a pgoutput slot for each of slots.
func preparePGStream(ctx context.Context, pg *harness.Postgres, db string, slots ...string) error {
	if err := createPGOrders(ctx, pg, db, 10_000); err != nil {
		return err
	}
	if err := pg.Exec(ctx, db, `ALTER TABLE orders REPLICA IDENTITY FULL;
		CREATE TABLE bench_marker (id int PRIMARY KEY);
		CREATE PUBLICATION bench FOR TABLE orders, bench_marker;`); err != nil {
		return fmt.Errorf("prepare %s: %w", db, err)
	}
	for _, slot := range slots {
		if err := pg.Exec(ctx, db, "SELECT pg_create_logical_replication_slot($1, 'pgoutput')", slot); err != nil {
			return fmt.Errorf("create slot %s: %w", slot, err)
		}
	}
	return nil
}

// pgbenchScript is the workload: small transactions, one change each,
// round robin over insert / update / delete. Inserts and updates stamp
// ts_us with clock_timestamp().
const pgbenchScript = `\set r random(1, 10000)
\set k random(1, 3)
\if :k = 1
INSERT INTO orders (customer_id, status, amount, note) VALUES (:r, 'new', :r / 100.0, repeat(md5(:r::text), 3));
\elif :k = 2
UPDATE orders SET status = 'paid', amount = amount + 1, ts_us = (extract(epoch FROM clock_timestamp()) * 1000000)::bigint
 WHERE id = (SELECT max(id) FROM orders) - :r % 100;
\else
DELETE FROM orders WHERE id = (SELECT min(id) FROM orders);
\endif
`

var pgbenchProcessed = regexp.MustCompile(`number of transactions actually processed: (\d+)`)

// pgbench runs the workload against db with args (-t N or -R rate -T s)
// and returns the number of transactions it processed.
func (e *env) pgbench(ctx context.Context, db string, args ...string) (int, error) {
	script := filepath.Join(e.tmp, "workload.sql")
	if err := os.WriteFile(script, []byte(pgbenchScript), 0o644); err != nil {
		return 0, fmt.Errorf("pgbench script: %w", err)
	}
	args = append([]string{"-n", "-f", script}, args...)
	out, err := exec.CommandContext(ctx, e.pg.Bin("pgbench"), append(args, e.pg.DSN(db))...).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("pgbench: %w: %s", err, out)
	}
	m := pgbenchProcessed.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("pgbench: no transaction count in its output: %s", out)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n, nil
}

// pgMarker commits a row into bench_marker and returns an LSN that its
// commit is after: a source whose commit LSN reaches it has read
// everything committed before.
func pgMarker(ctx context.Context, pg *harness.Postgres, db string) (string, error) {
	conn, err := pgx.Connect(ctx, pg.DSN(db))
	if err != nil {
		return "", fmt.Errorf("marker: %w", err)
	}
	defer conn.Close(ctx)
	var lsn string
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "INSERT INTO bench_marker VALUES (1)"); err != nil {
			return err
		}
		return tx.QueryRow(ctx, "SELECT pg_current_wal_insert_lsn()::text").Scan(&lsn)
	})
	if err != nil {
		return "", fmt.Errorf("marker: %w", err)
	}
	return lsn, nil
}

func benchPGStreaming(ctx context.Context, e *env) ([]result, error) {
	changes, runs := e.sz.Changes, e.sz.StreamRuns
	// Each drain reads a slot of its own, all created before the backlog
	// is written: run i of pg_recvlogical reads baseline<i>, sluice's
	// connectors stream<i> and stream_alo<i> (exactly-once off) read
	// sluice_stream<i> and sluice_stream_alo<i>.
	var slots []string
	for i := 1; i <= runs; i++ {
		slots = append(slots, fmt.Sprintf("baseline%d", i), fmt.Sprintf("sluice_stream%d", i), fmt.Sprintf("sluice_stream_alo%d", i))
	}
	if err := preparePGStream(ctx, e.pg, "stream", slots...); err != nil {
		return nil, err
	}
	logf("PG streaming: writing a backlog of %d transactions with pgbench", changes)
	if _, err := e.pgbench(ctx, "stream", "-c", "2", "-j", "2", "-t", strconv.Itoa(max(changes/2, 1))); err != nil {
		return nil, err
	}
	endLSN, err := pgMarker(ctx, e.pg, "stream")
	if err != nil {
		return nil, err
	}
	logf("PG streaming: draining it with pg_recvlogical, then with sluice (exactly-once on, off), %d runs each", runs)
	var bases []time.Duration
	us := map[bool][]usage{}
	var events int64
	for i := 1; i <= runs; i++ {
		base, err := timed(func() error {
			out, err := exec.CommandContext(ctx, e.pg.Bin("pg_recvlogical"), "-d", e.pg.DSN("stream"), "-S", fmt.Sprintf("baseline%d", i), "--start",
				"-E", endLSN, "-o", "proto_version=1", "-o", "publication_names=bench", "-f", "/dev/null", "--no-loop").CombinedOutput()
			if err != nil {
				return fmt.Errorf("pg_recvlogical: %w: %s", err, out)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		bases = append(bases, base)
		for _, eo := range []bool{true, false} {
			name := fmt.Sprintf("stream%d", i)
			if !eo {
				name = fmt.Sprintf("stream_alo%d", i)
			}
			u, err := e.runSluiceAlone(ctx, name, pgStreamYAML(name, e.pg.DSN("stream"), eo), func(st status) (bool, error) {
				events = st.Events
				lsn, _ := st.Position["commit_lsn"].(string)
				return lsn != "" && lsnGE(lsn, endLSN), failed(st)
			})
			if err != nil {
				return nil, err
			}
			us[eo] = append(us[eo], u)
		}
	}
	var out []result
	for _, eo := range []bool{true, false} {
		r := newRunsResult(fmt.Sprintf("PG streaming (backlog drain), exactly_once: %t", eo), int64(changes), "changes", us[eo], bases,
			"pg_recvlogical -o proto_version=1 → /dev/null", targetStreaming)
		r.Note = joinNotes(r.Note, fmt.Sprintf("%d records incl. tombstones", events))
		out = append(out, r)
	}
	return out, nil
}

// pgStreamYAML is a streaming-only source on the orders and marker tables
// of the publication bench, reading slot sluice_<name>.
func pgStreamYAML(name, dsn string, exactlyOnce bool) string {
	return fmt.Sprintf(`
sources:
  - name: %s
    type: postgres
    dsn: %s
    tables: [public.orders, public.bench_marker]
    snapshot: never
    publication_name: bench
    publication.autocreate.mode: disabled
    exactly_once: %t
`, name, dsn, exactlyOnce)
}

func lsnGE(a, b string) bool {
	var ah, al, bh, bl uint64
	fmt.Sscanf(a, "%X/%X", &ah, &al)
	fmt.Sscanf(b, "%X/%X", &bh, &bl)
	return ah<<32|al >= bh<<32|bl
}
