package elasticsearch

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sluice-cdc/sluice/change"
)

// maxIDBytes is the longest _id Elasticsearch and OpenSearch accept.
const maxIDBytes = 512

// DocumentID returns the _id for a record key: a single-field key is its
// value as text (numbers in decimal, strings as they are, bytes in
// base64, dates and times as in documents); a composite key is the JSON
// array of its field values in the key schema's field order, e.g.
// [42,"EU"]. Nested values (structs, arrays) are written as JSON.
func DocumentID(key *change.Struct) (string, error) {
	if key == nil || key.Schema == nil || len(key.Values) == 0 {
		return "", fmt.Errorf("record has no key")
	}
	if len(key.Values) == 1 {
		f := key.Schema.Fields[0]
		if key.Values[0] == nil {
			return "", fmt.Errorf("key field %s is null", f.Name)
		}
		if s, ok := key.Values[0].(string); ok {
			return s, nil
		}
		b, err := appendValue(nil, f.Schema, key.Values[0])
		if err != nil {
			return "", fmt.Errorf("key field %s: %w", f.Name, err)
		}
		if len(b) > 0 && b[0] == '"' {
			// A JSON string (bytes, dates): its text without the quotes.
			var s string
			if err := json.Unmarshal(b, &s); err != nil {
				return "", fmt.Errorf("key field %s: %w", f.Name, err)
			}
			return s, nil
		}
		return string(b), nil
	}
	b := []byte{'['}
	for i, f := range key.Schema.Fields {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = appendValue(b, f.Schema, key.Values[i]); err != nil {
			return "", fmt.Errorf("key field %s: %w", f.Name, err)
		}
	}
	return string(append(b, ']')), nil
}

// appendDocument writes a row as a JSON object, fields in schema order.
func appendDocument(dst []byte, row *change.Struct) ([]byte, error) {
	dst = append(dst, '{')
	for i, f := range row.Schema.Fields {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, f.Name)
		dst = append(dst, ':')
		var v any
		if i < len(row.Values) {
			v = row.Values[i]
		}
		var err error
		if dst, err = appendValue(dst, f.Schema, v); err != nil {
			return nil, fmt.Errorf("field %s: %w", f.Name, err)
		}
	}
	return append(dst, '}'), nil
}

// appendValue writes a physical Kafka Connect value as the JSON value the
// index mapping expects (see mappingFor).
func appendValue(dst []byte, s *change.Schema, v any) ([]byte, error) {
	if v == nil {
		return append(dst, "null"...), nil
	}
	if s == nil {
		s = &change.Schema{}
	}
	switch s.Name {
	case change.DecimalName:
		b, ok := v.([]byte)
		if !ok {
			return nil, fmt.Errorf("decimal: unexpected %T", v)
		}
		scale, _ := strconv.Atoi(s.Parameters[change.DecimalScaleParam])
		return append(dst, formatDecimal(change.DecimalFromBytes(b), scale)...), nil
	case change.VariableScaleDecimalName:
		st, ok := v.(*change.Struct)
		if !ok {
			return nil, fmt.Errorf("variable scale decimal: unexpected %T", v)
		}
		sc, _ := st.Get("scale")
		val, _ := st.Get("value")
		scale, ok1 := asInt(sc)
		b, ok2 := val.([]byte)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("variable scale decimal: unexpected %v", st.Values)
		}
		return append(dst, formatDecimal(change.DecimalFromBytes(b), int(scale))...), nil
	case change.DateName, change.ConnectDateName:
		n, ok := asInt(v)
		if !ok {
			return nil, fmt.Errorf("date: unexpected %T", v)
		}
		return appendString(dst, formatDate(time.Unix(n*86400, 0).UTC())), nil
	case change.TimestampName, change.ConnectTimestampName, change.MicroTimestampName, change.NanoTimestampName:
		n, ok := asInt(v)
		if !ok {
			return nil, fmt.Errorf("timestamp: unexpected %T", v)
		}
		var t time.Time
		switch s.Name {
		case change.MicroTimestampName:
			t = time.UnixMicro(n)
		case change.NanoTimestampName:
			t = time.Unix(0, n)
		default:
			t = time.UnixMilli(n)
		}
		return appendString(dst, formatTimestamp(t.UTC())), nil
	case change.TimeName, change.ConnectTimeName, change.MicroTimeName, change.NanoTimeName:
		n, ok := asInt(v)
		if !ok {
			return nil, fmt.Errorf("time: unexpected %T", v)
		}
		switch s.Name {
		case change.TimeName, change.ConnectTimeName:
			n *= 1000
		case change.NanoTimeName:
			n /= 1000
		}
		return appendString(dst, formatTimeOfDay(n)), nil
	case change.JSONName:
		// Kept as the JSON text: arbitrary documents would clash with
		// one another in a mapping.
	}
	switch x := v.(type) {
	case int8:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case int16:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case int32:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(dst, x, 10), nil
	case int:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case float32:
		return appendFloat(dst, float64(x), 32), nil
	case float64:
		return appendFloat(dst, x, 64), nil
	case bool:
		return strconv.AppendBool(dst, x), nil
	case string:
		return appendString(dst, x), nil
	case []byte:
		dst = append(dst, '"')
		dst = base64.StdEncoding.AppendEncode(dst, x)
		return append(dst, '"'), nil
	case []any:
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = appendValue(dst, s.Items, e); err != nil {
				return nil, err
			}
		}
		return append(dst, ']'), nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, k)
			dst = append(dst, ':')
			var err error
			if dst, err = appendValue(dst, s.Values, x[k]); err != nil {
				return nil, err
			}
		}
		return append(dst, '}'), nil
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[fmt.Sprint(k)] = e
		}
		return appendValue(dst, s, m)
	case *change.Struct:
		return appendDocument(dst, x)
	}
	return nil, fmt.Errorf("unexpected %T for %s", v, s.Type)
}

