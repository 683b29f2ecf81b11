package sql

import (
	"context"
	stdsql "database/sql"
	"errors"
	"fmt"
	"math/big"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/change"
	"github.com/sluice-cdc/sluice/internal/harness"
)

// target is a database under test and how to read a column as text.
type target struct {
	name string
	dsn  string
	// text renders a column as text in a SELECT.
	text func(col string) string
	want map[string]string // per-column expectations that differ from common
}

func targets(t *testing.T) []target {
	t.Helper()
	ctx := context.Background()
	var out []target
	out = append(out, target{
		name: "sqlite",
		dsn:  "sqlite://" + filepath.Join(t.TempDir(), "t.db"),
		text: func(c string) string { return `CAST("` + c + `" AS TEXT)` },
		want: map[string]string{
			"c_bool": "1", "c_bytes": "\x00\xff\x10", "c_float32": "1.1", "c_tstz": "2024-02-29T12:14:15.25Z",
		},
	})
	if testing.Short() {
		return out
	}
	pg := harness.StartPostgres(t)
	if err := pg.CreateDatabase(ctx, "target"); err != nil {
		t.Fatal(err)
	}
	out = append(out, target{
		name: "postgres",
		dsn:  pg.DSN("target"),
		text: func(c string) string { return `"` + c + `"::text` },
		want: map[string]string{
			"c_bool": "true", "c_bytes": `\x00ff10`, "c_float32": "1.1", "c_tstz": "2024-02-29 12:14:15.25+00",
			"c_json": `{"a": [1, 2]}`, "c_time": "13:14:15.123456", "c_ts": "2024-02-29 13:14:15.5",
		},
	})
	my := harness.StartMariaDB(t)
	if err := my.CreateDatabase(ctx, "target"); err != nil {
		t.Fatal(err)
	}
	out = append(out, target{
		name: "mariadb",
		dsn:  my.DSN("target"),
		text: func(c string) string {
			if c == "c_bytes" {
				return "HEX(`" + c + "`)"
			}
			return "CAST(`" + c + "` AS CHAR)"
		},
		want: map[string]string{
			"c_bool": "1", "c_bytes": "00FF10", "c_float32": "1.1", "c_tstz": "2024-02-29 12:14:15.250000",
			"c_time": "13:14:15.123456", "c_ts": "2024-02-29 13:14:15.500000", "c_varnum": "3.141592653589790000000000000000",
		},
	})
	return out
}

func dec(unscaled string) []byte {
	v, _ := new(big.Int).SetString(unscaled, 10)
	return change.DecimalBytes(v)
}

// rowSchema has one field of each type the Postgres source emits.
func rowSchema(extra ...change.Field) *change.Schema {
	s := &change.Schema{Type: change.TypeStruct, Name: "t.Value", Optional: true, Fields: []change.Field{
		{Name: "id", Schema: change.PrimitiveSchema(change.TypeInt32, false)},
		{Name: "c_int2", Schema: change.PrimitiveSchema(change.TypeInt16, true)},
		{Name: "c_int8", Schema: change.PrimitiveSchema(change.TypeInt64, true)},
		{Name: "c_bool", Schema: change.PrimitiveSchema(change.TypeBoolean, true)},
		{Name: "c_num", Schema: change.DecimalSchema(3, 10, true)},
		{Name: "c_varnum", Schema: change.VariableScaleDecimalSchema(true)},
		{Name: "c_float32", Schema: change.PrimitiveSchema(change.TypeFloat32, true)},
		{Name: "c_float64", Schema: change.PrimitiveSchema(change.TypeFloat64, true)},
		{Name: "c_text", Schema: change.PrimitiveSchema(change.TypeString, true)},
		{Name: "c_bytes", Schema: change.PrimitiveSchema(change.TypeBytes, true)},
		{Name: "c_date", Schema: change.DateSchema(true)},
		{Name: "c_time", Schema: change.MicroTimeSchema(true)},
		{Name: "c_ts", Schema: change.MicroTimestampSchema(true)},
		{Name: "c_tstz", Schema: change.ZonedTimestampSchema(true)},
		{Name: "c_json", Schema: change.JSONSchema(true)},
		{Name: "c_uuid", Schema: change.UUIDSchema(true)},
		{Name: "c_null", Schema: change.PrimitiveSchema(change.TypeString, true)},
	}}
	s.Fields = append(s.Fields, extra...)
	return s
}

