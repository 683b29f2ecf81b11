package mysql

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unsafe"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"

	"github.com/sluice-cdc/sluice/change"
	"github.com/sluice-cdc/sluice/sources"
)

// config is the validated type-mapping configuration.
type config struct {
	decimal  string // precise | double | string
	timeMode string // adaptive_time_microseconds | adaptive | connect
	binary   string // bytes | base64 | base64-url-safe | hex
	bigint   string // long | precise (bigint.unsigned.handling.mode)
	tinyBool bool   // TINYINT(1) as boolean
}

func newConfig(o *DecoderOptions) (*config, error) {
	c := &config{tinyBool: o.TinyInt1AsBoolean}
	var err error
	if c.bigint, err = sources.Mode("bigint.unsigned.handling.mode", o.BigIntUnsignedMode, "long", "long", "precise"); err != nil {
		return nil, err
	}
	if c.decimal, err = sources.Mode("decimal.handling.mode", o.DecimalMode, "precise", "precise", "double", "string"); err != nil {
		return nil, err
	}
	if c.timeMode, err = sources.Mode("time.precision.mode", o.TimePrecisionMode, "adaptive_time_microseconds", "adaptive", "adaptive_time_microseconds", "connect"); err != nil {
		return nil, err
	}
	if c.binary, err = sources.Mode("binary.handling.mode", o.BinaryMode, "bytes", "bytes", "base64", "base64-url-safe", "hex"); err != nil {
		return nil, err
	}
	return c, nil
}

// codec converts one column's values. Values arrive in two forms: as
// go-mysql's binlog row decoder produces them (binlog=true: integers of the
// column's width, enum indexes, set bitmasks, bit values as int64, strings
// in the column's character set) and as the text protocol returns them in
// a snapshot (int64/uint64/float64 or []byte in UTF-8).
type codec struct {
	schema  *change.Schema
	convert func(v any, binlog bool) (any, error)
	// fromInt and text, when set, are convert(v, false) for a signed
	// integer and for text as a snapshot's text protocol returns them,
	// without boxing the value first (see textValue).
	fromInt func(i int64) any
	text    func(b []byte) (any, error)
}

// textValue converts one value of a snapshot row (text protocol) as
// convert(fv.Value(), false) does.
func (cd *codec) textValue(fv *gomysql.FieldValue) (any, error) {
	switch fv.Type {
	case gomysql.FieldValueTypeNull:
		return nil, nil
	case gomysql.FieldValueTypeSigned:
		if cd.fromInt != nil {
			return cd.fromInt(fv.AsInt64()), nil
		}
	case gomysql.FieldValueTypeString:
		if cd.text != nil {
			return cd.text(fv.AsString())
		}
	}
	return cd.convert(fv.Value(), false)
}

// ColumnSchema returns the Kafka Connect schema of a column's field.
func ColumnSchema(c Column, o DecoderOptions) (*change.Schema, error) {
	cfg, err := newConfig(&o)
	if err != nil {
		return nil, err
	}
	cd, err := compileColumn(c, cfg)
	if err != nil {
		return nil, err
	}
	return cd.schema, nil
}

// ConvertValue converts one value of column c (see codec for the forms).
func ConvertValue(c Column, o DecoderOptions, v any, binlog bool) (any, error) {
	cfg, err := newConfig(&o)
	if err != nil {
		return nil, err
	}
	cd, err := compileColumn(c, cfg)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, nil
	}
	return cd.convert(v, binlog)
}

// isTinyInt1 reports whether a COLUMN_TYPE is TINYINT(1), the type
// MySQL's BOOL and BOOLEAN are aliases of.
func isTinyInt1(columnType string) bool {
	t := strings.ToLower(strings.TrimSpace(columnType))
	return t == "tinyint(1)" || strings.HasPrefix(t, "tinyint(1) ")
}

