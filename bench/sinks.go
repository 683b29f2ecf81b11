package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite"

	"github.com/sluice-cdc/sluice/internal/esemu"
)

// sinkTopic is the topic the sinks read: a snapshot of sinksrc.orders.
const sinkTopic = "sinksrc.public.orders"

// benchSinks snapshots a table of SinkRecords rows into a topic, then
// writes the topic into each target with the SQL sink and the
// Elasticsearch sink, each beside the target's native bulk path loading
// the same rows (read back from the table sluice wrote). Each target is
// measured SinkRuns times, each run into a fresh database (file, search
// server) that is removed after it, and the row reports the medians.
func benchSinks(ctx context.Context, e *env) ([]result, error) {
	n := e.sz.SinkRecords
	if err := createPGOrders(ctx, e.pg, "sinksrc", n); err != nil {
		return nil, err
	}
	broker, err := e.newBroker()
	if err != nil {
		return nil, err
	}
	defer broker.Close()
	logf("sinks: filling %s with %d records (a sluice snapshot)", sinkTopic, n)
	if _, err := e.runSluice(ctx, broker.Addr(), "sinksrc", pgSnapshotYAML("sinksrc", e.pg.DSN("sinksrc")), finished); err != nil {
		return nil, fmt.Errorf("fill %s: %w", sinkTopic, err)
	}
	var out []result
	for _, t := range sinkTargets(e) {
		logf("sinks: %d records into %s with sluice, then %s (%d runs each)", n, t.name, t.baseline, e.sz.SinkRuns)
		var us []usage
		var bases []time.Duration
		for i := range e.sz.SinkRuns {
			u, base, err := runSinkTarget(ctx, e, broker.Addr(), t, fmt.Sprintf("%s%d", t.prefix, i+1))
			if err != nil {
				return nil, fmt.Errorf("%s (run %d): %w", t.name, i+1, err)
			}
			us, bases = append(us, u), append(bases, base)
		}
		out = append(out, newRunsResult("Sink → "+t.name, int64(n), "records", us, bases, t.baseline, targetSink))
	}
	return out, nil
}

// sinkTarget is one target of the sinks scenario.
type sinkTarget struct {
	name, baseline string
	prefix         string // of each run's connector, and of its database or file
	// open creates the empty target of the run named name.
	open func(ctx context.Context, name string) (sinkRun, error)
}

// sinkRun is one run's target.
type sinkRun struct {
	yaml string // the sink connector
	// load is the baseline: it loads the rows the sink wrote into a twin
	// table and returns how long that took.
	load func(context.Context) (time.Duration, error)
	drop func(context.Context) error // removes the target
}

func sinkTargets(e *env) []sinkTarget {
	return []sinkTarget{
		{"PostgreSQL", "pgx CopyFrom (COPY FROM STDIN)", "sinkpg",
			func(ctx context.Context, db string) (sinkRun, error) {
				if err := e.pg.CreateDatabase(ctx, db); err != nil {
					return sinkRun{}, err
				}
				return sinkRun{sqlSinkYAML(db, e.pg.DSN(db)),
					func(ctx context.Context) (time.Duration, error) { return copyPG(ctx, e.pg.DSN(db)) },
					func(ctx context.Context) error {
						return e.pg.Exec(ctx, "postgres", "DROP DATABASE "+db+" WITH (FORCE)")
					}}, nil
			}},
		{"MariaDB", "multi-row INSERT, 1000 rows a statement", "sinkmy",
			func(ctx context.Context, db string) (sinkRun, error) {
				if err := e.my.CreateDatabase(ctx, db); err != nil {
					return sinkRun{}, err
				}
				return sinkRun{sqlSinkYAML(db, e.my.DSN(db)),
					func(ctx context.Context) (time.Duration, error) {
						return insertSQL(ctx, "mysql", e.my.GoSQLDSN(db), mysqlDialect)
					},
					func(ctx context.Context) error { return e.my.Exec(ctx, "DROP DATABASE "+db) }}, nil
			}},
		{"SQLite", "multi-row INSERT, 1000 rows a statement, one transaction", "sinklite",
			func(ctx context.Context, name string) (sinkRun, error) {
				path := filepath.Join(e.tmp, name+".db")
				return sinkRun{sqlSinkYAML(name, "sqlite://"+path),
					func(ctx context.Context) (time.Duration, error) { return insertSQL(ctx, "sqlite", path, sqliteDialect) },
					func(context.Context) error {
						for _, suffix := range []string{"", "-wal", "-shm"} {
							if err := os.Remove(path + suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
								return err
							}
						}
						return nil
					}}, nil
			}},
		{"Elasticsearch (emulator)", "_bulk from a plain HTTP client, 1000 documents a request", "sinkes",
			func(ctx context.Context, name string) (sinkRun, error) {
				es := esemu.New(esemu.Options{RefreshInterval: -1})
				return sinkRun{esSinkYAML(name, es.URL),
					func(ctx context.Context) (time.Duration, error) { return bulkES(ctx, es) },
					func(context.Context) error { es.Close(); return nil }}, nil
			}},
	}
}

