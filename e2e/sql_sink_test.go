package e2e

import (
	"context"
	stdsql "database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql" // database/sql driver "mysql"
	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	"github.com/twmb/franz-go/pkg/kgo"
	_ "modernc.org/sqlite" // database/sql driver "sqlite"

	"github.com/sluice-cdc/sluice/configs"
	"github.com/sluice-cdc/sluice/internal/daemon"
	"github.com/sluice-cdc/sluice/internal/harness"
	"github.com/sluice-cdc/sluice/internal/runtime"
)

// sqlTarget is a database the SQL sink writes into, and the query that
// reads a table back as canonical text rows.
type sqlTarget struct {
	name  string
	dsn   string // the sink's DSN
	db    *stdsql.DB
	query func(cols []string) string
	// normalize fixes up a column's text (SQLite keeps Debezium's ISO form).
	normalize func(col, v string) string
	// createAudit adds triggers that log every change of sluice_offsets
	// into offsets_audit (n, sink, topic, part, old_next, new_next); it
	// fails while sluice_offsets does not exist.
	createAudit func(ctx context.Context, db *stdsql.DB) error
}

// execAll runs statements in order.
func execAll(ctx context.Context, db *stdsql.DB, stmts ...string) error {
	for _, q := range stmts {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%.60s: %w", q, err)
		}
	}
	return nil
}

func openTargets(t *testing.T, ctx context.Context, pg *harness.Postgres) []*sqlTarget {
	t.Helper()
	must(t, pg.CreateDatabase(ctx, "target"))
	my := harness.StartMariaDB(t)
	must(t, my.CreateDatabase(ctx, "target"))
	sqlitePath := filepath.Join(t.TempDir(), "target.db")
	open := func(driver, dsn string) *stdsql.DB {
		db, err := stdsql.Open(driver, dsn)
		must(t, err)
		t.Cleanup(func() { db.Close() })
		return db
	}
	pgCols := map[string]string{
		"seen": `to_char(seen AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')`, "data": `encode(data, 'hex')`,
	}
	return []*sqlTarget{
		{
			name: "postgres", dsn: pg.DSN("target"), db: open("pgx", pg.DSN("target")),
			query: func(cols []string) string { return selectText(cols, pgCols, `%s::text`, `"%s"`) },
			createAudit: func(ctx context.Context, db *stdsql.DB) error {
				return execAll(ctx, db, `SELECT 'sluice_offsets'::regclass`,
					`CREATE TABLE offsets_audit (n bigserial PRIMARY KEY, sink text, topic text, part int, old_next bigint, new_next bigint)`,
					`CREATE FUNCTION audit_offsets() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
						INSERT INTO offsets_audit (sink, topic, part, old_next, new_next)
						VALUES (NEW.sink, NEW.topic, NEW.partition, CASE WHEN TG_OP = 'UPDATE' THEN OLD.next_offset END, NEW.next_offset);
						RETURN NEW; END $$`,
					`CREATE TRIGGER audit AFTER INSERT OR UPDATE ON sluice_offsets FOR EACH ROW EXECUTE FUNCTION audit_offsets()`)
			},
		},
		{
			name: "mariadb", dsn: my.DSN("target"), db: open("mysql", my.GoSQLDSN("target")),
			query: func(cols []string) string {
				return selectText(cols, map[string]string{
					"seen": "DATE_FORMAT(seen, '%Y-%m-%d %H:%i:%s.%f')", "data": "LOWER(HEX(data))",
				}, "CAST(%s AS CHAR)", "`%s`")
			},
			createAudit: func(ctx context.Context, db *stdsql.DB) error {
				return execAll(ctx, db, "SELECT 1 FROM sluice_offsets LIMIT 1",
					"CREATE TABLE offsets_audit (n BIGINT AUTO_INCREMENT PRIMARY KEY, sink VARCHAR(255), topic VARCHAR(255), part INT, old_next BIGINT, new_next BIGINT)",
					"CREATE TRIGGER audit_ins AFTER INSERT ON sluice_offsets FOR EACH ROW INSERT INTO offsets_audit (sink, topic, part, old_next, new_next) VALUES (NEW.sink, NEW.topic, NEW.`partition`, NULL, NEW.next_offset)",
					"CREATE TRIGGER audit_upd AFTER UPDATE ON sluice_offsets FOR EACH ROW INSERT INTO offsets_audit (sink, topic, part, old_next, new_next) VALUES (NEW.sink, NEW.topic, NEW.`partition`, OLD.next_offset, NEW.next_offset)")
			},
		},
		{
			name: "sqlite", dsn: "sqlite://" + sqlitePath, db: open("sqlite", "file:"+sqlitePath+"?_pragma=busy_timeout(10000)"),
			query: func(cols []string) string {
				return selectText(cols, map[string]string{"data": "CASE WHEN data IS NULL THEN NULL ELSE lower(hex(data)) END"}, "CAST(%s AS TEXT)", `"%s"`)
			},
			normalize: func(col, v string) string {
				if col == "seen" {
					if ts, err := time.Parse(time.RFC3339Nano, v); err == nil {
						return ts.UTC().Format("2006-01-02 15:04:05.000000")
					}
				}
				return v
			},
			createAudit: func(ctx context.Context, db *stdsql.DB) error {
				return execAll(ctx, db, `SELECT 1 FROM sluice_offsets LIMIT 1`,
					`CREATE TABLE offsets_audit (n INTEGER PRIMARY KEY AUTOINCREMENT, sink TEXT, topic TEXT, part INTEGER, old_next INTEGER, new_next INTEGER)`,
					`CREATE TRIGGER audit_ins AFTER INSERT ON sluice_offsets BEGIN INSERT INTO offsets_audit (sink, topic, part, old_next, new_next) VALUES (NEW.sink, NEW.topic, NEW."partition", NULL, NEW.next_offset); END`,
					`CREATE TRIGGER audit_upd AFTER UPDATE ON sluice_offsets BEGIN INSERT INTO offsets_audit (sink, topic, part, old_next, new_next) VALUES (NEW.sink, NEW.topic, NEW."partition", OLD.next_offset, NEW.next_offset); END`)
			},
		},
	}
}

