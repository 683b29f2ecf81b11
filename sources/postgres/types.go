package postgres

// Type mapping: PostgreSQL column types to Kafka Connect schemas and the
// pgoutput/COPY text representation to Connect physical values, exactly as
// Debezium 3.6's PostgresValueConverter does for pgoutput. Each column is
// compiled once (compileColumn) into a codec holding its schema and a decode
// function; the hot path calls that function without switching on the type.

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/sluice-cdc/sluice/change"
	"github.com/sluice-cdc/sluice/sources"
)

// Built-in type OIDs (src/include/catalog/pg_type.dat). They are fixed
// across PostgreSQL versions.
const (
	oidBool        = 16
	oidBytea       = 17
	oidChar        = 18
	oidName        = 19
	oidInt8        = 20
	oidInt2        = 21
	oidInt4        = 23
	oidText        = 25
	oidOID         = 26
	oidJSON        = 114
	oidXML         = 142
	oidPoint       = 600
	oidCidr        = 650
	oidFloat4      = 700
	oidFloat8      = 701
	oidMacaddr8    = 774
	oidMoney       = 790
	oidMacaddr     = 829
	oidInet        = 869
	oidBpchar      = 1042
	oidVarchar     = 1043
	oidDate        = 1082
	oidTime        = 1083
	oidTimestamp   = 1114
	oidTimestamptz = 1184
	oidInterval    = 1186
	oidTimetz      = 1266
	oidBit         = 1560
	oidVarbit      = 1562
	oidNumeric     = 1700
	oidUUID        = 2950
	oidTsvector    = 3614
	oidJSONB       = 3802
	oidInt4range   = 3904
	oidNumrange    = 3906
	oidTsrange     = 3908
	oidTstzrange   = 3910
	oidDaterange   = 3912
	oidInt8range   = 3926

	// Arrays Debezium has no schema for (PostgresValueConverter returns
	// null): such columns are left out even with include.unknown.datatypes.
	oidMoneyArray     = 791
	oidNameArray      = 1003
	oidIntervalArray  = 1187
	oidVarbitArray    = 1563
	oidXMLArray       = 143
	oidPointArray     = 1017
	oidRefcursorArray = 2201
)

type builtinType struct {
	name string
	elem uint32 // element type of an array type, 0 otherwise
}

// builtinTypes maps the OIDs of built-in types to pg_type.typname; it is
// used when the catalog cannot describe a column (TableFromRelation).
var builtinTypes = map[uint32]builtinType{
	16: {"bool", 0}, 17: {"bytea", 0}, 18: {"char", 0}, 19: {"name", 0}, 20: {"int8", 0},
	21: {"int2", 0}, 22: {"int2vector", 0}, 23: {"int4", 0}, 24: {"regproc", 0}, 25: {"text", 0},
	26: {"oid", 0}, 27: {"tid", 0}, 28: {"xid", 0}, 29: {"cid", 0}, 30: {"oidvector", 0},
	114: {"json", 0}, 142: {"xml", 0}, 194: {"pg_node_tree", 0}, 600: {"point", 0}, 601: {"lseg", 0},
	602: {"path", 0}, 603: {"box", 0}, 604: {"polygon", 0}, 628: {"line", 0}, 650: {"cidr", 0},
	700: {"float4", 0}, 701: {"float8", 0}, 705: {"unknown", 0}, 718: {"circle", 0}, 774: {"macaddr8", 0},
	790: {"money", 0}, 829: {"macaddr", 0}, 869: {"inet", 0}, 1033: {"aclitem", 0}, 1042: {"bpchar", 0},
	1043: {"varchar", 0}, 1082: {"date", 0}, 1083: {"time", 0}, 1114: {"timestamp", 0},
	1184: {"timestamptz", 0}, 1186: {"interval", 0}, 1266: {"timetz", 0}, 1560: {"bit", 0},
	1562: {"varbit", 0}, 1700: {"numeric", 0}, 1790: {"refcursor", 0}, 2202: {"regprocedure", 0},
	2203: {"regoper", 0}, 2204: {"regoperator", 0}, 2205: {"regclass", 0}, 2206: {"regtype", 0},
	2950: {"uuid", 0}, 2970: {"txid_snapshot", 0}, 3220: {"pg_lsn", 0}, 3614: {"tsvector", 0},
	3615: {"tsquery", 0}, 3642: {"gtsvector", 0}, 3734: {"regconfig", 0}, 3769: {"regdictionary", 0},
	3802: {"jsonb", 0}, 3904: {"int4range", 0}, 3906: {"numrange", 0}, 3908: {"tsrange", 0},
	3910: {"tstzrange", 0}, 3912: {"daterange", 0}, 3926: {"int8range", 0}, 4072: {"jsonpath", 0},
	4089: {"regnamespace", 0}, 4096: {"regrole", 0}, 4191: {"regcollation", 0},
	4451: {"int4multirange", 0}, 4532: {"nummultirange", 0}, 4533: {"tsmultirange", 0},
	4534: {"tstzmultirange", 0}, 4535: {"datemultirange", 0}, 4536: {"int8multirange", 0},
	5038: {"pg_snapshot", 0}, 5069: {"xid8", 0},

	1000: {"_bool", 16}, 1001: {"_bytea", 17}, 1002: {"_char", 18}, 1003: {"_name", 19},
	1016: {"_int8", 20}, 1005: {"_int2", 21}, 1006: {"_int2vector", 22}, 1007: {"_int4", 23},
	1008: {"_regproc", 24}, 1009: {"_text", 25}, 1028: {"_oid", 26}, 1010: {"_tid", 27},
	1011: {"_xid", 28}, 1012: {"_cid", 29}, 1013: {"_oidvector", 30}, 199: {"_json", 114},
	143: {"_xml", 142}, 1017: {"_point", 600}, 1018: {"_lseg", 601}, 1019: {"_path", 602},
	1020: {"_box", 603}, 1027: {"_polygon", 604}, 629: {"_line", 628}, 651: {"_cidr", 650},
	1021: {"_float4", 700}, 1022: {"_float8", 701}, 719: {"_circle", 718}, 775: {"_macaddr8", 774},
	791: {"_money", 790}, 1040: {"_macaddr", 829}, 1041: {"_inet", 869}, 1034: {"_aclitem", 1033},
	1014: {"_bpchar", 1042}, 1015: {"_varchar", 1043}, 1182: {"_date", 1082}, 1183: {"_time", 1083},
	1115: {"_timestamp", 1114}, 1185: {"_timestamptz", 1184}, 1187: {"_interval", 1186},
	1270: {"_timetz", 1266}, 1561: {"_bit", 1560}, 1563: {"_varbit", 1562}, 1231: {"_numeric", 1700},
	2201: {"_refcursor", 1790}, 2207: {"_regprocedure", 2202}, 2208: {"_regoper", 2203},
	2209: {"_regoperator", 2204}, 2210: {"_regclass", 2205}, 2211: {"_regtype", 2206},
	2951: {"_uuid", 2950}, 2949: {"_txid_snapshot", 2970}, 3221: {"_pg_lsn", 3220},
	3643: {"_tsvector", 3614}, 3645: {"_tsquery", 3615}, 3644: {"_gtsvector", 3642},
	3735: {"_regconfig", 3734}, 3770: {"_regdictionary", 3769}, 3807: {"_jsonb", 3802},
	3905: {"_int4range", 3904}, 3907: {"_numrange", 3906}, 3909: {"_tsrange", 3908},
	3911: {"_tstzrange", 3910}, 3913: {"_daterange", 3912}, 3927: {"_int8range", 3926},
	4073: {"_jsonpath", 4072}, 4090: {"_regnamespace", 4089}, 4097: {"_regrole", 4096},
	5039: {"_pg_snapshot", 5038}, 271: {"_xid8", 5069},
}

// kind is the mapping family of a column type.
type kind uint8

const (
	kindUnknown kind = iota
	kindSkip         // Debezium has no schema: the column is left out
	kindInt16
	kindInt32
	kindInt64
	kindFloat32
	kindFloat64
	kindBool
	kindBit
	kindVarbit
	kindNumeric
	kindMoney
	kindString // text, varchar, bpchar, "char", name, citext, isbn, inet, cidr, macaddr(8), ranges
	kindJSON
	kindXML
	kindUUID
	kindEnum
	kindLtree
	kindTsvector
	kindHstore
	kindBytea
	kindDate
	kindTime
	kindTimeTZ
	kindTimestamp
	kindTimestampTZ
	kindInterval
	kindPoint
	kindGeometry
	kindGeography
	kindDoubleVector
	kindFloatVector
	kindSparseVector
	kindArray
)

// elemType returns the element type OID and name of an array column, or
// 0 when c is not an array.
func elemType(c Column) (uint32, string) {
	oid, name := c.ElemOID, c.ElemTypeName
	if oid == 0 {
		oid = builtinTypes[c.TypeOID].elem
	}
	if oid != 0 && name == "" {
		name = builtinTypes[oid].name
	}
	return oid, name
}

func columnKind(c Column) kind {
	if eoid, _ := elemType(c); eoid != 0 {
		switch c.TypeOID {
		case oidMoneyArray, oidNameArray, oidIntervalArray, oidVarbitArray, oidXMLArray, oidPointArray, oidRefcursorArray:
			return kindSkip
		}
		return kindArray
	}
	if c.EnumValues != nil {
		return kindEnum
	}
	switch c.TypeOID {
	case oidInt2:
		return kindInt16
	case oidInt4:
		return kindInt32
	case oidInt8, oidOID:
		return kindInt64
	case oidFloat4:
		return kindFloat32
	case oidFloat8:
		return kindFloat64
	case oidBool:
		return kindBool
	case oidBit:
		return kindBit
	case oidVarbit:
		return kindVarbit
	case oidNumeric:
		return kindNumeric
	case oidMoney:
		return kindMoney
	case oidText, oidVarchar, oidBpchar, oidChar, oidName, oidInet, oidCidr, oidMacaddr, oidMacaddr8,
		oidInt4range, oidNumrange, oidTsrange, oidTstzrange, oidDaterange, oidInt8range:
		return kindString
	case oidJSON, oidJSONB:
		return kindJSON
	case oidXML:
		return kindXML
	case oidUUID:
		return kindUUID
	case oidTsvector:
		return kindTsvector
	case oidBytea:
		return kindBytea
	case oidDate:
		return kindDate
	case oidTime:
		return kindTime
	case oidTimetz:
		return kindTimeTZ
	case oidTimestamp:
		return kindTimestamp
	case oidTimestamptz:
		return kindTimestampTZ
	case oidInterval:
		return kindInterval
	case oidPoint:
		return kindPoint
	}
	if _, builtin := builtinTypes[c.TypeOID]; builtin {
		return kindUnknown
	}
	// Extension types have no fixed OID; Debezium recognises them by name.
	switch c.TypeName {
	case "citext", "isbn":
		return kindString
	case "ltree":
		return kindLtree
	case "hstore":
		return kindHstore
	case "geometry":
		return kindGeometry
	case "geography":
		return kindGeography
	case "vector":
		return kindDoubleVector
	case "halfvec":
		return kindFloatVector
	case "sparsevec":
		return kindSparseVector
	}
	return kindUnknown
}

