package change

import (
	"math/big"
	"strconv"
	"strings"
)

// Logical type names, versions and parameters exactly as Kafka Connect and
// Debezium 3.6 write them in the JSON converter's schema block
// (org.apache.kafka.connect.data.*, io.debezium.time.*, io.debezium.data.*).
const (
	// Kafka Connect logical types.
	DecimalName           = "org.apache.kafka.connect.data.Decimal"
	DecimalScaleParam     = "scale"                                   // Decimal: digits after the point
	DecimalPrecisionParam = "connect.decimal.precision"               // Decimal: Debezium's precision parameter
	ConnectDateName       = "org.apache.kafka.connect.data.Date"      // int32 days (time.precision.mode=connect)
	ConnectTimeName       = "org.apache.kafka.connect.data.Time"      // int32 ms past midnight
	ConnectTimestampName  = "org.apache.kafka.connect.data.Timestamp" // int64 ms since epoch

	// Debezium temporal types (all schema version 1).
	DateName            = "io.debezium.time.Date"           // int32 days since epoch
	TimeName            = "io.debezium.time.Time"           // int32 ms past midnight
	MicroTimeName       = "io.debezium.time.MicroTime"      // int64 µs past midnight
	NanoTimeName        = "io.debezium.time.NanoTime"       // int64 ns past midnight
	TimestampName       = "io.debezium.time.Timestamp"      // int64 ms since epoch, no zone
	MicroTimestampName  = "io.debezium.time.MicroTimestamp" // int64 µs since epoch, no zone
	NanoTimestampName   = "io.debezium.time.NanoTimestamp"  // int64 ns since epoch, no zone
	ZonedTimeName       = "io.debezium.time.ZonedTime"      // string, e.g. "12:34:56.789Z"
	ZonedTimestampName  = "io.debezium.time.ZonedTimestamp" // string, ISO-8601 in UTC
	MicroDurationName   = "io.debezium.time.MicroDuration"  // int64 µs (interval.handling.mode=numeric)
	NanoDurationName    = "io.debezium.time.NanoDuration"   // int64 ns
	IntervalName        = "io.debezium.time.Interval"       // string "P1Y2M3DT4H5M6.78S" (interval.handling.mode=string)
	YearName            = "io.debezium.time.Year"           // int32 (MySQL YEAR)
	IsoDateName         = "io.debezium.time.IsoDate"        // string (time.precision.mode=isostring)
	IsoTimeName         = "io.debezium.time.IsoTime"        // string
	IsoTimestampName    = "io.debezium.time.IsoTimestamp"   // string
	DebeziumTimeVersion = 1

	// Debezium data types (all schema version 1).
	JSONName                 = "io.debezium.data.Json"
	UUIDName                 = "io.debezium.data.Uuid"
	XMLName                  = "io.debezium.data.Xml"
	EnumName                 = "io.debezium.data.Enum"
	EnumSetName              = "io.debezium.data.EnumSet"
	EnumAllowedParam         = "allowed" // comma-separated allowed values, in declaration order
	BitsName                 = "io.debezium.data.Bits"
	BitsLengthParam          = "length" // number of bits
	VariableScaleDecimalName = "io.debezium.data.VariableScaleDecimal"
	VariableScaleDecimalDoc  = "Variable scaled decimal"
	LtreeName                = "io.debezium.data.Ltree"
	TsvectorName             = "io.debezium.data.Tsvector"
	DoubleVectorName         = "io.debezium.data.DoubleVector"
	FloatVectorName          = "io.debezium.data.FloatVector"
	SparseDoubleVectorName   = "io.debezium.data.SparseDoubleVector"
	SparseDoubleVectorDoc    = "Sparse double vector"
	GeometryName             = "io.debezium.data.geometry.Geometry"
	GeometryDoc              = "Geometry"
	GeographyName            = "io.debezium.data.geometry.Geography"
	GeographyDoc             = "Geography"
	PointName                = "io.debezium.data.geometry.Point"
	PointDoc                 = "Geometry (POINT)"
	DebeziumDataVersion      = 1

	// Column metadata parameters added by column.propagate.source.type /
	// datatype.propagate.source.type.
	SourceColumnTypeParam    = "__debezium.source.column.type"
	SourceColumnLengthParam  = "__debezium.source.column.length"
	SourceColumnScaleParam   = "__debezium.source.column.scale"
	SourceColumnCommentParam = "__debezium.source.column.comment"
	SourceColumnNameParam    = "__debezium.source.column.name"
)

