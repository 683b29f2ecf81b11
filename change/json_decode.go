package change

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// ErrNotEnvelope is returned by DecodeJSON for a record value that is
// neither a Debezium change-event envelope nor a schema-change event, such
// as a row already flattened by an unwrap transform (use DecodeJSONValue).
var ErrNotEnvelope = errors.New("change: record value is not a Debezium envelope")

type recordKind uint8

const (
	kindOther recordKind = iota
	kindEnvelope
	kindSchemaChange
)

// decodedSchema is a parsed "schema" block, shared by every record that
// carries the same schema bytes.
type decodedSchema struct {
	schema *Schema
	kind   recordKind
	row    *Schema // kindEnvelope: the schema of before/after
	raw    string  // the schema block's bytes
	// source is the last source block decoded under this schema.
	source atomic.Pointer[sourceMemo]
}

// sourceMemo is a source block, raw and decoded. The rows of a snapshot
// chunk carry the same block byte for byte (the chunk's read time, the
// snapshot's LSN or binlog position), so that a sink's initial load
// compares a record's block with the last one instead of decoding it
// (about a tenth of the sink's CPU). A complete JSON value ends where it
// ends: bytes that start with raw hold that very block.
type sourceMemo struct {
	raw []byte
	src Source
}

const maxDecodeCache = 4096

// decodeCache maps the raw bytes of a "schema" block to its parsed form, so
// that records of one table share *Schema pointers (as events built by a
// source do). Decoded schemas are shared: callers must not modify them.
var decodeCache = struct {
	sync.RWMutex
	m map[string]*decodedSchema
}{m: make(map[string]*decodedSchema)}

func lookupSchema(raw []byte) (*decodedSchema, error) {
	decodeCache.RLock()
	d := decodeCache.m[string(raw)]
	decodeCache.RUnlock()
	if d != nil {
		return d, nil
	}
	sub := scanner{b: raw}
	sc, _, _, err := parseSchema(&sub)
	if err == nil {
		err = sub.end()
	}
	if err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	d = classify(sc)
	d.raw = string(raw)
	decodeCache.Lock()
	defer decodeCache.Unlock()
	if prev := decodeCache.m[string(raw)]; prev != nil {
		return prev, nil
	}
	if len(decodeCache.m) >= maxDecodeCache {
		clear(decodeCache.m)
	}
	decodeCache.m[string(raw)] = d
	return d, nil
}

// recentSchemas are the schema blocks decoded last, newest first: records
// of a topic repeat their key's and value's schema block byte for byte, so
// a record's schema block is usually found by comparing its first bytes
// with these (a complete JSON value ends where it ends: a prefix equal to
// one is that value) instead of scanning and hashing a few kilobytes.
var recentSchemas atomic.Pointer[[]*decodedSchema]

const maxRecentSchemas = 8

// recentSchema returns the recent schema block that b starts with.
func recentSchema(b []byte) *decodedSchema {
	p := recentSchemas.Load()
	if p == nil {
		return nil
	}
	for _, d := range *p {
		if len(b) >= len(d.raw) && string(b[:len(d.raw)]) == d.raw {
			return d
		}
	}
	return nil
}

// rememberSchema puts d first among the recent schema blocks.
func rememberSchema(d *decodedSchema) {
	for {
		old := recentSchemas.Load()
		list := make([]*decodedSchema, 0, maxRecentSchemas)
		list = append(list, d)
		if old != nil {
			for _, o := range *old {
				if o != d && len(list) < maxRecentSchemas {
					list = append(list, o)
				}
			}
		}
		if recentSchemas.CompareAndSwap(old, &list) {
			return
		}
	}
}

func classify(sc *Schema) *decodedSchema {
	d := &decodedSchema{schema: sc}
	if sc.Type != TypeStruct {
		return d
	}
	if strings.HasSuffix(sc.Name, ".SchemaChangeValue") {
		d.kind = kindSchemaChange
		return d
	}
	bi, ai := sc.FieldIndex("before"), sc.FieldIndex("after")
	if bi < 0 || ai < 0 || sc.FieldIndex("source") < 0 || sc.FieldIndex("op") < 0 {
		return d
	}
	before, after := sc.Fields[bi].Schema, sc.Fields[ai].Schema
	if before.Type != TypeStruct || after.Type != TypeStruct {
		return d
	}
	if before.Equal(after) {
		sc.Fields[ai].Schema = before // one row schema, as the encoder's input has
	}
	d.kind, d.row = kindEnvelope, before
	return d
}