// config is DecoderOptions validated and with defaults applied.
type config struct {
	decimal     string // precise | double | string
	timeMode    string // adaptive | adaptive_time_microseconds | connect
	interval    string // numeric | string
	binary      string // bytes | base64 | base64-url-safe | hex
	unknown     bool
	placeholder []byte
	phString    string
}

const defaultPlaceholder = "__debezium_unavailable_value"

func newConfig(o *DecoderOptions) (*config, error) {
	c := &config{unknown: o.IncludeUnknownTypes}
	var err error
	if c.decimal, err = sources.Mode("decimal.handling.mode", o.DecimalMode, "precise", "precise", "double", "string"); err != nil {
		return nil, err
	}
	if c.timeMode, err = sources.Mode("time.precision.mode", o.TimePrecisionMode, "adaptive", "adaptive", "adaptive_time_microseconds", "connect"); err != nil {
		return nil, err
	}
	if c.interval, err = sources.Mode("interval.handling.mode", o.IntervalMode, "numeric", "numeric", "string"); err != nil {
		return nil, err
	}
	if c.binary, err = sources.Mode("binary.handling.mode", o.BinaryMode, "bytes", "bytes", "base64", "base64-url-safe", "hex"); err != nil {
		return nil, err
	}
	ph := o.UnavailablePlaceholder
	if ph == "" {
		ph = defaultPlaceholder
	}
	if rest, ok := strings.CutPrefix(ph, "hex:"); ok {
		b, err := hex.DecodeString(rest)
		if err != nil {
			return nil, fmt.Errorf("unavailable.value.placeholder %q: %w", ph, err)
		}
		c.placeholder = b
	} else {
		c.placeholder = []byte(ph)
	}
	c.phString = string(c.placeholder)
	return c, nil
}

// arena hands out strings backed by one buffer allocated per row, so that
// the text columns of a row cost one allocation rather than one each.
// Bytes handed out are never written again.
type arena struct{ buf []byte }

func (a *arena) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if a == nil || cap(a.buf)-len(a.buf) < len(b) {
		return string(b)
	}
	n := len(a.buf)
	a.buf = append(a.buf, b...)
	return unsafe.String(&a.buf[n], len(b))
}

func (a *arena) bytes(b []byte) []byte {
	if a == nil || cap(a.buf)-len(a.buf) < len(b) {
		return append([]byte(nil), b...)
	}
	n := len(a.buf)
	a.buf = append(a.buf, b...)
	return a.buf[n:len(a.buf):len(a.buf)]
}

// decodeFunc converts a column's text representation (never NULL) to its
// Connect physical value. a may be nil. It returns a *conversionError for
// valid data that the column's schema cannot represent, any other error for
// malformed text.
type decodeFunc func(text []byte, a *arena) (any, error)

// conversionError marks data that is valid but cannot be represented in the
// column's schema (NaN in a precise decimal, an unchanged TOAST value of a
// numeric column). Debezium, with its default
// event.converting.failure.handling.mode=warn, writes null for such a value;
// the decoder does the same for optional columns and fails for required ones.
type conversionError struct{ msg string }

func (e *conversionError) Error() string { return e.msg }

func convErr(msg string) error { return &conversionError{msg: msg} }

var errMalformed = errors.New("malformed value")

// codec is a compiled column.
type codec struct {
	schema *change.Schema // nil: Debezium leaves the column out
	decode decodeFunc
	// binary decodes the column's binary format (see binary.go); nil when
	// the snapshot reads the column as text.
	binary decodeFunc
	// fallback is the value of SQL NULL in a required column: the schema
	// default, or Debezium's zero value for the type (see
	// JdbcValueConverters.convertValue). It matters for key-only old tuples
	// (REPLICA IDENTITY DEFAULT), whose other columns arrive as NULL.
	fallback any
	// toast is the value of an unchanged TOAST column ('u'); toastErr is
	// set instead when the schema cannot hold the placeholder.
	toast    any
	toastErr error
}

// ColumnSchema returns the Connect schema of a column's field in the row
// and key structs: its type per Debezium's data type mapping, optional when
// the column is nullable, and its default value when Debezium derives one.
// A nil schema with a nil error means the column is left out of events
// (Debezium has no mapping for the type and include.unknown.datatypes is
// off, or it is an array type Debezium never maps).
func ColumnSchema(c Column, opts DecoderOptions) (*change.Schema, error) {
	cd, err := compileWithOptions(c, &opts)
	if err != nil {
		return nil, err
	}
	return cd.schema, nil
}

// DecodeText converts the text representation of a non-NULL value of
// column c (as pgoutput and COPY/simple-query results carry it) to its
// Connect physical value. It compiles the column on every call; the decoder
// compiles each column once per table definition instead.
func DecodeText(c Column, opts DecoderOptions, text []byte) (any, error) {
	cd, err := compileWithOptions(c, &opts)
	if err != nil {
		return nil, err
	}
	if cd.schema == nil {
		return nil, fmt.Errorf("column %s: type %s is not captured", c.Name, typeLabel(c))
	}
	v, err := cd.decode(text, nil)
	if err != nil {
		return nil, fmt.Errorf("column %s (%s): %w: %s", c.Name, typeLabel(c), err, quoteTrunc(text))
	}
	return v, nil
}

// compileWithOptions compiles one column under opts.
func compileWithOptions(c Column, opts *DecoderOptions) (codec, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return codec{}, err
	}
	return compileColumn(c, cfg)
}

func typeLabel(c Column) string {
	if c.TypeName != "" {
		return c.TypeName
	}
	if n := builtinTypes[c.TypeOID].name; n != "" {
		return n
	}
	return "oid " + strconv.FormatUint(uint64(c.TypeOID), 10)
}