// Names and versions of the Debezium envelope and its fixed blocks.
const (
	EnvelopeVersion         = 2 // io.debezium.data.Envelope.SCHEMA_VERSION since Debezium 2.6
	SourceVersion           = 1
	TransactionBlockName    = "event.block"
	TransactionBlockVersion = 1

	ConnectorPostgres = "postgresql"
	ConnectorMySQL    = "mysql"
)

// SnapshotValues is the "allowed" parameter of the source block's snapshot
// enum (io.debezium.connector.SnapshotRecord, lower-cased, in order).
const SnapshotValues = "true,first,first_in_data_collection,last_in_data_collection,last,false,incremental"

// paramOrder is the order in which Debezium/Kafka insert well-known schema
// parameters (SchemaBuilder keeps them in a LinkedHashMap); Schema.Parameters
// is a Go map, so the codec writes these first in this order and any other
// parameters after them, sorted by key.
var paramOrder = [...]string{
	DecimalScaleParam,
	DecimalPrecisionParam,
	EnumAllowedParam,
	BitsLengthParam,
	SourceColumnTypeParam,
	SourceColumnLengthParam,
	SourceColumnScaleParam,
	SourceColumnCommentParam,
	SourceColumnNameParam,
}

// PrimitiveSchema returns a schema of a plain Kafka Connect type (no logical
// name): int2 -> TypeInt16, int4 -> TypeInt32, int8/oid -> TypeInt64,
// real -> TypeFloat32, double -> TypeFloat64, bool/bit(1) -> TypeBoolean,
// text/varchar/char/bpchar/citext/inet/cidr/macaddr/ranges -> TypeString,
// bytea -> TypeBytes (binary.handling.mode=bytes).
func PrimitiveSchema(t Type, optional bool) *Schema {
	return &Schema{Type: t, Optional: optional}
}

func logical(t Type, name string, version int, optional bool) *Schema {
	return &Schema{Type: t, Name: name, Version: version, Optional: optional}
}

// DecimalSchema returns org.apache.kafka.connect.data.Decimal (bytes: the
// big-endian two's-complement unscaled value) with parameters
// {"scale": scale, "connect.decimal.precision": precision}, as Debezium
// writes NUMERIC(p,s)/DECIMAL(p,s) with decimal.handling.mode=precise. A
// precision <= 0 omits the precision parameter (see MoneySchema).
func DecimalSchema(scale, precision int, optional bool) *Schema {
	s := logical(TypeBytes, DecimalName, 1, optional)
	s.Parameters = map[string]string{DecimalScaleParam: strconv.Itoa(scale)}
	if precision > 0 {
		s.Parameters[DecimalPrecisionParam] = strconv.Itoa(precision)
	}
	return s
}

// MoneySchema returns the Decimal schema Debezium uses for Postgres MONEY in
// precise mode: scale = money.fraction.digits, no precision parameter.
func MoneySchema(fractionDigits int, optional bool) *Schema {
	return DecimalSchema(fractionDigits, 0, optional)
}

// VariableScaleDecimalSchema returns io.debezium.data.VariableScaleDecimal
// (NUMERIC/DECIMAL without scale): a struct {scale int32, value bytes}.
func VariableScaleDecimalSchema(optional bool) *Schema {
	s := logical(TypeStruct, VariableScaleDecimalName, DebeziumDataVersion, optional)
	s.Doc = VariableScaleDecimalDoc
	s.Fields = []Field{
		{Name: "scale", Schema: PrimitiveSchema(TypeInt32, false)},
		{Name: "value", Schema: PrimitiveSchema(TypeBytes, false)},
	}
	return s
}

// DateSchema returns io.debezium.time.Date (int32 days since the epoch).
func DateSchema(optional bool) *Schema {
	return logical(TypeInt32, DateName, DebeziumTimeVersion, optional)
}

// TimeSchema returns io.debezium.time.Time (int32 ms past midnight;
// TIME(0..3) in adaptive mode).
func TimeSchema(optional bool) *Schema {
	return logical(TypeInt32, TimeName, DebeziumTimeVersion, optional)
}