// selectText builds SELECT <each column as text> FROM items ORDER BY id.
func selectText(cols []string, special map[string]string, cast, quote string) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		if s, ok := special[c]; ok {
			parts[i] = s
		} else {
			parts[i] = fmt.Sprintf(cast, fmt.Sprintf(quote, c))
		}
	}
	return "SELECT " + strings.Join(parts, ", ") + " FROM items ORDER BY items.id"
}

// readRows runs q and returns each row as one line; NULL is <null>.
func readRows(ctx context.Context, db *stdsql.DB, q string, cols []string, norm func(col, v string) string) ([]string, error) {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		vals := make([]stdsql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		line := make([]string, len(cols))
		for i, v := range vals {
			switch {
			case !v.Valid:
				line[i] = "<null>"
			case norm != nil:
				line[i] = norm(cols[i], v.String)
			default:
				line[i] = v.String
			}
		}
		out = append(out, strings.Join(line, "|"))
	}
	return out, rows.Err()
}

// TestSQLSinkReplicates streams a snapshot and mixed changes (inserts,
// updates, deletes, primary-key changes, an ALTER TABLE ADD COLUMN) from
// PostgreSQL through the topics into PostgreSQL, MariaDB and SQLite
// targets, and checks that each target table equals the source, row for
// row and value for value.
func TestSQLSinkReplicates(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: -short")
	}
	sqlSinkReplication(t, "")
}

// TestSQLSinkKill9Mixed is TestSQLSinkReplicates with the sinks in the real
// binary, killed with SIGKILL 20 times while the changes stream in. Besides
// the final tables, triggers on each target's sluice_offsets table log
// every commit's offset range: the ranges must follow each other without a
// gap or an overlap, so no batch of changes was applied twice.
func TestSQLSinkKill9Mixed(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: -short")
	}
	sqlSinkReplication(t, buildSluice(t))
}

