package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
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

// TestBinarySnapshotMatchesText reads a table of every type the snapshot
// takes in binary format, edge values included (extremes, NaN and
// infinities, BC dates, 24:00, each fractional precision, NULLs), once
// in text and once in the snapshot's formats, and checks that each time
// precision mode decodes both to the same values.
func TestBinarySnapshotMatchesText(t *testing.T) {
	if testing.Short() {
		t.Skip("real PostgreSQL: -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pg := harness.StartPostgres(t)
	if err := pg.Exec(ctx, "postgres", `CREATE TABLE bin (
		id int PRIMARY KEY, i2 int2, i4 int4, i8 int8, f4 float4, f8 float8, b bool, d date,
		t0 time(0), t3 time(3), t6 time, ts0 timestamp(0), ts3 timestamp(3), ts6 timestamp,
		tz0 timestamptz(0), tz3 timestamptz(3), tz6 timestamptz, txt text);
	INSERT INTO bin VALUES
		(1, -32768, -2147483648, -9223372036854775808, 'NaN', 'NaN', false, '4713-01-01 BC',
		 '00:00:00', '00:00:00.001', '00:00:00.000001', '4713-01-01 00:00:00 BC', '0001-01-01 00:00:00.123 BC', '1969-12-31 23:59:59.999999',
		 '4713-01-01 00:00:00+00 BC', '1899-12-31 23:59:59.5+00', '1969-12-31 23:59:59.999999+00', 'a'),
		(2, 32767, 2147483647, 9223372036854775807, 'Infinity', '-Infinity', true, '5874897-12-31',
		 '24:00:00', '23:59:59.999', '24:00:00', '200000-12-31 23:59:59', '2000-01-01 00:00:00.001', '200000-12-31 23:59:59.999999',
		 '200000-12-31 23:59:59+00', '2000-01-01 00:00:00+00', '2026-12-07 21:00:00.123456+05:30', 'b'),
		(3, 0, 0, 0, '-0', 1.5e-308, true, 'infinity',
		 '12:34:56', '12:34:56.7', '12:34:56.789012', 'infinity', '-infinity', '2000-02-29 12:00:00.5',
		 'infinity', '-infinity', '1970-01-01 00:00:00+00', 'c'),
		(4, 1, -1, 1234567890123, 3.4028235e38, 2.2250738585072014e-308, false, '-infinity',
		 '01:02:03', '01:02:03.004', '01:02:03.000004', '-infinity', 'infinity', '1999-12-31 23:59:59.999999',
		 '-infinity', 'infinity', '2000-01-01 00:00:00.000001+00', 'd'),
		(5, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
		(6, 0, 0, 0, 0, 0, true, '2000-01-01', '00:00', '00:00', '00:00', '294276-12-31 23:59:59', NULL, NULL, NULL, NULL, NULL, 'out of range');`); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, pg.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for k, v := range sessionSettings {
		if _, err := conn.Exec(ctx, "SET "+k+" = '"+v+"'"); err != nil {
			t.Fatal(err)
		}
	}
	var oid uint32
	if err := conn.QueryRow(ctx, "SELECT 'bin'::regclass::oid").Scan(&oid); err != nil {
		t.Fatal(err)
	}
	def, err := newCatalog(conn).Table(ctx, oid)
	if err != nil {
		t.Fatal(err)
	}
	read := func(formats []int16) [][][]byte {
		rr := conn.PgConn().ExecParams(ctx, "SELECT * FROM bin ORDER BY id", nil, nil, nil, formats)
		var rows [][][]byte
		for rr.NextRow() {
			var row [][]byte
			for _, v := range rr.Values() {
				row = append(row, bytes.Clone(v))
			}
			rows = append(rows, row)
		}
		if _, err := rr.Close(); err != nil {
			t.Fatal(err)
		}
		return rows
	}
	for _, mode := range []string{"adaptive", "adaptive_time_microseconds", "connect"} {
		d := NewDecoder(DecoderOptions{TopicPrefix: "p", Database: "postgres", TimePrecisionMode: mode})
		if _, err := d.SetTable(*def); err != nil {
			t.Fatal(err)
		}
		formats, err := d.SnapshotFormats(oid)
		if err != nil {
			t.Fatal(err)
		}
		if want := []int16{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0}; fmt.Sprint(formats) != fmt.Sprint(want) {
			t.Fatalf("%s: formats %v, want %v", mode, formats, want)
		}
		text, bin := read(nil), read(formats)
		for i := range text {
			te, terr := d.ReadRow(oid, text[i], nil, change.Source{})
			be, berr := d.ReadRow(oid, bin[i], formats, change.Source{})
			if terr != nil || berr != nil {
				// Both fail alike (a timestamp beyond int64 microseconds).
				if (terr == nil) != (berr == nil) {
					t.Errorf("%s: row %d: as text: %v; in the snapshot's formats: %v", mode, i+1, terr, berr)
				}
				continue
			}
			for j, c := range def.Columns {
				tv, bv := te.After.Values[j], be.After.Values[j]
				if fmt.Sprintf("%T %#v", tv, tv) != fmt.Sprintf("%T %#v", bv, bv) {
					t.Errorf("%s: row %d column %s: text %T %#v, binary %T %#v", mode, i+1, c.Name, tv, tv, bv, bv)
				}
			}
		}
	}
}
