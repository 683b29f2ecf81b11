package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluice-cdc/sluice/configs"
	"github.com/sluice-cdc/sluice/internal/daemon"
	"github.com/sluice-cdc/sluice/internal/harness"
	"github.com/sluice-cdc/sluice/internal/runtime"
	"github.com/sluice-cdc/sluice/sources/postgres"
)

// result is one scenario's measurement beside its baseline.
type result struct {
	Scenario     string  `json:"scenario"`
	Units        int64   `json:"units"`
	Unit         string  `json:"unit"`
	SluiceSec    float64 `json:"sluice_seconds"`
	BaselineSec  float64 `json:"baseline_seconds"`
	SluiceRate   float64 `json:"sluice_per_second"`
	BaselineRate float64 `json:"baseline_per_second"`
	Ratio        float64 `json:"ratio"`
	Baseline     string  `json:"baseline"`
	SluiceCPU    float64 `json:"sluice_cpu_seconds"`
}

func main() {
	rows := flag.Int("rows", 200_000, "rows in the snapshot table")
	changes := flag.Int("changes", 200_000, "pgbench transactions (one insert/update/delete each, round robin) in the streaming backlog")
	out := flag.String("out", "bench/results", "directory for the result files")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if err := run(*rows, *changes, *out); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

func run(rows, changes int, outDir string) error {
	ctx := context.Background()
	pg, err := harness.NewPostgres(ctx, harness.PGConfig{})
	if err != nil {
		return err
	}
	defer pg.Close()
	var results []result
	r, err := benchSnapshot(ctx, pg, rows)
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	results = append(results, r)
	rs, err := benchStreaming(ctx, pg, changes)
	if err != nil {
		return fmt.Errorf("streaming: %w", err)
	}
	results = append(results, rs...)
	return report(results, outDir)
}

const createTable = `
CREATE TABLE orders (
  id bigserial PRIMARY KEY,
  customer_id bigint NOT NULL,
  status text NOT NULL,
  amount numeric(12,2) NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  note text
);`

// A ~200-byte row of mixed types.
const fillRows = `INSERT INTO orders (customer_id, status, amount, note)
SELECT g %% 5000, (ARRAY['new','paid','shipped','returned'])[1 + g %% 4], (g %% 100000) / 100.0,
       repeat(md5(g::text), 3)
FROM generate_series(1, %d) g;`

func benchSnapshot(ctx context.Context, pg *harness.Postgres, rows int) (result, error) {
	if err := pg.CreateDatabase(ctx, "snap"); err != nil {
		return result{}, err
	}
	if err := pg.Exec(ctx, "snap", createTable+fmt.Sprintf(fillRows, rows)+"ANALYZE orders;"); err != nil {
		return result{}, err
	}
	fmt.Fprintf(os.Stderr, "bench: snapshot of %d rows: COPY, then sluice\n", rows)
	// Baseline: the native dump rate.
	conn, err := pgx.Connect(ctx, pg.DSN("snap"))
	if err != nil {
		return result{}, err
	}
	start := time.Now()
	_, err = conn.PgConn().CopyTo(ctx, io.Discard, "COPY (SELECT * FROM orders ORDER BY id) TO STDOUT")
	base := time.Since(start)
	conn.Close(ctx)
	if err != nil {
		return result{}, err
	}

	cpu0 := cpuSeconds()
	start = time.Now()
	err = runUntil(ctx, fmt.Sprintf(`
sources:
  - name: snap
    type: postgres
    dsn: %s
    tables: [public.orders]
    snapshot: initial_only
`, pg.DSN("snap")), func(st runtime.Status) (bool, error) {
		return st.State == runtime.StateFinished, failed(st)
	})
	el := time.Since(start)
	if err != nil {
		return result{}, err
	}
	return newResult("PG snapshot", int64(rows), "rows", el, base, "COPY (SELECT ...) TO STDOUT → /dev/null", cpuSeconds()-cpu0), nil
}

func benchStreaming(ctx context.Context, pg *harness.Postgres, changes int) ([]result, error) {
	if err := pg.CreateDatabase(ctx, "stream"); err != nil {
		return nil, err
	}
	if err := pg.Exec(ctx, "stream", createTable+fmt.Sprintf(fillRows, 10000)+
		`ALTER TABLE orders REPLICA IDENTITY FULL;
		 CREATE TABLE bench_marker (id int PRIMARY KEY);
		 CREATE PUBLICATION bench FOR TABLE orders, bench_marker;`); err != nil {
		return nil, err
	}
	for _, slot := range []string{"sluice_stream", "sluice_stream_alo", "baseline"} {
		if err := pg.Exec(ctx, "stream", "SELECT pg_create_logical_replication_slot('"+slot+"', 'pgoutput')"); err != nil {
			return nil, err
		}
	}
	// The backlog: small transactions, one change each, round robin over
	// insert / update / delete.
	script := filepath.Join(os.TempDir(), fmt.Sprintf("sluice-bench-%d.sql", os.Getpid()))
	defer os.Remove(script)
	if err := os.WriteFile(script, []byte(`\set r random(1, 10000)
\set k random(1, 3)
\if :k = 1
INSERT INTO orders (customer_id, status, amount, note) VALUES (:r, 'new', :r / 100.0, repeat(md5(:r::text), 3));
\elif :k = 2
UPDATE orders SET status = 'paid', amount = amount + 1 WHERE id = (SELECT max(id) FROM orders) - :r % 100;
\else
DELETE FROM orders WHERE id = (SELECT min(id) FROM orders);
\endif
`), 0o644); err != nil {
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "bench: writing a backlog of %d transactions with pgbench\n", changes)
	pgb := exec.CommandContext(ctx, "pgbench", "-n", "-c", "2", "-t", fmt.Sprint(changes/2), "-f", script, pg.DSN("stream"))
	if outp, err := pgb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("pgbench: %w: %s", err, outp)
	}
	// A marker transaction ends the backlog: its commit LSN is after endLSN,
	// which is read inside it.
	var endLSN string
	conn, err := pgx.Connect(ctx, pg.DSN("stream"))
	if err != nil {
		return nil, err
	}
	tx, err := conn.Begin(ctx)
	if err == nil {
		_, err = tx.Exec(ctx, "INSERT INTO bench_marker VALUES (1)")
	}
	if err == nil {
		err = tx.QueryRow(ctx, "SELECT pg_current_wal_insert_lsn()::text").Scan(&endLSN)
	}
	if err == nil {
		err = tx.Commit(ctx)
	}
	conn.Close(ctx)
	if err != nil {
		return nil, err
	}

	fmt.Fprintln(os.Stderr, "bench: draining it with pg_recvlogical, then with sluice")
	// Baseline: pg_recvlogical drains the twin slot into /dev/null.
	start := time.Now()
	rl := exec.CommandContext(ctx, "pg_recvlogical", "-d", pg.DSN("stream"), "-S", "baseline", "--start",
		"-E", endLSN, "-o", "proto_version=1", "-o", "publication_names=bench", "-f", "/dev/null", "--no-loop")
	if outp, err := rl.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("pg_recvlogical: %w: %s", err, outp)
	}
	base := time.Since(start)

	eo, err := drainWithSluice(ctx, pg, "stream", true, changes, endLSN, base)
	if err != nil {
		return nil, err
	}
	// The same backlog again, from a twin slot, without transactions: what
	// exactly-once costs.
	alo, err := drainWithSluice(ctx, pg, "stream_alo", false, changes, endLSN, base)
	if err != nil {
		return nil, err
	}
	return []result{eo, alo}, nil
}