var keySchema = &change.Schema{Type: change.TypeStruct, Name: "t.Key", Fields: []change.Field{
	{Name: "id", Schema: change.PrimitiveSchema(change.TypeInt32, false)},
}}

func fullRow(sc *change.Schema, id int32, text string) *change.Struct {
	ts := time.Date(2024, 2, 29, 13, 14, 15, 500000000, time.UTC)
	vals := []any{
		id, int16(-32768), int64(9223372036854775807), true,
		dec("1234567"), change.VariableScaleDecimal(change.VariableScaleDecimalSchema(true), big.NewInt(314159265358979), 14).Values,
		float32(1.1), float64(-2.25), text, []byte{0, 0xff, 0x10},
		int32(ts.Unix() / 86400), int64((13*3600+14*60+15)*1_000_000 + 123456), ts.UnixMicro(),
		"2024-02-29T12:14:15.25Z", `{"a": [1, 2]}`, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", nil,
	}
	vals[5] = &change.Struct{Schema: change.VariableScaleDecimalSchema(true), Values: vals[5].([]any)}
	for len(vals) < len(sc.Fields) {
		vals = append(vals, "extra")
	}
	return &change.Struct{Schema: sc, Values: vals}
}

var commonWant = map[string]string{
	"id": "1", "c_int2": "-32768", "c_int8": "9223372036854775807", "c_num": "1234.567",
	"c_varnum": "3.14159265358979", "c_float64": "-2.25", "c_text": `héllo "wörld" ✓`,
	"c_date": "2024-02-29", "c_time": "13:14:15.123456", "c_ts": "2024-02-29 13:14:15.5",
	"c_json": `{"a": [1, 2]}`, "c_uuid": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
}

func ev(op change.Op, id int32, before, after *change.Struct) *change.Event {
	return &change.Event{
		Topic: "srv.public.t", Op: op, Key: &change.Struct{Schema: keySchema, Values: []any{id}},
		Before: before, After: after, RowSchema: schemaOf(before, after),
		Source: change.Source{Schema: "public", Table: "t", DB: "db"},
	}
}

func schemaOf(a, b *change.Struct) *change.Schema {
	if b != nil {
		return b.Schema
	}
	if a != nil {
		return a.Schema
	}
	return nil
}

func recs(evs ...*change.Event) []Record {
	out := make([]Record, len(evs))
	for i, e := range evs {
		out[i] = Record{Topic: "srv.public.t", Partition: 0, Offset: int64(i), Event: e}
	}
	return out
}

func noReject(t *testing.T) Reject {
	return func(i int, err error) error { t.Fatalf("record %d rejected: %v", i, err); return err }
}