func compileColumn(c Column, cfg *config) (codec, error) {
	opt := c.Nullable
	switch c.DataType {
	case "tinyint":
		if cfg.tinyBool && isTinyInt1(c.ColumnType) {
			return intCodec(change.PrimitiveSchema(change.TypeBoolean, opt), c, func(i int64) any { return i != 0 }, 8), nil
		}
		return intCodec(change.PrimitiveSchema(change.TypeInt16, opt), c, func(i int64) any { return int16(i) }, 8), nil
	case "smallint":
		if c.Unsigned {
			return intCodec(change.PrimitiveSchema(change.TypeInt32, opt), c, func(i int64) any { return int32(i) }, 16), nil
		}
		return intCodec(change.PrimitiveSchema(change.TypeInt16, opt), c, func(i int64) any { return int16(i) }, 16), nil
	case "mediumint":
		return intCodec(change.PrimitiveSchema(change.TypeInt32, opt), c, func(i int64) any { return int32(i) }, 24), nil
	case "int", "integer":
		if c.Unsigned {
			return intCodec(change.PrimitiveSchema(change.TypeInt64, opt), c, func(i int64) any { return i }, 32), nil
		}
		return intCodec(change.PrimitiveSchema(change.TypeInt32, opt), c, func(i int64) any { return int32(i) }, 32), nil
	case "bigint":
		if c.Unsigned && cfg.bigint == "precise" {
			// bigint.unsigned.handling.mode=precise: Decimal with scale 0
			// (Debezium's Decimal.builder(0): no precision parameter).
			return codec{schema: change.DecimalSchema(0, 0, opt), convert: unsignedBigintConv}, nil
		}
		// bigint.unsigned.handling.mode=long: unsigned values above
		// 2^63-1 wrap, as in Debezium.
		return intCodec(change.PrimitiveSchema(change.TypeInt64, opt), c, func(i int64) any { return i }, 64), nil
	case "float":
		return codec{schema: change.PrimitiveSchema(change.TypeFloat32, opt), convert: floatConv(true)}, nil
	case "double", "real":
		return codec{schema: change.PrimitiveSchema(change.TypeFloat64, opt), convert: floatConv(false)}, nil
	case "decimal", "numeric":
		return decimalCodec(c, cfg), nil
	case "bit":
		if c.Length <= 1 {
			return codec{schema: change.PrimitiveSchema(change.TypeBoolean, opt), convert: func(v any, _ bool) (any, error) {
				u, err := bitValue(v)
				return u != 0, err
			}}, nil
		}
		n := int((c.Length + 7) / 8)
		return codec{schema: change.BitsSchema(int(c.Length), opt), convert: func(v any, _ bool) (any, error) {
			u, err := bitValue(v)
			if err != nil {
				return nil, err
			}
			out := make([]byte, n)
			for i := range out {
				out[i] = byte(u >> (8 * i))
			}
			return out, nil
		}}, nil
	case "date":
		s := change.DateSchema(opt)
		if cfg.timeMode == "connect" {
			s = change.ConnectDateSchema(opt)
		}
		return codec{schema: s, convert: func(v any, _ bool) (any, error) {
			str, err := textOf(v)
			if err != nil {
				return nil, err
			}
			days, zero, err := parseDate(str)
			if zero {
				return zeroTemporal(c, int32(0))
			}
			return days, err
		}}, nil
	case "datetime":
		var s *change.Schema
		micros := false
		switch {
		case cfg.timeMode == "connect":
			s = change.ConnectTimestampSchema(opt)
		case c.FSP <= 3:
			s = change.TimestampSchema(opt)
		default:
			s, micros = change.MicroTimestampSchema(opt), true
		}
		value := func(us int64, zero bool, err error) (any, error) {
			if err != nil {
				return nil, err
			}
			if zero {
				return zeroTemporal(c, int64(0))
			}
			if micros {
				return us, nil
			}
			return change.FloorDiv(us, 1000), nil
		}
		return codec{schema: s, convert: func(v any, _ bool) (any, error) {
			return value(datetimeOf(v))
		}, text: func(b []byte) (any, error) {
			return value(parseDatetime(viewString(b)))
		}}, nil
	case "timestamp":
		return codec{schema: change.ZonedTimestampSchema(opt), convert: func(v any, _ bool) (any, error) {
			us, zero, err := datetimeOf(v)
			if err != nil {
				return nil, err
			}
			if zero {
				return zeroTemporal(c, "1970-01-01T00:00:00Z")
			}
			return formatZoned(us, c.FSP), nil
		}}, nil
	case "time":
		var s *change.Schema
		micros := false
		switch {
		case cfg.timeMode == "connect":
			s = change.ConnectTimeSchema(opt)
		case cfg.timeMode == "adaptive" && c.FSP <= 3:
			s = change.TimeSchema(opt)
		default:
			s, micros = change.MicroTimeSchema(opt), true
		}
		return codec{schema: s, convert: func(v any, _ bool) (any, error) {
			str, err := textOf(v)
			if err != nil {
				return nil, err
			}
			us, err := parseTime(str)
			if err != nil {
				return nil, err
			}
			if micros {
				return us, nil
			}
			return int32(change.FloorDiv(us, 1000)), nil
		}}, nil
	case "year":
		return codec{schema: change.YearSchema(opt), convert: func(v any, _ bool) (any, error) {
			i, err := intValue(v)
			return int32(i), err
		}}, nil
	case "char", "varchar", "tinytext", "text", "mediumtext", "longtext":
		dec := charsetDecoder(c.Charset)
		return codec{schema: change.PrimitiveSchema(change.TypeString, opt), convert: func(v any, binlog bool) (any, error) {
			b, err := bytesOf(v)
			if err != nil {
				return nil, err
			}
			if binlog && dec != nil {
				out, err := dec.Bytes(b)
				if err != nil {
					return nil, err
				}
				return string(out), nil
			}
			return string(b), nil
		}, text: func(b []byte) (any, error) { return string(b), nil }}, nil
	case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob":
		pad := 0
		if c.DataType == "binary" {
			pad = int(c.Length)
		}
		sch, enc := binarySchema(cfg, opt)
		return codec{schema: sch, convert: func(v any, _ bool) (any, error) {
			b, err := bytesOf(v)
			if err != nil {
				return nil, err
			}
			if len(b) < pad {
				p := make([]byte, pad)
				copy(p, b)
				b = p
			} else {
				b = append([]byte(nil), b...)
			}
			return enc(b), nil
		}}, nil
	case "enum":
		vals := c.EnumValues
		return codec{schema: change.EnumSchema(vals, opt), convert: func(v any, binlog bool) (any, error) {
			text, i, isText, err := enumValue(v)
			switch {
			case err != nil:
				return nil, err
			case isText:
				return text, nil
			}
			if i == 0 {
				return "", nil // the invalid-value index
			}
			if i < 0 || int(i) > len(vals) {
				return nil, fmt.Errorf("enum index %d out of range (%d values)", i, len(vals))
			}
			return vals[i-1], nil
		}}, nil
	case "set":
		vals := c.EnumValues
		return codec{schema: change.EnumSetSchema(vals, opt), convert: func(v any, binlog bool) (any, error) {
			text, i, isText, err := enumValue(v)
			switch {
			case err != nil:
				return nil, err
			case isText:
				return text, nil
			}
			var parts []string
			for b := 0; b < len(vals) && b < 64; b++ {
				if uint64(i)&(1<<b) != 0 {
					parts = append(parts, vals[b])
				}
			}
			return strings.Join(parts, ","), nil
		}}, nil
	case "json":
		return codec{schema: change.JSONSchema(opt), convert: func(v any, _ bool) (any, error) {
			b, err := bytesOf(v)
			if err != nil {
				return nil, err
			}
			if len(b) == 0 {
				return "null", nil
			}
			return string(b), nil
		}}, nil
	case "geometry", "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon", "geometrycollection", "geomcollection":
		sch := change.GeometrySchema()
		return codec{schema: sch, convert: func(v any, _ bool) (any, error) {
			b, err := bytesOf(v)
			if err != nil {
				return nil, err
			}
			if len(b) < 4 {
				return nil, fmt.Errorf("geometry value of %d bytes", len(b))
			}
			srid := int32(binary.LittleEndian.Uint32(b))
			return &change.Struct{Schema: sch, Values: []any{append([]byte(nil), b[4:]...), srid}}, nil
		}}, nil
	}
	return codec{}, fmt.Errorf("column %s: type %q has no mapping", c.Name, c.ColumnType)
}