// drainWithSluice streams the backlog in the slot sluice_<name> up to
// endLSN through sluice.
func drainWithSluice(ctx context.Context, pg *harness.Postgres, name string, exactlyOnce bool, changes int, endLSN string, base time.Duration) (result, error) {
	cpu0 := cpuSeconds()
	start := time.Now()
	var events int64
	err := runUntil(ctx, fmt.Sprintf(`
sources:
  - name: %s
    type: postgres
    dsn: %s
    tables: [public.orders, public.bench_marker]
    snapshot: never
    publication_name: bench
    publication.autocreate.mode: disabled
    exactly_once: %t
`, name, pg.DSN("stream"), exactlyOnce), func(st runtime.Status) (bool, error) {
		d, _ := st.Details.(postgres.StatusSnapshot)
		events = d.Events
		return d.CommitLSN != "" && lsnGE(d.CommitLSN, endLSN), failed(st)
	})
	el := time.Since(start)
	if err != nil {
		return result{}, err
	}
	r := newResult(fmt.Sprintf("PG streaming (backlog drain), exactly_once: %t", exactlyOnce), int64(changes), "changes", el, base, "pg_recvlogical -o proto_version=1 → /dev/null", cpuSeconds()-cpu0)
	r.Scenario += fmt.Sprintf(" [%d records incl. tombstones]", events)
	return r, nil
}