// quoteTrunc quotes text for an error message, cut at 64 bytes.
func quoteTrunc(b []byte) string {
	const max = 64
	if len(b) <= max {
		return strconv.Quote(string(b))
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(b[cut]) {
		cut--
	}
	return strconv.Quote(string(b[:cut])) + "... (" + strconv.Itoa(len(b)) + " bytes)"
}

// compileColumn builds the codec of a column.
func compileColumn(c Column, cfg *config) (codec, error) {
	k := columnKind(c)
	cd, err := compileKind(c, k, cfg)
	if err != nil || cd.schema == nil {
		return cd, err
	}
	cd.binary = binaryDecoder(k, c, cfg)
	if c.Nullable {
		cd.schema.Optional = true
	}
	if c.Default != "" {
		if v, ok := parseDefault(c, k, cd.decode); ok {
			cd.schema.Default = v
			cd.schema.HasDefault = true
			cd.fallback = v
		}
	}
	return cd, nil
}

func compileKind(c Column, k kind, cfg *config) (codec, error) {
	stringCodec := func(s *change.Schema) codec {
		return codec{schema: s, decode: decodeString, fallback: "", toast: cfg.phString}
	}
	noToast := convErr("an unchanged TOAST value has no representation in this type")
	switch k {
	case kindSkip:
		return codec{}, nil
	case kindUnknown:
		if !cfg.unknown {
			return codec{}, nil
		}
		return binaryCodec(cfg, decodeRawText), nil
	case kindInt16:
		return codec{schema: change.PrimitiveSchema(change.TypeInt16, false), decode: decodeInt16, fallback: int16(0), toastErr: noToast}, nil
	case kindInt32:
		return codec{schema: change.PrimitiveSchema(change.TypeInt32, false), decode: decodeInt32, fallback: int32(0), toastErr: noToast}, nil
	case kindInt64:
		return codec{schema: change.PrimitiveSchema(change.TypeInt64, false), decode: decodeInt64, fallback: int64(0), toastErr: noToast}, nil
	case kindFloat32:
		return codec{schema: change.PrimitiveSchema(change.TypeFloat32, false), decode: decodeFloat32, fallback: float32(0), toastErr: noToast}, nil
	case kindFloat64:
		return codec{schema: change.PrimitiveSchema(change.TypeFloat64, false), decode: decodeFloat64, fallback: float64(0), toastErr: noToast}, nil
	case kindBool:
		return codec{schema: change.PrimitiveSchema(change.TypeBoolean, false), decode: decodeBool, fallback: false, toastErr: noToast}, nil
	case kindBit, kindVarbit:
		// pgjdbc's precision: bit(n) and varbit(n) carry n in atttypmod; an
		// unbounded varbit is Integer.MAX_VALUE bits.
		length := int(c.Typmod)
		if length < 0 {
			if k == kindVarbit {
				length = math.MaxInt32
			} else {
				length = 1
			}
		}
		if length > 1 {
			return codec{schema: change.BitsSchema(length, false), decode: decodeBits, fallback: []byte{}, toastErr: noToast}, nil
		}
		return codec{schema: change.PrimitiveSchema(change.TypeBoolean, false), decode: decodeBitBool, fallback: false, toastErr: noToast}, nil
	case kindNumeric:
		return numericCodec(c, cfg), nil
	case kindMoney:
		return moneyCodec(cfg), nil
	case kindString:
		return stringCodec(change.PrimitiveSchema(change.TypeString, false)), nil
	case kindJSON:
		return stringCodec(change.JSONSchema(false)), nil
	case kindXML:
		return stringCodec(change.XMLSchema(false)), nil
	case kindUUID:
		return stringCodec(change.UUIDSchema(false)), nil
	case kindEnum:
		return stringCodec(change.EnumSchema(c.EnumValues, false)), nil
	case kindLtree:
		return stringCodec(change.LtreeSchema(false)), nil
	case kindTsvector:
		return stringCodec(change.TsvectorSchema(false)), nil
	case kindHstore:
		ph := javaMapJSON([]string{cfg.phString}, []*string{&cfg.phString})
		return codec{schema: change.JSONSchema(false), decode: decodeHstore, fallback: "{}", toast: ph}, nil
	case kindBytea:
		return binaryCodec(cfg, decodeByteaRaw), nil
	case kindDate:
		s := change.DateSchema(false)
		if cfg.timeMode == "connect" {
			s = change.ConnectDateSchema(false)
		}
		return codec{schema: s, decode: decodeDate, fallback: int32(0), toastErr: noToast}, nil
	case kindTime:
		switch {
		case cfg.timeMode == "connect":
			return codec{schema: change.ConnectTimeSchema(false), decode: decodeTimeMillis, fallback: int32(0), toastErr: noToast}, nil
		case timeInMillis(c, cfg):
			return codec{schema: change.TimeSchema(false), decode: decodeTimeMillis, fallback: int32(0), toastErr: noToast}, nil
		default:
			return codec{schema: change.MicroTimeSchema(false), decode: decodeTimeMicros, fallback: int64(0), toastErr: noToast}, nil
		}
	case kindTimeTZ:
		return codec{schema: change.ZonedTimeSchema(false), decode: decodeTimeTZ, fallback: "00:00:00Z", toastErr: noToast}, nil
	case kindTimestamp:
		switch {
		case cfg.timeMode == "connect":
			return codec{schema: change.ConnectTimestampSchema(false), decode: decodeTimestampMillis, fallback: int64(0), toastErr: noToast}, nil
		case timestampInMillis(c, cfg):
			return codec{schema: change.TimestampSchema(false), decode: decodeTimestampMillis, fallback: int64(0), toastErr: noToast}, nil
		default:
			return codec{schema: change.MicroTimestampSchema(false), decode: decodeTimestampMicros, fallback: int64(0), toastErr: noToast}, nil
		}
	case kindTimestampTZ:
		width := timePrecision(c.Typmod)
		dec := func(b []byte, a *arena) (any, error) { return decodeTimestampTZ(b, width, a) }
		return codec{schema: change.ZonedTimestampSchema(false), decode: dec, fallback: "1970-01-01T00:00:00Z", toastErr: noToast}, nil
	case kindInterval:
		if cfg.interval == "string" {
			return codec{schema: change.IntervalSchema(false), decode: decodeIntervalISO, fallback: "P0Y0M0DT0H0M0S", toastErr: noToast}, nil
		}
		return codec{schema: change.MicroDurationSchema(false), decode: decodeIntervalMicros, fallback: int64(0), toastErr: noToast}, nil
	case kindPoint:
		s := change.PointSchema(false)
		dec := func(b []byte, _ *arena) (any, error) { return decodePoint(b, s) }
		return codec{schema: s, decode: dec, fallback: pointValue(s, 0, 0), toastErr: noToast}, nil
	case kindGeometry, kindGeography:
		var s *change.Schema
		if k == kindGeometry {
			s = change.GeometrySchema()
		} else {
			s = change.GeographySchema(false)
		}
		dec := func(b []byte, _ *arena) (any, error) { return decodeEWKB(b, s) }
		empty, _ := decodeEWKB([]byte(emptyGeometryCollection), s)
		return codec{schema: s, decode: dec, fallback: empty, toastErr: noToast}, nil
	case kindDoubleVector:
		return codec{schema: change.DoubleVectorSchema(false), decode: decodeDoubleVector, fallback: []any{}, toastErr: noToast}, nil
	case kindFloatVector:
		return codec{schema: change.FloatVectorSchema(false), decode: decodeFloatVector, fallback: []any{}, toastErr: noToast}, nil
	case kindSparseVector:
		s := change.SparseDoubleVectorSchema(false)
		dec := func(b []byte, _ *arena) (any, error) { return decodeSparseVector(b, s) }
		empty := &change.Struct{Schema: s, Values: []any{int16(0), map[any]any{}}}
		return codec{schema: s, decode: dec, fallback: empty, toastErr: noToast}, nil
	case kindArray:
		return arrayCodec(c, cfg)
	}
	return codec{}, fmt.Errorf("column %s: unhandled type kind %d", c.Name, k)
}

// timePrecision is the fractional-second precision of time, timetz,
// timestamp and timestamptz columns: atttypmod, or 6 when unconstrained.
func timePrecision(typmod int32) int {
	if typmod < 0 || typmod > 6 {
		return 6
	}
	return int(typmod)
}

// timeInMillis reports whether a time column's values are milliseconds
// (int32: time.precision.mode connect, or adaptive with a precision of 3
// or less) rather than microseconds (int64).
func timeInMillis(c Column, cfg *config) bool {
	return cfg.timeMode == "connect" || cfg.timeMode == "adaptive" && timePrecision(c.Typmod) <= 3
}

// timestampInMillis reports whether a timestamp column's values are
// milliseconds (connect mode, or a precision of 3 or less) rather than
// microseconds.
func timestampInMillis(c Column, cfg *config) bool {
	return cfg.timeMode == "connect" || timePrecision(c.Typmod) <= 3
}

// numericTypmod splits a numeric atttypmod into precision and scale; ok is
// false for an unconstrained numeric.
func numericTypmod(typmod int32) (precision, scale int, ok bool) {
	if typmod < 4 {
		return 0, 0, false
	}
	t := typmod - 4
	precision = int((t >> 16) & 0xFFFF)
	scale = int(((t & 0x7FF) ^ 1024) - 1024) // PostgreSQL 15+ allows a negative scale
	return precision, scale, true
}

func binaryCodec(cfg *config, raw func([]byte) ([]byte, error)) codec {
	switch cfg.binary {
	case "base64", "base64-url-safe":
		enc := base64.StdEncoding
		if cfg.binary == "base64-url-safe" {
			enc = base64.URLEncoding
		}
		dec := func(b []byte, _ *arena) (any, error) {
			r, err := raw(b)
			if err != nil {
				return nil, err
			}
			return enc.EncodeToString(r), nil
		}
		// Debezium's base64 converters do not know the TOAST marker and
		// yield null.
		return codec{schema: change.PrimitiveSchema(change.TypeString, false), decode: dec, fallback: "", toastErr: convErr("an unchanged TOAST value has no representation with binary.handling.mode=base64")}
	case "hex":
		dec := func(b []byte, _ *arena) (any, error) {
			r, err := raw(b)
			if err != nil {
				return nil, err
			}
			return hex.EncodeToString(r), nil
		}
		return codec{schema: change.PrimitiveSchema(change.TypeString, false), decode: dec, fallback: "", toast: cfg.phString}
	default:
		dec := func(b []byte, _ *arena) (any, error) { return raw(b) }
		return codec{schema: change.PrimitiveSchema(change.TypeBytes, false), decode: dec, fallback: []byte{}, toast: cfg.placeholder}
	}
}

func numericCodec(c Column, cfg *config) codec {
	precision, scale, constrained := numericTypmod(c.Typmod)
	switch cfg.decimal {
	case "double":
		return codec{schema: change.PrimitiveSchema(change.TypeFloat64, false), decode: decodeNumericDouble, fallback: float64(0), toastErr: convErr("an unchanged TOAST value has no representation in a double")}
	case "string":
		s := -1
		if constrained {
			s = scale
		}
		dec := func(b []byte, _ *arena) (any, error) { return decodeNumericString(b, s) }
		fb := "0"
		if s > 0 {
			fb = "0." + strings.Repeat("0", s)
		}
		return codec{schema: change.PrimitiveSchema(change.TypeString, false), decode: dec, fallback: fb, toast: cfg.phString}
	}
	noToast := convErr("an unchanged TOAST value has no representation in a precise decimal")
	if !constrained {
		s := change.VariableScaleDecimalSchema(false)
		dec := func(b []byte, a *arena) (any, error) { return decodeNumericVariable(b, s, a) }
		zero := &change.Struct{Schema: s, Values: []any{int32(0), []byte{0}}}
		return codec{schema: s, decode: dec, fallback: zero, toastErr: noToast}
	}
	dec := func(b []byte, a *arena) (any, error) { return decodeNumericPrecise(b, scale, a) }
	return codec{schema: change.DecimalSchema(scale, precision, false), decode: dec, fallback: []byte{0}, toastErr: noToast}
}

const moneyFractionDigits = 2

func moneyCodec(cfg *config) codec {
	noToast := convErr("an unchanged TOAST value has no representation in money")
	switch cfg.decimal {
	case "double":
		return codec{schema: change.PrimitiveSchema(change.TypeFloat64, false), decode: decodeMoneyDouble, fallback: float64(0), toastErr: noToast}
	case "string":
		return codec{schema: change.PrimitiveSchema(change.TypeString, false), decode: decodeMoneyString, fallback: "0.00", toastErr: noToast}
	}
	return codec{schema: change.MoneySchema(moneyFractionDigits, false), decode: decodeMoneyPrecise, fallback: []byte{0}, toastErr: noToast}
}

func arrayCodec(c Column, cfg *config) (codec, error) {
	eoid, ename := elemType(c)
	ec := Column{Name: c.Name, TypeOID: eoid, TypeName: ename, Typmod: c.Typmod, Nullable: true, EnumValues: c.EnumValues}
	ek := columnKind(ec)
	var elem codec
	switch ek {
	case kindArray, kindSkip:
		return codec{}, nil
	case kindUnknown:
		if !cfg.unknown {
			return codec{}, nil
		}
		// Debezium declares array<bytes> here but never fills it; sluice
		// sends each element's text as include.unknown.datatypes does for
		// scalars.
		elem = binaryCodec(cfg, decodeRawText)
	default:
		var err error
		if elem, err = compileKind(ec, ek, cfg); err != nil || elem.schema == nil {
			return codec{}, err
		}
	}
	// Element schemas are optional, except Debezium's enum arrays.
	elem.schema.Optional = ek != kindEnum
	delim := byte(',')
	if eoid == 603 { // box[] uses ';'
		delim = ';'
	}
	edec := elem.decode
	dec := func(b []byte, a *arena) (any, error) { return decodeArray(b, delim, edec, a) }
	cd := codec{schema: change.ArraySchema(elem.schema, false), decode: dec, fallback: []any{}}
	// Unchanged TOAST placeholders of arrays (UnchangedToastedReplicationMessageColumn
	// and UnchangedToastedPlaceholder): chosen by the array type name.
	switch c.TypeName {
	case "_text", "_varchar", "_bpchar", "_json", "_jsonb":
		cd.toast = []any{cfg.phString}
	case "_bytea":
		if cfg.binary == "bytes" {
			cd.toast = []any{cfg.placeholder}
		}
	case "_int4", "_date":
		l := make([]any, len(cfg.placeholder))
		for i, b := range cfg.placeholder {
			l[i] = int32(int8(b))
		}
		cd.toast = l
	case "_int8":
		l := make([]any, len(cfg.placeholder))
		for i, b := range cfg.placeholder {
			l[i] = int64(int8(b))
		}
		cd.toast = l
	case "_uuid":
		cd.toast = []any{nameUUIDFromBytes(cfg.placeholder)}
	}
	if cd.toast == nil {
		cd.toastErr = convErr("an unchanged TOAST value has no representation in this array type")
	}
	return cd, nil
}

// ---- scalar decoders -------------------------------------------------------

func decodeString(b []byte, a *arena) (any, error) { return a.str(b), nil }

func decodeRawText(b []byte) ([]byte, error) { return append([]byte(nil), b...), nil }

func parseInt(b []byte, bits int) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	neg := false
	i := 0
	switch b[0] {
	case '-':
		neg, i = true, 1
	case '+':
		i = 1
	}
	if i == len(b) {
		return 0, false
	}
	var u uint64
	limit := uint64(1) << (bits - 1)
	for ; i < len(b); i++ {
		d := uint64(b[i] - '0')
		if d > 9 || u > (limit-d)/10 {
			return 0, false
		}
		u = u*10 + d
	}
	if neg {
		return -int64(u), true
	}
	if u == limit {
		return 0, false
	}
	return int64(u), true
}