func binarySchema(cfg *config, opt bool) (*change.Schema, func([]byte) any) {
	switch cfg.binary {
	case "base64":
		return change.PrimitiveSchema(change.TypeString, opt), func(b []byte) any { return base64.StdEncoding.EncodeToString(b) }
	case "base64-url-safe":
		return change.PrimitiveSchema(change.TypeString, opt), func(b []byte) any { return base64.URLEncoding.EncodeToString(b) }
	case "hex":
		return change.PrimitiveSchema(change.TypeString, opt), func(b []byte) any { return hex.EncodeToString(b) }
	}
	return change.PrimitiveSchema(change.TypeBytes, opt), func(b []byte) any { return b }
}

// zeroTemporal is a zero date ("0000-00-00"): null in a nullable column,
// the epoch otherwise (as Debezium).
func zeroTemporal(c Column, epoch any) (any, error) {
	if c.Nullable {
		return nil, nil
	}
	return epoch, nil
}

// intCodec is the codec of an integer column of the given width; binlog
// values of unsigned columns arrive as signed values of that width and are
// brought back into range. out makes the physical value.
func intCodec(s *change.Schema, c Column, out func(int64) any, bits uint) codec {
	fromInt := func(i int64) any {
		if c.Unsigned && i < 0 && bits < 64 {
			i += 1 << bits
		}
		return out(i)
	}
	return codec{schema: s, fromInt: fromInt, convert: func(v any, _ bool) (any, error) {
		i, err := intValue(v)
		if err != nil {
			return nil, err
		}
		return fromInt(i), nil
	}}
}

