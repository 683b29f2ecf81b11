package elasticsearch

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

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
		dst = change.AppendJSONString(dst, f.Name)
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
		return append(dst, change.FormatDecimalBytes(b, scale)...), nil
	case change.VariableScaleDecimalName:
		st, ok := v.(*change.Struct)
		if !ok {
			return nil, fmt.Errorf("variable scale decimal: unexpected %T", v)
		}
		sc, _ := st.Get("scale")
		val, _ := st.Get("value")
		scale, ok1 := change.AsInt64(sc)
		b, ok2 := val.([]byte)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("variable scale decimal: unexpected %v", st.Values)
		}
		return append(dst, change.FormatDecimalBytes(b, int(scale))...), nil
	case change.DateName, change.ConnectDateName:
		n, ok := change.AsInt64(v)
		if !ok {
			return nil, fmt.Errorf("date: unexpected %T", v)
		}
		return change.AppendJSONString(dst, formatDate(time.Unix(n*86400, 0).UTC())), nil
	case change.TimestampName, change.ConnectTimestampName, change.MicroTimestampName, change.NanoTimestampName:
		n, ok := change.AsInt64(v)
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
		return change.AppendJSONString(dst, formatTimestamp(t.UTC())), nil
	case change.TimeName, change.ConnectTimeName, change.MicroTimeName, change.NanoTimeName:
		n, ok := change.AsInt64(v)
		if !ok {
			return nil, fmt.Errorf("time: unexpected %T", v)
		}
		switch s.Name {
		case change.TimeName, change.ConnectTimeName:
			n *= 1000
		case change.NanoTimeName:
			n /= 1000
		}
		return change.AppendJSONString(dst, change.FormatTimeOfDay(n)), nil
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
		return change.AppendJSONString(dst, x), nil
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
			dst = change.AppendJSONString(dst, k)
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
