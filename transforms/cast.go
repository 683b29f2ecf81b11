package transforms

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/sluice-cdc/sluice/change"
)

func init() { register("cast", buildCast) }

var castTypes = []change.Type{
	change.TypeInt8, change.TypeInt16, change.TypeInt32, change.TypeInt64,
	change.TypeFloat32, change.TypeFloat64, change.TypeBoolean, change.TypeString,
}

// buildCast is Kafka Connect's Cast$Value for fields of the row values:
// spec {field: type} or "field:type,..." with types int8, int16, int32,
// int64, float32, float64, boolean and string. Sources are the primitive
// types and Decimal; other logical types may only be cast to string (their
// physical value's text).
func buildCast(o *options) (func(*change.Event) (bool, error), error) {
	spec, order := o.strMapOrdered("spec")
	if len(spec) == 0 {
		return nil, errors.New(`cast needs spec, such as {qty: int64, price: float64} or "qty:int64,price:float64"`)
	}
	for _, f := range order {
		t := change.Type(spec[f])
		valid := false
		for _, ct := range castTypes {
			valid = valid || ct == t
		}
		if !valid {
			o.errorf("spec."+f, "cannot cast to %q: want int8, int16, int32, int64, float32, float64, boolean or string", spec[f])
		}
	}
	ed := newRowEditor(func(in *change.Schema) (*rowPlan, error) {
		var idx []int
		var to []change.Type
		var out *change.Schema
		for i, f := range in.Fields {
			ts, ok := spec[f.Name]
			if !ok {
				continue
			}
			t := change.Type(ts)
			if err := castable(f.Schema, t); err != nil {
				return nil, fmt.Errorf("cast %s to %s: %w", f.Name, t, err)
			}
			if out == nil {
				out = copyStruct(in, append([]change.Field(nil), in.Fields...))
			}
			out.Fields[i].Schema = change.PrimitiveSchema(t, f.Schema.Optional)
			idx = append(idx, i)
			to = append(to, t)
		}
		if out == nil {
			return &rowPlan{out: in, fn: func(r *change.Struct) (*change.Struct, error) { return r, nil }}, nil
		}
		return &rowPlan{out: out, fn: func(row *change.Struct) (*change.Struct, error) {
			r := withValues(row, out, len(out.Fields))
			for j, i := range idx {
				v, err := castValue(in.Fields[i].Schema, r.Values[i], to[j])
				if err != nil {
					return nil, fmt.Errorf("cast %s to %s: %w", in.Fields[i].Name, to[j], err)
				}
				r.Values[i] = v
			}
			return r, nil
		}}, nil
	})
	return ed.apply, nil
}

func castable(s *change.Schema, to change.Type) error {
	switch {
	case s.Name == change.DecimalName:
		if to == change.TypeBoolean {
			return errors.New("a Decimal cannot be cast to boolean")
		}
		return nil
	case s.Type == change.TypeBytes || s.Type == change.TypeStruct || s.Type == change.TypeArray || s.Type == change.TypeMap:
		return fmt.Errorf("a %s field cannot be cast", s.Type)
	case s.Name != "" && to != change.TypeString:
		return fmt.Errorf("a %s field can only be cast to string", s.Name)
	}
	return nil
}

// castValue converts v (physical, of schema s) to type to with Kafka
// Connect Cast semantics: numbers narrow as Java does, booleans are 1/0,
// strings are parsed (boolean: "true"/"false" in any case).
func castValue(s *change.Schema, v any, to change.Type) (any, error) {
	if v == nil {
		return nil, nil
	}
	if s.Name == change.DecimalName {
		b, ok := v.([]byte)
		if !ok {
			return nil, fmt.Errorf("%T value for a Decimal", v)
		}
		scale, _ := strconv.Atoi(s.Parameters[change.DecimalScaleParam])
		r := new(big.Rat).SetFrac(change.DecimalFromBytes(b), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil))
		if to == change.TypeString {
			return r.FloatString(scale), nil
		}
		f, _ := r.Float64()
		if isInt(to) {
			q := new(big.Int).Quo(r.Num(), r.Denom())
			return narrowInt(q.Int64(), to), nil
		}
		return fromFloat(f, to), nil
	}
	switch to {
	case change.TypeString:
		return textOf(v), nil
	case change.TypeBoolean:
		switch x := v.(type) {
		case bool:
			return x, nil
		case string:
			switch strings.ToLower(strings.TrimSpace(x)) {
			case "true":
				return true, nil
			case "false":
				return false, nil
			}
			return nil, fmt.Errorf("%q is not true or false", x)
		}
		f, ok := number(v)
		if !ok {
			return nil, fmt.Errorf("%T value", v)
		}
		return f != 0, nil
	}
	switch x := v.(type) {
	case bool:
		n := int64(0)
		if x {
			n = 1
		}
		if isInt(to) {
			return narrowInt(n, to), nil
		}
		return fromFloat(float64(n), to), nil
	case string:
		x = strings.TrimSpace(x)
		if isInt(to) {
			n, err := strconv.ParseInt(x, 10, bits(to))
			if err != nil {
				return nil, fmt.Errorf("%q is not an %s", x, to)
			}
			return narrowInt(n, to), nil
		}
		f, err := strconv.ParseFloat(x, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", x)
		}
		return fromFloat(f, to), nil
	case int8, int16, int32, int64:
		n := intOf(x)
		if isInt(to) {
			return narrowInt(n, to), nil
		}
		return fromFloat(float64(n), to), nil
	case float32, float64:
		f, _ := number(x)
		if isInt(to) {
			n := javaLong(f)
			if to != change.TypeInt64 {
				// Java narrows double -> int (saturating) -> byte/short.
				n = max(min(n, math.MaxInt32), math.MinInt32)
			}
			return narrowInt(n, to), nil
		}
		return fromFloat(f, to), nil
	}
	return nil, fmt.Errorf("%T value", v)
}

func isInt(t change.Type) bool {
	return t == change.TypeInt8 || t == change.TypeInt16 || t == change.TypeInt32 || t == change.TypeInt64
}

func fromFloat(f float64, to change.Type) any {
	if to == change.TypeFloat32 {
		return float32(f)
	}
	return f
}

// javaLong converts as Java's (long) cast does: NaN is 0, out-of-range
// values saturate.
func javaLong(f float64) int64 {
	switch {
	case f != f:
		return 0
	case f >= math.MaxInt64:
		return math.MaxInt64
	case f <= math.MinInt64:
		return math.MinInt64
	}
	return int64(f)
}

func intOf(v any) int64 {
	switch x := v.(type) {
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case int64:
		return x
	}
	return 0
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int8, int16, int32, int64:
		return float64(intOf(x)), true
	case float32:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}
