package transforms

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sluice-cdc/sluice/change"
)

func init() { register("timestamp_convert", buildTimestampConvert) }

// Target types of timestamp_convert, as Kafka Connect's TimestampConverter
// names them.
var timestampTargets = []string{"string", "unix", "Date", "Time", "Timestamp"}

var unixPrecisions = map[string]time.Duration{
	"seconds": time.Second, "milliseconds": time.Millisecond, "microseconds": time.Microsecond, "nanoseconds": time.Nanosecond,
}

// buildTimestampConvert is Kafka Connect's TimestampConverter$Value for the
// listed fields of the row values: it reads Kafka Connect and Debezium
// temporal types (Timestamp, MicroTimestamp, NanoTimestamp,
// ZonedTimestamp, Date, Time, MicroTime, ...), plain integers as unix time
// in unix_precision and plain strings in format, and writes target_type:
// string (in format, UTC), unix (integer in unix_precision), or Kafka
// Connect's Date, Time or Timestamp logical types.
func buildTimestampConvert(o *options) (func(*change.Event) (bool, error), error) {
	fields := o.strs("field")
	target := o.oneOf("target_type", "", append([]string{""}, timestampTargets...)...)
	format := o.str("format", "")
	precision := o.oneOf("unix_precision", "milliseconds", "seconds", "milliseconds", "microseconds", "nanoseconds")
	if len(fields) == 0 {
		o.errorf("field", "timestamp_convert needs field (one name or a list)")
	}
	if target == "" {
		o.errorf("target_type", "timestamp_convert needs target_type: %s", strings.Join(timestampTargets, ", "))
	}
	var layout string
	if format != "" {
		var err error
		if layout, err = javaLayout(format); err != nil {
			o.errorf("format", "%v", err)
		}
	} else if target == "string" {
		o.errorf("format", "target_type string needs a format (a SimpleDateFormat pattern such as yyyy-MM-dd'T'HH:mm:ss.SSSXXX)")
	}
	if len(fields) == 0 || target == "" {
		return nil, errors.New("incomplete timestamp_convert")
	}
	unit := unixPrecisions[precision]
	var outSchema func(optional bool) *change.Schema
	switch target {
	case "string":
		outSchema = func(opt bool) *change.Schema { return change.PrimitiveSchema(change.TypeString, opt) }
	case "unix":
		outSchema = func(opt bool) *change.Schema { return change.PrimitiveSchema(change.TypeInt64, opt) }
	case "Date":
		outSchema = change.ConnectDateSchema
	case "Time":
		outSchema = change.ConnectTimeSchema
	case "Timestamp":
		outSchema = change.ConnectTimestampSchema
	}
	write := func(t time.Time) any {
		t = t.UTC()
		switch target {
		case "string":
			return t.Format(layout)
		case "unix":
			return t.UnixNano() / int64(unit)
		case "Date":
			return int32(floorDiv(t.Unix(), 86400))
		case "Time":
			d := t.Sub(t.Truncate(24 * time.Hour))
			return int32(d / time.Millisecond)
		}
		return t.UnixMilli()
	}
	ed := newRowEditor(func(in *change.Schema) (*rowPlan, error) {
		var idx []int
		var out *change.Schema
		for i, f := range in.Fields {
			if !slices.Contains(fields, f.Name) {
				continue
			}
			if _, err := readTime(f.Schema, nil, layout, unit); err != nil && !errors.Is(err, errNull) {
				return nil, fmt.Errorf("field %s: %w", f.Name, err)
			}
			if out == nil {
				out = copyStruct(in, slices.Clone(in.Fields))
			}
			out.Fields[i].Schema = outSchema(f.Schema.Optional)
			idx = append(idx, i)
		}
		if out == nil {
			return &rowPlan{out: in, fn: func(r *change.Struct) (*change.Struct, error) { return r, nil }}, nil
		}
		return &rowPlan{out: out, fn: func(row *change.Struct) (*change.Struct, error) {
			r := withValues(row, out, len(out.Fields))
			for _, i := range idx {
				if r.Values[i] == nil {
					continue
				}
				t, err := readTime(in.Fields[i].Schema, r.Values[i], layout, unit)
				if err != nil {
					return nil, fmt.Errorf("field %s: %w", in.Fields[i].Name, err)
				}
				r.Values[i] = write(t)
			}
			return r, nil
		}}, nil
	})
	return ed.apply, nil
}

var errNull = errors.New("null")