// MicroTimeSchema returns io.debezium.time.MicroTime (int64 µs past midnight).
func MicroTimeSchema(optional bool) *Schema {
	return logical(TypeInt64, MicroTimeName, DebeziumTimeVersion, optional)
}

// NanoTimeSchema returns io.debezium.time.NanoTime (int64 ns past midnight).
func NanoTimeSchema(optional bool) *Schema {
	return logical(TypeInt64, NanoTimeName, DebeziumTimeVersion, optional)
}

// TimestampSchema returns io.debezium.time.Timestamp (int64 ms since the
// epoch; TIMESTAMP(0..3) / DATETIME(0..3) in adaptive mode).
func TimestampSchema(optional bool) *Schema {
	return logical(TypeInt64, TimestampName, DebeziumTimeVersion, optional)
}

// MicroTimestampSchema returns io.debezium.time.MicroTimestamp (int64 µs
// since the epoch).
func MicroTimestampSchema(optional bool) *Schema {
	return logical(TypeInt64, MicroTimestampName, DebeziumTimeVersion, optional)
}

// NanoTimestampSchema returns io.debezium.time.NanoTimestamp (int64 ns since
// the epoch).
func NanoTimestampSchema(optional bool) *Schema {
	return logical(TypeInt64, NanoTimestampName, DebeziumTimeVersion, optional)
}

// ZonedTimeSchema returns io.debezium.time.ZonedTime (string; Postgres TIMETZ).
func ZonedTimeSchema(optional bool) *Schema {
	return logical(TypeString, ZonedTimeName, DebeziumTimeVersion, optional)
}

// ZonedTimestampSchema returns io.debezium.time.ZonedTimestamp (string;
// Postgres TIMESTAMPTZ, MySQL TIMESTAMP).
func ZonedTimestampSchema(optional bool) *Schema {
	return logical(TypeString, ZonedTimestampName, DebeziumTimeVersion, optional)
}

// MicroDurationSchema returns io.debezium.time.MicroDuration (int64 µs;
// Postgres INTERVAL with interval.handling.mode=numeric).
func MicroDurationSchema(optional bool) *Schema {
	return logical(TypeInt64, MicroDurationName, DebeziumTimeVersion, optional)
}

// NanoDurationSchema returns io.debezium.time.NanoDuration (int64 ns).
func NanoDurationSchema(optional bool) *Schema {
	return logical(TypeInt64, NanoDurationName, DebeziumTimeVersion, optional)
}

// IntervalSchema returns io.debezium.time.Interval (string; Postgres
// INTERVAL with interval.handling.mode=string).
func IntervalSchema(optional bool) *Schema {
	return logical(TypeString, IntervalName, DebeziumTimeVersion, optional)
}

// YearSchema returns io.debezium.time.Year (int32; MySQL YEAR).
func YearSchema(optional bool) *Schema {
	return logical(TypeInt32, YearName, DebeziumTimeVersion, optional)
}

// IsoDateSchema returns io.debezium.time.IsoDate (string; isostring mode).
func IsoDateSchema(optional bool) *Schema {
	return logical(TypeString, IsoDateName, DebeziumTimeVersion, optional)
}

// IsoTimeSchema returns io.debezium.time.IsoTime (string; isostring mode).
func IsoTimeSchema(optional bool) *Schema {
	return logical(TypeString, IsoTimeName, DebeziumTimeVersion, optional)
}

// IsoTimestampSchema returns io.debezium.time.IsoTimestamp (string;
// isostring mode).
func IsoTimestampSchema(optional bool) *Schema {
	return logical(TypeString, IsoTimestampName, DebeziumTimeVersion, optional)
}

// ConnectDateSchema returns org.apache.kafka.connect.data.Date (int32 days;
// time.precision.mode=connect).
func ConnectDateSchema(optional bool) *Schema {
	return logical(TypeInt32, ConnectDateName, 1, optional)
}

// ConnectTimeSchema returns org.apache.kafka.connect.data.Time (int32 ms
// past midnight; time.precision.mode=connect).
func ConnectTimeSchema(optional bool) *Schema {
	return logical(TypeInt32, ConnectTimeName, 1, optional)
}

// ConnectTimestampSchema returns org.apache.kafka.connect.data.Timestamp
// (int64 ms since the epoch; time.precision.mode=connect).
func ConnectTimestampSchema(optional bool) *Schema {
	return logical(TypeInt64, ConnectTimestampName, 1, optional)
}