func decodeInt16(b []byte, _ *arena) (any, error) {
	v, ok := parseInt(b, 16)
	if !ok {
		return nil, errors.New("invalid smallint")
	}
	return int16(v), nil
}

func decodeInt32(b []byte, _ *arena) (any, error) {
	v, ok := parseInt(b, 32)
	if !ok {
		return nil, errors.New("invalid integer")
	}
	return int32(v), nil
}

func decodeInt64(b []byte, _ *arena) (any, error) {
	v, ok := parseInt(b, 64)
	if !ok {
		// oid is unsigned 32-bit; it still fits int64.
		return nil, errors.New("invalid bigint")
	}
	return v, nil
}

// parseFloat parses b without copying it; the returned error never
// references b.
func parseFloat(b []byte, bits int) (float64, error) {
	if len(b) == 0 {
		return 0, errors.New("invalid floating-point number")
	}
	f, err := strconv.ParseFloat(unsafe.String(&b[0], len(b)), bits)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
			return f, nil // ±Inf or 0, as Java's Double.valueOf
		}
		return 0, errors.New("invalid floating-point number")
	}
	return f, nil
}

func decodeFloat32(b []byte, _ *arena) (any, error) {
	f, err := parseFloat(b, 32)
	if err != nil {
		return nil, err
	}
	return float32(f), nil
}

func decodeFloat64(b []byte, _ *arena) (any, error) {
	f, err := parseFloat(b, 64)
	if err != nil {
		return nil, err
	}
	return f, nil
}

func decodeBool(b []byte, _ *arena) (any, error) {
	if len(b) == 1 {
		switch b[0] {
		case 't', 'T':
			return true, nil
		case 'f', 'F':
			return false, nil
		}
	}
	switch strings.ToLower(string(b)) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return nil, errors.New("invalid boolean")
}

func checkBits(b []byte) error {
	for _, c := range b {
		if c != '0' && c != '1' {
			return errors.New("invalid bit string")
		}
	}
	return nil
}

// decodeBitBool is bit(1)/varbit(1): Integer.valueOf(s, 2) != 0.
func decodeBitBool(b []byte, _ *arena) (any, error) {
	if len(b) == 0 {
		return nil, errors.New("invalid bit string")
	}
	if err := checkBits(b); err != nil {
		return nil, err
	}
	for _, c := range b {
		if c == '1' {
			return true, nil
		}
	}
	return false, nil
}

// decodeBits is io.debezium.data.Bits: bit i of the value is character
// len-1-i of the text, packed little-endian into the fewest bytes that hold
// the highest set bit (java.util.BitSet.toByteArray).
func decodeBits(b []byte, _ *arena) (any, error) {
	if err := checkBits(b); err != nil {
		return nil, err
	}
	high := -1
	for i := 0; i < len(b); i++ {
		if b[i] == '1' {
			high = len(b) - 1 - i
			break
		}
	}
	out := make([]byte, (high+8)/8)
	for i := 0; i < len(b); i++ {
		if b[i] == '1' {
			bit := len(b) - 1 - i
			out[bit/8] |= 1 << (bit % 8)
		}
	}
	return out, nil
}

// decodeByteaRaw decodes bytea's hex output format (bytea_output=hex).
func decodeByteaRaw(b []byte) ([]byte, error) {
	if len(b) < 2 || b[0] != '\\' || b[1] != 'x' {
		return nil, errors.New(`bytea is not in hex format (bytea_output must be 'hex')`)
	}
	h := b[2:]
	if len(h)%2 != 0 {
		return nil, errors.New("odd number of hex digits in bytea")
	}
	out := make([]byte, len(h)/2)
	if _, err := hex.Decode(out, h); err != nil {
		return nil, errors.New("invalid hex digit in bytea")
	}
	return out, nil
}

// ---- numeric and money ---------------------------------------------------------

// decimalText is a parsed numeric: sign, integer and fraction digits.
type decimalText struct {
	neg     bool
	intPart []byte
	frac    []byte
	special string // "NaN", "Infinity", "-Infinity"
}

func parseDecimal(b []byte) (decimalText, error) {
	switch string(b) {
	case "NaN", "Infinity", "-Infinity":
		return decimalText{special: string(b)}, nil
	}
	var d decimalText
	i := 0
	if i < len(b) && (b[i] == '-' || b[i] == '+') {
		d.neg = b[i] == '-'
		i++
	}
	start := i
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	d.intPart = b[start:i]
	if i < len(b) && b[i] == '.' {
		i++
		fs := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		d.frac = b[fs:i]
	}
	if i != len(b) || len(d.intPart)+len(d.frac) == 0 {
		return d, errors.New("invalid numeric")
	}
	return d, nil
}

// unscaled returns the digits of d rescaled to scale, without sign; ok is
// false when rescaling would drop non-zero digits (BigDecimal.setScale
// without rounding throws).
func (d decimalText) unscaled(scale int) ([]byte, bool) {
	digits := make([]byte, 0, len(d.intPart)+max(scale, len(d.frac))+1)
	digits = append(digits, d.intPart...)
	switch {
	case scale < 0:
		// Negative scale: the value must be a multiple of 10^-scale.
		for _, c := range d.frac {
			if c != '0' {
				return nil, false
			}
		}
		n := -scale
		if n > len(digits) {
			for _, c := range digits {
				if c != '0' {
					return nil, false
				}
			}
			return []byte{'0'}, true
		}
		for _, c := range digits[len(digits)-n:] {
			if c != '0' {
				return nil, false
			}
		}
		digits = digits[:len(digits)-n]
	case scale >= len(d.frac):
		digits = append(digits, d.frac...)
		for i := len(d.frac); i < scale; i++ {
			digits = append(digits, '0')
		}
	default:
		for _, c := range d.frac[scale:] {
			if c != '0' {
				return nil, false
			}
		}
		digits = append(digits, d.frac[:scale]...)
	}
	return digits, true
}

// twosComplement returns the minimal big-endian two's-complement encoding
// of the integer with the given decimal digits (BigInteger.toByteArray).
func twosComplement(neg bool, digits []byte, a *arena) []byte {
	for len(digits) > 1 && digits[0] == '0' {
		digits = digits[1:]
	}
	if len(digits) <= 18 {
		var v int64
		for _, c := range digits {
			v = v*10 + int64(c-'0')
		}
		if neg {
			v = -v
		}
		var buf [8]byte
		return a.bytes(change.AppendInt64Bytes(buf[:0], v))
	}
	x, _ := new(big.Int).SetString(string(digits), 10)
	if neg {
		x.Neg(x)
	}
	return bigIntBytes(x)
}

func bigIntBytes(x *big.Int) []byte {
	if x.Sign() >= 0 {
		b := x.Bytes()
		if len(b) == 0 || b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return b
	}
	m := new(big.Int).Neg(x)
	m.Sub(m, big.NewInt(1))
	b := m.Bytes()
	for i := range b {
		b[i] = ^b[i]
	}
	if len(b) == 0 || b[0]&0x80 == 0 {
		b = append([]byte{0xFF}, b...)
	}
	return b
}

func decodeNumericPrecise(b []byte, scale int, a *arena) (any, error) {
	d, err := parseDecimal(b)
	if err != nil {
		return nil, err
	}
	if d.special != "" {
		return nil, convErr("got a special value (" + d.special + ") for a precise decimal; decimal.handling.mode=string or double can represent it")
	}
	digits, ok := d.unscaled(scale)
	if !ok {
		return nil, convErr("value has more fraction digits than the column's scale " + strconv.Itoa(scale))
	}
	return twosComplement(d.neg, digits, a), nil
}

// decodeNumericVariable is io.debezium.data.VariableScaleDecimal: the value
// with trailing fraction zeros stripped (a negative scale becomes 0).
func decodeNumericVariable(b []byte, s *change.Schema, a *arena) (any, error) {
	d, err := parseDecimal(b)
	if err != nil {
		return nil, err
	}
	if d.special != "" {
		return nil, convErr("got a special value (" + d.special + ") for a precise decimal; decimal.handling.mode=string or double can represent it")
	}
	frac := d.frac
	for len(frac) > 0 && frac[len(frac)-1] == '0' {
		frac = frac[:len(frac)-1]
	}
	d.frac = frac
	digits, _ := d.unscaled(len(frac))
	return &change.Struct{Schema: s, Values: []any{int32(len(frac)), twosComplement(d.neg, digits, a)}}, nil
}

func decodeNumericDouble(b []byte, _ *arena) (any, error) {
	if _, err := parseDecimal(b); err != nil {
		return nil, err
	}
	return parseFloat(b, 64)
}