// readTime reads a temporal value of schema s. With v == nil it only checks
// that s is readable (returning errNull).
func readTime(s *change.Schema, v any, layout string, unit time.Duration) (time.Time, error) {
	var kind change.Type
	switch s.Name {
	case change.ConnectTimestampName, change.TimestampName, change.MicroTimestampName, change.NanoTimestampName,
		change.MicroTimeName, change.NanoTimeName:
		kind = change.TypeInt64
	case change.ConnectDateName, change.DateName, change.ConnectTimeName, change.TimeName:
		kind = change.TypeInt32
	case change.ZonedTimestampName, change.IsoTimestampName, change.IsoDateName:
		kind = change.TypeString
	case "":
		switch s.Type {
		case change.TypeInt64, change.TypeInt32:
			kind = change.TypeInt64
		case change.TypeString:
			kind = change.TypeString
		default:
			return time.Time{}, fmt.Errorf("a %s field is not a timestamp", s.Type)
		}
	default:
		return time.Time{}, fmt.Errorf("%s is not a timestamp type", s.Name)
	}
	if v == nil {
		return time.Time{}, errNull
	}
	var n int64
	switch x := v.(type) {
	case int64:
		n = x
	case int32:
		n = int64(x)
	case string:
		if kind != change.TypeString {
			return time.Time{}, fmt.Errorf("string value for %s", s.Name)
		}
		if s.Name == "" && layout != "" {
			t, err := time.Parse(layout, x)
			if err != nil {
				return time.Time{}, fmt.Errorf("parse %q: %w", x, err)
			}
			return t, nil
		}
		if s.Name == change.IsoDateName {
			return time.Parse("2006-01-02Z07:00", x)
		}
		t, err := time.Parse(time.RFC3339Nano, x)
		if err != nil {
			return time.Time{}, fmt.Errorf("parse %q: %w", x, err)
		}
		return t, nil
	default:
		return time.Time{}, fmt.Errorf("%T value", v)
	}
	switch s.Name {
	case change.ConnectTimestampName, change.TimestampName, change.ConnectTimeName, change.TimeName:
		return time.UnixMilli(n), nil
	case change.MicroTimestampName, change.MicroTimeName:
		return time.UnixMicro(n), nil
	case change.NanoTimestampName, change.NanoTimeName:
		return time.Unix(0, n), nil
	case change.ConnectDateName, change.DateName:
		return time.Unix(n*86400, 0), nil
	}
	return time.Unix(0, 0).Add(time.Duration(n) * unit), nil
}

// javaLayout translates a java.text.SimpleDateFormat pattern into a Go
// time layout.
func javaLayout(p string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(p); {
		c := p[i]
		if c == '\'' {
			j := i + 1
			if j < len(p) && p[j] == '\'' {
				b.WriteByte('\'')
				i += 2
				continue
			}
			for j < len(p) && p[j] != '\'' {
				j++
			}
			if j == len(p) {
				return "", fmt.Errorf("format %q: unterminated quote", p)
			}
			b.WriteString(p[i+1 : j])
			i = j + 1
			continue
		}
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			b.WriteByte(c)
			i++
			continue
		}
		n := 1
		for i+n < len(p) && p[i+n] == c {
			n++
		}
		i += n
		var s string
		switch c {
		case 'y':
			s = "2006"
			if n == 2 {
				s = "06"
			}
		case 'M':
			s = [...]string{"1", "01", "Jan", "January"}[min(n, 4)-1]
		case 'd':
			s = "2"
			if n >= 2 {
				s = "02"
			}
		case 'H':
			s = "15"
		case 'h':
			s = "3"
			if n >= 2 {
				s = "03"
			}
		case 'm':
			s = "4"
			if n >= 2 {
				s = "04"
			}
		case 's':
			s = "5"
			if n >= 2 {
				s = "05"
			}
		case 'S':
			s = strings.Repeat("0", min(n, 9))
		case 'a':
			s = "PM"
		case 'E':
			s = "Mon"
			if n >= 4 {
				s = "Monday"
			}
		case 'z':
			s = "MST"
		case 'Z':
			s = "-0700"
		case 'X':
			s = [...]string{"Z07", "Z0700", "Z07:00"}[min(n, 3)-1]
		default:
			return "", fmt.Errorf("format %q: pattern letter %q is not supported", p, string(c))
		}
		b.WriteString(s)
	}
	return b.String(), nil
}