// sqlSinkReplication streams a mixed workload from PostgreSQL into the three
// targets and compares them with the source. With bin, the sinks run in
// that binary, which is killed and restarted meanwhile.
func sqlSinkReplication(t *testing.T, bin string) {
	changes := 100_000 // the full run takes ~13 s here; SLUICE_SQL_SINK_CHANGES overrides
	if n, err := strconv.Atoi(os.Getenv("SLUICE_SQL_SINK_CHANGES")); err == nil && n > 0 {
		changes = n
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute+time.Duration(changes)*5*time.Millisecond)
	defer cancel()
	pg := harness.StartPostgres(t)
	must(t, pg.CreateDatabase(ctx, "shop"))
	must(t, pg.Exec(ctx, "shop", `
		CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL, qty int NOT NULL, price numeric(10,2),
			seen timestamptz, data bytea, doc jsonb);
		INSERT INTO items SELECT g, 'item ' || g || ' ✓', g % 17, g * 1.25, '2024-01-01 00:00:00+00'::timestamptz + g * interval '1.000001 second',
			decode(lpad(to_hex(g), 8, '0'), 'hex'), jsonb_build_object('g', g, 'tags', jsonb_build_array('a', g))
		FROM generate_series(1, 500) g;`))
	targets := openTargets(t, ctx, pg)

	sinks := "sinks:\n"
	for _, tg := range targets {
		sinks += fmt.Sprintf(`  - name: replica-%s
    type: sql
    topics: ["shop\\.public\\..*"]
    dsn: %s
    table: "${source.table}"
    auto_evolve: true
    batch_size: 300
`, tg.name, tg.dsn)
	}
	source := pgSourceYAML("shop", pg.DSN("shop"), "tables: [public.items]")
	var (
		d        *daemon.Daemon
		killsRun = make(chan int, 1)
	)
	if bin == "" {
		d = runDaemon(t, source+sinks)
		killsRun <- 0
	} else {
		d = runDaemon(t, source)
		go killSinks(t, ctx, bin, d.Brokers()[0], sinks, targets, killsRun)
	}

	conn, err := pgx.Connect(ctx, pg.DSN("shop"))
	must(t, err)
	defer conn.Close(context.Background())
	rng := rand.New(rand.NewPCG(6, 6))
	nextID := int64(501)
	// The live ids, kept here rather than queried for each change.
	ids := make([]int64, 0, 1024)
	at := map[int64]int{}
	for id := int64(1); id <= 500; id++ {
		at[id] = len(ids)
		ids = append(ids, id)
	}
	add := func(id int64) { at[id] = len(ids); ids = append(ids, id) }
	remove := func(id int64) {
		i := at[id]
		last := ids[len(ids)-1]
		ids[i], at[last] = last, i
		ids = ids[:len(ids)-1]
		delete(at, id)
	}
	live := func() int64 { return ids[rng.IntN(len(ids))] }
	withNote := false
	start := time.Now()
	for n := 0; n < changes; {
		tx, err := conn.Begin(ctx)
		must(t, err)
		for range 1 + rng.IntN(20) {
			var q string
			var args []any
			switch r := rng.IntN(100); {
			case r < 35 || len(ids) < 10:
				q, args = `INSERT INTO items VALUES ($1, $2, $3, $4, now(), $5, '{"new": true}')`, []any{nextID, fmt.Sprintf("new %d", nextID), rng.IntN(1000), fmt.Sprintf("%d.%02d", rng.IntN(100000), rng.IntN(100)), []byte{byte(nextID), 0}}
				add(nextID)
				nextID++
			case r < 70:
				q, args = `UPDATE items SET qty = qty + 1, price = $2, seen = clock_timestamp(), name = name || '+' WHERE id = $1`, []any{live(), fmt.Sprintf("-%d.%02d", rng.IntN(1000), rng.IntN(100))}
				if withNote {
					q = `UPDATE items SET qty = qty + 1, price = $2, note = 'note ' || qty WHERE id = $1`
				}
			case r < 85:
				id := live()
				q, args = `DELETE FROM items WHERE id = $1`, []any{id}
				remove(id)
			default:
				id := live()
				q, args = `UPDATE items SET id = $2 WHERE id = $1`, []any{id, nextID}
				remove(id)
				add(nextID)
				nextID++
			}
			_, err := tx.Exec(ctx, q, args...)
			must(t, err)
			n++
		}
		must(t, tx.Commit(ctx))
		if !withNote && n >= changes/2 {
			must(t, pg.Exec(ctx, "shop", `ALTER TABLE items ADD COLUMN note text; UPDATE items SET data = NULL WHERE id % 7 = 0`))
			withNote = true
		}
	}
	// Every row changes once more, so that every target has the new column.
	must(t, pg.Exec(ctx, "shop", `UPDATE items SET note = 'last ' || id WHERE id % 2 = 0`))
	written := time.Since(start)

	cols := []string{"id", "name", "qty", "price", "seen", "data", "doc", "note"}
	srcDB, err := stdsql.Open("pgx", pg.DSN("shop"))
	must(t, err)
	defer srcDB.Close()
	want, err := readRows(ctx, srcDB, selectText(cols, map[string]string{
		"seen": `to_char(seen AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')`, "data": `encode(data, 'hex')`,
	}, `%s::text`, `"%s"`), cols, nil)
	must(t, err)
	kills := <-killsRun
	for _, tg := range targets {
		var got []string
		deadline := time.Now().Add(time.Minute + time.Duration(changes)*time.Millisecond)
		for {
			got, err = readRows(ctx, tg.db, tg.query(cols), cols, tg.normalize)
			if err == nil && strings.Join(got, "\n") == strings.Join(want, "\n") {
				break
			}
			if time.Now().After(deadline) {
				st, _ := d.Supervisor().Status("replica-" + tg.name)
				t.Fatalf("%s: target differs from source (err %v; status %+v):\n%s", tg.name, err, st, firstDiff(want, got))
			}
			time.Sleep(100 * time.Millisecond)
		}
		if bin == "" {
			st, _ := d.Supervisor().Status("replica-" + tg.name)
			t.Logf("%s: %d rows equal the source %s after the last change (%d changes written in %s); %+v", tg.name, len(got), time.Since(start)-written, changes, written, st.Details)
			continue
		}
		commits := checkOffsetsAudit(t, ctx, tg)
		t.Logf("%s: %d rows equal the source after %d kills of the sink; %d audited commits, each starting where the previous ended", tg.name, len(got), kills, commits)
	}
}

