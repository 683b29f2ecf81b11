package mysql

import (
	"bytes"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"testing"
	"time"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"

	"github.com/sluice-cdc/sluice/change"
)

func TestConvertValue(t *testing.T) {
	dec := func(u int64) []byte { return change.DecimalBytes(bigInt(u)) }
	tests := []struct {
		name   string
		col    Column
		opts   DecoderOptions
		in     any
		binlog bool
		want   any
		schema string // Type or logical name of the schema
	}{
		{"tinyint", Column{DataType: "tinyint"}, DecoderOptions{}, int8(-5), true, int16(-5), "int16"},
		{"tinyint(1) default int16", Column{DataType: "tinyint", ColumnType: "tinyint(1)"}, DecoderOptions{}, int8(1), true, int16(1), "int16"},
		{"tinyint(1) as boolean", Column{DataType: "tinyint", ColumnType: "tinyint(1)"}, DecoderOptions{TinyInt1AsBoolean: true}, int8(1), true, true, "boolean"},
		{"tinyint(1) as boolean 0", Column{DataType: "tinyint", ColumnType: "tinyint(1)"}, DecoderOptions{TinyInt1AsBoolean: true}, int8(0), true, false, "boolean"},
		{"tinyint(1) as boolean -1", Column{DataType: "tinyint", ColumnType: "tinyint(1)"}, DecoderOptions{TinyInt1AsBoolean: true}, int8(-1), true, true, "boolean"},
		{"tinyint(1) unsigned as boolean text", Column{DataType: "tinyint", ColumnType: "tinyint(1) unsigned", Unsigned: true}, DecoderOptions{TinyInt1AsBoolean: true}, uint64(2), false, true, "boolean"},
		{"tinyint(4) stays int16", Column{DataType: "tinyint", ColumnType: "tinyint(4)"}, DecoderOptions{TinyInt1AsBoolean: true}, int8(1), true, int16(1), "int16"},
		{"tinyint unsigned binlog", Column{DataType: "tinyint", Unsigned: true}, DecoderOptions{}, int8(-1), true, int16(255), "int16"},
		{"tinyint unsigned text", Column{DataType: "tinyint", Unsigned: true}, DecoderOptions{}, uint64(255), false, int16(255), "int16"},
		{"smallint unsigned", Column{DataType: "smallint", Unsigned: true}, DecoderOptions{}, int16(-1), true, int32(65535), "int32"},
		{"mediumint unsigned", Column{DataType: "mediumint", Unsigned: true}, DecoderOptions{}, int32(-1), true, int32(16777215), "int32"},
		{"int", Column{DataType: "int"}, DecoderOptions{}, int32(-7), true, int32(-7), "int32"},
		{"int unsigned", Column{DataType: "int", Unsigned: true}, DecoderOptions{}, int32(-1), true, int64(4294967295), "int64"},
		{"bigint", Column{DataType: "bigint"}, DecoderOptions{}, int64(-9e18), true, int64(-9e18), "int64"},
		{"bigint unsigned wraps", Column{DataType: "bigint", Unsigned: true}, DecoderOptions{}, uint64(18446744073709551615), false, int64(-1), "int64"},
		{"float", Column{DataType: "float"}, DecoderOptions{}, float32(1.5), true, float32(1.5), "float32"},
		{"float text", Column{DataType: "float"}, DecoderOptions{}, float64(1.1), false, float32(1.1), "float32"},
		{"double", Column{DataType: "double"}, DecoderOptions{}, 2.25, true, 2.25, "float64"},
		{"decimal precise", Column{DataType: "decimal", Length: 10, Scale: 2}, DecoderOptions{}, "-12.34", true, dec(-1234), change.DecimalName},
		{"decimal precise text", Column{DataType: "decimal", Length: 10, Scale: 2}, DecoderOptions{}, []byte("5.00"), false, dec(500), change.DecimalName},
		{"decimal double", Column{DataType: "decimal", Length: 10, Scale: 2}, DecoderOptions{DecimalMode: "double"}, "1.25", true, 1.25, "float64"},
		{"decimal string", Column{DataType: "decimal", Length: 10, Scale: 2}, DecoderOptions{DecimalMode: "string"}, "1.25", true, "1.25", "string"},
		{"bit(1)", Column{DataType: "bit", Length: 1}, DecoderOptions{}, int64(1), true, true, "boolean"},
		{"bit(10) binlog", Column{DataType: "bit", Length: 10}, DecoderOptions{}, int64(0x201), true, []byte{0x01, 0x02}, change.BitsName},
		{"bit(10) text", Column{DataType: "bit", Length: 10}, DecoderOptions{}, []byte{0x02, 0x01}, false, []byte{0x01, 0x02}, change.BitsName},
		{"date", Column{DataType: "date"}, DecoderOptions{}, "2024-02-29", true, int32(19782), change.DateName},
		{"date before epoch", Column{DataType: "date"}, DecoderOptions{}, "1969-12-31", true, int32(-1), change.DateName},
		{"zero date nullable", Column{DataType: "date", Nullable: true}, DecoderOptions{}, "0000-00-00", true, nil, change.DateName},
		{"zero date not null", Column{DataType: "date"}, DecoderOptions{}, "0000-00-00", true, int32(0), change.DateName},
		{"datetime(0)", Column{DataType: "datetime"}, DecoderOptions{}, "2018-06-20 06:37:03", true, int64(1529476623000), change.TimestampName},
		{"datetime(3)", Column{DataType: "datetime", FSP: 3}, DecoderOptions{}, "2018-06-20 06:37:03.125", true, int64(1529476623125), change.TimestampName},
		{"datetime(6)", Column{DataType: "datetime", FSP: 6}, DecoderOptions{}, "2018-06-20 06:37:03.000001", true, int64(1529476623000001), change.MicroTimestampName},
		{"datetime connect", Column{DataType: "datetime", FSP: 6}, DecoderOptions{TimePrecisionMode: "connect"}, "1970-01-01 00:00:01.5", true, int64(1500), change.ConnectTimestampName},
		{"timestamp(0)", Column{DataType: "timestamp"}, DecoderOptions{}, "2018-06-20 13:37:03", true, "2018-06-20T13:37:03Z", change.ZonedTimestampName},
		{"timestamp(3)", Column{DataType: "timestamp", FSP: 3}, DecoderOptions{}, "2018-06-20 13:37:03.100", true, "2018-06-20T13:37:03.100Z", change.ZonedTimestampName},
		// The binlog reader gives DATETIME (wall clock in UTC) and
		// TIMESTAMP (an instant, in any zone) as time.Time.
		{"datetime(6) binlog time", Column{DataType: "datetime", FSP: 6}, DecoderOptions{}, time.Date(2018, 6, 20, 6, 37, 3, 1000, time.UTC), true, int64(1529476623000001), change.MicroTimestampName},
		{"datetime(0) binlog time", Column{DataType: "datetime"}, DecoderOptions{}, time.Date(2018, 6, 20, 6, 37, 3, 0, time.UTC), true, int64(1529476623000), change.TimestampName},
		{"datetime before 1970 binlog text", Column{DataType: "datetime"}, DecoderOptions{}, "1969-12-31 23:59:59", true, int64(-1000), change.TimestampName},
		{"timestamp(3) binlog time", Column{DataType: "timestamp", FSP: 3}, DecoderOptions{}, time.Date(2018, 6, 20, 15, 37, 3, 100_000_000, time.FixedZone("CEST", 2*3600)), true, "2018-06-20T13:37:03.100Z", change.ZonedTimestampName},
		{"time micro", Column{DataType: "time"}, DecoderOptions{}, "01:02:03", true, int64(3723000000), change.MicroTimeName},
		{"time negative", Column{DataType: "time", FSP: 2}, DecoderOptions{}, "-838:59:59.50", true, int64(-3020399500000), change.MicroTimeName},
		{"time adaptive ms", Column{DataType: "time", FSP: 3}, DecoderOptions{TimePrecisionMode: "adaptive"}, "00:00:01.250", true, int32(1250), change.TimeName},
		{"year", Column{DataType: "year"}, DecoderOptions{}, 2024, true, int32(2024), change.YearName},
		{"year text", Column{DataType: "year"}, DecoderOptions{}, int64(1999), false, int32(1999), change.YearName},
		{"varchar utf8", Column{DataType: "varchar", Charset: "utf8mb4"}, DecoderOptions{}, "héllo ☃", true, "héllo ☃", "string"},
		{"char latin1 binlog", Column{DataType: "char", Charset: "latin1"}, DecoderOptions{}, "caf\xe9", true, "café", "string"},
		{"varchar cp1251 binlog", Column{DataType: "varchar", Charset: "cp1251"}, DecoderOptions{}, []byte("\xcf\xf0\xe8"), true, "При", "string"},
		{"varchar ucs2 binlog", Column{DataType: "varchar", Charset: "ucs2"}, DecoderOptions{}, []byte{0x04, 0x1f}, true, "П", "string"},
		{"varchar sjis binlog", Column{DataType: "varchar", Charset: "sjis"}, DecoderOptions{}, []byte{0x82, 0xa0}, true, "あ", "string"},
		{"char latin1 text", Column{DataType: "char", Charset: "latin1"}, DecoderOptions{}, []byte("café"), false, "café", "string"},
		{"blob", Column{DataType: "blob"}, DecoderOptions{}, []byte{0, 1, 255}, true, []byte{0, 1, 255}, "bytes"},
		{"binary padded", Column{DataType: "binary", Length: 4}, DecoderOptions{}, "\x01\x02", true, []byte{1, 2, 0, 0}, "bytes"},
		{"varbinary hex", Column{DataType: "varbinary"}, DecoderOptions{BinaryMode: "hex"}, []byte{0xab}, true, "ab", "string"},
		{"varbinary base64", Column{DataType: "varbinary"}, DecoderOptions{BinaryMode: "base64"}, []byte{0xff}, true, "/w==", "string"},
		{"enum binlog", Column{DataType: "enum", EnumValues: []string{"a", "b"}}, DecoderOptions{}, int64(2), true, "b", change.EnumName},
		{"enum text", Column{DataType: "enum", EnumValues: []string{"a", "b"}}, DecoderOptions{}, []byte("a"), false, "a", change.EnumName},
		{"set binlog", Column{DataType: "set", EnumValues: []string{"x", "y", "z"}}, DecoderOptions{}, int64(5), true, "x,z", change.EnumSetName},
		{"set text", Column{DataType: "set", EnumValues: []string{"x", "y", "z"}}, DecoderOptions{}, []byte("x,z"), false, "x,z", change.EnumSetName},
		{"json", Column{DataType: "json"}, DecoderOptions{}, `{"a":1}`, true, `{"a":1}`, change.JSONName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ConvertValue(tt.col, tt.opts, tt.in, tt.binlog)
			if err != nil {
				t.Fatal(err)
			}
			if !change.ValueEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
			s, err := ColumnSchema(tt.col, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if name := s.Name; name != tt.schema && string(s.Type) != tt.schema {
				t.Errorf("schema %s/%s, want %s", s.Type, s.Name, tt.schema)
			}
		})
	}
}