// JSONSchema returns io.debezium.data.Json (string; Postgres json/jsonb and
// hstore in json mode, MySQL JSON).
func JSONSchema(optional bool) *Schema {
	return logical(TypeString, JSONName, DebeziumDataVersion, optional)
}

// UUIDSchema returns io.debezium.data.Uuid (string).
func UUIDSchema(optional bool) *Schema {
	return logical(TypeString, UUIDName, DebeziumDataVersion, optional)
}

// XMLSchema returns io.debezium.data.Xml (string).
func XMLSchema(optional bool) *Schema {
	return logical(TypeString, XMLName, DebeziumDataVersion, optional)
}

// LtreeSchema returns io.debezium.data.Ltree (string; Postgres ltree).
func LtreeSchema(optional bool) *Schema {
	return logical(TypeString, LtreeName, DebeziumDataVersion, optional)
}

// TsvectorSchema returns io.debezium.data.Tsvector (string; Postgres tsvector).
func TsvectorSchema(optional bool) *Schema {
	return logical(TypeString, TsvectorName, DebeziumDataVersion, optional)
}

// EnumSchema returns io.debezium.data.Enum (string) with the "allowed"
// parameter: the values joined by "," (Postgres: in enumsortorder; MySQL: in
// declaration order).
func EnumSchema(allowed []string, optional bool) *Schema {
	s := logical(TypeString, EnumName, DebeziumDataVersion, optional)
	s.Parameters = map[string]string{EnumAllowedParam: strings.Join(allowed, ",")}
	return s
}

// EnumSetSchema returns io.debezium.data.EnumSet (string; MySQL SET) with the
// "allowed" parameter.
func EnumSetSchema(allowed []string, optional bool) *Schema {
	s := logical(TypeString, EnumSetName, DebeziumDataVersion, optional)
	s.Parameters = map[string]string{EnumAllowedParam: strings.Join(allowed, ",")}
	return s
}

// BitsSchema returns io.debezium.data.Bits (bytes, little-endian bits) with
// the "length" parameter (number of bits; BIT(n>1), BIT VARYING).
func BitsSchema(length int, optional bool) *Schema {
	s := logical(TypeBytes, BitsName, DebeziumDataVersion, optional)
	s.Parameters = map[string]string{BitsLengthParam: strconv.Itoa(length)}
	return s
}

// ArraySchema returns an array schema. Debezium's Postgres array element
// schemas are optional (e.g. int4[] -> ArraySchema(PrimitiveSchema(TypeInt32,
// true), optional)), except enum arrays whose elements are EnumSchema(..., false).
func ArraySchema(items *Schema, optional bool) *Schema {
	return &Schema{Type: TypeArray, Items: items, Optional: optional}
}

// MapSchema returns a map schema (Postgres hstore in map mode is
// MapSchema(PrimitiveSchema(TypeString, false), PrimitiveSchema(TypeString, true), optional)).
func MapSchema(keys, values *Schema, optional bool) *Schema {
	return &Schema{Type: TypeMap, Keys: keys, Values: values, Optional: optional}
}

// DoubleVectorSchema returns io.debezium.data.DoubleVector (array of float64;
// pgvector vector).
func DoubleVectorSchema(optional bool) *Schema {
	s := logical(TypeArray, DoubleVectorName, DebeziumDataVersion, optional)
	s.Items = PrimitiveSchema(TypeFloat64, false)
	return s
}

// FloatVectorSchema returns io.debezium.data.FloatVector (array of float32;
// pgvector halfvec).
func FloatVectorSchema(optional bool) *Schema {
	s := logical(TypeArray, FloatVectorName, DebeziumDataVersion, optional)
	s.Items = PrimitiveSchema(TypeFloat32, false)
	return s
}

// SparseDoubleVectorSchema returns io.debezium.data.SparseDoubleVector
// (pgvector sparsevec): struct {dimensions int16, vector map<int16,float64>}.
// The vector's physical value is a map[any]any keyed by int16.
func SparseDoubleVectorSchema(optional bool) *Schema {
	s := logical(TypeStruct, SparseDoubleVectorName, DebeziumDataVersion, optional)
	s.Doc = SparseDoubleVectorDoc
	s.Fields = []Field{
		{Name: "dimensions", Schema: PrimitiveSchema(TypeInt16, false)},
		{Name: "vector", Schema: MapSchema(PrimitiveSchema(TypeInt16, false), PrimitiveSchema(TypeFloat64, false), false)},
	}
	return s
}

