package sql

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/change"
	"github.com/sluice-cdc/sluice/internal/harness"
)

func TestCopyText(t *testing.T) {
	got, err := copyText(nil, [][]any{
		{int64(-7), nil, "a\tb\nc\rd\\e", []byte{0, 0xff}, true, 1.5},
		{time.Date(2024, 2, 29, 13, 14, 15, 500000000, time.UTC), false, "", []byte{}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "-7\t\\N\ta\\tb\\nc\\rd\\\\e\t\\\\x00ff\tt\t1.5\n2024-02-29 13:14:15.5+00\tf\t\t\\\\x\n"
	if string(got) != want {
		t.Errorf("copyText = %q, want %q", got, want)
	}
	if _, err := copyText(nil, [][]any{{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}}); err != errNoCopy {
		t.Errorf("year 10000: err = %v, want errNoCopy", err)
	}
	// Timestamps read as time.Time's layout would write them, whatever
	// their zone, across the range and with nanoseconds to drop.
	zone := time.FixedZone("", -(9*3600 + 30*60))
	for i, tm := range []time.Time{
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(1969, 12, 31, 23, 59, 59, 999999, time.UTC),
		time.Date(1899, 7, 4, 1, 2, 3, 120000000, time.UTC),
		time.Date(2026, 11, 25, 7, 28, 56, 123456789, zone),
		time.Date(2026, 11, 25, 7, 28, 56, 100, time.UTC),
		time.Unix(0, 0),
	} {
		want := tm.UTC().Format("2006-01-02 15:04:05.999999") + "+00"
		if got, err := appendCopyValue(nil, tm); err != nil || string(got) != want {
			t.Errorf("%d: %v: %q, %v; want %q", i, tm, got, err, want)
		}
	}
	if _, err := appendCopyValue(nil, time.Date(0, 12, 31, 23, 0, 0, 0, time.UTC)); err != errNoCopy {
		t.Errorf("year 0: err = %v, want errNoCopy", err)
	}
}

// TestBulkPaths writes batches large enough for the bulk paths (COPY and
// a staging table on PostgreSQL) in insert and upsert mode, and checks
// that every column reads back as when written one record a batch (the
// multi-row INSERT path); a batch with a bad row still rejects that row
// alone, and a batch with a value COPY cannot write takes the INSERT path.
func TestBulkPaths(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const n = 300
	for _, tg := range targets(t) {
		t.Run(tg.name, func(t *testing.T) {
			sc := rowSchema()
			texts := []string{"plain", "tab\there", "new\nline", `back\slash`, "cr\rx", `\N`, "", "ünï ✓"}
			row := func(id int32, round int) *change.Struct {
				r := fullRow(sc, id, fmt.Sprintf("%s %d/%d", texts[int(id)%len(texts)], id, round))
				if id%5 == 0 {
					r.Values[9] = []byte(fmt.Sprintf("b%d\\\t", id))
				}
				if id%7 == 0 {
					for i := 1; i < len(r.Values); i++ {
						r.Values[i] = nil
					}
				}
				return r
			}
			batch := func(round int, base int64) []Record {
				rs := make([]Record, n)
				for i := range rs {
					id := int32(i + 1)
					op := change.OpCreate
					if round > 0 {
						op = change.OpUpdate
					}
					rs[i] = Record{Topic: "srv.public.t", Offset: base + int64(i), Event: ev(op, id, nil, row(id, round))}
				}
				return rs
			}
			for _, mode := range []string{InsertModeInsert, InsertModeUpsert} {
				bulk, err := Open(ctx, Options{Name: "bulk_" + mode, DSN: tg.dsn, Table: "bulk_" + mode, InsertMode: mode, DeleteEnabled: true, AutoCreate: true, AutoEvolve: true})
				if err != nil {
					t.Fatal(err)
				}
				defer bulk.Close()
				one, err := Open(ctx, Options{Name: "one_" + mode, DSN: tg.dsn, Table: "one_" + mode, InsertMode: mode, DeleteEnabled: true, AutoCreate: true, AutoEvolve: true})
				if err != nil {
					t.Fatal(err)
				}
				defer one.Close()
				rounds := 1
				if mode == InsertModeUpsert {
					rounds = 2 // the second round updates every row
				}
				for round := 0; round < rounds; round++ {
					rs := batch(round, int64(round*n))
					if err := bulk.Write(ctx, rs, noReject(t)); err != nil {
						t.Fatal(err)
					}
					for i := range rs {
						if err := one.Write(ctx, rs[i:i+1], noReject(t)); err != nil {
							t.Fatal(err)
						}
					}
				}
				dump := func(s *Sink, table string) string {
					t.Helper()
					cols := make([]string, len(sc.Fields))
					for i, f := range sc.Fields {
						cols[i] = "COALESCE(" + tg.text(f.Name) + ", '<null>')"
					}
					q := fmt.Sprintf("SELECT %s FROM %s ORDER BY %s", strings.Join(cols, ", "), s.d.quote(table), s.d.quote("id"))
					r, err := s.db.QueryContext(ctx, q)
					if err != nil {
						t.Fatal(err)
					}
					defer r.Close()
					var b strings.Builder
					vals := make([]string, len(cols))
					ptrs := make([]any, len(cols))
					for i := range vals {
						ptrs[i] = &vals[i]
					}
					rows := 0
					for r.Next() {
						if err := r.Scan(ptrs...); err != nil {
							t.Fatal(err)
						}
						b.WriteString(strings.Join(vals, "|") + "\n")
						rows++
					}
					if rows != n {
						t.Errorf("%s: %d rows, want %d", table, rows, n)
					}
					return b.String()
				}
				if a, b := dump(bulk, "bulk_"+mode), dump(one, "one_"+mode); a != b {
					t.Errorf("%s: bulk and one-by-one differ:\n%s\nvs\n%s", mode, a, b)
				}
				if tg.name == "postgres" && bulk.copied != rounds*n {
					t.Errorf("%s: %d rows copied, want %d", mode, bulk.copied, rounds*n)
				}
				pos, err := bulk.Positions(ctx)
				if err != nil || pos["srv.public.t"][0] != int64(rounds*n) {
					t.Errorf("%s: positions = %v, %v", mode, pos, err)
				}
			}

			// A bad row in a bulk batch is found and rejected alone; a value
			// without a COPY text form sends the batch through INSERTs.
			s, err := Open(ctx, Options{Name: "bad", DSN: tg.dsn, Table: "bulk_bad", InsertMode: InsertModeInsert, DeleteEnabled: true, AutoCreate: true, AutoEvolve: true})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			rs := batch(0, 0)
			bad := fullRow(sc, 17, "bad")
			bad.Values[4] = dec("123456789012") // numeric(10,3) overflow
			rs[16].Event = ev(change.OpCreate, 17, nil, bad)
			far := fullRow(sc, 18, "far")
			far.Values[12] = time.Date(10000, 1, 2, 3, 4, 5, 0, time.UTC).UnixMicro()
			rs[17].Event = ev(change.OpCreate, 18, nil, far)
			var rejected []int
			if err := s.Write(ctx, rs, func(i int, err error) error { rejected = append(rejected, i); return nil }); err != nil {
				t.Fatal(err)
			}
			var count int
			if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+s.d.quote("bulk_bad")).Scan(&count); err != nil {
				t.Fatal(err)
			}
			want := []int{16}
			switch tg.name {
			case "sqlite": // SQLite does not check numeric precision
				want = nil
			case "mariadb": // DATETIME ends with year 9999
				want = []int{16, 17}
			}
			if count != n-len(want) || fmt.Sprint(rejected) != fmt.Sprint(want) {
				t.Errorf("rows = %d, rejected %v; want %d, %v", count, rejected, n-len(want), want)
			}
		})
	}
}

func TestKeyParts(t *testing.T) {
	a := string(appendKeyPart(appendKeyPart(nil, "a\x00sb"), "c"))
	b := string(appendKeyPart(appendKeyPart(nil, "a"), "b\x00sc"))
	if a == b {
		t.Error("composite keys run together")
	}
	if string(appendKeyPart(nil, int64(5))) == string(appendKeyPart(nil, "5")) {
		t.Error("int and string keys collide")
	}
}

// TestBulkUpsertWithoutTemporary: a role that may not create temporary
// tables upserts in bulk with multi-row INSERTs instead of a staging table.
func TestBulkUpsertWithoutTemporary(t *testing.T) {
	if testing.Short() {
		t.Skip("needs PostgreSQL")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pg := harness.StartPostgres(t)
	if err := pg.CreateDatabase(ctx, "notemp"); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`REVOKE TEMPORARY ON DATABASE notemp FROM PUBLIC`,
		`CREATE ROLE writer LOGIN`,
		`GRANT CREATE, USAGE ON SCHEMA public TO writer`,
	} {
		if err := pg.Exec(ctx, "notemp", q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	dsn := strings.Replace(pg.DSN("notemp"), "postgres://postgres@", "postgres://writer@", 1)
	s, err := Open(ctx, Options{Name: "nt", DSN: dsn, Table: "t", DeleteEnabled: true, AutoCreate: true, AutoEvolve: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.canStage {
		t.Fatal("canStage without the TEMPORARY privilege")
	}
	const n = 300
	for round := 0; round < 2; round++ {
		rs := make([]Record, n)
		for i := range rs {
			id := int32(i + 1)
			rs[i] = Record{Topic: "srv.public.t", Offset: int64(round*n + i), Event: ev(change.OpCreate, id, nil, small(id, fmt.Sprintf("v%d", round)))}
		}
		if err := s.Write(ctx, rs, noReject(t)); err != nil {
			t.Fatal(err)
		}
	}
	var count int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM t WHERE v = 'v1'`).Scan(&count); err != nil || count != n {
		t.Errorf("rows updated = %d, %v; want %d", count, err, n)
	}
	if s.copied != 0 {
		t.Errorf("%d rows copied, want 0", s.copied)
	}
}