func TestRoundTrip(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, tg := range targets(t) {
		t.Run(tg.name, func(t *testing.T) {
			s, err := Open(ctx, Options{Name: "rt", DSN: tg.dsn, Table: "${source.table}", DeleteEnabled: true, AutoCreate: true, AutoEvolve: true})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			sc := rowSchema()
			r1, r2 := fullRow(sc, 1, "first"), fullRow(sc, 2, "two")
			r1b := fullRow(sc, 1, `héllo "wörld" ✓`)
			batch := recs(ev(change.OpRead, 1, nil, r1), ev(change.OpCreate, 2, nil, r2), ev(change.OpUpdate, 1, r1, r1b),
				ev(change.OpDelete, 2, r2, nil), &change.Event{Topic: "srv.public.t", Tombstone: true, Key: &change.Struct{Schema: keySchema, Values: []any{int32(2)}}})
			if err := s.Write(ctx, batch, noReject(t)); err != nil {
				t.Fatal(err)
			}
			check := func(t *testing.T, id int, want map[string]string) {
				t.Helper()
				for col, w := range want {
					var got *string
					q := fmt.Sprintf("SELECT %s FROM %s WHERE %s = %d", tg.text(col), qualified(s.d, tableID{name: "t"}), s.d.quote("id"), id)
					if err := s.db.QueryRowContext(ctx, q).Scan(&got); err != nil {
						t.Errorf("%s: %v", col, err)
						continue
					}
					if got == nil {
						if w != "<null>" {
							t.Errorf("%s = NULL, want %q", col, w)
						}
					} else if *got != w {
						t.Errorf("%s = %q, want %q", col, *got, w)
					}
				}
			}
			want := map[string]string{"c_null": "<null>"}
			for k, v := range commonWant {
				want[k] = v
			}
			for k, v := range tg.want {
				want[k] = v
			}
			check(t, 1, want)
			var n int
			if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+qualified(s.d, tableID{name: "t"})).Scan(&n); err != nil || n != 1 {
				t.Fatalf("rows = %d, %v; want 1", n, err)
			}
			pos, err := s.Positions(ctx)
			if err != nil || pos["srv.public.t"][0] != 5 {
				t.Fatalf("positions = %v, %v", pos, err)
			}

			// auto_evolve: a new column; record by record, with a rejected row.
			sc2 := rowSchema(change.Field{Name: "c_new", Schema: change.PrimitiveSchema(change.TypeString, true)})
			r3 := fullRow(sc2, 3, "three")
			bad := fullRow(sc2, 4, "bad")
			bad.Values[4] = dec("123456789012") // numeric(10,3) overflow
			var rejected []int
			b2 := recs(ev(change.OpCreate, 3, nil, r3), ev(change.OpCreate, 4, nil, bad))
			for i := range b2 {
				b2[i].Offset += 10
			}
			err = s.Write(ctx, b2, func(i int, err error) error {
				var re *RecordError
				if !errors.As(err, &re) || re.Offset != 11 {
					t.Errorf("reject error = %v", err)
				}
				rejected = append(rejected, i)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if tg.name != "sqlite" && fmt.Sprint(rejected) != "[1]" { // SQLite does not check numeric precision
				t.Errorf("rejected = %v, want [1]", rejected)
			}
			check(t, 3, map[string]string{"c_new": "extra", "c_text": "three"})
			check(t, 1, map[string]string{"c_new": "<null>"})
			// The stopping case: reject returns an error; nothing is committed.
			stop := errors.New("stop")
			b3 := recs(ev(change.OpCreate, 5, nil, fullRow(sc2, 5, "five")), ev(change.OpCreate, 4, nil, bad))
			for i := range b3 {
				b3[i].Offset += 20
			}
			err = s.Write(ctx, b3, func(int, error) error { return stop })
			if tg.name != "sqlite" {
				if !errors.Is(err, stop) {
					t.Fatalf("err = %v, want stop", err)
				}
				pos, _ = s.Positions(ctx)
				if pos["srv.public.t"][0] != 12 {
					t.Errorf("positions after failed batch = %v", pos)
				}
				check(t, 5, map[string]string{}) // (no row: checked by count below)
				var n int
				_ = s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+qualified(s.d, tableID{name: "t"})).Scan(&n)
				if n != 2 {
					t.Errorf("rows = %d, want 2 (ids 1 and 3)", n)
				}
			}
			// Truncate.
			tr := recs(&change.Event{Topic: "srv.public.t", Op: change.OpTruncate, Source: change.Source{Schema: "public", Table: "t"}})
			tr[0].Offset = 30
			if err := s.Write(ctx, tr, noReject(t)); err != nil {
				t.Fatal(err)
			}
			_ = s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+qualified(s.d, tableID{name: "t"})).Scan(&n)
			if n != 0 {
				t.Errorf("rows after truncate = %d", n)
			}
			// A second instance of the sink on the same target is fenced by
			// sluice_offsets: its write fails instead of applying twice.
			s2, err := Open(ctx, Options{Name: "rt", DSN: tg.dsn, Table: "${source.table}", DeleteEnabled: true, AutoCreate: true, AutoEvolve: true})
			if err != nil {
				t.Fatal(err)
			}
			defer s2.Close()
			if _, err := s2.Positions(ctx); err != nil {
				t.Fatal(err)
			}
			dup := recs(ev(change.OpCreate, 7, nil, fullRow(sc2, 7, "seven")))
			dup[0].Offset = 40
			if err := s.Write(ctx, dup, noReject(t)); err != nil {
				t.Fatal(err)
			}
			err = s2.Write(ctx, dup, noReject(t))
			if err == nil || !strings.Contains(err.Error(), "another instance") {
				t.Errorf("second instance's write: err = %v, want it fenced", err)
			}
			if pos, _ := s2.Positions(ctx); pos["srv.public.t"][0] != 41 {
				t.Errorf("positions = %v, want 41", pos)
			}
		})
	}
}