// parseSchema reads a schema object as JsonConverter.asConnectSchema does.
func parseSchema(s *scanner) (sc *Schema, fieldName string, isField bool, err error) {
	sc = &Schema{}
	var typ string
	var def []byte
	err = s.object(func(k []byte) error {
		var err error
		switch string(k) {
		case "type":
			typ, err = s.str()
		case "optional":
			switch s.peek() {
			case 't', 'f':
				sc.Optional, err = s.boolean()
			default:
				err = s.skip()
			}
		case "name":
			sc.Name, err = s.strOrNull()
		case "version":
			if p := s.peek(); p == '-' || isDigit(p) {
				var v int64
				if v, err = s.int(32); err == nil {
					sc.Version = int(v)
				}
			} else {
				err = s.skip()
			}
		case "doc":
			sc.Doc, err = s.strOrNull()
		case "parameters":
			if s.null() {
				return nil
			}
			err = s.object(func(k []byte) error {
				v, err := s.str()
				if err != nil {
					return errors.New("schema parameters must have string values")
				}
				if sc.Parameters == nil {
					sc.Parameters = make(map[string]string)
				}
				sc.Parameters[string(k)] = v
				return nil
			})
		case "default":
			def, err = s.span()
		case "fields":
			err = s.array(func() error {
				fs, name, ok, err := parseSchema(s)
				if err != nil {
					return err
				}
				if !ok {
					return errors.New("struct schema's field name not specified")
				}
				sc.Fields = append(sc.Fields, Field{Name: name, Schema: fs})
				return nil
			})
		case "items":
			sc.Items, _, _, err = parseSchema(s)
		case "keys":
			sc.Keys, _, _, err = parseSchema(s)
		case "values":
			sc.Values, _, _, err = parseSchema(s)
		case "field":
			isField = true
			fieldName, err = s.str()
		default:
			err = s.skip()
		}
		return err
	})
	if err != nil {
		return nil, "", false, err
	}
	switch typ {
	case "float", "float32":
		sc.Type = TypeFloat32
	case "double", "float64":
		sc.Type = TypeFloat64
	case "int8", "int16", "int32", "int64", "boolean", "string", "bytes":
		sc.Type = Type(typ)
	case "struct":
		sc.Type = TypeStruct
	case "array":
		if sc.Items == nil {
			return nil, "", false, errors.New("array schema did not specify the element type")
		}
		sc.Type = TypeArray
	case "map":
		if sc.Keys == nil || sc.Values == nil {
			return nil, "", false, errors.New("map schema did not specify the key and value types")
		}
		sc.Type = TypeMap
	case "":
		return nil, "", false, errors.New("schema must contain 'type' field")
	default:
		return nil, "", false, fmt.Errorf("unknown schema type %q", typ)
	}
	if sc.Type != TypeArray {
		sc.Items = nil
	}
	if sc.Type != TypeMap {
		sc.Keys, sc.Values = nil, nil
	}
	if sc.Type != TypeStruct {
		sc.Fields = nil
	}
	if def != nil && string(def) != "null" {
		sub := scanner{b: def}
		v, err := decodeTyped(&sub, sc)
		if err != nil {
			return nil, "", false, fmt.Errorf("default: %w", err)
		}
		sc.Default, sc.HasDefault = v, true
	}
	return sc, fieldName, isField, nil
}

func (s *scanner) strOrNull() (string, error) {
	if s.null() {
		return "", nil
	}
	return s.str()
}