// appendFloat writes a float; NaN and infinities, which JSON cannot hold,
// are written as null.
func appendFloat(dst []byte, f float64, bits int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	return strconv.AppendFloat(dst, f, 'g', -1, bits)
}

func asInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int8:
		return int64(x), true
	case int16:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case int:
		return int64(x), true
	case float64: // schemaless values are inferred as float64
		if x == math.Trunc(x) {
			return int64(x), true
		}
	}
	return 0, false
}

// formatDecimal writes unscaled × 10^-scale in plain notation.
func formatDecimal(unscaled *big.Int, scale int) string {
	if scale <= 0 {
		if scale < 0 {
			unscaled = new(big.Int).Mul(unscaled, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(-scale)), nil))
		}
		return unscaled.String()
	}
	neg := unscaled.Sign() < 0
	digits := new(big.Int).Abs(unscaled).String()
	if len(digits) <= scale {
		digits = strings.Repeat("0", scale-len(digits)+1) + digits
	}
	out := digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
	if neg {
		out = "-" + out
	}
	return out
}

// formatDate writes a date as yyyy-MM-dd (strict_date_optional_time); years
// outside 0..9999 get a sign and at least 4 digits.
func formatDate(t time.Time) string {
	y := t.Year()
	if y >= 0 && y <= 9999 {
		return t.Format("2006-01-02")
	}
	return fmt.Sprintf("%+05d-%02d-%02d", y, t.Month(), t.Day())
}

// formatTimestamp writes an instant as ISO-8601 in UTC with up to nine
// fraction digits: 2024-01-02T03:04:05.123456Z.
func formatTimestamp(t time.Time) string {
	y := t.Year()
	if y >= 0 && y <= 9999 {
		return t.Format("2006-01-02T15:04:05.999999999Z")
	}
	return formatDate(t) + t.Format("T15:04:05.999999999Z")
}

// formatTimeOfDay writes µs past midnight as HH:MM:SS[.ffffff].
func formatTimeOfDay(us int64) string {
	h := us / 3_600_000_000
	m := us / 60_000_000 % 60
	s := us / 1_000_000 % 60
	f := us % 1_000_000
	out := fmt.Sprintf("%02d:%02d:%02d", h, m, s)
	if f != 0 {
		out += strings.TrimRight(fmt.Sprintf(".%06d", f), "0")
	}
	return out
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string; invalid UTF-8 becomes U+FFFD.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