// killSinks runs the sinks in the binary and kills it 20 times at random
// moments, then leaves it running; it sends the number of kills on done.
// Once the sinks have created their offsets tables it adds the audit
// triggers (checkOffsetsAudit).
func killSinks(t *testing.T, ctx context.Context, bin, broker, sinks string, targets []*sqlTarget, done chan<- int) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "sinks.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("state_dir: %s\nkafka: {brokers: [%s]}\napi: {listen: \"\"}\n%s", filepath.Join(dir, "state"), broker, sinks)), 0o644); err != nil {
		t.Error(err)
		done <- 0
		return
	}
	sink := runBinary(t, bin, cfg)
	for _, tg := range targets {
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
			if err := tg.createAudit(ctx, tg.db); err == nil {
				break
			} else if time.Now().After(deadline) {
				t.Errorf("%s: audit triggers: %v", tg.name, err)
				break
			}
		}
	}
	const kills = 20
	sink.killRestart(rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 11)), kills, 200*time.Millisecond, 600*time.Millisecond)
	t.Cleanup(func() { _ = sink.stop() })
	done <- kills
}

// checkOffsetsAudit reads the offset ranges the sink committed into tg, in
// commit order, and fails the test unless each starts where the one before
// ended. It returns the number of commits.
func checkOffsetsAudit(t *testing.T, ctx context.Context, tg *sqlTarget) int {
	t.Helper()
	rows, err := tg.db.QueryContext(ctx, "SELECT sink, topic, part, old_next, new_next FROM offsets_audit ORDER BY n")
	must(t, err)
	defer rows.Close()
	last := map[string]int64{}
	n := 0
	for rows.Next() {
		var sink, topic string
		var part int
		var old stdsql.NullInt64
		var next int64
		must(t, rows.Scan(&sink, &topic, &part, &old, &next))
		k := fmt.Sprintf("%s %s/%d", sink, topic, part)
		if prev, ok := last[k]; ok && (!old.Valid || old.Int64 != prev) {
			t.Errorf("%s: %s: a commit moved the offset from %v, but the one before ended at %d: a range was applied twice or skipped", tg.name, k, old, prev)
		}
		if old.Valid && next <= old.Int64 {
			t.Errorf("%s: %s: a commit moved the offset back from %d to %d", tg.name, k, old.Int64, next)
		}
		last[k] = next
		n++
	}
	must(t, rows.Err())
	if n == 0 {
		t.Errorf("%s: no commit was audited", tg.name)
	}
	return n
}

func firstDiff(want, got []string) string {
	for i := range max(len(want), len(got)) {
		var w, g string
		if i < len(want) {
			w = want[i]
		}
		if i < len(got) {
			g = got[i]
		}
		if w != g {
			return fmt.Sprintf("row %d (of %d want, %d got):\nwant %s\n got %s", i, len(want), len(got), w, g)
		}
	}
	return "equal"
}