// int reads an integer that fits in bits. Integral values written in
// fraction or exponent form ("1.0", "1e3") are accepted.
func (s *scanner) int(bits int) (int64, error) {
	raw, integral, err := s.number()
	if err != nil {
		return 0, err
	}
	if integral {
		var v uint64
		neg := raw[0] == '-'
		digits := raw
		if neg {
			digits = raw[1:]
		}
		limit := uint64(1) << (bits - 1)
		if !neg {
			limit--
		}
		for _, c := range digits {
			if v > (limit-uint64(c-'0'))/10 {
				return 0, fmt.Errorf("number %s out of int%d range", raw, bits)
			}
			v = v*10 + uint64(c-'0')
		}
		if neg {
			return -int64(v-1) - 1, nil
		}
		return int64(v), nil
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || f != math.Trunc(f) || f < -math.Ldexp(1, bits-1) || f >= math.Ldexp(1, bits-1) {
		return 0, fmt.Errorf("number %s is not an int%d", raw, bits)
	}
	return int64(f), nil
}

// intOrNull reads an integer or null (0).
func (s *scanner) intOrNull(bits int) (int64, bool, error) {
	if s.null() {
		return 0, false, nil
	}
	v, err := s.int(bits)
	return v, err == nil, err
}

func nullValue(sc *Schema) (any, error) {
	switch {
	case sc.Optional:
		return nil, nil
	case sc.HasDefault:
		return sc.Default, nil
	}
	return nil, ErrNullRequired
}

// decodeTyped reads a value of schema sc into its physical representation.
// A null for an optional field stays nil; a null for a required field with
// a default becomes the default.
func decodeTyped(s *scanner, sc *Schema) (any, error) {
	if s.null() {
		return nullValue(sc)
	}
	switch sc.Type {
	case TypeInt8:
		v, err := s.int(8)
		return int8(v), err
	case TypeInt16:
		v, err := s.int(16)
		return int16(v), err
	case TypeInt32:
		v, err := s.int(32)
		return int32(v), err
	case TypeInt64:
		return s.int(64)
	case TypeFloat32:
		f, err := s.float(32)
		return float32(f), err
	case TypeFloat64:
		return s.float(64)
	case TypeBoolean:
		return s.boolean()
	case TypeString:
		return s.str()
	case TypeBytes:
		if p := s.peek(); sc.Name == DecimalName && (p == '-' || isDigit(p)) {
			return s.numericDecimal(sc) // decimal.format=numeric
		}
		raw, _, err := s.rawString()
		if err != nil {
			return nil, err
		}
		return decodeBase64(raw)
	case TypeArray:
		out := []any{}
		err := s.array(func() error {
			v, err := decodeTyped(s, sc.Items)
			if err != nil {
				return fmt.Errorf("[%d]: %w", len(out), err)
			}
			out = append(out, v)
			return nil
		})
		return out, err
	case TypeMap:
		return s.decodeMap(sc)
	case TypeStruct:
		return s.decodeStruct(sc)
	}
	return nil, fmt.Errorf("unknown schema type %q", sc.Type)
}

func (s *scanner) float(bits int) (float64, error) {
	if s.peek() == '"' {
		v, err := s.str()
		if err != nil {
			return 0, err
		}
		switch v {
		case "NaN":
			return math.NaN(), nil
		case "Infinity":
			return math.Inf(1), nil
		case "-Infinity":
			return math.Inf(-1), nil
		}
		return 0, fmt.Errorf("invalid float %q", v)
	}
	raw, _, err := s.number()
	if err != nil {
		return 0, err
	}
	f, err := strconv.ParseFloat(string(raw), bits)
	if err != nil {
		return 0, fmt.Errorf("invalid float %s", raw)
	}
	return f, nil
}

func decodeBase64(raw []byte) ([]byte, error) {
	// RawStdEncoding.DecodedLen is an upper bound for padded input too.
	out := make([]byte, base64.RawStdEncoding.DecodedLen(len(raw)))
	n, err := base64.StdEncoding.Decode(out, raw)
	if err != nil {
		// Jackson also accepts unpadded input.
		n, err = base64.RawStdEncoding.Decode(out, raw)
		if err != nil {
			return nil, fmt.Errorf("invalid base64: %w", err)
		}
	}
	return out[:n], nil
}

// numericDecimal converts a JSON number to a Decimal's unscaled bytes.
func (s *scanner) numericDecimal(sc *Schema) (any, error) {
	raw, _, err := s.number()
	if err != nil {
		return nil, err
	}
	scale, err := strconv.Atoi(sc.Parameters[DecimalScaleParam])
	if err != nil || scale < -1000 || scale > 1000 {
		return nil, fmt.Errorf("decimal schema has invalid scale %q", sc.Parameters[DecimalScaleParam])
	}
	if len(raw) > 1000 {
		return nil, errors.New("decimal number too long")
	}
	if i := bytes.IndexAny(raw, "eE"); i >= 0 {
		if exp, err := strconv.Atoi(string(raw[i+1:])); err != nil || exp < -1000 || exp > 1000 {
			return nil, fmt.Errorf("decimal exponent out of range in %s", raw)
		}
	}
	r, ok := new(big.Rat).SetString(string(raw))
	if !ok {
		return nil, fmt.Errorf("invalid decimal %s", raw)
	}
	pow := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(scale))), nil)
	if scale >= 0 {
		r.Mul(r, new(big.Rat).SetInt(pow))
	} else {
		r.Quo(r, new(big.Rat).SetInt(pow))
	}
	if !r.IsInt() {
		return nil, fmt.Errorf("decimal %s does not fit scale %d", raw, scale)
	}
	return DecimalBytes(r.Num()), nil
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func (s *scanner) decodeMap(sc *Schema) (any, error) {
	if s.peek() == '{' {
		if sc.Keys.Type != TypeString {
			return nil, fmt.Errorf("object for map with %s keys", sc.Keys.Type)
		}
		m := make(map[string]any)
		err := s.object(func(k []byte) error {
			key := string(k)
			v, err := decodeTyped(s, sc.Values)
			if err != nil {
				return fmt.Errorf("[%q]: %w", key, err)
			}
			m[key] = v
			return nil
		})
		return m, err
	}
	switch sc.Keys.Type {
	case TypeInt8, TypeInt16, TypeInt32, TypeInt64, TypeFloat32, TypeFloat64, TypeBoolean, TypeString:
	default:
		return nil, fmt.Errorf("unsupported map key type %s", sc.Keys.Type)
	}
	m := make(map[any]any)
	err := s.array(func() error {
		if err := s.expect('['); err != nil {
			return err
		}
		k, err := decodeTyped(s, sc.Keys)
		if err != nil {
			return fmt.Errorf("map key: %w", err)
		}
		if err := s.expect(','); err != nil {
			return err
		}
		v, err := decodeTyped(s, sc.Values)
		if err != nil {
			return fmt.Errorf("map value: %w", err)
		}
		if err := s.expect(']'); err != nil {
			return err
		}
		m[k] = v
		return nil
	})
	if err != nil {
		return nil, err
	}
	if sc.Keys.Type == TypeString {
		ms := make(map[string]any, len(m))
		for k, v := range m {
			if ks, ok := k.(string); ok {
				ms[ks] = v
			}
		}
		return ms, nil
	}
	return m, nil
}