// GeometrySchema returns io.debezium.data.geometry.Geometry (struct {wkb
// bytes, srid optional int32}). Debezium's builder makes it optional even for
// NOT NULL columns, so this constructor has no optional argument.
func GeometrySchema() *Schema {
	s := logical(TypeStruct, GeometryName, DebeziumDataVersion, true)
	s.Doc = GeometryDoc
	s.Fields = []Field{
		{Name: "wkb", Schema: PrimitiveSchema(TypeBytes, false)},
		{Name: "srid", Schema: PrimitiveSchema(TypeInt32, true)},
	}
	return s
}

// GeographySchema returns io.debezium.data.geometry.Geography (struct {wkb
// bytes, srid optional int32}; PostGIS geography).
func GeographySchema(optional bool) *Schema {
	s := logical(TypeStruct, GeographyName, DebeziumDataVersion, optional)
	s.Doc = GeographyDoc
	s.Fields = []Field{
		{Name: "wkb", Schema: PrimitiveSchema(TypeBytes, false)},
		{Name: "srid", Schema: PrimitiveSchema(TypeInt32, true)},
	}
	return s
}

// PointSchema returns io.debezium.data.geometry.Point (struct {x float64,
// y float64, wkb optional bytes, srid optional int32}; Postgres POINT).
func PointSchema(optional bool) *Schema {
	s := logical(TypeStruct, PointName, DebeziumDataVersion, optional)
	s.Doc = PointDoc
	s.Fields = []Field{
		{Name: "x", Schema: PrimitiveSchema(TypeFloat64, false)},
		{Name: "y", Schema: PrimitiveSchema(TypeFloat64, false)},
		{Name: "wkb", Schema: PrimitiveSchema(TypeBytes, true)},
		{Name: "srid", Schema: PrimitiveSchema(TypeInt32, true)},
	}
	return s
}

// DecimalBytes returns the physical value of a Decimal: the minimal
// big-endian two's-complement encoding of unscaled (Java's
// BigInteger.toByteArray, which Kafka's Decimal.fromLogical uses).
func DecimalBytes(unscaled *big.Int) []byte {
	switch unscaled.Sign() {
	case 0:
		return []byte{0}
	case 1:
		b := unscaled.Bytes()
		if b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return b
	}
	// Negative: two's complement of |x| over n bytes, n minimal.
	n := (unscaled.BitLen() + 8) / 8
	mod := new(big.Int).Lsh(big.NewInt(1), uint(n*8))
	v := new(big.Int).Add(mod, unscaled)
	b := v.Bytes()
	for len(b) < n {
		b = append([]byte{0xff}, b...)
	}
	// Drop redundant leading 0xff bytes.
	for len(b) > 1 && b[0] == 0xff && b[1]&0x80 != 0 {
		b = b[1:]
	}
	return b
}

// AppendInt64Bytes appends the unscaled value v as DecimalBytes writes it
// (minimal big-endian two's complement), without a big.Int.
func AppendInt64Bytes(dst []byte, v int64) []byte {
	var buf [8]byte
	for i := 7; i >= 0; i-- {
		buf[i] = byte(v)
		v >>= 8
	}
	i := 0
	for i < 7 && ((buf[i] == 0 && buf[i+1]&0x80 == 0) || (buf[i] == 0xFF && buf[i+1]&0x80 != 0)) {
		i++
	}
	return append(dst, buf[i:]...)
}

// DecimalFromBytes is the inverse of DecimalBytes: it reads a big-endian
// two's-complement unscaled value.
func DecimalFromBytes(b []byte) *big.Int {
	v := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		v.Sub(v, new(big.Int).Lsh(big.NewInt(1), uint(len(b)*8)))
	}
	return v
}

// VariableScaleDecimal returns the physical value of an
// io.debezium.data.VariableScaleDecimal for unscaled × 10^-scale; schema
// must be a VariableScaleDecimalSchema.
func VariableScaleDecimal(schema *Schema, unscaled *big.Int, scale int32) *Struct {
	return &Struct{Schema: schema, Values: []any{scale, DecimalBytes(unscaled)}}
}