// startSluice runs a daemon until stop is called (or the test ends).
func startSluice(t *testing.T, yaml string) (d *daemon.Daemon, stop func()) {
	t.Helper()
	cfg, err := configs.Parse("test.yaml", []byte(yaml))
	must(t, err)
	d, err = daemon.New(cfg, testLogger(t))
	must(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = d.Run(ctx)
	}()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		<-done
		d.Close()
	}
	t.Cleanup(stop)
	return d, stop
}

// TestSQLSinkRestartsExactlyOnce stops and restarts the sink many times
// while an append-only, keyless table streams into targets with
// insert_mode: insert and no primary key: a change applied twice would be
// a duplicate row. Afterwards each target holds every source row exactly
// once and its sluice_offsets matches the topic's end.
func TestSQLSinkRestartsExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	pg := harness.StartPostgres(t)
	must(t, pg.CreateDatabase(ctx, "log"))
	must(t, pg.Exec(ctx, "log", `CREATE TABLE events (seq bigint NOT NULL, body text)`))
	must(t, pg.CreateDatabase(ctx, "target"))
	sqlitePath := filepath.Join(t.TempDir(), "events.db")

	src := runDaemon(t, pgSourceYAML("log", pg.DSN("log"), "tables: [public.events]"))
	waitStatus(t, src, "log", time.Minute, streaming)
	sinkYAML := fmt.Sprintf(`state_dir: %s
kafka: {brokers: [%s]}
api: {listen: ""}
sinks:
  - name: events-pg
    type: sql
    topics: [log.public.events]
    dsn: %s
    table: "${source.table}"
    insert_mode: insert
    batch_size: 50
  - name: events-sqlite
    type: sql
    topics: [log.public.events]
    dsn: sqlite://%s
    table: "${source.table}"
    insert_mode: insert
    batch_size: 50
`, t.TempDir(), src.Brokers()[0], pg.DSN("target"), sqlitePath)

	// The writer: 30 transactions of 1..50 rows, spread over the restarts.
	const txns = 30
	writerDone := make(chan error, 1)
	total := 0
	sizes := make([]int, txns)
	rng := rand.New(rand.NewPCG(7, 7))
	for i := range sizes {
		sizes[i] = 1 + rng.IntN(50)
		total += sizes[i]
	}
	go func() {
		seq := 0
		for _, n := range sizes {
			err := pg.Exec(ctx, "log", "INSERT INTO events SELECT g, 'event ' || g FROM generate_series($1::bigint, $2::bigint) g", seq+1, seq+n)
			if err != nil {
				writerDone <- err
				return
			}
			seq += n
			time.Sleep(30 * time.Millisecond)
		}
		writerDone <- nil
	}()
	restarts := 0
	for w := false; !w || restarts < 6; restarts++ {
		d, stop := startSluice(t, sinkYAML)
		time.Sleep(time.Duration(150+rng.IntN(350)) * time.Millisecond)
		for _, name := range []string{"events-pg", "events-sqlite"} {
			if st, _ := d.Supervisor().Status(name); st.State == runtime.StateFailed {
				t.Fatalf("%s failed: %s", name, st.Error)
			}
		}
		stop()
		select {
		case err := <-writerDone:
			must(t, err)
			w = true
		default:
		}
	}
	d, _ := startSluice(t, sinkYAML)

	pgDB, err := stdsql.Open("pgx", pg.DSN("target"))
	must(t, err)
	defer pgDB.Close()
	liteDB, err := stdsql.Open("sqlite", "file:"+sqlitePath+"?_pragma=busy_timeout(10000)")
	must(t, err)
	defer liteDB.Close()
	for name, db := range map[string]*stdsql.DB{"events-pg": pgDB, "events-sqlite": liteDB} {
		deadline := time.Now().Add(time.Minute)
		var n, distinct int
		for {
			err := db.QueryRowContext(ctx, "SELECT COUNT(*), COUNT(DISTINCT seq) FROM events").Scan(&n, &distinct)
			if err == nil && n >= total {
				break
			}
			if time.Now().After(deadline) {
				st, _ := d.Supervisor().Status(name)
				t.Fatalf("%s: %d of %d rows (err %v); status %+v", name, n, total, err, st)
			}
			time.Sleep(100 * time.Millisecond)
		}
		time.Sleep(300 * time.Millisecond) // anything applied twice would show up now
		must(t, db.QueryRowContext(ctx, "SELECT COUNT(*), COUNT(DISTINCT seq) FROM events").Scan(&n, &distinct))
		if n != total || distinct != total {
			t.Errorf("%s: %d rows, %d distinct, want %d each (a change applied twice or lost)", name, n, distinct, total)
		}
		var next int64
		must(t, db.QueryRowContext(ctx, `SELECT next_offset FROM sluice_offsets WHERE sink = '`+name+`'`).Scan(&next))
		var gaps []int64
		rows, err := db.QueryContext(ctx, "SELECT seq FROM events ORDER BY seq")
		must(t, err)
		prev := int64(0)
		for rows.Next() {
			var s int64
			must(t, rows.Scan(&s))
			if s != prev+1 {
				gaps = append(gaps, s)
			}
			prev = s
		}
		rows.Close()
		sort.Slice(gaps, func(i, j int) bool { return gaps[i] < gaps[j] })
		if len(gaps) > 0 {
			t.Errorf("%s: sequence gaps before %v", name, gaps)
		}
		t.Logf("%s: %d rows exactly once after %d restarts; sluice_offsets next_offset %d", name, n, restarts, next)
	}
}