// unsignedBigintConv converts a BIGINT UNSIGNED value to Decimal bytes
// (scale 0), exact over the whole range: binlog values may arrive as the
// signed int64 of the same bits, text values as uint64 or digits.
func unsignedBigintConv(v any, _ bool) (any, error) {
	var u uint64
	switch x := v.(type) {
	case uint64:
		u = x
	case []byte, string:
		var s string
		if b, ok := x.([]byte); ok {
			s = string(b)
		} else {
			s = x.(string)
		}
		var err error
		if u, err = strconv.ParseUint(strings.TrimSpace(s), 10, 64); err != nil {
			return nil, fmt.Errorf("bigint unsigned value %q: %w", s, err)
		}
	default:
		i, err := intValue(v)
		if err != nil {
			return nil, err
		}
		u = uint64(i) // same bits: a negative int64 is a value above 2^63-1
	}
	return change.DecimalBytes(new(big.Int).SetUint64(u)), nil
}

func intValue(v any) (int64, error) {
	switch x := v.(type) {
	case int8:
		return int64(x), nil
	case int16:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case int64:
		return x, nil
	case int:
		return int64(x), nil
	case uint8:
		return int64(x), nil
	case uint16:
		return int64(x), nil
	case uint32:
		return int64(x), nil
	case uint64:
		return int64(x), nil
	case []byte:
		return parseIntText(string(x))
	case string:
		return parseIntText(x)
	}
	return 0, fmt.Errorf("unexpected integer value %T", v)
}

func parseIntText(s string) (int64, error) {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i, nil
	}
	u, err := strconv.ParseUint(s, 10, 64)
	return int64(u), err
}

func bitValue(v any) (uint64, error) {
	if b, ok := v.([]byte); ok { // text protocol: big-endian bytes
		var u uint64
		for _, c := range b {
			u = u<<8 | uint64(c)
		}
		return u, nil
	}
	i, err := intValue(v)
	return uint64(i), err
}

func floatConv(single bool) func(v any, binlog bool) (any, error) {
	return func(v any, _ bool) (any, error) {
		var f float64
		switch x := v.(type) {
		case float32:
			if single {
				return x, nil
			}
			f = float64(x)
		case float64:
			f = x
		case []byte:
			var err error
			if f, err = strconv.ParseFloat(string(x), 64); err != nil {
				return nil, err
			}
		case string:
			var err error
			if f, err = strconv.ParseFloat(x, 64); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("unexpected float value %T", v)
		}
		if single {
			return float32(f), nil
		}
		return f, nil
	}
}