// decodeNumericString is BigDecimal.toPlainString after rescaling to the
// column's scale (scale < 0: unconstrained, no rescaling); NaN and the
// infinities become Debezium's SpecialValueDecimal names.
func decodeNumericString(b []byte, scale int) (any, error) {
	d, err := parseDecimal(b)
	if err != nil {
		return nil, err
	}
	switch d.special {
	case "NaN":
		return "NAN", nil
	case "Infinity":
		return "POSITIVE_INFINITY", nil
	case "-Infinity":
		return "NEGATIVE_INFINITY", nil
	}
	if scale < 0 {
		scale = len(d.frac)
	} else if scale < len(d.frac) {
		if _, ok := d.unscaled(scale); !ok {
			return nil, convErr("value has more fraction digits than the column's scale " + strconv.Itoa(scale))
		}
	}
	return plainDecimal(d.neg, d.intPart, d.frac, scale), nil
}

func plainDecimal(neg bool, intPart, frac []byte, scale int) string {
	for len(intPart) > 1 && intPart[0] == '0' {
		intPart = intPart[1:]
	}
	var sb strings.Builder
	sb.Grow(len(intPart) + scale + 3)
	zero := true
	for _, c := range intPart {
		if c != '0' {
			zero = false
		}
	}
	for _, c := range frac[:min(scale, len(frac))] {
		if c != '0' {
			zero = false
		}
	}
	if neg && !zero {
		sb.WriteByte('-')
	}
	if len(intPart) == 0 {
		sb.WriteByte('0')
	} else {
		sb.Write(intPart)
	}
	if scale > 0 {
		sb.WriteByte('.')
		n := min(scale, len(frac))
		sb.Write(frac[:n])
		for i := n; i < scale; i++ {
			sb.WriteByte('0')
		}
	}
	return sb.String()
}

// parseMoney mirrors Debezium's PostgresMoney.parse: parentheses or a
// leading '-' make the value negative, one leading currency symbol and the
// thousands separators are dropped.
func parseMoney(b []byte) (decimalText, error) {
	s := string(b)
	if s == "" {
		return decimalText{}, errors.New("invalid money")
	}
	neg := s[0] == '(' || s[0] == '-'
	s = strings.TrimPrefix(s, "-")
	s = strings.TrimPrefix(s, "(")
	s = strings.TrimSuffix(s, ")")
	if s != "" && !(s[0] >= '0' && s[0] <= '9') && s[0] != '.' {
		_, size := utf8.DecodeRuneInString(s)
		s = s[size:]
	}
	s = strings.ReplaceAll(s, ",", "")
	d, err := parseDecimal([]byte(s))
	if err != nil || d.special != "" || strings.HasPrefix(s, "-") || strings.HasPrefix(s, "+") {
		return decimalText{}, errors.New("invalid money")
	}
	d.neg = neg
	return d, nil
}

func decodeMoneyPrecise(b []byte, _ *arena) (any, error) {
	d, err := parseMoney(b)
	if err != nil {
		return nil, err
	}
	return twosComplement(d.neg, roundHalfUp(d, moneyFractionDigits), nil), nil
}

// roundHalfUp returns the unscaled digits of d at scale (>= 0), rounding
// half away from zero as BigDecimal.setScale(scale, HALF_UP).
func roundHalfUp(d decimalText, scale int) []byte {
	if digits, ok := d.unscaled(scale); ok {
		return digits
	}
	digits := append(append([]byte{'0'}, d.intPart...), d.frac[:scale]...)
	if d.frac[scale] >= '5' {
		for i := len(digits) - 1; i >= 0; i-- {
			if digits[i] < '9' {
				digits[i]++
				break
			}
			digits[i] = '0'
		}
	}
	return digits
}

func decodeMoneyDouble(b []byte, _ *arena) (any, error) {
	d, err := parseMoney(b)
	if err != nil {
		return nil, err
	}
	s := plainDecimal(d.neg, d.intPart, d.frac, len(d.frac))
	return parseFloat([]byte(s), 64)
}

func decodeMoneyString(b []byte, _ *arena) (any, error) {
	d, err := parseMoney(b)
	if err != nil {
		return nil, err
	}
	return plainDecimal(d.neg, d.intPart, d.frac, len(d.frac)), nil
}

// ---- date and time -------------------------------------------------------------

const (
	microsPerSecond = int64(1_000_000)
	microsPerDay    = 86_400 * microsPerSecond
)

// Debezium's values for PostgreSQL's infinite dates and timestamps: pgjdbc's
// PGStatement.DATE_POSITIVE/NEGATIVE_INFINITY read as microseconds, and the
// LocalDates -5877611-06-21 / -5877611-06-22 that pgjdbc turns them into.
const (
	timestampPosInfinityMicros = int64(9223372036825200000)
	timestampNegInfinityMicros = int64(-9223372036832400000)
	datePosInfinityDays        = int32(-2147472692)
	dateNegInfinityDays        = int32(-2147472691)
)