// TestSQLSinkErrors: a row the target rejects (numeric overflow) stops a
// sink with errors.tolerance none, naming the record and the database
// error, while a sink with errors.tolerance all sends it to the dead-letter
// topic with the error in headers and applies the rest.
func TestSQLSinkErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pg := harness.StartPostgres(t)
	must(t, pg.CreateDatabase(ctx, "src"))
	must(t, pg.Exec(ctx, "src", `CREATE TABLE t (id int PRIMARY KEY, v numeric(12,2));
		INSERT INTO t VALUES (1, 1.5), (2, 12345.67), (3, 3.25)`))
	must(t, pg.CreateDatabase(ctx, "target"))
	must(t, pg.Exec(ctx, "target", `CREATE SCHEMA strict; CREATE SCHEMA lenient;
		CREATE TABLE strict.t (id int PRIMARY KEY, v numeric(4,2)); CREATE TABLE lenient.t (id int PRIMARY KEY, v numeric(4,2))`))
	d := runDaemon(t, pgSourceYAML("src", pg.DSN("src"), "tables: [public.t]")+fmt.Sprintf(`sinks:
  - name: strict
    type: sql
    topics: [src.public.t]
    dsn: %[1]s
    schema: strict
    table: "${source.table}"
  - name: lenient
    type: sql
    topics: [src.public.t]
    dsn: %[1]s
    schema: lenient
    table: "${source.table}"
    errors.tolerance: all
    errors.deadletterqueue.topic.name: lenient.dlq
`, pg.DSN("target")))
	st := waitStatus(t, d, "strict", time.Minute, func(st runtime.Status) bool { return st.State == runtime.StateFailed })
	if !strings.Contains(st.Error, "record src.public.t/0@1") || !strings.Contains(st.Error, "numeric field overflow") {
		t.Errorf("strict sink error = %q, want the record's position and the database error", st.Error)
	}
	dlq := newConsumer(t, d.Brokers(), "lenient.dlq").next(1, time.Minute)[0]
	if dlq.Key["id"] == nil || fmt.Sprint(dlq.Key["id"]) != "2" {
		t.Errorf("dead-lettered key = %v, want id 2", dlq.Key)
	}
	cl := newConsumer(t, d.Brokers(), "lenient.dlq")
	var headers map[string]string
	fs := cl.cl.PollRecords(ctx, 1)
	fs.EachRecord(func(r *kgo.Record) {
		headers = map[string]string{}
		for _, h := range r.Headers {
			headers[h.Key] = string(h.Value)
		}
	})
	if headers[runtime.HeaderErrorTopic] != "src.public.t" || headers[runtime.HeaderErrorOffset] != "1" ||
		!strings.Contains(headers[runtime.HeaderErrorMessage], "numeric field overflow") {
		t.Errorf("dead-letter headers = %v", headers)
	}
	db, err := stdsql.Open("pgx", pg.DSN("target"))
	must(t, err)
	defer db.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var got string
		err := db.QueryRowContext(ctx, `SELECT string_agg(id || '=' || v, ',' ORDER BY id) FROM lenient.t`).Scan(&got)
		if err == nil && got == "1=1.50,3=3.25" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("lenient.t = %q (%v), want 1=1.50,3=3.25", got, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var n int
	must(t, db.QueryRowContext(ctx, `SELECT COUNT(*) FROM strict.t`).Scan(&n))
	if n != 0 {
		t.Errorf("strict.t has %d rows; the failed batch must not be committed", n)
	}
}