func decimalCodec(c Column, cfg *config) codec {
	opt := c.Nullable
	switch cfg.decimal {
	case "double":
		return codec{schema: change.PrimitiveSchema(change.TypeFloat64, opt), convert: func(v any, _ bool) (any, error) {
			s, err := textOf(v)
			if err != nil {
				return nil, err
			}
			return strconv.ParseFloat(s, 64)
		}}

	case "string":
		return codec{schema: change.PrimitiveSchema(change.TypeString, opt), convert: func(v any, _ bool) (any, error) {
			return textOf(v)
		}}

	}
	scale := c.Scale
	var conv func(v any, _ bool) (any, error)
	conv = func(v any, _ bool) (any, error) {
		var text []byte
		switch x := v.(type) {
		case []byte:
			text = x
		case string:
			text = unsafe.Slice(unsafe.StringData(x), len(x))
		}
		if b, ok := smallDecimalBytes(text, scale); ok {
			return b, nil
		}
		s, err := textOf(v)
		if err != nil {
			return nil, err
		}
		u, err := unscaled(s, scale)
		if err != nil {
			return nil, err
		}
		return change.DecimalBytes(u), nil
	}
	return codec{schema: change.DecimalSchema(scale, int(c.Length), opt), convert: conv, text: func(b []byte) (any, error) {
		if d, ok := smallDecimalBytes(b, scale); ok {
			return d, nil
		}
		return conv(b, false)
	}}
}

// viewString is b as a string without a copy, for parsers that do not
// keep it (their errors format it at once).
func viewString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// smallDecimalBytes is change.DecimalBytes(unscaled(text, scale)) for the
// common case of plain decimal text ([-]digits[.digits]) whose unscaled
// value has at most 18 digits, without big.Int; ok is false for anything
// else (the caller takes the general path). text is not retained.
func smallDecimalBytes(text []byte, scale int) (b []byte, ok bool) {
	i := 0
	neg := len(text) > 0 && text[0] == '-'
	if neg {
		i = 1
	}
	var v int64
	digits, frac := 0, -1 // frac: fraction digits taken, -1 before the point
	for ; i < len(text); i++ {
		c := text[i]
		if c == '.' && frac < 0 {
			frac = 0
			continue
		}
		if c < '0' || c > '9' {
			return nil, false
		}
		if frac >= 0 {
			if frac == scale {
				continue // truncated, as unscaled does
			}
			frac++
		}
		if digits++; digits > 18 {
			return nil, false
		}
		v = v*10 + int64(c-'0')
	}
	if digits == 0 && frac <= 0 {
		return nil, false
	}
	for frac = max(frac, 0); frac < scale; frac++ {
		if digits++; digits > 18 {
			return nil, false
		}
		v *= 10
	}
	if neg {
		v = -v
	}
	return change.AppendInt64Bytes(nil, v), true
}

// unscaled parses a decimal's text into its unscaled value at scale.
func unscaled(s string, scale int) (*big.Int, error) {
	intPart, frac, _ := strings.Cut(s, ".")
	if len(frac) > scale {
		frac = frac[:scale]
	}
	frac += strings.Repeat("0", scale-len(frac))
	u, ok := new(big.Int).SetString(intPart+frac, 10)
	if !ok {
		return nil, fmt.Errorf("invalid decimal %q", s)
	}
	return u, nil
}

func textOf(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case []byte:
		return string(x), nil
	case fmt.Stringer:
		return x.String(), nil
	}
	return "", fmt.Errorf("unexpected value %T", v)
}

func bytesOf(v any) ([]byte, error) {
	switch x := v.(type) {
	case []byte:
		return x, nil
	case string:
		return []byte(x), nil
	}
	return nil, fmt.Errorf("unexpected value %T", v)
}

// parseDate parses YYYY-MM-DD; zero reports a zero date (year, month or
// day 0, which has no place on the calendar).
func parseDate(s string) (days int32, zero bool, err error) {
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return 0, false, fmt.Errorf("invalid date %q", s)
	}
	y, e1 := strconv.Atoi(s[0:4])
	m, e2 := strconv.Atoi(s[5:7])
	d, e3 := strconv.Atoi(s[8:10])
	if e1 != nil || e2 != nil || e3 != nil {
		return 0, false, fmt.Errorf("invalid date %q", s)
	}
	if m == 0 || d == 0 {
		return 0, true, nil
	}
	return int32(change.DaysFromCivil(int64(y), int64(m), int64(d))), false, nil
}