// runSinkTarget measures one run of target t: sluice writes the topic into
// a fresh target named name, then the baseline loads the same rows; the
// target is removed afterwards.
func runSinkTarget(ctx context.Context, e *env, broker string, t sinkTarget, name string) (usage, time.Duration, error) {
	r, err := t.open(ctx, name)
	if err != nil {
		return usage{}, 0, err
	}
	u, err := e.runSluice(ctx, broker, name, r.yaml, func(st status) (bool, error) {
		return st.Events >= int64(e.sz.SinkRecords), failed(st)
	})
	var base time.Duration
	if err == nil {
		if base, err = r.load(ctx); err != nil {
			err = fmt.Errorf("baseline: %w", err)
		}
	}
	if derr := r.drop(ctx); err == nil && derr != nil {
		err = fmt.Errorf("remove %s: %w", name, derr)
	}
	return u, base, err
}

// topicPattern matches sinkTopic only (a plain YAML scalar: no escapes).
var topicPattern = strings.ReplaceAll(sinkTopic, ".", `\.`)

// sqlSinkYAML is a SQL sink writing the sink topic into table orders.
// insert_mode insert: the baselines insert too.
func sqlSinkYAML(name, dsn string) string {
	return fmt.Sprintf(`sinks:
  - name: %s
    type: sql
    topics: [%s]
    dsn: %s
    table: orders
    insert_mode: insert
    auto_create: true
`, name, topicPattern, dsn)
}

// esSinkYAML is an Elasticsearch sink writing the sink topic into index orders.
func esSinkYAML(name, url string) string {
	return fmt.Sprintf(`sinks:
  - name: %s
    type: elasticsearch
    topics: [%s]
    urls: [%s]
    index: orders
`, name, topicPattern, url)
}

// copyPG loads the rows sluice wrote into orders into a twin table with
// COPY FROM STDIN and returns how long the COPY took.
func copyPG(ctx context.Context, dsn string) (time.Duration, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return 0, fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT * FROM orders`)
	if err != nil {
		return 0, fmt.Errorf("read orders: %w", err)
	}
	var cols []string
	for _, f := range rows.FieldDescriptions() {
		cols = append(cols, f.Name)
	}
	var data [][]any
	for rows.Next() {
		v, err := rows.Values()
		if err != nil {
			rows.Close()
			return 0, fmt.Errorf("read orders: %w", err)
		}
		data = append(data, v)
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("read orders: %w", err)
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE orders_base (LIKE orders INCLUDING ALL)`); err != nil {
		return 0, fmt.Errorf("create orders_base: %w", err)
	}
	return timed(func() error {
		if _, err := conn.CopyFrom(ctx, pgx.Identifier{"orders_base"}, cols, pgx.CopyFromRows(data)); err != nil {
			return fmt.Errorf("copy into orders_base: %w", err)
		}
		return nil
	})
}

// sqlDialect is what the multi-row INSERT baseline needs of a target.
type sqlDialect struct {
	quote func(string) string
	// twin creates orders_base shaped like orders.
	twin func(context.Context, *sql.DB) error
	// oneTx puts all statements in one transaction (else autocommit).
	oneTx bool
}

