package postgres

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/change"
)

// Expected values below come from Debezium 3.6's documentation ("Data type
// mappings", https://debezium.io/documentation/reference/3.6/connectors/postgresql.html#postgresql-data-types)
// and from the expectations of its test suite
// (debezium-connector-postgres/src/test/.../AbstractRecordsProducerTest.java,
// RecordsStreamProducerIT.java, DecoderDifferences.java), which run the
// same statements through pgoutput.

// desc renders a schema compactly: type, '?' when optional, logical name
// with version, parameters, array items, struct fields and default.
func desc(s *change.Schema) string {
	if s == nil {
		return "<none>"
	}
	var b strings.Builder
	b.WriteString(string(s.Type))
	if s.Optional {
		b.WriteByte('?')
	}
	if s.Name != "" {
		fmt.Fprintf(&b, " %s/%d", s.Name, s.Version)
	}
	if s.Doc != "" {
		fmt.Fprintf(&b, " doc=%q", s.Doc)
	}
	if len(s.Parameters) > 0 {
		keys := make([]string, 0, len(s.Parameters))
		for k := range s.Parameters {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteString(" {")
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "%s=%s", k, s.Parameters[k])
		}
		b.WriteByte('}')
	}
	if s.Items != nil {
		fmt.Fprintf(&b, " <%s>", desc(s.Items))
	}
	if len(s.Fields) > 0 {
		b.WriteString(" [")
		for i, f := range s.Fields {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s:%s", f.Name, desc(f.Schema))
		}
		b.WriteByte(']')
	}
	if s.HasDefault {
		fmt.Fprintf(&b, " default=%s", show(s.Default))
	}
	return b.String()
}

// show renders a physical value with its Go type.
func show(v any) string {
	switch x := v.(type) {
	case nil:
		return "nil"
	case []byte:
		return fmt.Sprintf("bytes(%x)", x)
	case string:
		return fmt.Sprintf("%q", x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = show(e)
		}
		return "[" + strings.Join(parts, " ") + "]"
	case *change.Struct:
		parts := make([]string, len(x.Values))
		for i, e := range x.Values {
			parts[i] = x.Schema.Fields[i].Name + ":" + show(e)
		}
		return "{" + strings.Join(parts, " ") + "}"
	case float64:
		if x != x {
			return "float64(NaN)"
		}
	case float32:
		if x != x {
			return "float32(NaN)"
		}
	}
	return fmt.Sprintf("%T(%v)", v, v)
}

// typmods of constrained types.
func numericMod(p, s int) int32 { return int32(p<<16|(s&0x7ff)) + 4 }
func charMod(n int) int32       { return int32(n) + 4 }

// decimalBytes is the Decimal physical value of an unscaled integer.
func decimalBytes(unscaled string) []byte {
	x, _ := new(big.Int).SetString(unscaled, 10)
	return bigIntBytes(x)
}

func micros(y, mo, d, h, mi, s, us int) int64 {
	return time.Date(y, time.Month(mo), d, h, mi, s, us*1000, time.UTC).UnixMicro()
}

var (
	colInt2        = Column{Name: "c", TypeOID: oidInt2, TypeName: "int2", Typmod: -1, Nullable: true}
	colInt4        = Column{Name: "c", TypeOID: oidInt4, TypeName: "int4", Typmod: -1, Nullable: true}
	colInt8        = Column{Name: "c", TypeOID: oidInt8, TypeName: "int8", Typmod: -1, Nullable: true}
	colFloat4      = Column{Name: "c", TypeOID: oidFloat4, TypeName: "float4", Typmod: -1, Nullable: true}
	colFloat8      = Column{Name: "c", TypeOID: oidFloat8, TypeName: "float8", Typmod: -1, Nullable: true}
	colNumeric     = Column{Name: "c", TypeOID: oidNumeric, TypeName: "numeric", Typmod: -1, Nullable: true}
	colTimestamp   = Column{Name: "c", TypeOID: oidTimestamp, TypeName: "timestamp", Typmod: -1, Nullable: true}
	colTimestamptz = Column{Name: "c", TypeOID: oidTimestamptz, TypeName: "timestamptz", Typmod: -1, Nullable: true}
	colTime        = Column{Name: "c", TypeOID: oidTime, TypeName: "time", Typmod: -1, Nullable: true}
	colTimetz      = Column{Name: "c", TypeOID: oidTimetz, TypeName: "timetz", Typmod: -1, Nullable: true}
	colDate        = Column{Name: "c", TypeOID: oidDate, TypeName: "date", Typmod: -1, Nullable: true}
	colInterval    = Column{Name: "c", TypeOID: oidInterval, TypeName: "interval", Typmod: -1, Nullable: true}
	colBytea       = Column{Name: "c", TypeOID: oidBytea, TypeName: "bytea", Typmod: -1, Nullable: true}
	colMoney       = Column{Name: "c", TypeOID: oidMoney, TypeName: "money", Typmod: -1, Nullable: true}
	colTsquery     = Column{Name: "c", TypeOID: 3615, TypeName: "tsquery", Typmod: -1, Nullable: true}
	colHstore      = Column{Name: "c", TypeOID: 16400, TypeName: "hstore", Typmod: -1, Nullable: true}
)

func with(c Column, f func(*Column)) Column {
	f(&c)
	return c
}

func mod(c Column, typmod int32) Column { return with(c, func(c *Column) { c.Typmod = typmod }) }

func arrayOf(c Column, arrayOID uint32) Column {
	return with(c, func(a *Column) {
		a.ElemOID, a.ElemTypeName = c.TypeOID, c.TypeName
		a.TypeOID, a.TypeName = arrayOID, "_"+c.TypeName
		a.Nullable = true
	})
}

type typeCase struct {
	name   string
	col    Column
	opts   DecoderOptions
	text   string
	schema string
	want   any
}

func TestTypeMapping(t *testing.T) {
	for _, tc := range typeCases() {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ColumnSchema(tc.col, tc.opts)
			if err != nil {
				t.Fatalf("ColumnSchema: %v", err)
			}
			if got := desc(s); got != tc.schema {
				t.Errorf("schema\n got %s\nwant %s", got, tc.schema)
			}
			if s == nil {
				return
			}
			got, err := DecodeText(tc.col, tc.opts, []byte(tc.text))
			if _, ok := tc.want.(*conversionError); ok {
				var gce *conversionError
				if err == nil || !errors.As(err, &gce) {
					t.Fatalf("DecodeText = %s, %v; want a conversion error", show(got), err)
				}
				return
			}
			if err != nil {
				t.Fatalf("DecodeText: %v", err)
			}
			if !sameValue(got, tc.want) {
				t.Errorf("value\n got %s\nwant %s", show(got), show(tc.want))
			}
		})
	}
}

// TestCodecAcceptsValues encodes every mapped value in a row event with
// the change package's JSON encoder: schema and physical value must agree.
func TestCodecAcceptsValues(t *testing.T) {
	enc := change.NewJSONEncoder(change.JSONOptions{Schemas: true})
	for _, tc := range typeCases() {
		s, err := ColumnSchema(tc.col, tc.opts)
		if err != nil || s == nil {
			continue
		}
		v, err := DecodeText(tc.col, tc.opts, []byte(tc.text))
		if err != nil {
			continue
		}
		row := &change.Struct{Schema: structSchema("p.s.t.Value", []change.Field{{Name: "c", Schema: s}}, true), Values: []any{v}}
		ev := &change.Event{Topic: "p.s.t", Op: change.OpCreate, RowSchema: row.Schema, After: row,
			Source: change.Source{Connector: "postgresql", Name: "p", Snapshot: "false", DB: "db", Schema: "s", Table: "t", Sequence: `[null,"1"]`}}
		if _, val, err := enc.Encode(ev); err != nil {
			t.Errorf("%s: encode %s: %v", tc.name, show(v), err)
		} else if len(val) == 0 {
			t.Errorf("%s: empty value", tc.name)
		}
	}
}