// datetimeOf returns a DATETIME or TIMESTAMP value as microseconds since
// the epoch (a DATETIME's wall clock taken as UTC). The binlog reader
// (ParseTime) gives a time.Time, built in UTC for a DATETIME; a snapshot
// row, and values a time.Time cannot hold (zero dates, DATETIMEs before
// 1970), come as text.
func datetimeOf(v any) (us int64, zero bool, err error) {
	if t, ok := v.(time.Time); ok {
		return t.UnixMicro(), false, nil
	}
	str, err := textOf(v)
	if err != nil {
		return 0, false, err
	}
	return parseDatetime(str)
}

// parseDatetime parses "YYYY-MM-DD HH:MM:SS[.ffffff]" as UTC microseconds
// since the epoch.
func parseDatetime(s string) (us int64, zero bool, err error) {
	days, zero, err := parseDate(s)
	if err != nil || zero {
		return 0, zero, err
	}
	rest := strings.TrimLeft(s[10:], " T")
	if rest == "" {
		return int64(days) * 86_400_000_000, false, nil
	}
	tod, err := parseTime(rest)
	if err != nil {
		return 0, false, fmt.Errorf("invalid datetime %q: %w", s, err)
	}
	return int64(days)*86_400_000_000 + tod, false, nil
}

// parseTime parses "[-]HHH:MM:SS[.ffffff]" into microseconds, digits
// beyond the sixth of the fraction dropped. It allocates nothing: a
// snapshot parses one for every DATETIME and TIME value.
func parseTime(s string) (int64, error) {
	t := s
	neg := len(t) > 0 && t[0] == '-'
	if neg {
		t = t[1:]
	}
	var hms [3]int64
	for i := range hms {
		if i > 0 {
			if len(t) == 0 || t[0] != ':' {
				return 0, fmt.Errorf("invalid time %q", s)
			}
			t = t[1:]
		}
		n := 0
		for n < len(t) && n < 10 && t[n] >= '0' && t[n] <= '9' {
			hms[i] = hms[i]*10 + int64(t[n]-'0')
			n++
		}
		if n == 0 {
			return 0, fmt.Errorf("invalid time %q", s)
		}
		t = t[n:]
	}
	var frac int64
	if len(t) > 0 {
		if t[0] != '.' {
			return 0, fmt.Errorf("invalid time %q", s)
		}
		t = t[1:]
		for i := 0; i < len(t); i++ {
			if t[i] < '0' || t[i] > '9' {
				return 0, fmt.Errorf("invalid time %q", s)
			}
			if i < 6 {
				frac = frac*10 + int64(t[i]-'0')
			}
		}
		for i := len(t); i < 6; i++ {
			frac *= 10
		}
	}
	us := ((hms[0]*60+hms[1])*60+hms[2])*1_000_000 + frac
	if neg {
		us = -us
	}
	return us, nil
}

// formatZoned formats UTC microseconds as io.debezium.time.ZonedTimestamp:
// ISO-8601 with a 'Z', the fraction with the column's precision digits
// (none for precision 0).
func formatZoned(us int64, fsp int) string {
	if fsp <= 0 {
		us = change.FloorDiv(us, 1_000_000) * 1_000_000 // whole seconds: no fraction
	}
	var buf [40]byte
	return string(change.AppendZonedTimestamp(buf[:0], us, min(fsp, 6)))
}

// enumValue returns an ENUM or SET value that arrived as text (a
// snapshot's) as is (isText), or else its number: the binlog's 1-based
// ENUM index or SET bit set.
func enumValue(v any) (text string, n int64, isText bool, err error) {
	switch x := v.(type) {
	case []byte:
		return string(x), 0, true, nil
	case string:
		return x, 0, true, nil
	}
	n, err = intValue(v)
	return "", n, false, err
}