var mysqlDialect = sqlDialect{
	quote: func(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" },
	twin: func(ctx context.Context, db *sql.DB) error {
		_, err := db.ExecContext(ctx, "CREATE TABLE orders_base LIKE orders")
		return err
	},
}

var sqliteDialect = sqlDialect{
	quote: func(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` },
	twin: func(ctx context.Context, db *sql.DB) error {
		var ddl string
		if err := db.QueryRowContext(ctx, `SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'orders'`).Scan(&ddl); err != nil {
			return err
		}
		i := strings.Index(ddl, "(")
		if i < 0 {
			return fmt.Errorf("unexpected DDL %q", ddl)
		}
		_, err := db.ExecContext(ctx, `CREATE TABLE "orders_base" `+ddl[i:])
		return err
	},
	oneTx: true,
}

// insertSQL loads the rows sluice wrote into orders into a twin table with
// multi-row INSERTs of 1000 rows and returns how long the INSERTs took.
func insertSQL(ctx context.Context, driver, dsn string, d sqlDialect) (time.Duration, error) {
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return 0, fmt.Errorf("open: %w", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	cols, data, err := readAll(ctx, db)
	if err != nil {
		return 0, err
	}
	if err := d.twin(ctx, db); err != nil {
		return 0, fmt.Errorf("create orders_base: %w", err)
	}
	const batch = 1000
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = d.quote(c)
	}
	head := "INSERT INTO " + d.quote("orders_base") + " (" + strings.Join(quoted, ", ") + ") VALUES "
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
	return timed(func() error {
		conn, err := db.Conn(ctx)
		if err != nil {
			return fmt.Errorf("connect: %w", err)
		}
		defer conn.Close()
		if d.oneTx {
			if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
				return fmt.Errorf("begin: %w", err)
			}
		}
		args := make([]any, 0, batch*len(cols))
		for lo := 0; lo < len(data); lo += batch {
			chunk := data[lo:min(lo+batch, len(data))]
			args = args[:0]
			for _, row := range chunk {
				args = append(args, row...)
			}
			stmt := head + strings.TrimSuffix(strings.Repeat(tuple+", ", len(chunk)), ", ")
			if _, err := conn.ExecContext(ctx, stmt, args...); err != nil {
				return fmt.Errorf("insert into orders_base: %w", err)
			}
		}
		if d.oneTx {
			if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
				return fmt.Errorf("commit: %w", err)
			}
		}
		return nil
	})
}

// readAll reads table orders: its column names and rows.
func readAll(ctx context.Context, db *sql.DB) ([]string, [][]any, error) {
	rows, err := db.QueryContext(ctx, "SELECT * FROM orders")
	if err != nil {
		return nil, nil, fmt.Errorf("read orders: %w", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, nil, fmt.Errorf("read orders: %w", err)
	}
	var data [][]any
	for rows.Next() {
		row := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range row {
			ptrs[i] = &row[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, nil, fmt.Errorf("read orders: %w", err)
		}
		data = append(data, row)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("read orders: %w", err)
	}
	return cols, data, nil
}

// bulkES indexes the documents the sink wrote into index orders into
// orders_base with _bulk requests of 1000 documents, one at a time (the
// sink's default concurrency), and returns how long the requests took.
func bulkES(ctx context.Context, es *esemu.Server) (time.Duration, error) {
	docs := es.Docs("orders")
	if len(docs) == 0 {
		return 0, fmt.Errorf("index orders is empty (indices: %v)", es.Indices())
	}
	const batch = 1000
	var bodies [][]byte
	var b bytes.Buffer
	i := 0
	for id, doc := range docs {
		meta, _ := json.Marshal(map[string]any{"index": map[string]any{"_index": "orders_base", "_id": id}})
		b.Write(meta)
		b.WriteByte('\n')
		b.Write(doc)
		b.WriteByte('\n')
		if i++; i%batch == 0 || i == len(docs) {
			bodies = append(bodies, bytes.Clone(b.Bytes()))
			b.Reset()
		}
	}
	hc := &http.Client{Timeout: time.Minute}
	return timed(func() error {
		for _, body := range bodies {
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, es.URL+"/_bulk", bytes.NewReader(body))
			if err != nil {
				return fmt.Errorf("bulk request: %w", err)
			}
			req.Header.Set("Content-Type", "application/x-ndjson")
			resp, err := hc.Do(req)
			if err != nil {
				return fmt.Errorf("bulk: %w", err)
			}
			var res struct {
				Errors bool `json:"errors"`
			}
			err = json.NewDecoder(resp.Body).Decode(&res)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK || res.Errors {
				return fmt.Errorf("bulk: status %d, errors %t, decode %v", resp.StatusCode, res.Errors, err)
			}
		}
		return nil
	})
}
