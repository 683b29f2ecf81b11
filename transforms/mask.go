package transforms

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"math/big"
	"slices"
	"strconv"

	"github.com/sluice-cdc/sluice/change"
)

func init() { register("mask", buildMask) }

// buildMask masks the listed fields of the row values (the flat value, or
// before and after): with hash: true each non-null value becomes the hex
// HMAC-SHA256 of its text under salt; otherwise it becomes replacement
// (Kafka Connect MaskField). Null values stay null.
func buildMask(o *options) (func(*change.Event) (bool, error), error) {
	fields := o.strs("fields")
	_, hasReplacement := o.get("replacement")
	replacement := o.str("replacement", "")
	hashed := o.boolean("hash", false)
	salt := o.str("salt", "")
	if len(fields) == 0 {
		return nil, errors.New("mask needs fields")
	}
	switch {
	case hashed && salt == "":
		o.errorf("salt", "hash: true needs a salt (a secret; use ${MASK_SALT} or ${file:...})")
	case hashed && hasReplacement:
		o.errorf("replacement", "replacement and hash: true exclude each other")
	case !hashed && salt != "":
		o.errorf("salt", "salt is used only with hash: true")
	}
	var mac hash.Hash
	var sum, buf []byte
	// The last input and its hash: an update's before and after usually
	// hold the same value, which is then hashed once.
	var lastIn []byte
	var lastOut string
	haveLast := false
	if hashed {
		mac = hmac.New(sha256.New, []byte(salt))
	}
	hashValue := func(v any) string {
		switch x := v.(type) {
		case string:
			buf = append(buf[:0], x...)
		case []byte:
			buf = append(buf[:0], x...)
		default:
			buf = append(buf[:0], textOf(v)...)
		}
		if haveLast && string(buf) == string(lastIn) {
			return lastOut
		}
		mac.Reset()
		mac.Write(buf)
		sum = mac.Sum(sum[:0])
		lastIn, lastOut, haveLast = append(lastIn[:0], buf...), hex.EncodeToString(sum), true
		return lastOut
	}
	plainString := change.PrimitiveSchema(change.TypeString, true)
	ed := newRowEditor(func(in *change.Schema) (*rowPlan, error) {
		var idx []int
		var repl []any
		out := in
		for i, f := range in.Fields {
			if !slices.Contains(fields, f.Name) {
				continue
			}
			s := f.Schema
			var rv any
			var ns *change.Schema
			switch {
			case hashed:
				if s.Type != change.TypeString || s.Name != "" {
					ns = plainString
				}
			case s.Name == "" && s.Type != change.TypeString && s.Type != change.TypeBytes && s.Type != change.TypeStruct &&
				s.Type != change.TypeArray && s.Type != change.TypeMap:
				v, err := parseAs(replacement, s.Type, !hasReplacement)
				if err != nil {
					return nil, fmt.Errorf("field %s: replacement %q for a %s field: %w", f.Name, replacement, s.Type, err)
				}
				rv = v
			default:
				rv = replacement
				if s.Type != change.TypeString || s.Name != "" {
					ns = plainString
				}
			}
			if ns != nil {
				if out == in {
					out = copyStruct(in, slices.Clone(in.Fields))
				}
				out.Fields[i].Schema = ns
			}
			idx = append(idx, i)
			repl = append(repl, rv)
		}
		if len(idx) == 0 {
			return &rowPlan{out: in, fn: func(r *change.Struct) (*change.Struct, error) { return r, nil }}, nil
		}
		return &rowPlan{out: out, fn: func(row *change.Struct) (*change.Struct, error) {
			r := withValues(row, out, len(out.Fields))
			for j, i := range idx {
				if r.Values[i] == nil {
					continue
				}
				if hashed {
					r.Values[i] = hashValue(r.Values[i])
				} else {
					r.Values[i] = repl[j]
				}
			}
			return r, nil
		}}, nil
	})
	return ed.apply, nil
}

// parseAs parses s as a value of the primitive type t; empty (when no
// replacement was given) is the type's zero value, as MaskField does.
func parseAs(s string, t change.Type, zero bool) (any, error) {
	if zero {
		s = ""
	}
	switch t {
	case change.TypeBoolean:
		if s == "" {
			return false, nil
		}
		return strconv.ParseBool(s)
	case change.TypeFloat32, change.TypeFloat64:
		f := 0.0
		if s != "" {
			var err error
			if f, err = strconv.ParseFloat(s, 64); err != nil {
				return nil, errors.New("not a number")
			}
		}
		if t == change.TypeFloat32 {
			return float32(f), nil
		}
		return f, nil
	case change.TypeInt8, change.TypeInt16, change.TypeInt32, change.TypeInt64:
		var n int64
		if s != "" {
			var err error
			if n, err = strconv.ParseInt(s, 10, bits(t)); err != nil {
				return nil, errors.New("not an integer of that size")
			}
		}
		return narrowInt(n, t), nil
	}
	return s, nil
}

func bits(t change.Type) int {
	switch t {
	case change.TypeInt8:
		return 8
	case change.TypeInt16:
		return 16
	case change.TypeInt32:
		return 32
	}
	return 64
}

// narrowInt converts n to the Go type of integer type t, wrapping as
// Java's narrowing conversions do.
func narrowInt(n int64, t change.Type) any {
	switch t {
	case change.TypeInt8:
		return int8(n)
	case change.TypeInt16:
		return int16(n)
	case change.TypeInt32:
		return int32(n)
	}
	return n
}

// textOf is the text of a physical value, as hashing and casting to
// string see it.
func textOf(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int8:
		return strconv.FormatInt(int64(x), 10)
	case int16:
		return strconv.FormatInt(int64(x), 10)
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case int64:
		return strconv.FormatInt(x, 10)
	case float32:
		return javaFloat(float64(x), 32)
	case float64:
		return javaFloat(x, 64)
	case []byte:
		return string(x)
	case *big.Int:
		return x.String()
	}
	return fmt.Sprint(v)
}

// javaFloat formats f as Java's Double.toString does for the common range
// (a ".0" for integral values).
func javaFloat(f float64, bitSize int) string {
	s := strconv.FormatFloat(f, 'g', -1, bitSize)
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '.', 'e', 'n', 'I': // has a point, exponent, NaN or Inf
			return s
		}
	}
	return s + ".0"
}