func daysInMonth(y, m int64) int64 {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// digits reads an unsigned decimal number of at least minLen digits.
func digits(b []byte, i, minLen int) (int64, int, bool) {
	start := i
	var v int64
	for i < len(b) && b[i] >= '0' && b[i] <= '9' && i-start < 18 {
		v = v*10 + int64(b[i]-'0')
		i++
	}
	return v, i, i-start >= minLen
}

// parseDatePart parses "YYYY-MM-DD" at the start of b and returns its
// fields (year not yet adjusted for BC) and the position after it.
func parseDatePart(b []byte) (y, m, d int64, i int, ok bool) {
	if y, i, ok = digits(b, 0, 4); !ok || i >= len(b) || b[i] != '-' {
		return 0, 0, 0, 0, false
	}
	if m, i, ok = digits(b, i+1, 2); !ok || i >= len(b) || b[i] != '-' || m < 1 || m > 12 {
		return 0, 0, 0, 0, false
	}
	if d, i, ok = digits(b, i+1, 2); !ok || d < 1 || d > 31 {
		return 0, 0, 0, 0, false
	}
	return y, m, d, i, true
}

// cutBC returns b without a trailing " BC" or " AD" era and whether it was
// BC.
func cutBC(b []byte) ([]byte, bool) {
	if n := len(b); n >= 3 && string(b[n-3:]) == " BC" {
		return b[:n-3], true
	}
	if n := len(b); n >= 3 && string(b[n-3:]) == " AD" {
		return b[:n-3], false
	}
	return b, false
}

// civilDays converts a parsed date to days since the epoch, BC years to
// astronomical numbering (1 BC = year 0).
func civilDays(y, m, d int64, bc bool) (int64, bool) {
	if bc {
		if y == 0 {
			return 0, false
		}
		y = 1 - y
	}
	if d > daysInMonth(y, m) {
		return 0, false
	}
	return change.DaysFromCivil(y, m, d), true
}

func parseDate(b []byte) (int64, error) {
	body, bc := cutBC(b)
	y, m, d, i, ok := parseDatePart(body)
	if !ok || i != len(body) {
		return 0, errors.New("invalid date (DateStyle must be ISO)")
	}
	days, ok := civilDays(y, m, d, bc)
	if !ok {
		return 0, errors.New("invalid date")
	}
	return days, nil
}

func decodeDate(b []byte, _ *arena) (any, error) {
	switch string(b) {
	case "infinity":
		return datePosInfinityDays, nil
	case "-infinity":
		return dateNegInfinityDays, nil
	}
	days, err := parseDate(b)
	if err != nil {
		return nil, err
	}
	if days < math.MinInt32 || days > math.MaxInt32 {
		return nil, errors.New("date out of range")
	}
	return int32(days), nil
}

// parseClock parses "HH:MM[:SS[.ffffff]]" starting at i and returns the
// microseconds past midnight and the position after it. Hours may exceed 23
// (24:00:00 and interval-style values are checked by the callers).
func parseClock(b []byte, i int) (int64, int, bool) {
	h, i, ok := digits(b, i, 1)
	if !ok || i >= len(b) || b[i] != ':' || h > 1_000_000_000 {
		return 0, 0, false
	}
	mi, i, ok := digits(b, i+1, 2)
	if !ok || mi > 59 {
		return 0, 0, false
	}
	var s, frac int64
	if i < len(b) && b[i] == ':' {
		if s, i, ok = digits(b, i+1, 2); !ok || s > 60 {
			return 0, 0, false
		}
		if i < len(b) && b[i] == '.' {
			i++
			start := i
			scale := int64(100_000)
			for i < len(b) && b[i] >= '0' && b[i] <= '9' {
				if i-start < 6 {
					frac += int64(b[i]-'0') * scale
					scale /= 10
				}
				i++
			}
			if i == start {
				return 0, 0, false
			}
		}
	}
	return ((h*60+mi)*60+s)*microsPerSecond + frac, i, true
}

func parseTime(b []byte) (int64, error) {
	us, i, ok := parseClock(b, 0)
	if !ok || i != len(b) || us > microsPerDay {
		return 0, errors.New("invalid time")
	}
	return us, nil
}

func decodeTimeMicros(b []byte, _ *arena) (any, error) {
	us, err := parseTime(b)
	if err != nil {
		return nil, err
	}
	return us, nil
}

func decodeTimeMillis(b []byte, _ *arena) (any, error) {
	us, err := parseTime(b)
	if err != nil {
		return nil, err
	}
	return int32(us / 1000), nil
}

// parseOffset parses "+HH[:MM[:SS]]" (or "+HHMM") at i and returns the
// offset in seconds.
func parseOffset(b []byte, i int) (int64, int, bool) {
	if i >= len(b) || (b[i] != '+' && b[i] != '-') {
		return 0, 0, false
	}
	sign := int64(1)
	if b[i] == '-' {
		sign = -1
	}
	h, j, ok := digits(b, i+1, 2)
	if !ok || j-i-1 > 2 {
		if ok && j-i-1 == 4 { // +HHMM
			return sign * ((h/100)*3600 + (h%100)*60), j, true
		}
		return 0, 0, false
	}
	off := h * 3600
	if j < len(b) && b[j] == ':' {
		var mi int64
		if mi, j, ok = digits(b, j+1, 2); !ok {
			return 0, 0, false
		}
		off += mi * 60
		if j < len(b) && b[j] == ':' {
			var s int64
			if s, j, ok = digits(b, j+1, 2); !ok {
				return 0, 0, false
			}
			off += s
		}
	}
	return sign * off, j, true
}

// parseTimestamp parses "YYYY-MM-DD HH:MM:SS[.ffffff][+TZ][ BC]" and returns
// microseconds since the epoch, in UTC when withTZ (the offset is then
// required). dateOnly allows a bare date (default expressions).
func parseTimestamp(b []byte, withTZ, dateOnly bool) (int64, error) {
	body, bc := cutBC(b)
	y, m, d, i, ok := parseDatePart(body)
	if !ok {
		return 0, errors.New("invalid timestamp (DateStyle must be ISO)")
	}
	days, ok := civilDays(y, m, d, bc)
	if !ok {
		return 0, errors.New("invalid timestamp")
	}
	var us, off int64
	if i == len(body) && dateOnly {
		return mulAdd(days, microsPerDay, 0)
	}
	if i >= len(body) || (body[i] != ' ' && body[i] != 'T') {
		return 0, errors.New("invalid timestamp")
	}
	if us, i, ok = parseClock(body, i+1); !ok || us >= microsPerDay {
		return 0, errors.New("invalid timestamp")
	}
	if withTZ {
		if off, i, ok = parseOffset(body, i); !ok {
			return 0, errors.New("invalid timestamp with time zone: no UTC offset")
		}
	}
	if i != len(body) {
		return 0, errors.New("invalid timestamp")
	}
	return mulAdd(days, microsPerDay, us-off*microsPerSecond)
}

// mulAdd returns a*b+c (b > 0) or an error on int64 overflow.
func mulAdd(a, b, c int64) (int64, error) {
	if a > math.MaxInt64/b || a < math.MinInt64/b {
		return 0, errors.New("timestamp out of range")
	}
	p := a * b
	r := p + c
	if (c > 0 && r < p) || (c < 0 && r > p) {
		return 0, errors.New("timestamp out of range")
	}
	return r, nil
}

func decodeTimestampMicros(b []byte, _ *arena) (any, error) {
	switch string(b) {
	case "infinity":
		return timestampPosInfinityMicros, nil
	case "-infinity":
		return timestampNegInfinityMicros, nil
	}
	return parseTimestamp(b, false, false)
}

func decodeTimestampMillis(b []byte, a *arena) (any, error) {
	v, err := decodeTimestampMicros(b, a)
	if err != nil {
		return nil, err
	}
	return change.FloorDiv(v.(int64), 1000), nil
}

// decodeTimestampTZ is io.debezium.time.ZonedTimestamp: the instant in UTC
// as ISO-8601 with exactly width fraction digits (the column's precision;
// width 0 prints the fraction only when non-zero, trailing zeros dropped).
func decodeTimestampTZ(b []byte, width int, a *arena) (any, error) {
	switch string(b) {
	case "infinity", "-infinity":
		return string(b), nil
	}
	us, err := parseTimestamp(b, true, false)
	if err != nil {
		return nil, err
	}
	return formatZonedTimestamp(us, width, a), nil
}

func formatZonedTimestamp(us int64, width int, a *arena) string {
	var buf [48]byte
	return a.str(change.AppendZonedTimestamp(buf[:0], us, width))
}

// decodeTimeTZ is io.debezium.time.ZonedTime: the time moved to UTC,
// formatted as ISO_OFFSET_TIME ("11:51:30.123Z"). PostgreSQL's end-of-day
// boundary 24:00:00+00 stays "24:00:00Z" (Debezium's PostgresTimeBoundary).
func decodeTimeTZ(b []byte, a *arena) (any, error) {
	us, i, ok := parseClock(b, 0)
	if !ok || us > microsPerDay {
		return nil, errors.New("invalid time with time zone")
	}
	off, i, ok := parseOffset(b, i)
	if !ok || i != len(b) {
		return nil, errors.New("invalid time with time zone")
	}
	if us == microsPerDay && off == 0 {
		return "24:00:00Z", nil
	}
	utc := us - off*microsPerSecond
	utc = ((utc % microsPerDay) + microsPerDay) % microsPerDay
	var buf [24]byte
	return a.str(append(change.AppendClock(buf[:0], utc, 0), 'Z')), nil
}

// ---- interval -------------------------------------------------------------------

// interval is pgjdbc's PGInterval: each field keeps its own sign.
type interval struct {
	years, months, days, hours, minutes int64
	wholeSeconds, micros                int64 // same sign
}

// seconds is PGInterval.getSeconds().
func (iv interval) seconds() float64 {
	return float64(iv.wholeSeconds) + float64(iv.micros)/1e6
}

// parseInterval accepts the output of IntervalStyle postgres (the
// default), postgres_verbose, sql_standard and iso_8601.
func parseInterval(b []byte) (interval, error) {
	s := strings.TrimSpace(string(b))
	bad := errors.New("invalid interval")
	if s == "" {
		return interval{}, bad
	}
	if s[0] == 'P' {
		return parseISOInterval(s)
	}
	var iv interval
	fields := strings.Fields(s)
	ago := false
	if fields[0] == "@" {
		fields = fields[1:]
	}
	for i := 0; i < len(fields); i++ {
		f := fields[i]
		if f == "ago" {
			ago = true
			continue
		}
		if strings.Contains(f, ":") { // [-+]H:MM:SS[.f]
			neg := f[0] == '-'
			body := strings.TrimLeft(f, "+-")
			us, j, ok := parseClock([]byte(body), 0)
			if !ok || j != len(body) {
				return interval{}, bad
			}
			h := us / (3600 * microsPerSecond)
			mi := us / (60 * microsPerSecond) % 60
			sec := us / microsPerSecond % 60
			frac := us % microsPerSecond
			if neg {
				h, mi, sec, frac = -h, -mi, -sec, -frac
			}
			iv.hours += h
			iv.minutes += mi
			iv.wholeSeconds += sec
			iv.micros += frac
			continue
		}
		if isSQLYearMonth(f) { // sql_standard Y-M
			neg := f[0] == '-'
			parts := strings.SplitN(strings.TrimLeft(f, "+-"), "-", 2)
			y, err1 := strconv.ParseInt(parts[0], 10, 64)
			mo, err2 := strconv.ParseInt(parts[1], 10, 64)
			if err1 != nil || err2 != nil {
				return interval{}, bad
			}
			if neg {
				y, mo = -y, -mo
			}
			iv.years += y
			iv.months += mo
			continue
		}
		// A number, followed by a unit unless this is sql_standard's bare
		// day count.
		if i+1 >= len(fields) || isNumber(fields[i+1]) || strings.Contains(fields[i+1], ":") {
			n, err := strconv.ParseInt(f, 10, 64)
			if err != nil {
				return interval{}, bad
			}
			iv.days += n
			continue
		}
		unit := strings.ToLower(fields[i+1])
		i++
		var field *int64 // the integer field the unit adds to
		switch unit {
		case "year", "years", "yr", "yrs":
			field = &iv.years
		case "mon", "mons", "month", "months":
			field = &iv.months
		case "day", "days":
			field = &iv.days
		case "hour", "hours", "hr", "hrs":
			field = &iv.hours
		case "min", "mins", "minute", "minutes":
			field = &iv.minutes
		case "sec", "secs", "second", "seconds":
			if !iv.addSeconds(f) {
				return interval{}, bad
			}
			continue
		default:
			return interval{}, bad
		}
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return interval{}, bad
		}
		*field += n
	}
	if ago {
		iv = interval{-iv.years, -iv.months, -iv.days, -iv.hours, -iv.minutes, -iv.wholeSeconds, -iv.micros}
	}
	return iv, nil
}