func typeCases() []typeCase {
	precise := DecoderOptions{}
	dbl := DecoderOptions{DecimalMode: "double"}
	str := DecoderOptions{DecimalMode: "string"}
	atm := DecoderOptions{TimePrecisionMode: "adaptive_time_microseconds"}
	connect := DecoderOptions{TimePrecisionMode: "connect"}
	ivString := DecoderOptions{IntervalMode: "string"}
	hexMode := DecoderOptions{BinaryMode: "hex"}
	b64 := DecoderOptions{BinaryMode: "base64"}
	b64url := DecoderOptions{BinaryMode: "base64-url-safe"}
	unknown := DecoderOptions{IncludeUnknownTypes: true}

	mood := Column{Name: "c", TypeOID: 16500, TypeName: "mood", Typmod: -1, Nullable: true, EnumValues: []string{"sad", "ok", "happy"}}
	point := Column{Name: "c", TypeOID: 600, TypeName: "point", Typmod: -1, Nullable: true}
	pointS := change.PointSchema(true)

	cases := []typeCase{
		// Basic types (schemasAndValuesForNumericType).
		{"int2", colInt2, precise, "1", "int16?", int16(1)},
		{"int2 min", colInt2, precise, "-32768", "int16?", int16(math.MinInt16)},
		{"int4", colInt4, precise, "123456", "int32?", int32(123456)},
		{"int8", colInt8, precise, "1234567890123", "int64?", int64(1234567890123)},
		{"int8 min", colInt8, precise, "-9223372036854775808", "int64?", int64(math.MinInt64)},
		{"oid", Column{Name: "c", TypeOID: oidOID, TypeName: "oid", Typmod: -1, Nullable: true}, precise, "4000000000", "int64?", int64(4000000000)},
		{"float4", colFloat4, precise, "3.3", "float32?", float32(3.3)},
		{"float4 int", colFloat4, precise, "3", "float32?", float32(3)},
		{"float4 NaN", colFloat4, precise, "NaN", "float32?", float32(math.NaN())},
		{"float4 +inf", colFloat4, precise, "Infinity", "float32?", float32(math.Inf(1))},
		{"float8", colFloat8, precise, "4.44", "float64?", 4.44},
		{"float8 -inf", colFloat8, precise, "-Infinity", "float64?", math.Inf(-1)},
		{"float8 exp", colFloat8, precise, "1e+300", "float64?", 1e300},
		{"bool", Column{Name: "c", TypeOID: oidBool, TypeName: "bool", Typmod: -1, Nullable: true}, precise, "t", "boolean?", true},
		{"smallserial", Column{Name: "c", TypeOID: oidInt2, TypeName: "int2", Typmod: -1, Default: "nextval('numeric_table_ss_seq'::regclass)"}, precise, "1", "int16 default=int16(0)", int16(1)},
		{"bigserial", Column{Name: "c", TypeOID: oidInt8, TypeName: "int8", Typmod: -1, Default: "nextval('numeric_table_bs_seq'::regclass)"}, precise, "123", "int64 default=int64(0)", int64(123)},

		// Decimals, precise (schemasAndValuesForBigDecimalEncodedNumericTypes).
		{"decimal(3,2)", mod(colNumeric, numericMod(3, 2)), precise, "1.10", "bytes? org.apache.kafka.connect.data.Decimal/1 {connect.decimal.precision=3,scale=2}", decimalBytes("110")},
		{"decimal(4)", mod(colNumeric, numericMod(4, 0)), precise, "10", "bytes? org.apache.kafka.connect.data.Decimal/1 {connect.decimal.precision=4,scale=0}", decimalBytes("10")},
		{"decimal(6,4) int", mod(colNumeric, numericMod(6, 4)), precise, "22.0000", "bytes? org.apache.kafka.connect.data.Decimal/1 {connect.decimal.precision=6,scale=4}", decimalBytes("220000")},
		{"decimal(3,2) not null", with(mod(colNumeric, numericMod(3, 2)), func(c *Column) { c.Nullable = false }), precise, "3.30", "bytes org.apache.kafka.connect.data.Decimal/1 {connect.decimal.precision=3,scale=2}", decimalBytes("330")},
		{"decimal negative", mod(colNumeric, numericMod(10, 2)), precise, "-1.28", "bytes? org.apache.kafka.connect.data.Decimal/1 {connect.decimal.precision=10,scale=2}", []byte{0x80}},
		{"decimal 128", mod(colNumeric, numericMod(10, 0)), precise, "128", "bytes? org.apache.kafka.connect.data.Decimal/1 {connect.decimal.precision=10,scale=0}", []byte{0x00, 0x80}},
		{"decimal big", mod(colNumeric, numericMod(40, 2)), precise, "-123456789012345678901234567890.12", "bytes? org.apache.kafka.connect.data.Decimal/1 {connect.decimal.precision=40,scale=2}", decimalBytes("-12345678901234567890123456789012")},
		{"numeric variable", colNumeric, precise, "10.1111", `struct? io.debezium.data.VariableScaleDecimal/1 doc="Variable scaled decimal" [scale:int32, value:bytes]`,
			&change.Struct{Schema: change.VariableScaleDecimalSchema(true), Values: []any{int32(4), decimalBytes("101111")}}},
		{"numeric variable int", colNumeric, precise, "22", `struct? io.debezium.data.VariableScaleDecimal/1 doc="Variable scaled decimal" [scale:int32, value:bytes]`,
			&change.Struct{Schema: change.VariableScaleDecimalSchema(true), Values: []any{int32(0), decimalBytes("22")}}},
		{"numeric variable trailing zeros", colNumeric, precise, "100.500", `struct? io.debezium.data.VariableScaleDecimal/1 doc="Variable scaled decimal" [scale:int32, value:bytes]`,
			&change.Struct{Schema: change.VariableScaleDecimalSchema(true), Values: []any{int32(1), decimalBytes("1005")}}},
		{"numeric variable zero", colNumeric, precise, "0.000", `struct? io.debezium.data.VariableScaleDecimal/1 doc="Variable scaled decimal" [scale:int32, value:bytes]`,
			&change.Struct{Schema: change.VariableScaleDecimalSchema(true), Values: []any{int32(0), []byte{0}}}},
		{"numeric NaN precise", colNumeric, precise, "NaN", `struct? io.debezium.data.VariableScaleDecimal/1 doc="Variable scaled decimal" [scale:int32, value:bytes]`, convErr("")},
		// Decimals, double (schemasAndValuesForDoubleEncodedNumericTypes).
		{"decimal double", mod(colNumeric, numericMod(3, 2)), dbl, "1.10", "float64?", 1.1},
		{"numeric double", colNumeric, dbl, "22.2222", "float64?", 22.2222},
		{"numeric double NaN", colNumeric, dbl, "NaN", "float64?", math.NaN()},
		{"numeric double +inf", colNumeric, dbl, "Infinity", "float64?", math.Inf(1)},
		// Decimals, string (schemasAndValuesForStringEncodedNumericTypes).
		{"decimal string", mod(colNumeric, numericMod(3, 2)), str, "1.10", "string?", "1.10"},
		{"decimal(4) string", mod(colNumeric, numericMod(4, 0)), str, "10", "string?", "10"},
		{"numeric string", colNumeric, str, "10.1111", "string?", "10.1111"},
		{"numeric string NaN", colNumeric, str, "NaN", "string?", "NAN"},
		{"numeric string +inf", colNumeric, str, "Infinity", "string?", "POSITIVE_INFINITY"},
		{"numeric string -inf", colNumeric, str, "-Infinity", "string?", "NEGATIVE_INFINITY"},
		// Money (schemaAndValuesForMoneyTypes; money.fraction.digits=2).
		{"money", colMoney, precise, "$1,234.11", "bytes? org.apache.kafka.connect.data.Decimal/1 {scale=2}", decimalBytes("123411")},
		{"money negative", colMoney, precise, "-$1,234.11", "bytes? org.apache.kafka.connect.data.Decimal/1 {scale=2}", decimalBytes("-123411")},
		{"money parens", colMoney, precise, "($1,234.11)", "bytes? org.apache.kafka.connect.data.Decimal/1 {scale=2}", decimalBytes("-123411")},
		{"money double", colMoney, dbl, "$1,234.11", "float64?", 1234.11},
		{"money string", colMoney, str, "-$1,234.11", "string?", "-1234.11"},

		// Strings (schemasAndValuesForStringTypes, ...ForTextTypes, ...ForNetworkAddressTypes).
		{"varchar", Column{Name: "c", TypeOID: oidVarchar, TypeName: "varchar", Typmod: charMod(2), Nullable: true}, precise, "\u017E\u0161", "string?", "\u017E\u0161"},
		{"bpchar", Column{Name: "c", TypeOID: oidBpchar, TypeName: "bpchar", Typmod: charMod(4), Nullable: true}, precise, "cdef", "string?", "cdef"},
		{"text", Column{Name: "c", TypeOID: oidText, TypeName: "text", Typmod: -1, Nullable: true}, precise, "some text", "string?", "some text"},
		{"char", Column{Name: "c", TypeOID: oidChar, TypeName: "char", Typmod: -1, Nullable: true}, precise, "x", "string?", "x"},
		{"name", Column{Name: "c", TypeOID: oidName, TypeName: "name", Typmod: -1, Nullable: true}, precise, "pg_class", "string?", "pg_class"},
		{"citext", Column{Name: "c", TypeOID: 16401, TypeName: "citext", Typmod: -1, Nullable: true}, precise, "Hello World", "string?", "Hello World"},
		{"isbn not null", Column{Name: "c", TypeOID: 16402, TypeName: "isbn", Typmod: -1}, precise, "0-393-04002-X", "string", "0-393-04002-X"},
		{"inet", Column{Name: "c", TypeOID: oidInet, TypeName: "inet", Typmod: -1, Nullable: true}, precise, "192.168.2.0/12", "string?", "192.168.2.0/12"},
		{"cidr", Column{Name: "c", TypeOID: oidCidr, TypeName: "cidr", Typmod: -1, Nullable: true}, precise, "192.168.100.128/25", "string?", "192.168.100.128/25"},
		{"macaddr", Column{Name: "c", TypeOID: oidMacaddr, TypeName: "macaddr", Typmod: -1, Nullable: true}, precise, "08:00:2b:01:02:03", "string?", "08:00:2b:01:02:03"},
		{"macaddr8", Column{Name: "c", TypeOID: oidMacaddr8, TypeName: "macaddr8", Typmod: -1, Nullable: true}, precise, "08:00:2b:01:02:03:04:05", "string?", "08:00:2b:01:02:03:04:05"},
		{"tsrange", Column{Name: "c", TypeOID: oidTsrange, TypeName: "tsrange", Typmod: -1, Nullable: true}, precise, `["2019-03-31 15:30:00",infinity)`, "string?", `["2019-03-31 15:30:00",infinity)`},
		{"int4range", Column{Name: "c", TypeOID: oidInt4range, TypeName: "int4range", Typmod: -1, Nullable: true}, precise, "[1000,6000)", "string?", "[1000,6000)"},
		{"json", Column{Name: "c", TypeOID: oidJSON, TypeName: "json", Typmod: -1, Nullable: true}, precise, `{"bar": "baz"}`, "string? io.debezium.data.Json/1", `{"bar": "baz"}`},
		{"jsonb", Column{Name: "c", TypeOID: oidJSONB, TypeName: "jsonb", Typmod: -1, Nullable: true}, precise, `{"bar": "baz"}`, "string? io.debezium.data.Json/1", `{"bar": "baz"}`},
		{"xml", Column{Name: "c", TypeOID: oidXML, TypeName: "xml", Typmod: -1, Nullable: true}, precise, "<foo>bar</foo><foo>bar</foo>", "string? io.debezium.data.Xml/1", "<foo>bar</foo><foo>bar</foo>"},
		{"uuid", Column{Name: "c", TypeOID: oidUUID, TypeName: "uuid", Typmod: -1, Nullable: true}, precise, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "string? io.debezium.data.Uuid/1", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
		{"enum", mood, precise, "happy", "string? io.debezium.data.Enum/1 {allowed=sad,ok,happy}", "happy"},
		{"ltree", Column{Name: "c", TypeOID: 16403, TypeName: "ltree", Typmod: -1, Nullable: true}, precise, "Top.Collections.Pictures.Astronomy.Galaxies", "string? io.debezium.data.Ltree/1", "Top.Collections.Pictures.Astronomy.Galaxies"},
		{"tsvector", Column{Name: "c", TypeOID: oidTsvector, TypeName: "tsvector", Typmod: -1, Nullable: true}, precise, "'direct':6 'insert':8 'test':4", "string? io.debezium.data.Tsvector/1", "'direct':6 'insert':8 'test':4"},

		// Binary (schemaAndValueForByteaBytes/Hex/Base64/Base64UrlSafe).
		{"bytea", colBytea, precise, `\x010203`, "bytes?", []byte{1, 2, 3}},
		{"bytea empty", colBytea, precise, `\x`, "bytes?", []byte{}},
		{"bytea hex", colBytea, hexMode, `\x010203`, "string?", "010203"},
		{"bytea base64", colBytea, b64, `\x010203`, "string?", "AQID"},
		{"bytea base64 url", colBytea, b64url, `\xfbff`, "string?", "-_8="},

		// Bits (schemaAndValuesForBinTypes).
		{"bit(1) 0", Column{Name: "c", TypeOID: oidBit, TypeName: "bit", Typmod: 1, Nullable: true}, precise, "0", "boolean?", false},
		{"bit(1) 1", Column{Name: "c", TypeOID: oidBit, TypeName: "bit", Typmod: 1, Nullable: true}, precise, "1", "boolean?", true},
		{"bit(2)", Column{Name: "c", TypeOID: oidBit, TypeName: "bit", Typmod: 2, Nullable: true}, precise, "11", "bytes? io.debezium.data.Bits/1 {length=2}", []byte{3}},
		{"bit(7)", Column{Name: "c", TypeOID: oidBit, TypeName: "bit", Typmod: 7, Nullable: true}, precise, "1000000", "bytes? io.debezium.data.Bits/1 {length=7}", []byte{64}},
		{"varbit(1)", Column{Name: "c", TypeOID: oidVarbit, TypeName: "varbit", Typmod: 1, Nullable: true}, precise, "1", "boolean?", true},
		{"varbit(2) zero", Column{Name: "c", TypeOID: oidVarbit, TypeName: "varbit", Typmod: 2, Nullable: true}, precise, "00", "bytes? io.debezium.data.Bits/1 {length=2}", []byte{}},
		{"varbit(24)", Column{Name: "c", TypeOID: oidVarbit, TypeName: "varbit", Typmod: 24, Nullable: true}, precise, "000000110000001000000001", "bytes? io.debezium.data.Bits/1 {length=24}", []byte{1, 2, 3}},
		{"varbit(64)", Column{Name: "c", TypeOID: oidVarbit, TypeName: "varbit", Typmod: 64, Nullable: true}, precise, "1" + strings.Repeat("0", 63), "bytes? io.debezium.data.Bits/1 {length=64}", []byte{0, 0, 0, 0, 0, 0, 0, 0x80}},
		{"varbit unlimited", Column{Name: "c", TypeOID: oidVarbit, TypeName: "varbit", Typmod: -1, Nullable: true}, precise, "101", "bytes? io.debezium.data.Bits/1 {length=2147483647}", []byte{5}},
		{"varbit unlimited 2", Column{Name: "c", TypeOID: oidVarbit, TypeName: "varbit", Typmod: -1, Nullable: true}, precise, "111011010001000110000001000000001", "bytes? io.debezium.data.Bits/1 {length=2147483647}", []byte{1, 2, 35, 0xda, 1}},

		// Temporal, adaptive (schemaAndValuesForDateTimeTypes).
		{"timestamp", colTimestamp, precise, "2016-11-04 13:51:30.123456", "int64? io.debezium.time.MicroTimestamp/1", micros(2016, 11, 4, 13, 51, 30, 123456)},
		{"timestamp(6) neg", mod(colTimestamp, 6), precise, "1936-10-25 22:10:12.608", "int64? io.debezium.time.MicroTimestamp/1", micros(1936, 10, 25, 22, 10, 12, 608000)},
		{"timestamp(3)", mod(colTimestamp, 3), precise, "2016-11-04 13:51:30.123", "int64? io.debezium.time.Timestamp/1", micros(2016, 11, 4, 13, 51, 30, 123000) / 1000},
		{"timestamp(3) before epoch", mod(colTimestamp, 3), precise, "1969-12-31 23:59:59.9995", "int64? io.debezium.time.Timestamp/1", int64(-1)},
		{"timestamp large", colTimestamp, precise, "21016-11-04 13:51:30.123456", "int64? io.debezium.time.MicroTimestamp/1", micros(21016, 11, 4, 13, 51, 30, 123456)},
		{"timestamp max", colTimestamp, precise, "294247-01-01 23:59:59.999999", "int64? io.debezium.time.MicroTimestamp/1", int64(9223371331200000000 - 1)},
		{"timestamp min BC", colTimestamp, precise, "4713-12-31 23:59:59.999999 BC", "int64? io.debezium.time.MicroTimestamp/1", int64(-210831897600000001)},
		{"timestamp +infinity", colTimestamp, precise, "infinity", "int64? io.debezium.time.MicroTimestamp/1", int64(9223372036825200000)},
		{"timestamp -infinity", colTimestamp, precise, "-infinity", "int64? io.debezium.time.MicroTimestamp/1", int64(-9223372036832400000)},
		{"timestamp(3) +infinity", mod(colTimestamp, 3), precise, "infinity", "int64? io.debezium.time.Timestamp/1", int64(9223372036825200)},
		{"timestamptz", colTimestamptz, precise, "2016-11-04 13:51:30.123456+02", "string? io.debezium.time.ZonedTimestamp/1", "2016-11-04T11:51:30.123456Z"},
		{"timestamptz large", colTimestamptz, precise, "21016-11-04 13:51:30.123456+07", "string? io.debezium.time.ZonedTimestamp/1", "+21016-11-04T06:51:30.123456Z"},
		{"timestamptz zero fraction", colTimestamptz, precise, "21016-11-04 13:51:30+07", "string? io.debezium.time.ZonedTimestamp/1", "+21016-11-04T06:51:30.000000Z"},
		{"timestamptz max", colTimestamptz, precise, "294247-01-01 23:59:59.999999+00", "string? io.debezium.time.ZonedTimestamp/1", "+294247-01-01T23:59:59.999999Z"},
		{"timestamptz min BC", colTimestamptz, precise, "4714-12-31 23:59:59.999999+00 BC", "string? io.debezium.time.ZonedTimestamp/1", "-4713-12-31T23:59:59.999999Z"},
		{"timestamptz +infinity", colTimestamptz, precise, "infinity", "string? io.debezium.time.ZonedTimestamp/1", "infinity"},
		{"timestamptz -infinity", colTimestamptz, precise, "-infinity", "string? io.debezium.time.ZonedTimestamp/1", "-infinity"},
		{"timestamptz(3)", mod(colTimestamptz, 3), precise, "2016-11-04 13:51:30.5-01:30", "string? io.debezium.time.ZonedTimestamp/1", "2016-11-04T15:21:30.500Z"},
		{"timestamptz(0)", mod(colTimestamptz, 0), precise, "2016-11-04 13:51:30+00", "string? io.debezium.time.ZonedTimestamp/1", "2016-11-04T13:51:30Z"},
		{"date", colDate, precise, "2016-11-04", "int32? io.debezium.time.Date/1", int32(17109)},
		{"date BC", colDate, precise, "0001-01-01 BC", "int32? io.debezium.time.Date/1", int32(-719528)},
		{"date +infinity", colDate, precise, "infinity", "int32? io.debezium.time.Date/1", int32(-2147472692)},
		{"date -infinity", colDate, precise, "-infinity", "int32? io.debezium.time.Date/1", int32(-2147472691)},
		{"time", colTime, precise, "13:51:30", "int64? io.debezium.time.MicroTime/1", int64(49890000000)},
		{"time(3)", mod(colTime, 3), precise, "13:51:30.123", "int32? io.debezium.time.Time/1", int32(49890123)},
		{"time 24:00", colTime, precise, "24:00:00", "int64? io.debezium.time.MicroTime/1", int64(86400000000)},
		{"timetz", colTimetz, precise, "13:51:30.123789+02", "string? io.debezium.time.ZonedTime/1", "11:51:30.123789Z"},
		{"timetz(3)", mod(colTimetz, 3), precise, "13:51:30.123+02", "string? io.debezium.time.ZonedTime/1", "11:51:30.123Z"},
		{"timetz wraps", colTimetz, precise, "01:00:00-05:30", "string? io.debezium.time.ZonedTime/1", "06:30:00Z"},
		{"timetz 24:00 UTC", colTimetz, precise, "24:00:00+00", "string? io.debezium.time.ZonedTime/1", "24:00:00Z"},
		{"interval", colInterval, precise, "1 year 2 mons 3 days 04:05:06.78", "int64? io.debezium.time.MicroDuration/1", int64(37091106780000)},
		{"interval negative", colInterval, precise, "-1 years -2 mons +3 days -04:05:06", "int64? io.debezium.time.MicroDuration/1", int64(-36572706000000)},
		{"interval iso style", colInterval, precise, "P1Y2M3DT4H5M6.78S", "int64? io.debezium.time.MicroDuration/1", int64(37091106780000)},
		{"interval verbose", colInterval, precise, "@ 1 year 2 mons 3 days 4 hours 5 mins 6.78 secs ago", "int64? io.debezium.time.MicroDuration/1", int64(-37091106780000)},
		{"interval sql_standard", colInterval, precise, "+1-2 +3 +4:05:06.78", "int64? io.debezium.time.MicroDuration/1", int64(37091106780000)},
		// adaptive_time_microseconds.
		{"atm time(3)", mod(colTime, 3), atm, "13:51:30.123", "int64? io.debezium.time.MicroTime/1", int64(49890123000)},
		{"atm timestamp(3)", mod(colTimestamp, 3), atm, "2016-11-04 13:51:30.123", "int64? io.debezium.time.Timestamp/1", micros(2016, 11, 4, 13, 51, 30, 123000) / 1000},
		// connect.
		{"connect date", colDate, connect, "2016-11-04", "int32? org.apache.kafka.connect.data.Date/1", int32(17109)},
		{"connect time", colTime, connect, "13:51:30.123456", "int32? org.apache.kafka.connect.data.Time/1", int32(49890123)},
		{"connect timestamp", colTimestamp, connect, "2016-11-04 13:51:30.123456", "int64? org.apache.kafka.connect.data.Timestamp/1", micros(2016, 11, 4, 13, 51, 30, 123000) / 1000},
		{"connect timestamptz", colTimestamptz, connect, "2016-11-04 13:51:30.123456+02", "string? io.debezium.time.ZonedTimestamp/1", "2016-11-04T11:51:30.123456Z"},
		// interval.handling.mode=string (schemaAndValuesForIntervalAsString).
		{"interval string", colInterval, ivString, "1 year 2 mons 3 days 04:05:06.78", "string? io.debezium.time.Interval/1", "P1Y2M3DT4H5M6.78S"},
		{"interval string zero", colInterval, ivString, "00:00:00", "string? io.debezium.time.Interval/1", "P0Y0M0DT0H0M0S"},
		{"interval string negative", colInterval, ivString, "-1 days -00:00:01.5", "string? io.debezium.time.Interval/1", "P0Y0M-1DT0H0M-1.5S"},

		// Geometric (schemaAndValuesForGeomTypes) and PostGIS (schemaAndValuesForPostgisTypes).
		{"point", point, precise, "(1,1)", `struct? io.debezium.data.geometry.Point/1 doc="Geometry (POINT)" [x:float64, y:float64, wkb:bytes?, srid:int32?]`, pointValue(pointS, 1, 1)},
		{"geometry", Column{Name: "c", TypeOID: 16600, TypeName: "geometry", Typmod: -1, Nullable: true}, precise, "0101000020730C00001C7C613255DE6540787AA52C435C42C0",
			`struct? io.debezium.data.geometry.Geometry/1 doc="Geometry" [wkb:bytes, srid:int32?]`,
			&change.Struct{Schema: change.GeometrySchema(), Values: []any{mustHex("0101000020730C00001C7C613255DE6540787AA52C435C42C0"), int32(3187)}}},
		{"geography", Column{Name: "c", TypeOID: 16601, TypeName: "geography", Typmod: -1, Nullable: true}, precise,
			"0105000020E610000001000000010200000002000000A779C7293A2465400B462575025A46C0C66D3480B7FC6440C3D32B65195246C0",
			`struct? io.debezium.data.geometry.Geography/1 doc="Geography" [wkb:bytes, srid:int32?]`,
			&change.Struct{Schema: change.GeographySchema(true), Values: []any{mustHex("0105000020E610000001000000010200000002000000A779C7293A2465400B462575025A46C0C66D3480B7FC6440C3D32B65195246C0"), int32(4326)}}},
		{"vector", Column{Name: "c", TypeOID: 16700, TypeName: "vector", Typmod: 3, Nullable: true}, precise, "[1,2.5,-3]", "array? io.debezium.data.DoubleVector/1 <float64>", []any{1.0, 2.5, -3.0}},
		{"sparsevec", Column{Name: "c", TypeOID: 16702, TypeName: "sparsevec", Typmod: 5, Nullable: true}, precise, "{1:0.5,3:1.5}/5",
			`struct? io.debezium.data.SparseDoubleVector/1 doc="Sparse double vector" [dimensions:int16, vector:map]`,
			&change.Struct{Schema: change.SparseDoubleVectorSchema(true), Values: []any{int16(5), map[any]any{int16(1): 0.5, int16(3): 1.5}}}},
		{"sparsevec too wide", Column{Name: "c", TypeOID: 16702, TypeName: "sparsevec", Typmod: 40000, Nullable: true}, precise, "{}/40000",
			`struct? io.debezium.data.SparseDoubleVector/1 doc="Sparse double vector" [dimensions:int16, vector:map]`, convErr("")},
		{"halfvec", Column{Name: "c", TypeOID: 16701, TypeName: "halfvec", Typmod: 2, Nullable: true}, precise, "[1,2.5]", "array? io.debezium.data.FloatVector/1 <float32>", []any{float32(1), float32(2.5)}},

		// HSTORE, hstore.handling.mode=json (schemaAndValueFieldForJsonEncodedHStoreType*).
		{"hstore", colHstore, precise, `"key"=>"val"`, "string? io.debezium.data.Json/1", `{"key":"val"}`},
		{"hstore multiple", colHstore, precise, `"key1"=>"val1", "key2"=>"val2", "key3"=>"val3"`, "string? io.debezium.data.Json/1", `{"key1":"val1","key2":"val2","key3":"val3"}`},
		{"hstore null", colHstore, precise, `"key1"=>"val1", "key2"=>NULL`, "string? io.debezium.data.Json/1", `{"key1":"val1","key2":null}`},
		{"hstore special", colHstore, precise, `"key 2"=>" ##123 78", "key_#1"=>"val 1"`, "string? io.debezium.data.Json/1", `{"key_#1":"val 1","key 2":" ##123 78"}`},
		{"hstore escapes", colHstore, precise, `"a\"b"=>"c\\d"`, "string? io.debezium.data.Json/1", `{"a\"b":"c\\d"}`},
		{"hstore empty", colHstore, precise, ``, "string? io.debezium.data.Json/1", `{}`},

		// Unknown types (schemaAndValueForUnknownColumn*).
		{"tsquery skipped", colTsquery, precise, "'fat' <-> 'cat'", "<none>", nil},
		{"tsquery bytes", colTsquery, unknown, "'fat' <-> 'cat'", "bytes?", []byte("'fat' <-> 'cat'")},
		{"tsquery base64", colTsquery, DecoderOptions{IncludeUnknownTypes: true, BinaryMode: "base64"}, "'fat' <-> 'cat'", "string?", "J2ZhdCcgPC0+ICdjYXQn"},
		{"tsquery base64 url", colTsquery, DecoderOptions{IncludeUnknownTypes: true, BinaryMode: "base64-url-safe"}, "'fat' <-> 'cat'", "string?", "J2ZhdCcgPC0-ICdjYXQn"},
		{"tsquery hex", colTsquery, DecoderOptions{IncludeUnknownTypes: true, BinaryMode: "hex"}, "'fat' <-> 'cat'", "string?", "2766617427203c2d3e202763617427"},
		{"box is unknown in 3.6", Column{Name: "c", TypeOID: 603, TypeName: "box", Typmod: -1, Nullable: true}, unknown, "(1,1),(0,0)", "bytes?", []byte("(1,1),(0,0)")},
		{"composite skipped", Column{Name: "c", TypeOID: 16800, TypeName: "address", Typmod: -1, Nullable: true}, precise, "(a,b)", "<none>", nil},

		// Arrays (schemasAndValuesForArrayTypes, schemaAndValuesForTimeArrayTypes).
		{"int[]", arrayOf(colInt4, 1007), precise, "{1,2,3}", "array? <int32?>", []any{int32(1), int32(2), int32(3)}},
		{"bigint[]", arrayOf(colInt8, 1016), precise, "{1550166368505037572}", "array? <int64?>", []any{int64(1550166368505037572)}},
		{"text[]", arrayOf(Column{Name: "c", TypeOID: oidText, TypeName: "text", Typmod: -1}, 1009), precise, "{one,two,three}", "array? <string?>", []any{"one", "two", "three"}},
		{"text[] quoting", arrayOf(Column{Name: "c", TypeOID: oidText, TypeName: "text", Typmod: -1}, 1009), precise, `{"a b","c\"d","e\\f",NULL,"NULL",""}`, "array? <string?>", []any{"a b", `c"d`, `e\f`, nil, "NULL", ""}},
		{"char(10)[]", arrayOf(Column{Name: "c", TypeOID: oidBpchar, TypeName: "bpchar", Typmod: charMod(10)}, 1014), precise, `{"cone      ","ctwo      ","cthree    "}`, "array? <string?>", []any{"cone      ", "ctwo      ", "cthree    "}},
		{"date[]", arrayOf(colDate, 1182), precise, "{2016-11-04,2016-11-05,2016-11-06}", "array? <int32? io.debezium.time.Date/1>", []any{int32(17109), int32(17110), int32(17111)}},
		{"numeric(10,2)[]", arrayOf(mod(colNumeric, numericMod(10, 2)), 1231), precise, "{1.20,3.40,5.60}", "array? <bytes? org.apache.kafka.connect.data.Decimal/1 {connect.decimal.precision=10,scale=2}>",
			[]any{decimalBytes("120"), decimalBytes("340"), decimalBytes("560")}},
		{"numeric[]", arrayOf(colNumeric, 1231), precise, "{1.1,2.22,3.333}", `array? <struct? io.debezium.data.VariableScaleDecimal/1 doc="Variable scaled decimal" [scale:int32, value:bytes]>`,
			[]any{
				&change.Struct{Schema: change.VariableScaleDecimalSchema(true), Values: []any{int32(1), decimalBytes("11")}},
				&change.Struct{Schema: change.VariableScaleDecimalSchema(true), Values: []any{int32(2), decimalBytes("222")}},
				&change.Struct{Schema: change.VariableScaleDecimalSchema(true), Values: []any{int32(3), decimalBytes("3333")}},
			}},
		{"citext[]", arrayOf(Column{Name: "c", TypeOID: 16401, TypeName: "citext", Typmod: -1}, 16410), precise, "{four,five,six}", "array? <string?>", []any{"four", "five", "six"}},
		{"uuid[]", arrayOf(Column{Name: "c", TypeOID: oidUUID, TypeName: "uuid", Typmod: -1}, 2951), precise, "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11,f0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}", "array? <string? io.debezium.data.Uuid/1>", []any{"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "f0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}},
		{"json[]", arrayOf(Column{Name: "c", TypeOID: oidJSON, TypeName: "json", Typmod: -1}, 199), precise, `{"{\"bar\": \"baz\"}","{\"foo\": \"qux\"}"}`, "array? <string? io.debezium.data.Json/1>", []any{`{"bar": "baz"}`, `{"foo": "qux"}`}},
		{"oid[]", arrayOf(Column{Name: "c", TypeOID: oidOID, TypeName: "oid", Typmod: -1}, 1028), precise, "{3,4000000000}", "array? <int64?>", []any{int64(3), int64(4000000000)}},
		{"tsrange[]", arrayOf(Column{Name: "c", TypeOID: oidTsrange, TypeName: "tsrange", Typmod: -1}, 3909), precise, `{"[\"2019-03-31 15:30:00\",infinity)","[\"2019-03-31 15:30:00\",\"2019-04-30 15:30:00\"]"}`, "array? <string?>",
			[]any{`["2019-03-31 15:30:00",infinity)`, `["2019-03-31 15:30:00","2019-04-30 15:30:00"]`}},
		{"time[]", arrayOf(colTime, 1183), precise, "{00:01:02,01:02:03}", "array? <int64? io.debezium.time.MicroTime/1>", []any{int64(62000000), int64(3723000000)}},
		{"timetz[]", arrayOf(colTimetz, 1270), precise, "{13:51:02+02,14:51:03+02}", "array? <string? io.debezium.time.ZonedTime/1>", []any{"11:51:02Z", "12:51:03Z"}},
		{"timestamp[]", arrayOf(colTimestamp, 1115), precise, `{"2020-04-01 00:01:02","2020-04-01 01:02:03"}`, "array? <int64? io.debezium.time.MicroTimestamp/1>", []any{micros(2020, 4, 1, 0, 1, 2, 0), micros(2020, 4, 1, 1, 2, 3, 0)}},
		{"timestamptz[]", arrayOf(colTimestamptz, 1185), precise, `{"2020-04-01 13:51:02+02","2020-04-01 14:51:03+02"}`, "array? <string? io.debezium.time.ZonedTimestamp/1>", []any{"2020-04-01T11:51:02.000000Z", "2020-04-01T12:51:03.000000Z"}},
		{"bytea[]", arrayOf(colBytea, 1001), precise, `{"\\x000102","\\x030405"}`, "array? <bytes?>", []any{[]byte{0, 1, 2}, []byte{3, 4, 5}}},
		{"bytea[] hex", arrayOf(colBytea, 1001), hexMode, `{"\\x000102","\\x030405"}`, "array? <string?>", []any{"000102", "030405"}},
		{"bytea[] base64", arrayOf(colBytea, 1001), b64, `{"\\x000102","\\x030405"}`, "array? <string?>", []any{"AAEC", "AwQF"}},
		{"enum[]", arrayOf(mood, 16501), precise, "{sad,happy}", "array? <string io.debezium.data.Enum/1 {allowed=sad,ok,happy}>", []any{"sad", "happy"}},
		{"ltree[]", arrayOf(Column{Name: "c", TypeOID: 16403, TypeName: "ltree", Typmod: -1}, 16404), precise, "{Ship.Frigate,Ship.Destroyer}", "array? <string? io.debezium.data.Ltree/1>", []any{"Ship.Frigate", "Ship.Destroyer"}},
		{"hstore[]", arrayOf(colHstore, 16405), precise, `{"\"key4\"=>\"val4\", \"key5\"=>NULL","\"key6\"=>\"val6\""}`, "array? <string? io.debezium.data.Json/1>", []any{`{"key5":null,"key4":"val4"}`, `{"key6":"val6"}`}},
		{"int[] empty", arrayOf(colInt4, 1007), precise, "{}", "array? <int32?>", []any{}},
		{"int[][] flattened", arrayOf(colInt4, 1007), precise, "{{1,2},{3,NULL}}", "array? <int32?>", []any{int32(1), int32(2), int32(3), nil}},
		{"int[] bounds", arrayOf(colInt4, 1007), precise, "[0:1]={7,8}", "array? <int32?>", []any{int32(7), int32(8)}},
		{"money[] skipped", arrayOf(colMoney, 791), unknown, "{$1.00}", "<none>", nil},
		{"interval[] skipped", arrayOf(colInterval, 1187), precise, "{1 day}", "<none>", nil},
		{"tsquery[] skipped", arrayOf(colTsquery, 3645), precise, "{x}", "<none>", nil},
		{"tsquery[] unknown", arrayOf(colTsquery, 3645), unknown, "{'a','b'}", "array? <bytes?>", []any{[]byte("'a'"), []byte("'b'")}},
	}
	return cases
}

// sameValue compares physical values, NaN equal to NaN and structs by
// schema description and values.
func sameValue(a, b any) bool {
	if sa, ok := a.(*change.Struct); ok {
		sb, ok := b.(*change.Struct)
		return ok && desc(sa.Schema) == desc(sb.Schema) && sameValue(sa.Values, sb.Values)
	}
	if la, ok := a.([]any); ok {
		lb, ok := b.([]any)
		if !ok || len(la) != len(lb) {
			return false
		}
		for i := range la {
			if !sameValue(la[i], lb[i]) {
				return false
			}
		}
		return true
	}
	if ma, ok := a.(map[any]any); ok {
		mb, ok := b.(map[any]any)
		if !ok || len(ma) != len(mb) {
			return false
		}
		for k, v := range ma {
			if !sameValue(v, mb[k]) {
				return false
			}
		}
		return true
	}
	if ba, ok := a.([]byte); ok {
		bb, ok := b.([]byte)
		return ok && bytes.Equal(ba, bb)
	}
	if reflect.TypeOf(a) != reflect.TypeOf(b) {
		return false
	}
	return change.ValueEqual(a, b)
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func TestMalformedText(t *testing.T) {
	cases := []struct {
		col  Column
		text string
	}{
		{colInt2, "40000"},
		{colInt4, "12a"},
		{colInt4, ""},
		{colInt8, "9223372036854775808"},
		{colInt8, "92233720368547758070"},
		{colInt8, "184467440737095516150"},
		{colInt4, "2147483648"},
		{colFloat8, "1.2.3"},
		{colNumeric, "1e5"},
		{mod(colNumeric, numericMod(5, 2)), "--1"},
		{colMoney, "abc"},
		{colBytea, "010203"},
		{colBytea, `\x0g`},
		{colDate, "2016-13-01"},
		{colDate, "2016-02-30"},
		{colDate, "04/11/2016"},
		{colTime, "25:00:00"},
		{colTimestamp, "2016-11-04"},
		{colTimestamp, "2016-11-04 13:51:30+02"},
		{colTimestamptz, "2016-11-04 13:51:30"},
		{colTimetz, "13:51:30"},
		{colInterval, "1 fortnight"},
		{colInterval, "P1X"},
		{Column{Name: "c", TypeOID: oidBool, TypeName: "bool", Typmod: -1}, "yes"},
		{Column{Name: "c", TypeOID: oidBit, TypeName: "bit", Typmod: 3}, "102"},
		{arrayOf(colInt4, 1007), "{1,2"},
		{arrayOf(colInt4, 1007), "{1,,2}"},
		{arrayOf(colInt4, 1007), "{1,2,}"},
		{arrayOf(colInt4, 1007), "1,2"},
		{arrayOf(colInt4, 1007), "{1,x}"},
		{arrayOf(colInt4, 1007), "{1}}"},
		{colHstore, `"a"=>`},
		{Column{Name: "c", TypeOID: 600, TypeName: "point", Typmod: -1}, "(1;2)"},
		{Column{Name: "c", TypeOID: 16600, TypeName: "geometry", Typmod: -1}, "XYZ"},
	}
	for _, tc := range cases {
		v, err := DecodeText(tc.col, DecoderOptions{}, []byte(tc.text))
		if err == nil {
			t.Errorf("%s %q: got %s, want an error", typeLabel(tc.col), tc.text, show(v))
			continue
		}
		if !strings.Contains(err.Error(), "column c") {
			t.Errorf("%s %q: error %q does not name the column", typeLabel(tc.col), tc.text, err)
		}
	}
}

func TestDefaults(t *testing.T) {
	cases := []struct {
		name   string
		col    Column
		opts   DecoderOptions
		schema string
	}{
		{"text literal", Column{Name: "c", TypeOID: oidText, TypeName: "text", Typmod: -1, Nullable: true, Default: "'default'::text"}, DecoderOptions{}, `string? default="default"`},
		{"varchar quote", Column{Name: "c", TypeOID: oidVarchar, TypeName: "varchar", Typmod: charMod(64), Nullable: true, Default: "'it''s'::character varying"}, DecoderOptions{}, `string? default="it's"`},
		{"varchar NULL literal", Column{Name: "c", TypeOID: oidVarchar, TypeName: "varchar", Typmod: charMod(64), Nullable: true, Default: "'NULL'::character varying"}, DecoderOptions{}, `string? default="NULL"`},
		{"varchar NULL", Column{Name: "c", TypeOID: oidVarchar, TypeName: "varchar", Typmod: charMod(64), Nullable: true, Default: "NULL::character varying"}, DecoderOptions{}, `string?`},
		{"int NULL", Column{Name: "c", TypeOID: oidInt4, TypeName: "int4", Typmod: -1, Nullable: true, Default: "NULL::integer"}, DecoderOptions{}, `int32?`},
		{"int negative", Column{Name: "c", TypeOID: oidInt4, TypeName: "int4", Typmod: -1, Nullable: true, Default: "'-1'::integer"}, DecoderOptions{}, `int32? default=int32(-1)`},
		{"int8 raw", Column{Name: "c", TypeOID: oidInt8, TypeName: "int8", Typmod: -1, Nullable: true, Default: "42"}, DecoderOptions{}, `int64? default=int64(42)`},
		{"bool", Column{Name: "c", TypeOID: oidBool, TypeName: "bool", Typmod: -1, Nullable: true, Default: "true"}, DecoderOptions{}, `boolean? default=bool(true)`},
		{"float8", Column{Name: "c", TypeOID: oidFloat8, TypeName: "float8", Typmod: -1, Nullable: true, Default: "1.5"}, DecoderOptions{}, `float64? default=float64(1.5)`},
		{"numeric(12,0) zero", Column{Name: "c", TypeOID: oidNumeric, TypeName: "numeric", Typmod: numericMod(12, 0), Nullable: true, Default: "0"}, DecoderOptions{}, `bytes? org.apache.kafka.connect.data.Decimal/1 {connect.decimal.precision=12,scale=0} default=bytes(00)`},
		{"numeric(5,2) rescaled", Column{Name: "c", TypeOID: oidNumeric, TypeName: "numeric", Typmod: numericMod(5, 2), Nullable: true, Default: "12.5"}, DecoderOptions{}, `bytes? org.apache.kafka.connect.data.Decimal/1 {connect.decimal.precision=5,scale=2} default=bytes(04e2)`},
		{"numeric(5,2) string", Column{Name: "c", TypeOID: oidNumeric, TypeName: "numeric", Typmod: numericMod(5, 2), Nullable: true, Default: "12.5"}, DecoderOptions{DecimalMode: "string"}, `string? default="12.50"`},
		{"numeric variable: struct default dropped", Column{Name: "c", TypeOID: oidNumeric, TypeName: "numeric", Typmod: -1, Nullable: true, Default: "12.5"}, DecoderOptions{}, `struct? io.debezium.data.VariableScaleDecimal/1 doc="Variable scaled decimal" [scale:int32, value:bytes]`},
		{"uuid function", Column{Name: "c", TypeOID: oidUUID, TypeName: "uuid", Typmod: -1, Default: "gen_random_uuid()"}, DecoderOptions{}, `string io.debezium.data.Uuid/1 default="00000000-0000-0000-0000-000000000000"`},
		{"timestamp current", Column{Name: "c", TypeOID: oidTimestamp, TypeName: "timestamp", Typmod: -1, Nullable: true, Default: "CURRENT_TIMESTAMP"}, DecoderOptions{}, `int64? io.debezium.time.MicroTimestamp/1 default=int64(0)`},
		{"timestamp now()", Column{Name: "c", TypeOID: oidTimestamp, TypeName: "timestamp", Typmod: -1, Nullable: true, Default: "now()"}, DecoderOptions{}, `int64? io.debezium.time.MicroTimestamp/1 default=int64(0)`},
		{"timestamp literal", Column{Name: "c", TypeOID: oidTimestamp, TypeName: "timestamp", Typmod: -1, Nullable: true, Default: "'2020-01-01 10:00:00'::timestamp without time zone"}, DecoderOptions{}, fmt.Sprintf(`int64? io.debezium.time.MicroTimestamp/1 default=int64(%d)`, micros(2020, 1, 1, 10, 0, 0, 0))},
		{"timestamptz function", Column{Name: "c", TypeOID: oidTimestamptz, TypeName: "timestamptz", Typmod: -1, Nullable: true, Default: "now()"}, DecoderOptions{}, `string? io.debezium.time.ZonedTimestamp/1 default="1970-01-01T00:00:00.000000Z"`},
		{"timestamptz literal", Column{Name: "c", TypeOID: oidTimestamptz, TypeName: "timestamptz", Typmod: -1, Nullable: true, Default: "'2020-01-01 10:00:00+02'::timestamp with time zone"}, DecoderOptions{}, `string? io.debezium.time.ZonedTimestamp/1 default="2020-01-01T08:00:00.000000Z"`},
		{"date current", Column{Name: "c", TypeOID: oidDate, TypeName: "date", Typmod: -1, Nullable: true, Default: "CURRENT_DATE"}, DecoderOptions{}, `int32? io.debezium.time.Date/1 default=int32(0)`},
		{"time current", Column{Name: "c", TypeOID: oidTime, TypeName: "time", Typmod: -1, Nullable: true, Default: "CURRENT_TIME"}, DecoderOptions{}, `int64? io.debezium.time.MicroTime/1 default=int64(0)`},
		{"interval literal", Column{Name: "c", TypeOID: oidInterval, TypeName: "interval", Typmod: -1, Nullable: true, Default: "'1 day'::interval"}, DecoderOptions{}, `int64? io.debezium.time.MicroDuration/1 default=int64(86400000000)`},
		{"json", Column{Name: "c", TypeOID: oidJSONB, TypeName: "jsonb", Typmod: -1, Nullable: true, Default: "'{}'::jsonb"}, DecoderOptions{}, `string? io.debezium.data.Json/1 default="{}"`},
		{"enum", Column{Name: "c", TypeOID: 16500, TypeName: "Status", Typmod: -1, EnumValues: []string{"DRAFT", "DONE"}, Default: `'DRAFT'::s1."Status"`}, DecoderOptions{}, `string io.debezium.data.Enum/1 {allowed=DRAFT,DONE} default="DRAFT"`},
		{"bit(1)", Column{Name: "c", TypeOID: oidBit, TypeName: "bit", Typmod: 1, Nullable: true, Default: `B'1'::"bit"`}, DecoderOptions{}, `boolean? default=bool(true)`},
		{"citext: no mapper", Column{Name: "c", TypeOID: 16401, TypeName: "citext", Typmod: -1, Nullable: true, Default: "'x'::citext"}, DecoderOptions{}, `string?`},
		{"timetz: no mapper", Column{Name: "c", TypeOID: oidTimetz, TypeName: "timetz", Typmod: -1, Nullable: true, Default: "'10:00:00+00'::time with time zone"}, DecoderOptions{}, `string? io.debezium.time.ZonedTime/1`},
		{"int bad expression", Column{Name: "c", TypeOID: oidInt4, TypeName: "int4", Typmod: -1, Nullable: true, Default: "(1 + 2)"}, DecoderOptions{}, `int32?`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ColumnSchema(tc.col, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := desc(s); got != tc.schema {
				t.Errorf("\n got %s\nwant %s", got, tc.schema)
			}
		})
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, o := range []DecoderOptions{
		{DecimalMode: "exact"}, {TimePrecisionMode: "nanoseconds"}, {IntervalMode: "iso"},
		{BinaryMode: "base32"}, {UnavailablePlaceholder: "hex:zz"},
	} {
		if err := o.Validate(); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
	if err := (DecoderOptions{}).Validate(); err != nil {
		t.Error(err)
	}
	cfg, err := newConfig(&DecoderOptions{UnavailablePlaceholder: "hex:00ff"})
	if err != nil || !bytes.Equal(cfg.placeholder, []byte{0, 0xff}) {
		t.Errorf("hex placeholder: %v %x", err, cfg.placeholder)
	}
}

func TestMicroDurationMatchesJava(t *testing.T) {
	// MicroDuration.durationMicros(1, 2, 3, 4, 5, 6, 780000, DAYS_PER_MONTH_AVG)
	// as the snapshot test computes it.
	numberOfDays := float64(14)*(365.25/12.0) + 3
	secs := (((numberOfDays*24+4)*60)+5)*60 + 6
	want := int64(secs*1e6 + 780000)
	if got := microDuration(interval{years: 1, months: 2, days: 3, hours: 4, minutes: 5, wholeSeconds: 6, micros: 780000}); got != want {
		t.Errorf("got %d, want %d", got, want)
	}
	huge := interval{years: 178000000}
	if got := microDuration(huge); got != math.MaxInt64 && got <= 0 {
		t.Errorf("huge interval: %d", got)
	}
}

func TestJavaHashMapOrder(t *testing.T) {
	// String.hashCode values checked against Java.
	for s, want := range map[string]int32{"": 0, "a": 97, "key": 106079, "hello world": 1794106052, "\U0001F600": 1772899} {
		if got := javaStringHash(s); got != want {
			t.Errorf("hash(%q) = %d, want %d", s, got, want)
		}
	}
	// More than 12 keys grow the table to 32 buckets.
	var keys []string
	var vals []*string
	for i := 0; i < 20; i++ {
		k := fmt.Sprintf("k%02d", i)
		keys = append(keys, k)
		vals = append(vals, nil)
	}
	got := javaMapJSON(keys, vals)
	if !strings.HasPrefix(got, "{") || strings.Count(got, ":null") != 20 {
		t.Errorf("bad json %s", got)
	}
}

func TestUUIDPlaceholder(t *testing.T) {
	// DecoderDifferences.TOASTED_VALUE_UUID_STRING.
	if got := nameUUIDFromBytes([]byte(defaultPlaceholder)); got != "b68a35a7-17ad-35b3-af2a-ae46edb4545a" {
		t.Errorf("got %s", got)
	}
}

func FuzzDecodeTextArray(f *testing.F) {
	for _, s := range []string{"{1,2,3}", `{"a b","c\"d",NULL}`, "{{1,2},{3,4}}", "[1:2]={1,2}", "{}", `{"\\x00"}`} {
		f.Add(s)
	}
	cols := []Column{arrayOf(colInt4, 1007), arrayOf(Column{Name: "c", TypeOID: oidText, TypeName: "text", Typmod: -1}, 1009),
		arrayOf(colNumeric, 1231), arrayOf(colBytea, 1001), arrayOf(colTimestamptz, 1185)}
	f.Fuzz(func(t *testing.T, s string) {
		for _, c := range cols {
			_, _ = DecodeText(c, DecoderOptions{}, []byte(s))
		}
	})
}

func FuzzDecodeTextNumeric(f *testing.F) {
	for _, s := range []string{"1.10", "-0.5", "NaN", "Infinity", "123456789012345678901234567890.1", "$1,234.11", "(1.5)", ".5", "5."} {
		f.Add(s)
	}
	cols := []Column{colNumeric, mod(colNumeric, numericMod(10, 2)), mod(colNumeric, numericMod(5, -2)), colMoney, colInt2, colInt4, colInt8, colFloat4, colFloat8}
	modes := []DecoderOptions{{}, {DecimalMode: "double"}, {DecimalMode: "string"}}
	f.Fuzz(func(t *testing.T, s string) {
		for bits, c := range map[int]Column{16: colInt2, 32: colInt4, 64: colInt8} {
			want, werr := strconv.ParseInt(s, 10, bits)
			got, gerr := DecodeText(c, DecoderOptions{}, []byte(s))
			if (werr == nil) != (gerr == nil) || (werr == nil && fmt.Sprint(got) != fmt.Sprint(want)) {
				t.Fatalf("int%d %q: got %v %v, strconv %v %v", bits, s, got, gerr, want, werr)
			}
		}
		for _, c := range cols {
			for _, o := range modes {
				v, err := DecodeText(c, o, []byte(s))
				if err == nil && c.TypeOID == oidNumeric && o.DecimalMode == "" && c.Typmod >= 0 {
					// A precise decimal must round-trip through its bytes.
					b := v.([]byte)
					if len(b) == 0 {
						t.Fatalf("%q: empty decimal bytes", s)
					}
				}
			}
		}
	})
}

func FuzzDecodeTextInterval(f *testing.F) {
	for _, s := range []string{"1 year 2 mons 3 days 04:05:06.78", "-1 days -02:00:00", "P1Y2M3DT4H5M6.78S", "@ 1 day ago", "+1-2 +3 +4:05:06.78", "00:00:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = DecodeText(colInterval, DecoderOptions{}, []byte(s))
		_, _ = DecodeText(colInterval, DecoderOptions{IntervalMode: "string"}, []byte(s))
	})
}

func FuzzDecodeTextTimestamp(f *testing.F) {
	for _, s := range []string{"2016-11-04 13:51:30.123456", "2016-11-04 13:51:30.123456+02", "4714-12-31 23:59:59.999999+00 BC", "infinity", "24:00:00", "13:51:30+05:30:15", "294247-01-01 23:59:59.999999"} {
		f.Add(s)
	}
	cols := []Column{colTimestamp, mod(colTimestamp, 3), colTimestamptz, mod(colTimestamptz, 3), colDate, colTime, colTimetz}
	f.Fuzz(func(t *testing.T, s string) {
		for _, c := range cols {
			v, err := DecodeText(c, DecoderOptions{}, []byte(s))
			if err == nil && c.TypeOID == oidTimestamptz {
				if str := v.(string); str != "infinity" && str != "-infinity" && !strings.HasSuffix(str, "Z") {
					t.Fatalf("%q -> %q", s, str)
				}
			}
		}
	})
}

// TestSchemasMatchChangeConstructors checks the schema of every mapped
// Postgres type, NOT NULL and nullable, against the change package's
// constructors with Schema.Equal, which also compares what desc leaves out
// (map key and value schemas). Every type kind must be covered.
func TestSchemasMatchChangeConstructors(t *testing.T) {
	precise := DecoderOptions{}
	dbl := DecoderOptions{DecimalMode: "double"}
	str := DecoderOptions{DecimalMode: "string"}
	atm := DecoderOptions{TimePrecisionMode: "adaptive_time_microseconds"}
	connect := DecoderOptions{TimePrecisionMode: "connect"}
	ivString := DecoderOptions{IntervalMode: "string"}
	unknown := DecoderOptions{IncludeUnknownTypes: true}
	col := func(oid uint32, name string, typmod int32) Column {
		return Column{Name: "c", TypeOID: oid, TypeName: name, Typmod: typmod}
	}
	prim := func(ty change.Type) func(bool) *change.Schema {
		return func(o bool) *change.Schema { return change.PrimitiveSchema(ty, o) }
	}
	moods := []string{"sad", "ok", "happy"}
	mood := Column{Name: "c", TypeOID: 16500, TypeName: "mood", Typmod: -1, EnumValues: moods}
	array := func(items *change.Schema) func(bool) *change.Schema {
		return func(o bool) *change.Schema { return change.ArraySchema(items, o) }
	}
	cases := []struct {
		name string
		col  Column
		opts DecoderOptions
		want func(optional bool) *change.Schema
	}{
		{"int2", col(oidInt2, "int2", -1), precise, prim(change.TypeInt16)},
		{"int4", col(oidInt4, "int4", -1), precise, prim(change.TypeInt32)},
		{"int8", col(oidInt8, "int8", -1), precise, prim(change.TypeInt64)},
		{"oid", col(oidOID, "oid", -1), precise, prim(change.TypeInt64)},
		{"float4", col(oidFloat4, "float4", -1), precise, prim(change.TypeFloat32)},
		{"float8", col(oidFloat8, "float8", -1), precise, prim(change.TypeFloat64)},
		{"bool", col(oidBool, "bool", -1), precise, prim(change.TypeBoolean)},
		{"bit", col(oidBit, "bit", -1), precise, prim(change.TypeBoolean)},
		{"bit(1)", col(oidBit, "bit", 1), precise, prim(change.TypeBoolean)},
		{"bit(5)", col(oidBit, "bit", 5), precise, func(o bool) *change.Schema { return change.BitsSchema(5, o) }},
		{"varbit(1)", col(oidVarbit, "varbit", 1), precise, prim(change.TypeBoolean)},
		{"varbit(24)", col(oidVarbit, "varbit", 24), precise, func(o bool) *change.Schema { return change.BitsSchema(24, o) }},
		{"varbit", col(oidVarbit, "varbit", -1), precise, func(o bool) *change.Schema { return change.BitsSchema(math.MaxInt32, o) }},
		{"numeric(10,2)", col(oidNumeric, "numeric", numericMod(10, 2)), precise, func(o bool) *change.Schema { return change.DecimalSchema(2, 10, o) }},
		{"numeric(5,-2)", col(oidNumeric, "numeric", numericMod(5, -2)), precise, func(o bool) *change.Schema { return change.DecimalSchema(-2, 5, o) }},
		{"numeric", col(oidNumeric, "numeric", -1), precise, change.VariableScaleDecimalSchema},
		{"numeric double", col(oidNumeric, "numeric", numericMod(10, 2)), dbl, prim(change.TypeFloat64)},
		{"numeric string", col(oidNumeric, "numeric", -1), str, prim(change.TypeString)},
		{"money", col(oidMoney, "money", -1), precise, func(o bool) *change.Schema { return change.MoneySchema(2, o) }},
		{"money double", col(oidMoney, "money", -1), dbl, prim(change.TypeFloat64)},
		{"money string", col(oidMoney, "money", -1), str, prim(change.TypeString)},
		{"text", col(oidText, "text", -1), precise, prim(change.TypeString)},
		{"varchar", col(oidVarchar, "varchar", charMod(10)), precise, prim(change.TypeString)},
		{"bpchar", col(oidBpchar, "bpchar", charMod(4)), precise, prim(change.TypeString)},
		{"char", col(oidChar, "char", -1), precise, prim(change.TypeString)},
		{"name", col(oidName, "name", -1), precise, prim(change.TypeString)},
		{"inet", col(oidInet, "inet", -1), precise, prim(change.TypeString)},
		{"cidr", col(oidCidr, "cidr", -1), precise, prim(change.TypeString)},
		{"macaddr", col(oidMacaddr, "macaddr", -1), precise, prim(change.TypeString)},
		{"macaddr8", col(oidMacaddr8, "macaddr8", -1), precise, prim(change.TypeString)},
		{"int4range", col(oidInt4range, "int4range", -1), precise, prim(change.TypeString)},
		{"tstzrange", col(oidTstzrange, "tstzrange", -1), precise, prim(change.TypeString)},
		{"citext", col(16401, "citext", -1), precise, prim(change.TypeString)},
		{"isbn", col(16402, "isbn", -1), precise, prim(change.TypeString)},
		{"json", col(oidJSON, "json", -1), precise, change.JSONSchema},
		{"jsonb", col(oidJSONB, "jsonb", -1), precise, change.JSONSchema},
		{"xml", col(oidXML, "xml", -1), precise, change.XMLSchema},
		{"uuid", col(oidUUID, "uuid", -1), precise, change.UUIDSchema},
		{"enum", mood, precise, func(o bool) *change.Schema { return change.EnumSchema(moods, o) }},
		{"enum without labels", with(mood, func(c *Column) { c.EnumValues = []string{} }), precise, func(o bool) *change.Schema { return change.EnumSchema(nil, o) }},
		{"ltree", col(16403, "ltree", -1), precise, change.LtreeSchema},
		{"tsvector", col(oidTsvector, "tsvector", -1), precise, change.TsvectorSchema},
		{"hstore", col(16400, "hstore", -1), precise, change.JSONSchema},
		{"bytea", col(oidBytea, "bytea", -1), precise, prim(change.TypeBytes)},
		{"bytea hex", col(oidBytea, "bytea", -1), DecoderOptions{BinaryMode: "hex"}, prim(change.TypeString)},
		{"bytea base64", col(oidBytea, "bytea", -1), DecoderOptions{BinaryMode: "base64"}, prim(change.TypeString)},
		{"bytea base64 url", col(oidBytea, "bytea", -1), DecoderOptions{BinaryMode: "base64-url-safe"}, prim(change.TypeString)},
		{"date", col(oidDate, "date", -1), precise, change.DateSchema},
		{"date connect", col(oidDate, "date", -1), connect, change.ConnectDateSchema},
		{"time", col(oidTime, "time", -1), precise, change.MicroTimeSchema},
		{"time(3)", col(oidTime, "time", 3), precise, change.TimeSchema},
		{"time(3) atm", col(oidTime, "time", 3), atm, change.MicroTimeSchema},
		{"time connect", col(oidTime, "time", -1), connect, change.ConnectTimeSchema},
		{"timetz", col(oidTimetz, "timetz", -1), precise, change.ZonedTimeSchema},
		{"timestamp", col(oidTimestamp, "timestamp", -1), precise, change.MicroTimestampSchema},
		{"timestamp(3)", col(oidTimestamp, "timestamp", 3), precise, change.TimestampSchema},
		{"timestamp(3) atm", col(oidTimestamp, "timestamp", 3), atm, change.TimestampSchema},
		{"timestamp connect", col(oidTimestamp, "timestamp", -1), connect, change.ConnectTimestampSchema},
		{"timestamptz", col(oidTimestamptz, "timestamptz", -1), precise, change.ZonedTimestampSchema},
		{"timestamptz connect", col(oidTimestamptz, "timestamptz", 3), connect, change.ZonedTimestampSchema},
		{"interval", col(oidInterval, "interval", -1), precise, change.MicroDurationSchema},
		{"interval string", col(oidInterval, "interval", -1), ivString, change.IntervalSchema},
		{"point", col(oidPoint, "point", -1), precise, change.PointSchema},
		{"geometry", col(16600, "geometry", -1), precise, func(bool) *change.Schema { return change.GeometrySchema() }},
		{"geography", col(16601, "geography", -1), precise, change.GeographySchema},
		{"vector", col(16700, "vector", 3), precise, change.DoubleVectorSchema},
		{"halfvec", col(16701, "halfvec", 2), precise, change.FloatVectorSchema},
		{"sparsevec", col(16702, "sparsevec", 5), precise, change.SparseDoubleVectorSchema},
		{"unknown", colTsquery, unknown, prim(change.TypeBytes)},
		{"unknown hex", colTsquery, DecoderOptions{IncludeUnknownTypes: true, BinaryMode: "hex"}, prim(change.TypeString)},
		{"int4[]", arrayOf(colInt4, 1007), precise, array(change.PrimitiveSchema(change.TypeInt32, true))},
		{"numeric(10,2)[]", arrayOf(mod(colNumeric, numericMod(10, 2)), 1231), precise, array(change.DecimalSchema(2, 10, true))},
		{"numeric[]", arrayOf(colNumeric, 1231), precise, array(change.VariableScaleDecimalSchema(true))},
		{"date[]", arrayOf(colDate, 1182), precise, array(change.DateSchema(true))},
		{"timestamptz[]", arrayOf(colTimestamptz, 1185), precise, array(change.ZonedTimestampSchema(true))},
		{"uuid[]", arrayOf(col(oidUUID, "uuid", -1), 2951), precise, array(change.UUIDSchema(true))},
		{"json[]", arrayOf(col(oidJSON, "json", -1), 199), precise, array(change.JSONSchema(true))},
		{"bytea[] hex", arrayOf(colBytea, 1001), DecoderOptions{BinaryMode: "hex"}, array(change.PrimitiveSchema(change.TypeString, true))},
		{"enum[]", arrayOf(mood, 16501), precise, array(change.EnumSchema(moods, false))},
		{"tsquery[] unknown", arrayOf(colTsquery, 3645), unknown, array(change.PrimitiveSchema(change.TypeBytes, true))},
	}
	covered := map[kind]bool{}
	for _, tc := range cases {
		for _, nullable := range []bool{false, true} {
			c := tc.col
			c.Nullable = nullable
			covered[columnKind(c)] = true
			got, err := ColumnSchema(c, tc.opts)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if want := tc.want(nullable); !got.Equal(want) {
				t.Errorf("%s (nullable %v):\n got %s\nwant %s", tc.name, nullable, desc(got), desc(want))
			}
		}
	}
	for k := kindUnknown; k <= kindArray; k++ {
		if k != kindSkip && !covered[k] {
			t.Errorf("type kind %d has no case", k)
		}
	}
}