func TestGeometry(t *testing.T) {
	wkb := []byte{1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 240, 63, 0, 0, 0, 0, 0, 0, 0, 64}
	in := append([]byte{0xe6, 0x10, 0, 0}, wkb...)
	got, err := ConvertValue(Column{DataType: "point"}, DecoderOptions{}, in, true)
	if err != nil {
		t.Fatal(err)
	}
	s := got.(*change.Struct)
	if !bytes.Equal(s.Values[0].([]byte), wkb) || s.Values[1] != int32(4326) {
		t.Errorf("got %v", s.Values)
	}
}

func TestParseEnumValues(t *testing.T) {
	got, err := ParseEnumValues(`enum('a','it''s','c,d')`)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[1] != "it's" || got[2] != "c,d" {
		t.Errorf("got %q", got)
	}
	if _, err := ParseEnumValues(`enum('a`); err == nil {
		t.Error("want error for unterminated value")
	}
}

func bigInt(v int64) *big.Int { return big.NewInt(v) }

// TestSmallDecimalBytes: the fast path writes exactly what the big.Int
// path does, and declines what it does not handle.
func TestSmallDecimalBytes(t *testing.T) {
	cases := []string{"0", "0.00", "-0.00", "1", "-1", "127", "128", "-128", "-129", "255", "256", "32767", "-32768",
		"123.45", "-123.45", "0.5", ".5", "5.", "-.5", "1.239", "-1.239", "999999999999999999", "-999999999999999999",
		"99999999999999.9999", "9223372036854775807", "12345678901234567.8", "0000000000000000001.00"}
	for i := int64(1); i < 1<<62; i = i*3 + 1 {
		cases = append(cases, strconv.FormatInt(i, 10), "-"+strconv.FormatInt(i, 10), strconv.FormatInt(i/1000, 10)+"."+strconv.FormatInt(i%1000, 10))
	}
	for _, s := range cases {
		for _, scale := range []int{0, 1, 2, 4, 10} {
			got, ok := smallDecimalBytes([]byte(s), scale)
			u, err := unscaled(s, scale)
			if err != nil {
				if ok {
					t.Errorf("%q scale %d: fast path took text the general path rejects", s, scale)
				}
				continue
			}
			want := change.DecimalBytes(u)
			if ok && !bytes.Equal(got, want) {
				t.Errorf("%q scale %d: %x, want %x", s, scale, got, want)
			}
			if !ok && len(u.String()) < 17 && !strings.ContainsAny(s, "+e") && len(s) < 17 && scale < 4 {
				t.Errorf("%q scale %d: fast path declined", s, scale)
			}
		}
	}
	for _, s := range []string{"", "-", ".", "1e5", "+1", "1.2.3", "abc", " 1"} {
		if _, ok := smallDecimalBytes([]byte(s), 2); ok {
			t.Errorf("%q: fast path accepted", s)
		}
	}
}