func isNumber(s string) bool {
	if s == "" {
		return false
	}
	s = strings.TrimLeft(s, "+-")
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isSQLYearMonth(s string) bool {
	s = strings.TrimLeft(s, "+-")
	y, m, ok := strings.Cut(s, "-")
	return ok && isNumber(y) && isNumber(m) && !strings.ContainsAny(y+m, "+-")
}

// addSeconds adds "[-]S[.ffffff]" to the seconds fields; false when s is
// not such a number.
func (iv *interval) addSeconds(s string) bool {
	w, us, err := parseSeconds(s)
	if err != nil {
		return false
	}
	iv.wholeSeconds += w
	iv.micros += us
	return true
}

// parseSeconds splits "[-]S[.ffffff]" into whole seconds and microseconds
// of the same sign.
func parseSeconds(s string) (int64, int64, error) {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimLeft(s, "+-")
	w, f, _ := strings.Cut(s, ".")
	whole, err := strconv.ParseInt(w, 10, 64)
	if err != nil {
		return 0, 0, err
	}
	var us int64
	scale := int64(100_000)
	for i := 0; i < len(f); i++ {
		if f[i] < '0' || f[i] > '9' {
			return 0, 0, errMalformed
		}
		if i < 6 {
			us += int64(f[i]-'0') * scale
			scale /= 10
		}
	}
	if neg {
		whole, us = -whole, -us
	}
	return whole, us, nil
}

// parseISOInterval parses IntervalStyle iso_8601: P[nY][nM][nD][T[nH][nM][n.nS]].
func parseISOInterval(s string) (interval, error) {
	bad := errors.New("invalid interval")
	var iv interval
	inTime := false
	i := 1
	for i < len(s) {
		if s[i] == 'T' {
			inTime = true
			i++
			continue
		}
		j := i
		for j < len(s) && (s[j] == '-' || s[j] == '+' || s[j] == '.' || (s[j] >= '0' && s[j] <= '9')) {
			j++
		}
		if j == i || j >= len(s) {
			return interval{}, bad
		}
		num, unit := s[i:j], s[j]
		i = j + 1
		if unit == 'S' && inTime {
			if !iv.addSeconds(num) {
				return interval{}, bad
			}
			continue
		}
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil {
			return interval{}, bad
		}
		switch {
		case unit == 'Y' && !inTime:
			iv.years += n
		case unit == 'M' && !inTime:
			iv.months += n
		case unit == 'W' && !inTime:
			iv.days += 7 * n
		case unit == 'D' && !inTime:
			iv.days += n
		case unit == 'H' && inTime:
			iv.hours += n
		case unit == 'M' && inTime:
			iv.minutes += n
		default:
			return interval{}, bad
		}
	}
	return iv, nil
}

// daysPerMonthAvg is MicroDuration.DAYS_PER_MONTH_AVG (365.25 / 12).
const daysPerMonthAvg = 365.25 / 12.0

// microDuration is MicroDuration.durationMicros with Java's double
// arithmetic; explicit conversions keep the compiler from fusing
// multiply-adds, which would change the rounding.
func microDuration(iv interval) int64 {
	// PGInterval's fields are Java ints; (years * 12) + months wraps as int.
	months := int32(iv.years)*12 + int32(iv.months)
	numberOfDays := float64(float64(months)*daysPerMonthAvg) + float64(int32(iv.days))
	t := float64(numberOfDays*24) + float64(int32(iv.hours))
	t = float64(t*60) + float64(int32(iv.minutes))
	numberOfSeconds := float64(t*60) + iv.seconds()
	return javaDoubleToLong(float64(numberOfSeconds * 1e6))
}

// javaDoubleToLong is Java's (long) cast: truncation, NaN to 0, saturation.
func javaDoubleToLong(f float64) int64 {
	switch {
	case f != f:
		return 0
	case f >= 9.223372036854775807e18:
		return math.MaxInt64
	case f <= -9.223372036854775808e18:
		return math.MinInt64
	}
	return int64(f)
}

func decodeIntervalMicros(b []byte, _ *arena) (any, error) {
	iv, err := parseInterval(b)
	if err != nil {
		return nil, err
	}
	return microDuration(iv), nil
}

// decodeIntervalISO is io.debezium.time.Interval:
// "P<y>Y<m>M<d>DT<h>H<m>M<s>S" with seconds as
// BigDecimal.valueOf(double).stripTrailingZeros().toPlainString().
func decodeIntervalISO(b []byte, _ *arena) (any, error) {
	iv, err := parseInterval(b)
	if err != nil {
		return nil, err
	}
	return isoInterval(iv), nil
}

func isoInterval(iv interval) string {
	buf := make([]byte, 0, 48)
	buf = append(buf, 'P')
	buf = strconv.AppendInt(buf, int64(int32(iv.years)), 10)
	buf = append(buf, 'Y')
	buf = strconv.AppendInt(buf, int64(int32(iv.months)), 10)
	buf = append(buf, 'M')
	buf = strconv.AppendInt(buf, int64(int32(iv.days)), 10)
	buf = append(buf, 'D', 'T')
	buf = strconv.AppendInt(buf, int64(int32(iv.hours)), 10)
	buf = append(buf, 'H')
	buf = strconv.AppendInt(buf, int64(int32(iv.minutes)), 10)
	buf = append(buf, 'M')
	if sec := iv.seconds(); sec == 0 {
		buf = append(buf, '0')
	} else {
		s := strconv.FormatFloat(sec, 'f', -1, 64)
		if whole, frac, ok := strings.Cut(s, "."); ok && len(frac) > 9 {
			s = whole + "." + strings.TrimRight(frac[:9], "0")
			s = strings.TrimSuffix(s, ".")
		}
		buf = append(buf, s...)
	}
	buf = append(buf, 'S')
	return string(buf)
}

// ---- arrays -----------------------------------------------------------------------

// decodeArray parses an array's text output ({a,"b c",NULL}, nested braces
// for more dimensions, an optional "[l:u]=" bounds prefix) and decodes each
// element. Multi-dimensional arrays are flattened in row-major order.
func decodeArray(b []byte, delim byte, elem decodeFunc, a *arena) (any, error) {
	i := 0
	if len(b) > 0 && b[0] == '[' { // explicit bounds
		eq := strings.IndexByte(string(b), '=')
		if eq < 0 {
			return nil, errors.New("invalid array bounds")
		}
		i = eq + 1
	}
	if i >= len(b) || b[i] != '{' {
		return nil, errors.New("array does not start with '{'")
	}
	out := make([]any, 0, 8)
	var scratch []byte
	depth := 0
	expectElem := true
	afterDelim := false
	for i < len(b) {
		c := b[i]
		switch {
		case c == '{':
			if !expectElem {
				return nil, errors.New("invalid array: unexpected '{'")
			}
			depth++
			i++
			afterDelim = false
			continue
		case c == '}':
			if afterDelim {
				return nil, errors.New("invalid array: empty element")
			}
			depth--
			i++
			if depth < 0 {
				return nil, errors.New("invalid array: unbalanced '}'")
			}
			expectElem = false
			if depth == 0 {
				if i != len(b) {
					return nil, errors.New("invalid array: text after closing '}'")
				}
				return out, nil
			}
			continue
		case c == delim && !expectElem:
			expectElem = true
			afterDelim = true
			i++
			continue
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
			continue
		}
		if !expectElem || depth == 0 {
			return nil, errors.New("invalid array: missing delimiter")
		}
		// An element: quoted or unquoted.
		var text []byte
		isNull := false
		if c == '"' {
			i++
			scratch = scratch[:0]
			closed := false
			for i < len(b) {
				switch b[i] {
				case '\\':
					if i+1 >= len(b) {
						return nil, errors.New("invalid array: dangling escape")
					}
					scratch = append(scratch, b[i+1])
					i += 2
					continue
				case '"':
					closed = true
				}
				if closed {
					i++
					break
				}
				scratch = append(scratch, b[i])
				i++
			}
			if !closed {
				return nil, errors.New("invalid array: unterminated quoted element")
			}
			text = scratch
		} else {
			start := i
			escaped := false
			for i < len(b) && b[i] != delim && b[i] != '}' && b[i] != '{' && b[i] != '"' {
				if b[i] == '\\' {
					escaped = true
					i++
				}
				i++
			}
			if i > len(b) {
				return nil, errors.New("invalid array: dangling escape")
			}
			text = b[start:i]
			for len(text) > 0 && (text[len(text)-1] == ' ' || text[len(text)-1] == '\t') {
				text = text[:len(text)-1]
			}
			if escaped {
				scratch = scratch[:0]
				for j := 0; j < len(text); j++ {
					if text[j] == '\\' && j+1 < len(text) {
						j++
					}
					scratch = append(scratch, text[j])
				}
				text = scratch
			} else if len(text) == 4 && strings.EqualFold(string(text), "NULL") {
				isNull = true
			}
			if len(text) == 0 && !isNull {
				return nil, errors.New("invalid array: empty element")
			}
		}
		expectElem = false
		afterDelim = false
		if isNull {
			out = append(out, nil)
			continue
		}
		v, err := elem(text, a)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return nil, errors.New("invalid array: missing closing '}'")
}

// ---- hstore -----------------------------------------------------------------------

// decodeHstore converts hstore's text output to the JSON object Debezium
// writes with hstore.handling.mode=json: keys in java.util.HashMap
// iteration order, NULL values as null.
func decodeHstore(b []byte, _ *arena) (any, error) {
	keys, vals, err := parseHstore(b)
	if err != nil {
		return nil, err
	}
	return javaMapJSON(keys, vals), nil
}

func parseHstore(b []byte) ([]string, []*string, error) {
	var keys []string
	var vals []*string
	index := map[string]int{}
	i := 0
	skipWS := func() {
		for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
			i++
		}
	}
	readQuoted := func() (string, bool) {
		if i >= len(b) || b[i] != '"' {
			return "", false
		}
		i++
		var sb []byte
		for i < len(b) {
			switch b[i] {
			case '\\':
				if i+1 >= len(b) {
					return "", false
				}
				sb = append(sb, b[i+1])
				i += 2
			case '"':
				i++
				return string(sb), true
			default:
				sb = append(sb, b[i])
				i++
			}
		}
		return "", false
	}
	bad := errors.New("invalid hstore")
	for {
		skipWS()
		if i >= len(b) {
			break
		}
		k, ok := readQuoted()
		if !ok {
			return nil, nil, bad
		}
		skipWS()
		if i+1 >= len(b) || b[i] != '=' || b[i+1] != '>' {
			return nil, nil, bad
		}
		i += 2
		skipWS()
		var v *string
		if i+4 <= len(b) && strings.EqualFold(string(b[i:i+4]), "NULL") {
			i += 4
		} else {
			s, ok := readQuoted()
			if !ok {
				return nil, nil, bad
			}
			v = &s
		}
		if j, dup := index[k]; dup {
			vals[j] = v
		} else {
			index[k] = len(keys)
			keys = append(keys, k)
			vals = append(vals, v)
		}
		skipWS()
		if i < len(b) {
			if b[i] != ',' {
				return nil, nil, bad
			}
			i++
		}
	}
	return keys, vals, nil
}

// javaStringHash is java.lang.String.hashCode over UTF-16 code units.
func javaStringHash(s string) int32 {
	var h int32
	for _, r := range s {
		if r > 0xFFFF {
			r -= 0x10000
			h = 31*h + int32(0xD800+(r>>10))
			h = 31*h + int32(0xDC00+(r&0x3FF))
			continue
		}
		h = 31*h + int32(r)
	}
	return h
}

// javaMapJSON writes keys/values as Jackson writes a java.util.HashMap
// filled in this order: entries ordered by hash bucket of the final table
// size, insertion order within a bucket.
func javaMapJSON(keys []string, vals []*string) string {
	capacity := 16
	for len(keys) > capacity*3/4 {
		capacity *= 2
	}
	type entry struct {
		bucket, pos int
	}
	order := make([]entry, len(keys))
	for i, k := range keys {
		h := uint32(javaStringHash(k))
		h ^= h >> 16
		order[i] = entry{int(h & uint32(capacity-1)), i}
	}
	sort.SliceStable(order, func(i, j int) bool { return order[i].bucket < order[j].bucket })
	buf := make([]byte, 0, 64)
	buf = append(buf, '{')
	for n, e := range order {
		if n > 0 {
			buf = append(buf, ',')
		}
		buf = appendJacksonString(buf, keys[e.pos])
		buf = append(buf, ':')
		if vals[e.pos] == nil {
			buf = append(buf, "null"...)
		} else {
			buf = appendJacksonString(buf, *vals[e.pos])
		}
	}
	buf = append(buf, '}')
	return string(buf)
}

// appendJacksonString quotes s as Jackson's default JsonGenerator does:
// only '"', '\\' and control characters are escaped.
func appendJacksonString(buf []byte, s string) []byte {
	const hexDigits = "0123456789ABCDEF"
	buf = append(buf, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			buf = append(buf, '\\', c)
		case c == '\b':
			buf = append(buf, '\\', 'b')
		case c == '\t':
			buf = append(buf, '\\', 't')
		case c == '\n':
			buf = append(buf, '\\', 'n')
		case c == '\f':
			buf = append(buf, '\\', 'f')
		case c == '\r':
			buf = append(buf, '\\', 'r')
		case c < 0x20:
			buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
		default:
			buf = append(buf, c)
		}
	}
	return append(buf, '"')
}