func TestFormatDecimal(t *testing.T) {
	for _, c := range []struct {
		unscaled string
		scale    int
		want     string
	}{
		{"0", 0, "0"}, {"5", 2, "0.05"}, {"-5", 2, "-0.05"}, {"123456", 3, "123.456"}, {"-1", 0, "-1"}, {"12", -2, "1200"},
		{"123456789012345678901234567890", 10, "12345678901234567890.1234567890"},
	} {
		v, _ := new(big.Int).SetString(c.unscaled, 10)
		if got := change.FormatDecimal(v, c.scale); got != c.want {
			t.Errorf("change.FormatDecimal(%s, %d) = %s, want %s", c.unscaled, c.scale, got, c.want)
		}
	}
	if got := change.FormatTimeOfDay(24 * 3600 * 1_000_000); got != "24:00:00" {
		t.Errorf("24:00 = %s", got)
	}
	if !strings.HasPrefix(sqliteDSN("sqlite:///tmp/x.db"), "file:/tmp/x.db?") {
		t.Errorf("sqliteDSN = %s", sqliteDSN("sqlite:///tmp/x.db"))
	}
}

// TestSQLiteSynchronous checks the SQLite sink's durability setting:
// NORMAL by default, and a DSN's own pragma wins.
func TestSQLiteSynchronous(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		dsn  string
		want int
	}{
		{"sqlite://" + filepath.Join(dir, "a.db"), 1},                                // NORMAL
		{"sqlite://" + filepath.Join(dir, "b.db") + "?_pragma=synchronous(FULL)", 2}, // FULL
	} {
		db, err := stdsql.Open("sqlite", sqliteDSN(c.dsn))
		if err != nil {
			t.Fatal(err)
		}
		var got int
		if err := db.QueryRow("PRAGMA synchronous").Scan(&got); err != nil {
			t.Fatal(err)
		}
		db.Close()
		if got != c.want {
			t.Errorf("%s: synchronous = %d, want %d", c.dsn, got, c.want)
		}
	}
}

func TestTableTemplate(t *testing.T) {
	ctx := context.Background()
	if _, err := Open(ctx, Options{DSN: "sqlite://" + filepath.Join(t.TempDir(), "x.db"), Table: "${source.tabel}"}); err == nil || !strings.Contains(err.Error(), "unknown variable") {
		t.Errorf("misspelt template: err = %v", err)
	}
	s, err := Open(ctx, Options{DSN: "sqlite://" + filepath.Join(t.TempDir(), "x.db"), Table: "${source.db}_${source.table}"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if id := s.tableID("p.inv.orders", &change.Source{DB: "inv", Table: "orders"}); id.name != "inv_orders" {
		t.Errorf("table = %s", id.name)
	}
	// A tombstone (no source block) reuses the topic's last source block.
	if id := s.tableID("p.inv.orders", nil); id.name != "inv_orders" {
		t.Errorf("tombstone table = %s", id.name)
	}
	// Never seen: derived from <prefix>.<db>.<table>.
	if id := s.tableID("p.inv.lines", nil); id.name != "inv_lines" {
		t.Errorf("derived table = %s", id.name)
	}
}

func TestMySQLConfig(t *testing.T) {
	c, err := mysqlConfig("mysql://app:p%40ss@db.example:3307/reporting?tls=skip-verify&timeout=5s&wait_timeout=600")
	if err != nil {
		t.Fatal(err)
	}
	if c.User != "app" || c.Passwd != "p@ss" || c.Addr != "db.example:3307" || c.DBName != "reporting" ||
		c.TLSConfig != "skip-verify" || c.Timeout != 5*time.Second || c.Params["wait_timeout"] != "600" ||
		c.Params["time_zone"] != "'+00:00'" || !c.InterpolateParams || !c.ClientFoundRows {
		t.Errorf("config = %+v", c)
	}
	if c, _ := mysqlConfig("mysql://root@localhost/db"); c.Addr != "localhost:3306" {
		t.Errorf("default port: %s", c.Addr)
	}
}

// TestRoutedTopic: a sink transform that renamed the event's topic (route)
// decides the table; the consumed record's topic keeps the offsets.
func TestRoutedTopic(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, Options{DSN: "sqlite://" + filepath.Join(t.TempDir(), "r.db"), Table: "${topic}", InsertMode: "upsert",
		PrimaryKeyMode: PrimaryKeyRecordKey, AutoCreate: true, DeleteEnabled: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	e := ev(change.OpCreate, 1, nil, fullRow(rowSchema(), 1, "x"))
	e.Topic = "merged.orders"
	if err := s.Write(ctx, recs(e), noReject(t)); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM merged_orders`).Scan(&n); err != nil || n != 1 {
		t.Errorf("merged_orders: %d rows, %v", n, err)
	}
	pos, err := s.Positions(ctx)
	if err != nil || pos["srv.public.t"][0] != 1 || len(pos) != 1 {
		t.Errorf("positions = %v, %v", pos, err)
	}
}