// TestTextValue: a snapshot row's values (text protocol) convert through
// the unboxed paths (codec.fromInt, codec.text) to what convert gives for
// the same values boxed, errors included.
func TestTextValue(t *testing.T) {
	signed := func(i int64) gomysql.FieldValue {
		return gomysql.NewFieldValue(gomysql.FieldValueTypeSigned, uint64(i), nil)
	}
	text := func(s string) gomysql.FieldValue {
		return gomysql.NewFieldValue(gomysql.FieldValueTypeString, 0, []byte(s))
	}
	null := gomysql.NewFieldValue(gomysql.FieldValueTypeNull, 0, nil)
	tests := []struct {
		col  Column
		opts DecoderOptions
		vals []gomysql.FieldValue
	}{
		{Column{DataType: "tinyint"}, DecoderOptions{}, []gomysql.FieldValue{signed(-5), signed(127), null}},
		{Column{DataType: "tinyint", ColumnType: "tinyint(1)"}, DecoderOptions{TinyInt1AsBoolean: true}, []gomysql.FieldValue{signed(0), signed(-1), signed(2)}},
		{Column{DataType: "smallint", Unsigned: true}, DecoderOptions{}, []gomysql.FieldValue{signed(-1), signed(65535)}},
		{Column{DataType: "mediumint"}, DecoderOptions{}, []gomysql.FieldValue{signed(-8388608)}},
		{Column{DataType: "int"}, DecoderOptions{}, []gomysql.FieldValue{signed(-7), signed(2147483647)}},
		{Column{DataType: "int", Unsigned: true}, DecoderOptions{}, []gomysql.FieldValue{signed(4294967295), signed(-1)}},
		{Column{DataType: "bigint"}, DecoderOptions{}, []gomysql.FieldValue{signed(-9e18), signed(0), signed(300)}},
		{Column{DataType: "bigint", Unsigned: true}, DecoderOptions{}, []gomysql.FieldValue{signed(-1), gomysql.NewFieldValue(gomysql.FieldValueTypeUnsigned, 1<<63, nil)}},
		{Column{DataType: "decimal", Length: 12, Scale: 2}, DecoderOptions{}, []gomysql.FieldValue{text("5.00"), text("-12.34"), text("0.5"), text("1234567890123456789012.99"), text("x"), text("")}},
		{Column{DataType: "decimal", Length: 12, Scale: 2}, DecoderOptions{DecimalMode: "double"}, []gomysql.FieldValue{text("1.25")}},
		{Column{DataType: "decimal", Length: 12, Scale: 2}, DecoderOptions{DecimalMode: "string"}, []gomysql.FieldValue{text("1.25")}},
		{Column{DataType: "datetime", FSP: 6}, DecoderOptions{}, []gomysql.FieldValue{text("2018-06-20 06:37:03.000001"), text("1969-12-31 23:59:59.5"), text("0000-00-00 00:00:00"), text("bad"), text("")}},
		{Column{DataType: "datetime", Nullable: true}, DecoderOptions{}, []gomysql.FieldValue{text("0000-00-00 00:00:00"), text("2018-06-20 06:37:03"), null}},
		{Column{DataType: "datetime", FSP: 3}, DecoderOptions{}, []gomysql.FieldValue{text("2018-06-20 06:37:03.125"), text("1969-12-31 23:59:59.999")}},
		{Column{DataType: "datetime", FSP: 6}, DecoderOptions{TimePrecisionMode: "connect"}, []gomysql.FieldValue{text("1970-01-01 00:00:01.5")}},
		{Column{DataType: "varchar", Charset: "utf8mb4"}, DecoderOptions{}, []gomysql.FieldValue{text("héllo ☃"), text(""), null}},
		{Column{DataType: "char", Charset: "latin1"}, DecoderOptions{}, []gomysql.FieldValue{text("café")}},
		{Column{DataType: "text"}, DecoderOptions{}, []gomysql.FieldValue{text("a\x00b")}},
		{Column{DataType: "date"}, DecoderOptions{}, []gomysql.FieldValue{text("2024-02-29")}},
		{Column{DataType: "timestamp", FSP: 3}, DecoderOptions{}, []gomysql.FieldValue{text("2018-06-20 13:37:03.100")}},
		{Column{DataType: "year"}, DecoderOptions{}, []gomysql.FieldValue{gomysql.NewFieldValue(gomysql.FieldValueTypeUnsigned, 1999, nil)}},
	}
	for _, tt := range tests {
		cfg, err := newConfig(&tt.opts)
		if err != nil {
			t.Fatal(err)
		}
		cd, err := compileColumn(tt.col, cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, fv := range tt.vals {
			got, gotErr := cd.textValue(&fv)
			var want any
			var wantErr error
			if v := fv.Value(); v != nil {
				want, wantErr = cd.convert(v, false)
			}
			if (gotErr == nil) != (wantErr == nil) || (gotErr != nil && gotErr.Error() != wantErr.Error()) {
				t.Errorf("%s %v: error %v, want %v", tt.col.DataType, fv.Value(), gotErr, wantErr)
				continue
			}
			if fmt.Sprintf("%T", got) != fmt.Sprintf("%T", want) || !change.ValueEqual(got, want) {
				t.Errorf("%s %v: got %#v, want %#v", tt.col.DataType, fv.Value(), got, want)
			}
		}
	}
}

func TestParseTime(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
	}{
		{"00:00:00", 0},
		{"12:34:56", (12*3600 + 34*60 + 56) * 1_000_000},
		{"838:59:59", (838*3600 + 59*60 + 59) * 1_000_000},
		{"-838:59:59.000000", -(838*3600 + 59*60 + 59) * 1_000_000},
		{"-00:00:01.5", -1_500_000},
		{"01:02:03.", 3_723_000_000},
		{"01:02:03.1", 3_723_100_000},
		{"01:02:03.123456", 3_723_123_456},
		{"01:02:03.1234567", 3_723_123_456}, // a seventh digit is dropped
		{"1:2:3", 3_723_000_000},
	} {
		got, err := parseTime(c.in)
		if err != nil || got != c.want {
			t.Errorf("parseTime(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	for _, in := range []string{"", "-", "12:34", "12:34:", "12::56", "ab:cd:ef", "12:34:56x", "12:34:56.1x", "12:34:56:78", "+1:00:00", "12345678901:00:00"} {
		if got, err := parseTime(in); err == nil {
			t.Errorf("parseTime(%q) = %d, want an error", in, got)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = parseTime("12:34:56.789") }); n != 0 {
		t.Errorf("parseTime allocates %v times", n)
	}
}

func TestParseDatetime(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		zero bool
	}{
		{"1970-01-01 00:00:00", 0, false},
		{"2026-11-25 07:28:56.123456", 1795591736123456, false},
		{"2026-11-25T07:28:56", 1795591736000000, false},
		{"2026-11-25", 1795564800000000, false},
		{"1969-12-31 23:59:59.5", -500_000, false},
		{"0000-00-00 00:00:00", 0, true},
	} {
		got, zero, err := parseDatetime(c.in)
		if err != nil || got != c.want || zero != c.zero {
			t.Errorf("parseDatetime(%q) = %d, %v, %v; want %d, %v", c.in, got, zero, err, c.want, c.zero)
		}
	}
	for _, in := range []string{"2026-11-25 7", "2026-11-25 07:28", "2026/11/25 00:00:00"} {
		if _, _, err := parseDatetime(in); err == nil {
			t.Errorf("parseDatetime(%q): no error", in)
		}
	}
}