// nameUUIDFromBytes is java.util.UUID.nameUUIDFromBytes (an MD5-based
// version 3 UUID), the placeholder element of unchanged uuid[] columns.
func nameUUIDFromBytes(b []byte) string {
	h := md5.Sum(b)
	h[6] = h[6]&0x0f | 0x30
	h[8] = h[8]&0x3f | 0x80
	s := hex.EncodeToString(h[:])
	return s[0:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:32]
}

// ---- geometric and vector types ---------------------------------------------

func pointValue(s *change.Schema, x, y float64) *change.Struct {
	wkb := make([]byte, 21)
	wkb[0] = 1 // little endian
	wkb[1] = 1 // wkbPoint
	putFloat64LE(wkb[5:], x)
	putFloat64LE(wkb[13:], y)
	return &change.Struct{Schema: s, Values: []any{x, y, wkb, nil}}
}

func putFloat64LE(b []byte, f float64) {
	u := math.Float64bits(f)
	for i := 0; i < 8; i++ {
		b[i] = byte(u >> (8 * i))
	}
}

// decodePoint parses "(x,y)" into io.debezium.data.geometry.Point.
func decodePoint(b []byte, s *change.Schema) (any, error) {
	t := strings.TrimSpace(string(b))
	if len(t) < 5 || t[0] != '(' || t[len(t)-1] != ')' {
		return nil, errors.New("invalid point")
	}
	xs, ys, ok := strings.Cut(t[1:len(t)-1], ",")
	if !ok {
		return nil, errors.New("invalid point")
	}
	x, err1 := parseFloat([]byte(strings.TrimSpace(xs)), 64)
	y, err2 := parseFloat([]byte(strings.TrimSpace(ys)), 64)
	if err1 != nil || err2 != nil {
		return nil, errors.New("invalid point")
	}
	return pointValue(s, x, y), nil
}

// emptyGeometryCollection is the HexEWKB Debezium uses as the fallback of
// required geometry columns.
const emptyGeometryCollection = "010700000000000000"

// decodeEWKB converts PostGIS's text output (HexEWKB) to a Geometry or
// Geography struct: wkb is the EWKB as is, srid read from it when flagged.
func decodeEWKB(b []byte, s *change.Schema) (any, error) {
	if len(b)%2 != 0 {
		return nil, errors.New("invalid hex EWKB")
	}
	wkb := make([]byte, len(b)/2)
	if _, err := hex.Decode(wkb, b); err != nil {
		return nil, errors.New("invalid hex EWKB")
	}
	if len(wkb) < 9 {
		return nil, convErr("EWKB shorter than 9 bytes")
	}
	var typ uint32
	le := wkb[0] != 0
	rd := func(p []byte) uint32 {
		if le {
			return uint32(p[0]) | uint32(p[1])<<8 | uint32(p[2])<<16 | uint32(p[3])<<24
		}
		return uint32(p[3]) | uint32(p[2])<<8 | uint32(p[1])<<16 | uint32(p[0])<<24
	}
	typ = rd(wkb[1:5])
	var srid any
	if typ&0x20000000 != 0 {
		srid = int32(rd(wkb[5:9]))
	}
	return &change.Struct{Schema: s, Values: []any{wkb, srid}}, nil
}

func decodeVector(b []byte, bits int) ([]any, error) {
	t := strings.TrimSpace(string(b))
	if len(t) < 2 || t[0] != '[' || t[len(t)-1] != ']' {
		return nil, convErr("vector is not in [x,y,...] format")
	}
	parts := strings.Split(t[1:len(t)-1], ",")
	out := make([]any, len(parts))
	for i, p := range parts {
		f, err := parseFloat([]byte(strings.TrimSpace(p)), bits)
		if err != nil {
			return nil, err
		}
		if bits == 32 {
			out[i] = float32(f)
		} else {
			out[i] = f
		}
	}
	return out, nil
}

// decodeSparseVector parses pgvector's "{i:v,...}/dim" into
// io.debezium.data.SparseDoubleVector (indices as written, from 1).
// Dimensions or indices beyond int16, which Debezium's Short.parseShort
// rejects, make the value unrepresentable.
func decodeSparseVector(b []byte, s *change.Schema) (any, error) {
	bad := errors.New("invalid sparsevec")
	body, dims, ok := strings.Cut(strings.TrimSpace(string(b)), "/")
	if !ok {
		return nil, bad
	}
	body = strings.TrimSpace(body)
	if len(body) < 2 || body[0] != '{' || body[len(body)-1] != '}' {
		return nil, bad
	}
	short := func(t string) (int16, error) {
		v, err := strconv.ParseInt(strings.TrimSpace(t), 10, 64)
		if err != nil {
			return 0, bad
		}
		if v < math.MinInt16 || v > math.MaxInt16 {
			return 0, convErr("sparsevec dimension or index " + strconv.FormatInt(v, 10) + " does not fit a short")
		}
		return int16(v), nil
	}
	dim, err := short(dims)
	if err != nil {
		return nil, err
	}
	vec := map[any]any{}
	if inner := strings.TrimSpace(body[1 : len(body)-1]); inner != "" {
		for _, e := range strings.Split(inner, ",") {
			is, vs, ok := strings.Cut(e, ":")
			if !ok {
				return nil, bad
			}
			i, err := short(is)
			if err != nil {
				return nil, err
			}
			v, err := parseFloat([]byte(strings.TrimSpace(vs)), 64)
			if err != nil {
				return nil, bad
			}
			vec[i] = v
		}
	}
	return &change.Struct{Schema: s, Values: []any{dim, vec}}, nil
}

func decodeDoubleVector(b []byte, _ *arena) (any, error) { return decodeVector(b, 64) }
func decodeFloatVector(b []byte, _ *arena) (any, error)  { return decodeVector(b, 32) }

// ---- default values ---------------------------------------------------------------

// Patterns of Debezium's PostgresDefaultValueConverter.
var (
	literalDefaultRE  = regexp.MustCompile(`'([^']*(?:''[^']*)*)'`)
	functionDefaultRE = regexp.MustCompile(`^[(]?[A-Za-z0-9_.]+\((?:.+(?:, ?.+)*)?\)`)
	currentDateTimes  = map[string]bool{"current_timestamp": true, "current_time": true, "current_date": true, "localtime": true, "localtimestamp": true}
	trimDefaultTypes  = map[string]bool{"bit": true, "varbit": true, "bool": true, "numeric": true, "float4": true, "float8": true,
		"int2": true, "int4": true, "int8": true, "uuid": true, "date": true, "time": true, "timestamp": true, "timestamptz": true, "interval": true}
	// placeholders for defaults computed by a function, per type
	generatedDefaults = map[string]string{"bit": "00", "varbit": "0", "bool": "false", "bpchar": "", "varchar": "", "text": "",
		"numeric": "0.0", "float4": "0.0", "float8": "0.0", "int2": "0", "int4": "0", "int8": "0", "json": "{}", "jsonb": "{}",
		"xml": "", "uuid": "00000000-0000-0000-0000-000000000000", "date": "1970-01-01", "time": "00:00",
		"timestamp": "1970-01-01", "timestamptz": "1970-01-01", "interval": "epoch"}
)

// parseDefault derives a column's schema default from its default
// expression as Debezium does; ok is false when Debezium sets none (unknown
// type, NULL, an expression it cannot evaluate, a struct-valued default).
func parseDefault(c Column, k kind, dec decodeFunc) (any, bool) {
	expr := c.Default
	typ := c.TypeName
	var lit string
	if k == kindEnum {
		v, ok := enumDefault(typ, expr)
		if !ok {
			return nil, false
		}
		return v, true
	}
	placeholder, known := generatedDefaults[typ]
	if !known {
		return nil, false
	}
	if trimDefaultTypes[typ] {
		expr = strings.TrimSpace(expr)
	}
	if strings.HasPrefix(expr, "NULL::") {
		return nil, false
	}
	if functionDefaultRE.MatchString(expr) || currentDateTimes[strings.ToLower(expr)] {
		lit = placeholder
	} else if !strings.Contains(expr, "'") {
		lit = expr
	} else {
		m := literalDefaultRE.FindStringSubmatch(expr)
		if m == nil {
			return nil, false
		}
		lit = strings.ReplaceAll(m[1], "''", "'")
	}
	var v any
	var err error
	switch k {
	case kindBool:
		v = strings.EqualFold(lit, "true") // Boolean.parseBoolean
	case kindNumeric:
		if _, perr := parseDecimal([]byte(lit)); perr != nil || lit == "NaN" || strings.HasSuffix(lit, "Infinity") {
			return nil, false
		}
		v, err = dec([]byte(lit), nil)
	case kindTimestamp, kindTimestampTZ, kindDate:
		if k != kindDate && !strings.ContainsAny(lit, " T") && lit != "infinity" && lit != "-infinity" {
			// A bare date: pgjdbc reads it as midnight.
			lit += " 00:00:00"
			if k == kindTimestampTZ {
				lit += "+00"
			}
		}
		v, err = dec([]byte(lit), nil)
	case kindInterval:
		if lit == "epoch" {
			lit = "00:00:00"
		}
		v, err = dec([]byte(lit), nil)
	case kindBit, kindVarbit, kindInt16, kindInt32, kindInt64, kindFloat32, kindFloat64,
		kindString, kindJSON, kindXML, kindUUID, kindTime:
		if k == kindUUID {
			lit = strings.ToLower(lit)
		}
		v, err = dec([]byte(lit), nil)
	default:
		return nil, false
	}
	if err != nil {
		return nil, false
	}
	if _, isStruct := v.(*change.Struct); isStruct {
		return nil, false // KAFKA-12694: Debezium drops struct defaults
	}
	return v, true
}

// enumDefault extracts 'label' from "'label'::type" when the cast names the
// column's enum type (schema qualification optional on either side).
func enumDefault(typ, expr string) (string, bool) {
	cast := strings.LastIndex(expr, "::")
	if cast < 0 {
		return "", false
	}
	suffix := strings.Trim(expr[cast+2:], `"`)
	if i := strings.LastIndexByte(suffix, '.'); i >= 0 {
		suffix = strings.Trim(suffix[i+1:], `"`)
	}
	name := typ
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		name = name[i+1:]
	}
	if suffix != name {
		return "", false
	}
	v := expr[:cast]
	if len(v) < 2 || v[0] != '\'' || v[len(v)-1] != '\'' {
		return "", false
	}
	return v[1 : len(v)-1], true
}