func (s *scanner) decodeStruct(sc *Schema) (*Struct, error) {
	n := len(sc.Fields)
	st := &Struct{Schema: sc, Values: make([]any, n)}
	var seenSmall uint64
	var seenBig []bool
	if n > 64 {
		seenBig = make([]bool, n)
	}
	next := 0
	err := s.object(func(k []byte) error {
		idx := -1
		if next < n && sc.Fields[next].Name == string(k) {
			idx = next
		} else {
			for i := range sc.Fields {
				if sc.Fields[i].Name == string(k) {
					idx = i
					break
				}
			}
		}
		if idx < 0 {
			return s.skip() // unknown fields are ignored, as by the JsonConverter
		}
		v, err := decodeTyped(s, sc.Fields[idx].Schema)
		if err != nil {
			return fmt.Errorf("%s: %w", sc.Fields[idx].Name, err)
		}
		st.Values[idx] = v
		if seenBig != nil {
			seenBig[idx] = true
		} else {
			seenSmall |= 1 << idx
		}
		next = idx + 1
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i := range sc.Fields {
		if (seenBig != nil && seenBig[i]) || (seenBig == nil && seenSmall&(1<<i) != 0) {
			continue
		}
		v, err := nullValue(sc.Fields[i].Schema)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", sc.Fields[i].Name, err)
		}
		st.Values[i] = v
	}
	return st, nil
}

// infer reads a value without schema: objects become *Struct with an
// inferred struct schema (fields in key order), integral numbers int64,
// other numbers float64, arrays []any (items schema of the first non-null
// element). Every inferred schema is optional; null infers an optional
// string.
func (s *scanner) infer() (any, *Schema, error) {
	switch s.peek() {
	case '{':
		sc := &Schema{Type: TypeStruct, Optional: true}
		st := &Struct{Schema: sc}
		err := s.object(func(k []byte) error {
			name := string(k)
			v, fs, err := s.infer()
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			if i := sc.FieldIndex(name); i >= 0 { // duplicate key: last wins
				sc.Fields[i].Schema, st.Values[i] = fs, v
				return nil
			}
			sc.Fields = append(sc.Fields, Field{Name: name, Schema: fs})
			st.Values = append(st.Values, v)
			return nil
		})
		return st, sc, err
	case '[':
		out := []any{}
		var items *Schema
		err := s.array(func() error {
			v, is, err := s.infer()
			if err != nil {
				return err
			}
			if items == nil && v != nil {
				items = is
			}
			out = append(out, v)
			return nil
		})
		if items == nil {
			items = PrimitiveSchema(TypeString, true)
		}
		return out, ArraySchema(items, true), err
	case '"':
		v, err := s.str()
		return v, PrimitiveSchema(TypeString, true), err
	case 't', 'f':
		v, err := s.boolean()
		return v, PrimitiveSchema(TypeBoolean, true), err
	case 'n':
		return nil, PrimitiveSchema(TypeString, true), s.literal("null")
	case 0:
		return nil, nil, errEOF
	}
	raw, integral, err := s.number()
	if err != nil {
		return nil, nil, err
	}
	if integral {
		sub := scanner{b: raw}
		if v, err := sub.int(64); err == nil {
			return v, PrimitiveSchema(TypeInt64, true), nil
		}
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return nil, nil, fmt.Errorf("invalid number %s", raw)
	}
	return f, PrimitiveSchema(TypeFloat64, true), nil
}

// record splits a JSON converter record: with schemas {"schema":S,
// "payload":P} (exactly these two keys) it returns the parsed schema (nil
// for "schema":null) and P; otherwise the whole input is the payload.
func splitRecord(b []byte) (d *decodedSchema, payload []byte, withSchema bool, err error) {
	s := scanner{b: b}
	if s.peek() != '{' {
		return nil, b, false, nil
	}
	var schemaRaw []byte
	n, other := 0, false
	err = s.object(func(k []byte) error {
		n++
		var err error
		switch string(k) {
		case "schema":
			s.ws()
			if r := recentSchema(s.b[s.i:]); r != nil {
				d, schemaRaw = r, s.b[s.i:s.i+len(r.raw)]
				s.i += len(r.raw)
				return nil
			}
			// Validated by lookupSchema (parsed on a miss, identical to
			// parsed bytes on a hit).
			schemaRaw, err = s.fastSpan()
		case "payload":
			payload, err = s.fastSpan() // validated when decoded
		default:
			other = true
			_, err = s.fastSpan()
		}
		return err
	})
	if err != nil {
		return nil, nil, false, err
	}
	if err := s.end(); err != nil {
		return nil, nil, false, err
	}
	if other || n != 2 || schemaRaw == nil || payload == nil {
		return nil, b, false, nil
	}
	if d != nil {
		return d, payload, true, nil // a recent schema block
	}
	if string(schemaRaw) == "null" {
		return nil, payload, true, nil
	}
	if d, err = lookupSchema(schemaRaw); err == nil {
		rememberSchema(d)
	}
	return d, payload, true, err
}

// DecodeJSON reconstructs an Event from a Kafka record written by the
// Debezium JSON converter, with or without the schema block: row and
// truncate envelopes, schema-change events, and tombstones (nil or empty
// value). With schemas, Key/RowSchema/Before/After hold typed physical
// values and schemas are shared between records with the same schema
// block; without schemas, types are inferred (see DecodeJSONValue). Values
// that are not envelopes (e.g. flattened by an unwrap transform) return
// ErrNotEnvelope. The Event.Key of a schema-change event is nil: its key
// is derived from SchemaChange.DatabaseName.
func DecodeJSON(topic string, key, value []byte) (*Event, error) {
	if len(value) == 0 {
		e := &Event{Topic: topic, Tombstone: true}
		var err error
		if e.Key, err = decodeKey(key); err != nil {
			return nil, fmt.Errorf("change: decode key of %s: %w", topic, err)
		}
		return e, nil
	}
	if d, payload := splitKnown(value); d != nil {
		if e, err := decodePayload(topic, key, d, payload, true); err == nil {
			return e, nil
		}
		// Not that layout after all (another key after the payload), or a
		// bad record: the general path decides, and words the error.
	}
	d, payload, withSchema, err := splitRecord(value)
	if err != nil {
		return nil, fmt.Errorf("change: decode value of %s: %w", topic, err)
	}
	return decodePayload(topic, key, d, payload, withSchema)
}

// splitKnown is splitRecord's fast path for the layout that sluice's
// encoder and Kafka Connect's JsonConverter write, {"schema":S,"payload":P}
// with no whitespace, where S is a recent schema block: it returns S's
// decoded form and what P can be (everything up to the closing brace),
// without scanning P. The caller decodes P and checks that nothing follows
// it; nil when the record does not start that way.
func splitKnown(b []byte) (*decodedSchema, []byte) {
	const head, mid = `{"schema":`, `,"payload":`
	if len(b) < len(head)+len(mid)+1 || string(b[:len(head)]) != head || b[len(b)-1] != '}' {
		return nil, nil
	}
	d := recentSchema(b[len(head):])
	if d == nil {
		return nil, nil
	}
	rest := b[len(head)+len(d.raw) : len(b)-1]
	if len(rest) < len(mid) || string(rest[:len(mid)]) != mid {
		return nil, nil
	}
	return d, rest[len(mid):]
}

// decodePayload decodes a record's payload, given its schema block (d nil:
// none, or "schema":null).
func decodePayload(topic string, key []byte, d *decodedSchema, payload []byte, withSchema bool) (*Event, error) {
	e := &Event{Topic: topic}
	var err error
	kind := kindOther
	var row *Schema
	if d != nil {
		kind, row = d.kind, d.row
	} else {
		if kind, err = sniffKind(payload); err != nil {
			return nil, fmt.Errorf("change: decode value of %s: %w", topic, err)
		}
		if withSchema && kind == kindOther && string(trimWS(payload)) == "null" {
			kind = kindEnvelope // {"schema":null,"payload":null}: a null value
		}
	}
	s := scanner{b: payload}
	switch {
	case kind != kindOther && s.null():
		// {"schema":...,"payload":null} is a null value too.
		e.Tombstone = true
		if e.Key, err = decodeKey(key); err != nil {
			return nil, fmt.Errorf("change: decode key of %s: %w", topic, err)
		}
		return e, nil
	case kind == kindEnvelope:
		var memo *atomic.Pointer[sourceMemo]
		if d != nil {
			memo = &d.source
		}
		if err = s.decodeEnvelope(e, row, memo); err == nil {
			err = s.end()
		}
		if err != nil {
			return nil, fmt.Errorf("change: decode value of %s: %w", topic, err)
		}
		if e.Key, err = decodeKey(key); err != nil {
			return nil, fmt.Errorf("change: decode key of %s: %w", topic, err)
		}
	case kind == kindSchemaChange:
		if err = s.decodeSchemaChange(e); err == nil {
			err = s.end()
		}
		if err != nil {
			return nil, fmt.Errorf("change: decode schema change of %s: %w", topic, err)
		}
	default:
		return nil, fmt.Errorf("%w (topic %s)", ErrNotEnvelope, topic)
	}
	return e, nil
}

func trimWS(b []byte) []byte {
	s := scanner{b: b}
	s.ws()
	b = b[s.i:]
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// sniffKind classifies a schemaless payload by its top-level keys.
func sniffKind(payload []byte) (recordKind, error) {
	s := scanner{b: payload}
	if s.peek() != '{' {
		return kindOther, nil
	}
	var op, source, ddl, dbName, tableChanges bool
	err := s.object(func(k []byte) error {
		switch string(k) {
		case "op":
			op = true
		case "source":
			source = true
		case "ddl":
			ddl = true
		case "databaseName":
			dbName = true
		case "tableChanges":
			tableChanges = true
		}
		_, err := s.fastSpan()
		return err
	})
	switch {
	case err != nil:
		return kindOther, err
	case op && source:
		return kindEnvelope, nil
	case source && (tableChanges || (ddl && dbName)):
		return kindSchemaChange, nil
	}
	return kindOther, nil
}

// decodeKey decodes a record key: nil for a null key.
func decodeKey(b []byte) (*Struct, error) {
	if len(b) == 0 {
		return nil, nil
	}
	d, payload, _, err := splitRecord(b)
	if err != nil {
		return nil, err
	}
	s := scanner{b: payload}
	if s.null() {
		return nil, s.end()
	}
	var v any
	if d != nil {
		if d.schema.Type != TypeStruct {
			return nil, fmt.Errorf("key schema is %s, not struct", d.schema.Type)
		}
		v, err = decodeTyped(&s, d.schema)
	} else {
		if s.peek() != '{' {
			return nil, errors.New("key is not a JSON object")
		}
		v, _, err = s.infer()
	}
	if err != nil {
		return nil, err
	}
	if err := s.end(); err != nil {
		return nil, err
	}
	st, _ := v.(*Struct)
	return st, nil
}

// DecodeJSONValue decodes a record value that is a row itself rather than
// an envelope (e.g. the output of an unwrap / ExtractNewRecordState
// transform), written with or without the schema block. It returns the row
// and its schema; a null value gives (nil, schema-or-nil, nil). Without a
// schema block the schema is inferred: objects become structs with fields
// in key order, integral numbers int64, other numbers float64, null an
// optional string, and every inferred schema is optional.
func DecodeJSONValue(b []byte) (*Struct, *Schema, error) {
	if len(b) == 0 {
		return nil, nil, nil
	}
	d, payload, _, err := splitRecord(b)
	if err != nil {
		return nil, nil, fmt.Errorf("change: decode value: %w", err)
	}
	s := scanner{b: payload}
	var v any
	var sc *Schema
	if d != nil {
		sc = d.schema
		if sc.Type != TypeStruct {
			return nil, nil, fmt.Errorf("change: decode value: schema is %s, not struct", sc.Type)
		}
		v, err = decodeTyped(&s, sc)
	} else {
		if s.null() {
			return nil, nil, s.end()
		}
		if s.peek() != '{' {
			return nil, nil, errors.New("change: decode value: not a JSON object")
		}
		v, sc, err = s.infer()
	}
	if err == nil {
		err = s.end()
	}
	if err != nil {
		return nil, nil, fmt.Errorf("change: decode value: %w", err)
	}
	st, _ := v.(*Struct)
	return st, sc, nil
}

func (s *scanner) decodeRow(row *Schema, typed bool) (*Struct, error) {
	if s.null() {
		return nil, nil
	}
	var v any
	var err error
	if typed {
		v, err = decodeTyped(s, row)
	} else {
		if s.peek() != '{' {
			return nil, errors.New("row is not a JSON object")
		}
		v, _, err = s.infer()
	}
	if err != nil {
		return nil, err
	}
	st, _ := v.(*Struct)
	return st, nil
}

func validOp(op Op) bool {
	switch op {
	case OpCreate, OpUpdate, OpDelete, OpRead, OpTruncate:
		return true
	}
	return false
}

// decodeEnvelope decodes a row envelope; with a schema block (typed), memo
// is its source memo, else nil.
func (s *scanner) decodeEnvelope(e *Event, row *Schema, memo *atomic.Pointer[sourceMemo]) error {
	typed := memo != nil
	var ts timestamps
	err := s.object(func(k []byte) error {
		var err error
		switch string(k) {
		case "before":
			if e.Before, err = s.decodeRow(row, typed); err != nil {
				err = fmt.Errorf("before: %w", err)
			}
		case "after":
			if e.After, err = s.decodeRow(row, typed); err != nil {
				err = fmt.Errorf("after: %w", err)
			}
		case "source":
			if err = s.decodeSourceMemo(&e.Source, memo); err != nil {
				err = fmt.Errorf("source: %w", err)
			}
		case "transaction":
			if s.null() {
				return nil
			}
			t := &Transaction{}
			e.Transaction = t
			err = s.object(func(k []byte) error {
				var err error
				switch string(k) {
				case "id":
					t.ID, err = s.strOrNull()
				case "total_order":
					t.TotalOrder, _, err = s.intOrNull(64)
				case "data_collection_order":
					t.DataCollectionOrder, _, err = s.intOrNull(64)
				default:
					err = s.skip()
				}
				return err
			})
			if err != nil {
				err = fmt.Errorf("transaction: %w", err)
			}
		case "op":
			var op string
			op, err = s.internedStr()
			e.Op = Op(op)
		default:
			err = ts.read(s, k)
		}
		return err
	})
	if err != nil {
		return err
	}
	if !validOp(e.Op) {
		return fmt.Errorf("unsupported op %q", e.Op)
	}
	e.TsUs = ts.micros()
	if typed {
		e.RowSchema = row
	} else if e.After != nil {
		e.RowSchema = e.After.Schema
	} else if e.Before != nil {
		e.RowSchema = e.Before.Schema
	}
	return nil
}

// timestamps collects ts_ms / ts_us / ts_ns.
type timestamps struct {
	ms, us, ns          int64
	hasMs, hasUs, hasNs bool
}

func (t *timestamps) read(s *scanner, k []byte) error {
	var err error
	switch string(k) {
	case "ts_ms":
		t.ms, t.hasMs, err = s.intOrNull(64)
	case "ts_us":
		t.us, t.hasUs, err = s.intOrNull(64)
	case "ts_ns":
		t.ns, t.hasNs, err = s.intOrNull(64)
	default:
		err = s.skip()
	}
	return err
}

func (t *timestamps) micros() int64 {
	switch {
	case t.hasUs:
		return t.us
	case t.hasNs:
		return FloorDiv(t.ns, 1000)
	}
	return t.ms * 1000
}

// decodeSourceMemo decodes a source block through memo (nil: none).
func (s *scanner) decodeSourceMemo(src *Source, memo *atomic.Pointer[sourceMemo]) error {
	if memo == nil {
		return s.decodeSource(src)
	}
	s.ws()
	if m := memo.Load(); m != nil && bytes.HasPrefix(s.b[s.i:], m.raw) {
		*src = m.src
		s.i += len(m.raw)
		return nil
	}
	start := s.i
	if err := s.decodeSource(src); err != nil {
		return err
	}
	memo.Store(&sourceMemo{raw: bytes.Clone(s.b[start:s.i]), src: *src})
	return nil
}

func (s *scanner) decodeSource(src *Source) error {
	var ts timestamps
	err := s.object(func(k []byte) error {
		var err error
		switch string(k) {
		case "version":
			src.Version, err = s.internedStr()
		case "connector":
			src.Connector, err = s.internedStr()
		case "name":
			src.Name, err = s.internedStr()
		case "snapshot":
			switch s.peek() {
			case 't', 'f': // Debezium 1.x wrote a boolean
				var b bool
				b, err = s.boolean()
				src.Snapshot = strconv.FormatBool(b)
			default:
				src.Snapshot, err = s.internedStr()
			}
		case "db":
			src.DB, err = s.internedStr()
		case "sequence":
			src.Sequence, err = s.strOrNull()
		case "schema":
			src.Schema, err = s.internedStr()
		case "table":
			src.Table, err = s.internedStr()
		case "txId":
			src.TxID, _, err = s.intOrNull(64)
		case "lsn":
			src.LSN, _, err = s.intOrNull(64)
		case "xmin":
			src.Xmin, _, err = s.intOrNull(64)
		case "origin":
			src.Origin, err = s.strOrNull()
		case "origin_lsn":
			src.OriginLSN, _, err = s.intOrNull(64)
		case "file":
			src.File, err = s.internedStr()
		case "pos":
			src.Pos, _, err = s.intOrNull(64)
		case "row":
			var v int64
			v, _, err = s.intOrNull(32)
			src.Row = int32(v)
		case "gtid":
			src.GTID, err = s.strOrNull()
		case "server_id":
			src.ServerID, _, err = s.intOrNull(64)
		case "thread":
			src.Thread, _, err = s.intOrNull(64)
		case "query":
			src.Query, err = s.strOrNull()
		default:
			err = ts.read(s, k)
		}
		if err != nil {
			err = fmt.Errorf("%s: %w", k, err)
		}
		return err
	})
	src.TsUs = ts.micros()
	return err
}

func (s *scanner) decodeSchemaChange(e *Event) error {
	sc := &SchemaChange{}
	e.SchemaChange = sc
	return s.object(func(k []byte) error {
		var err error
		switch string(k) {
		case "source":
			err = s.decodeSource(&e.Source)
		case "ts_ms":
			var ms int64
			ms, _, err = s.intOrNull(64)
			e.TsUs = ms * 1000
		case "databaseName":
			sc.DatabaseName, err = s.strOrNull()
		case "schemaName":
			sc.SchemaName, err = s.strOrNull()
		case "ddl":
			sc.DDL, err = s.strOrNull()
		case "tableChanges":
			if s.null() {
				return nil
			}
			err = s.array(func() error {
				tc, err := s.decodeTableChange()
				if err == nil {
					sc.TableChanges = append(sc.TableChanges, tc)
				}
				return err
			})
		default:
			err = s.skip()
		}
		if err != nil {
			err = fmt.Errorf("%s: %w", k, err)
		}
		return err
	})
}

func (s *scanner) strings() ([]string, error) {
	if s.null() {
		return nil, nil
	}
	var out []string
	err := s.array(func() error {
		v, err := s.str()
		out = append(out, v)
		return err
	})
	return out, err
}

func (s *scanner) decodeTableChange() (TableChange, error) {
	var tc TableChange
	err := s.object(func(k []byte) error {
		var err error
		switch string(k) {
		case "type":
			tc.Type, err = s.strOrNull()
		case "id":
			tc.ID, err = s.strOrNull()
		case "table":
			if s.null() {
				return nil
			}
			t := &tc.Table
			err = s.object(func(k []byte) error {
				var err error
				switch string(k) {
				case "defaultCharsetName":
					t.DefaultCharsetName, err = s.strOrNull()
				case "primaryKeyColumnNames":
					t.PrimaryKeyColumnNames, err = s.strings()
				case "columns":
					if s.null() {
						return nil
					}
					err = s.array(func() error {
						c, err := s.decodeColumn()
						if err == nil {
							t.Columns = append(t.Columns, c)
						}
						return err
					})
				case "comment":
					t.Comment, err = s.strOrNull()
				default:
					err = s.skip()
				}
				return err
			})
		default:
			err = s.skip()
		}
		return err
	})
	return tc, err
}

func (s *scanner) optBool() (bool, error) {
	if s.null() {
		return false, nil
	}
	return s.boolean()
}

func (s *scanner) decodeColumn() (ColumnSchema, error) {
	var c ColumnSchema
	err := s.object(func(k []byte) error {
		var err error
		var v int64
		switch string(k) {
		case "name":
			c.Name, err = s.strOrNull()
		case "jdbcType":
			v, _, err = s.intOrNull(32)
			c.JdbcType = int32(v)
		case "nativeType":
			v, _, err = s.intOrNull(32)
			c.NativeType = int32(v)
		case "typeName":
			c.TypeName, err = s.strOrNull()
		case "typeExpression":
			c.TypeExpression, err = s.strOrNull()
		case "charsetName":
			c.CharsetName, err = s.strOrNull()
		case "length":
			v, _, err = s.intOrNull(32)
			c.Length = int32(v)
		case "scale":
			var ok bool
			if v, ok, err = s.intOrNull(32); ok {
				sc := int32(v)
				c.Scale = &sc
			}
		case "position":
			v, _, err = s.intOrNull(32)
			c.Position = int32(v)
		case "optional":
			c.Optional, err = s.optBool()
		case "autoIncremented":
			c.AutoIncremented, err = s.optBool()
		case "generated":
			c.Generated, err = s.optBool()
		case "comment":
			c.Comment, err = s.strOrNull()
		case "defaultValueExpression":
			c.DefaultValue, err = s.strOrNull()
		case "enumValues":
			c.EnumValues, err = s.strings()
		default:
			err = s.skip()
		}
		return err
	})
	return c, err
}