// runUntil runs sluice's runtime in-process with the embedded broker until
// done reports true for the connector.
func runUntil(ctx context.Context, yaml string, done func(runtime.Status) (bool, error)) error {
	dir, err := os.MkdirTemp("", "sluice-bench-state-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	yaml = fmt.Sprintf("state_dir: %s\nkafka: {listen: 127.0.0.1:0}\napi: {listen: \"\"}\nlog: {level: info}\n", dir) + yaml
	cfg, err := configs.Parse("bench.yaml", []byte(yaml))
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: benchLogLevel()}))
	d, err := daemon.New(cfg, log)
	if err != nil {
		return err
	}
	defer d.Close()
	rctx, cancel := context.WithCancel(ctx)
	stopped := make(chan struct{})
	go func() { defer close(stopped); _ = d.Run(rctx) }()
	defer func() { cancel(); <-stopped }()
	name := cfg.Sources[0].Name
	for {
		st, _ := d.Supervisor().Status(name)
		ok, err := done(st)
		if err != nil || ok {
			return err
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func failed(st runtime.Status) error {
	if st.State == runtime.StateFailed || st.State == runtime.StateRestarting {
		return fmt.Errorf("connector %s: %s", st.State, st.Error)
	}
	return nil
}

func lsnGE(a, b string) bool {
	var ah, al, bh, bl uint64
	fmt.Sscanf(a, "%X/%X", &ah, &al)
	fmt.Sscanf(b, "%X/%X", &bh, &bl)
	return ah<<32|al >= bh<<32|bl
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

func newResult(name string, units int64, unit string, el, base time.Duration, baseline string, cpu float64) result {
	r := result{Scenario: name, Units: units, Unit: unit, SluiceSec: el.Seconds(), BaselineSec: base.Seconds(), Baseline: baseline, SluiceCPU: cpu}
	r.SluiceRate = float64(units) / el.Seconds()
	r.BaselineRate = float64(units) / base.Seconds()
	r.Ratio = r.SluiceRate / r.BaselineRate
	return r
}

func report(results []result, dir string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# sluice benchmark %s\n\n", time.Now().UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "Machine: %d cores; servers on the same machine; exactly-once on unless a row says otherwise; JSON with schemas.\n\n", numCPU())
	b.WriteString("| scenario | units | sluice /s | baseline /s | ratio | baseline | sluice CPU s |\n|---|---|---|---|---|---|---|\n")
	for _, r := range results {
		fmt.Fprintf(&b, "| %s | %d %s | %.0f | %.0f | %.2f | %s | %.1f |\n", r.Scenario, r.Units, r.Unit, r.SluiceRate, r.BaselineRate, r.Ratio, r.Baseline, r.SluiceCPU)
	}
	fmt.Print(b.String())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	stamp := time.Now().UTC().Format("2006-01-02")
	if err := os.WriteFile(filepath.Join(dir, stamp+".md"), []byte(b.String()), 0o644); err != nil {
		return err
	}
	js, _ := json.MarshalIndent(results, "", "  ")
	return os.WriteFile(filepath.Join(dir, stamp+".json"), js, 0o644)
}
