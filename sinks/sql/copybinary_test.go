package sql

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluice-cdc/sluice/change"
	"github.com/sluice-cdc/sluice/internal/harness"
)

// TestCopyBinary checks PostgreSQL's binary COPY on one server.
func TestCopyBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("needs PostgreSQL")
	}
	pg := harness.StartPostgres(t)
	t.Run("matches text", func(t *testing.T) { testCopyBinaryMatchesText(t, pg) })
	t.Run("in sink", func(t *testing.T) { testCopyBinaryInSink(t, pg) })
}

// binaryColumns are the column types with a binary encoder, and the text
// each row's values must read back as, whichever format wrote them.
const binaryColumns = `i2 int2, i4 int4, i8 int8, f8 float8, b bool, t text, vc varchar(20), bp char(5), by bytea,
	d date, ts timestamp, tstz timestamptz, n numeric, n2 numeric(12,2), j json, jb jsonb, u uuid`

// testCopyBinaryMatchesText: rows copied in binary read back exactly as
// the same rows copied in text, for every column type with a binary
// encoder, at the edges of each (integer bounds, NaN and infinities,
// years 1 and 9999, instants before 1970 and 2000, numerics of every
// digit-group alignment, zero with a sign and a scale, rounding into a
// numeric(12,2)); and values whose pairing with a column has no binary
// form here are refused with errNoBinary, for the text path.
func testCopyBinaryMatchesText(t *testing.T, pg *harness.Postgres) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, pg.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, tbl := range []string{"as_text", "as_binary"} {
		if _, err := conn.Exec(ctx, "CREATE TABLE "+tbl+" (id int4, "+binaryColumns+")"); err != nil {
			t.Fatal(err)
		}
	}
	var oids []uint32
	if err := conn.QueryRow(ctx, "SELECT array_agg(atttypid::int8 ORDER BY attnum) FROM pg_attribute WHERE attrelid = 'as_text'::regclass AND attnum > 0").Scan(&oids); err != nil {
		t.Fatal(err)
	}
	for _, o := range oids {
		if !binaryType(o) {
			t.Fatalf("type %d has no binary encoder", o)
		}
	}
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	numerics := []string{"0", "-0", "0.000", "-0.0010", "1", "-1", "9999", "10000", "12345", "123456789", "100000000",
		"0.1", "0.0001", "0.00001", "0.00000001", "1234.567", "-1234.5670", "5.", ".5", "99999999999999999999999999999999999999.999999",
		"0.000000000000000000000000000000000001", "1000000000000000000000.0000000000000000000001", "007.700"}
	// numeric(12,2): rounded half away from zero by either path.
	scaled := []string{"1234.567", "-1234.565", "0.005", "-0.005", "0.004", "12345678.9", "0", "-0", "99999999.99", "1.999", "-0.0001"}
	times := []time.Time{at("2024-02-29T13:14:15.123456Z"), at("2000-01-01T00:00:00Z"), at("1999-12-31T23:59:59.999999Z"),
		at("1970-01-01T00:00:00Z"), at("1969-12-31T23:59:59.5Z"), at("0001-01-01T00:00:00Z"), at("9999-12-31T23:59:59.999999Z"),
		at("1900-03-01T12:00:00.000001Z"), at("2024-06-01T10:00:00+05:30"), time.Date(2024, 1, 2, 3, 4, 5, 678999, time.UTC)}
	var rows [][]any
	for i := 0; i < max(len(numerics), len(times)); i++ {
		ints := []int64{0, 1, -1, math.MaxInt16, math.MinInt16, 12345, -32000}
		floats := []float64{0, math.Copysign(0, -1), 1.5, -2.25, math.NaN(), math.Inf(1), math.Inf(-1), math.MaxFloat64, math.SmallestNonzeroFloat64, 0.1}
		texts := []string{"plain", "tab\there", "new\nline", `back\slash`, "", "ünï ✓", `\N`}
		row := []any{int64(i),
			ints[i%len(ints)], ints[i%len(ints)] * 65536, int64(math.MaxInt64) - int64(i), floats[i%len(floats)], i%2 == 0,
			texts[i%len(texts)], texts[(i+1)%len(texts)], "ab", []byte{0, 0xff, byte(i), '\\', '\n'},
			times[i%len(times)], times[(i+1)%len(times)], times[(i+2)%len(times)],
			numerics[i%len(numerics)], scaled[i%len(scaled)],
			`{"a": [1, 2], "b": "ü"}`, `{"b": 1, "a": [true, null]}`, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}
		if i%6 == 5 {
			for j := 1; j < len(row); j++ {
				row[j] = nil
			}
		}
		rows = append(rows, row)
	}
	text, err := copyText(nil, rows)
	if err != nil {
		t.Fatal(err)
	}
	bin, err := copyBinary(nil, oids, rows)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.PgConn().CopyFrom(ctx, bytes.NewReader(text), "COPY as_text FROM STDIN"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.PgConn().CopyFrom(ctx, bytes.NewReader(bin), "COPY as_binary FROM STDIN (FORMAT binary)"); err != nil {
		t.Fatal(err)
	}
	dump := func(tbl string) []string {
		var out []string
		r, err := conn.Query(ctx, "SELECT "+tbl+"::text FROM "+tbl+" ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		for r.Next() {
			var s string
			if err := r.Scan(&s); err != nil {
				t.Fatal(err)
			}
			out = append(out, s)
		}
		if err := r.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	asText, asBinary := dump("as_text"), dump("as_binary")
	if len(asText) != len(rows) || len(asBinary) != len(rows) {
		t.Fatalf("%d rows copied in text and %d in binary, want %d", len(asText), len(asBinary), len(rows))
	}
	for i := range asText {
		if asText[i] != asBinary[i] {
			t.Errorf("row %d:\ntext   %s\nbinary %s", i, asText[i], asBinary[i])
		}
	}

	// Pairings without a binary form here: the text path takes them.
	for _, c := range []struct {
		oid uint32
		v   any
	}{
		{oidInt2, int64(math.MaxInt16 + 1)}, {oidInt4, int64(math.MinInt32 - 1)}, {oidInt8, "1"}, {oidNumeric, int64(1)},
		{oidText, []byte("x")}, {oidBytea, "x"}, {oidText, "nul\x00"}, {oidText, "bad \xff utf-8"},
		{oidTimestamptz, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, {oidDate, time.Date(0, 12, 31, 0, 0, 0, 0, time.UTC)},
		{oidNumeric, "1e5"}, {oidNumeric, "NaN"}, {oidNumeric, "-"}, {oidNumeric, "."}, {oidNumeric, "1.2.3"}, {oidNumeric, "+1"},
		{oidUUID, "A0EEBC999C0B4EF8BB6D6BB9BD380A11"}, {oidUUID, "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}"}, {oidUUID, "g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
		{oidFloat8, int64(1)}, {oidBool, int64(1)}, {1083, "13:14:15"}, {oidInt8, float64(1)},
	} {
		if _, err := appendBinaryField(nil, c.oid, c.v); !errors.Is(err, errNoBinary) {
			t.Errorf("%T %v into type %d: err = %v, want errNoBinary", c.v, c.v, c.oid, err)
		}
	}
}

// testCopyBinaryInSink: the sink copies a table whose column types all
// have a binary form in binary, with the rows INSERTs would write; after
// a column's type changes behind its back, the batch that fails in binary
// is applied again with the types read again, nothing rejected.
func testCopyBinaryInSink(t *testing.T, pg *harness.Postgres) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := pg.CreateDatabase(ctx, "target"); err != nil {
		t.Fatal(err)
	}
	sc := &change.Schema{Type: change.TypeStruct, Name: "t.Value", Fields: []change.Field{
		{Name: "id", Schema: change.PrimitiveSchema(change.TypeInt32, false)},
		{Name: "qty", Schema: change.PrimitiveSchema(change.TypeInt32, true)},
		{Name: "note", Schema: change.PrimitiveSchema(change.TypeString, true)},
		{Name: "amount", Schema: change.DecimalSchema(2, 12, true)},
		{Name: "at", Schema: &change.Schema{Type: change.TypeString, Name: change.ZonedTimestampName, Optional: true}},
	}}
	const n = 300
	batch := func(base int64) []Record {
		rs := make([]Record, n)
		for i := range rs {
			id := int32(base) + int32(i) + 1
			row := &change.Struct{Schema: sc, Values: []any{id, id % 100, fmt.Sprintf("note %d\t✓", id), dec(fmt.Sprint(int64(id) * 1001)), "2024-02-29T12:14:15.25Z"}}
			rs[i] = Record{Topic: "srv.public.t", Offset: base + int64(i), Event: ev(change.OpCreate, id, nil, row)}
		}
		return rs
	}
	for _, mode := range []string{InsertModeInsert, InsertModeUpsert} {
		open := func(name string) *Sink {
			s, err := Open(ctx, Options{Name: name, DSN: pg.DSN("target"), Table: name, InsertMode: mode, AutoCreate: true, AutoEvolve: true})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}
		bulk, one := open("bulk_"+mode), open("one_"+mode)
		rs := batch(0)
		if err := bulk.Write(ctx, rs, noReject(t)); err != nil {
			t.Fatal(err)
		}
		for i := range rs {
			if err := one.Write(ctx, rs[i:i+1], noReject(t)); err != nil {
				t.Fatal(err)
			}
		}
		if bulk.copiedBinary != n {
			t.Errorf("%s: %d rows copied in binary, want %d", mode, bulk.copiedBinary, n)
		}
		dump := func(s *Sink, table string) string {
			var out string
			q := fmt.Sprintf(`SELECT string_agg(t::text, E'\n' ORDER BY id) FROM %s t`, s.d.quote(table))
			if err := s.db.QueryRowContext(ctx, q).Scan(&out); err != nil {
				t.Fatal(err)
			}
			return out
		}
		if a, b := dump(bulk, "bulk_"+mode), dump(one, "one_"+mode); a != b || !strings.Contains(a, "1001.00") {
			t.Fatalf("%s: binary COPY and INSERTs differ:\n%.300s\nvs\n%.300s", mode, a, b)
		}

		// qty becomes bigint behind the sink's back: its cached int4
		// encoding no longer fits.
		if _, err := bulk.db.ExecContext(ctx, `ALTER TABLE "bulk_`+mode+`" ALTER COLUMN qty TYPE int8`); err != nil {
			t.Fatal(err)
		}
		before := bulk.copiedBinary
		if err := bulk.Write(ctx, batch(n), noReject(t)); err != nil {
			t.Fatalf("%s: after the type change: %v", mode, err)
		}
		if bulk.copiedBinary != before+n {
			t.Errorf("%s: the batch after the type change was not copied in binary with the new types (%d rows in binary)", mode, bulk.copiedBinary-before)
		}
		var rows, big int
		if err := bulk.db.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE qty = id % 100) FROM "bulk_`+mode+`"`).Scan(&rows, &big); err != nil || rows != 2*n || big != 2*n {
			t.Errorf("%s: %d rows, %d with the right qty, %v; want %d", mode, rows, big, err, 2*n)
		}
	}
}
