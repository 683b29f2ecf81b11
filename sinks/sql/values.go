package sql

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/sluice-cdc/sluice/change"
)

// Neutral values: what a physical Connect value means, before a dialect
// turns it into a driver argument.
type (
	// decimalText is an exact decimal in plain notation ("-12.340").
	decimalText string
	// dateValue is a calendar date (UTC midnight).
	dateValue time.Time
	// timestampValue is a wall-clock timestamp without zone (in UTC).
	timestampValue time.Time
	// zonedTimestampValue is an instant (in UTC).
	zonedTimestampValue time.Time
	// timeValue is a time of day in microseconds past midnight (up to 24:00).
	timeValue int64
	// zonedTimeValue is a time of day with offset, as Debezium writes it.
	zonedTimeValue string
	// durationValue is a duration in microseconds.
	durationValue int64
	// jsonText is a JSON document.
	jsonText string
)

// kind is the SQL-side meaning of a Connect schema.
type kind int

const (
	kInt16 kind = iota
	kInt32
	kInt64
	kFloat32
	kFloat64
	kBool
	kText
	kBytes
	kDecimal // fixed scale; precision may be unknown (0)
	kVarDecimal
	kDate
	kTime
	kTimestamp
	kZonedTimestamp
	kZonedTime
	kDuration
	kJSON
	kUUID
	kStructured // arrays, maps, structs: stored as JSON
)

// kindOf classifies a Connect schema.
func kindOf(s *change.Schema) kind {
	switch s.Name {
	case change.DecimalName:
		return kDecimal
	case change.VariableScaleDecimalName:
		return kVarDecimal
	case change.DateName, change.ConnectDateName:
		return kDate
	case change.TimeName, change.MicroTimeName, change.NanoTimeName, change.ConnectTimeName:
		return kTime
	case change.TimestampName, change.MicroTimestampName, change.NanoTimestampName, change.ConnectTimestampName:
		return kTimestamp
	case change.ZonedTimestampName:
		return kZonedTimestamp
	case change.ZonedTimeName:
		return kZonedTime
	case change.MicroDurationName, change.NanoDurationName:
		return kDuration
	case change.JSONName:
		return kJSON
	case change.UUIDName:
		return kUUID
	case change.YearName:
		return kInt32
	}
	switch s.Type {
	case change.TypeInt8, change.TypeInt16:
		return kInt16
	case change.TypeInt32:
		return kInt32
	case change.TypeInt64:
		return kInt64
	case change.TypeFloat32:
		return kFloat32
	case change.TypeFloat64:
		return kFloat64
	case change.TypeBoolean:
		return kBool
	case change.TypeBytes:
		return kBytes
	case change.TypeString:
		return kText
	}
	return kStructured
}

// decimalParams returns a Decimal schema's precision (0 = unknown) and scale.
func decimalParams(s *change.Schema) (precision, scale int) {
	scale, _ = strconv.Atoi(s.Parameters[change.DecimalScaleParam])
	precision, _ = strconv.Atoi(s.Parameters[change.DecimalPrecisionParam])
	return precision, scale
}

// neutral converts a physical Connect value of schema s into a neutral
// value: nil, int64, float64, bool, string, []byte or one of the types above.
func neutral(s *change.Schema, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch kindOf(s) {
	case kDecimal:
		b, ok := v.([]byte)
		if !ok {
			return nil, fmt.Errorf("decimal: unexpected %T", v)
		}
		_, scale := decimalParams(s)
		return decimalText(change.FormatDecimalBytes(b, scale)), nil
	case kVarDecimal:
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
		return decimalText(change.FormatDecimalBytes(b, int(scale))), nil
	case kDate:
		n, ok := change.AsInt64(v)
		if !ok {
			return nil, fmt.Errorf("date: unexpected %T", v)
		}
		return dateValue(time.Unix(n*86400, 0).UTC()), nil
	case kTime:
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
		return timeValue(n), nil
	case kTimestamp:
		n, ok := change.AsInt64(v)
		if !ok {
			return nil, fmt.Errorf("timestamp: unexpected %T", v)
		}
		var t time.Time
		switch s.Name {
		case change.TimestampName, change.ConnectTimestampName:
			t = time.UnixMilli(n)
		case change.NanoTimestampName:
			t = time.Unix(0, n)
		default:
			t = time.UnixMicro(n)
		}
		return timestampValue(t.UTC()), nil
	case kZonedTimestamp:
		str, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("zoned timestamp: unexpected %T", v)
		}
		t, err := time.Parse(time.RFC3339Nano, str)
		if err != nil {
			return nil, fmt.Errorf("zoned timestamp %q: %w", str, err)
		}
		return zonedTimestampValue(t.UTC()), nil
	case kZonedTime:
		str, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("zoned time: unexpected %T", v)
		}
		return zonedTimeValue(str), nil
	case kDuration:
		n, ok := change.AsInt64(v)
		if !ok {
			return nil, fmt.Errorf("duration: unexpected %T", v)
		}
		if s.Name == change.NanoDurationName {
			n /= 1000
		}
		return durationValue(n), nil
	case kJSON:
		str, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("json: unexpected %T", v)
		}
		return jsonText(str), nil
	case kStructured:
		j, err := json.Marshal(plain(s, v))
		if err != nil {
			return nil, err
		}
		return jsonText(j), nil
	case kFloat32:
		f, ok := v.(float32)
		if !ok {
			return nil, fmt.Errorf("float32: unexpected %T", v)
		}
		// The shortest decimal that is this float32, as a float64: 1.1
		// rather than 1.100000023841858.
		g, _ := strconv.ParseFloat(strconv.FormatFloat(float64(f), 'g', -1, 32), 64)
		return g, nil
	}
	switch x := v.(type) {
	case int8:
		return int64(x), nil
	case int16:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case int64, float64, bool, string, []byte:
		return x, nil
	}
	return nil, fmt.Errorf("unexpected %T for %s", v, s.Type)
}

// plain converts a physical value into JSON-marshalable plain Go values.
func plain(s *change.Schema, v any) any {
	if v == nil || s == nil {
		return v
	}
	switch kindOf(s) {
	case kDecimal, kVarDecimal:
		if n, err := neutral(s, v); err == nil {
			return json.Number(string(n.(decimalText)))
		}
	case kJSON:
		if str, ok := v.(string); ok && json.Valid([]byte(str)) {
			return json.RawMessage(str)
		}
	}
	switch x := v.(type) {
	case []byte:
		return base64.StdEncoding.EncodeToString(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plain(s.Items, e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = plain(s.Values, e)
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[fmt.Sprint(k)] = plain(s.Values, e)
		}
		return out
	case *change.Struct:
		out := make(map[string]any, len(x.Values))
		for i, f := range x.Schema.Fields {
			if i < len(x.Values) {
				out[f.Name] = plain(f.Schema, x.Values[i])
			}
		}
		return out
	case float32:
		g, _ := strconv.ParseFloat(strconv.FormatFloat(float64(x), 'g', -1, 32), 64)
		return g
	}
	return v
}

// formatDateTime writes t (UTC) as YYYY-MM-DD HH:MM:SS[.ffffff].
func formatDateTime(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04:05.999999")
}
