package transforms

import (
	"fmt"

	"github.com/sluice-cdc/sluice/change"
)

// maxPlans bounds a row editor's cache; schemaless sink records infer a
// new schema per record, so the cache is cleared when full.
const maxPlans = 4096

// rowPlan maps the rows of one input schema onto an output schema.
type rowPlan struct {
	out *change.Schema
	// fn maps one row (never nil); it must not modify its input.
	fn  func(in *change.Struct) (*change.Struct, error)
	err error
}

// rowEditor applies a per-schema plan to the row values of an event: the
// flat value of an unwrapped event, else the envelope's before and after.
// Tombstones, schema changes and non-struct flat values pass unchanged.
type rowEditor struct {
	plan  func(in *change.Schema) (*rowPlan, error)
	cache map[*change.Schema]*rowPlan
}

func newRowEditor(plan func(in *change.Schema) (*rowPlan, error)) *rowEditor {
	return &rowEditor{plan: plan, cache: map[*change.Schema]*rowPlan{}}
}

func (r *rowEditor) get(s *change.Schema) *rowPlan {
	if p, ok := r.cache[s]; ok {
		return p
	}
	p, err := r.plan(s)
	if err != nil {
		p = &rowPlan{err: err}
	}
	if len(r.cache) >= maxPlans {
		clear(r.cache)
	}
	r.cache[s] = p
	return p
}

func (r *rowEditor) apply(e *change.Event) (bool, error) {
	if e.Tombstone || e.SchemaChange != nil || e.RowSchema == nil || e.RowSchema.Type != change.TypeStruct {
		return true, nil
	}
	p := r.get(e.RowSchema)
	if p.err != nil {
		return false, p.err
	}
	flat := e.IsFlat()
	if e.Before != nil && !flat {
		row, err := r.row(p, e.RowSchema, e.Before)
		if err != nil {
			return false, fmt.Errorf("before: %w", err)
		}
		e.Before = row
	}
	if e.After != nil {
		row, err := r.row(p, e.RowSchema, e.After)
		if err != nil {
			if flat {
				return false, err
			}
			return false, fmt.Errorf("after: %w", err)
		}
		e.After = row
	}
	e.RowSchema = p.out
	return true, nil
}

// row maps one row with p, the plan of the event's RowSchema rs, or with a
// plan of its own when its schema has other fields than rs (schemaless
// records decoded by a sink infer one schema per image).
func (r *rowEditor) row(p *rowPlan, rs *change.Schema, row *change.Struct) (*change.Struct, error) {
	if row.Schema != nil && !sameFields(row.Schema, rs) {
		if p = r.get(row.Schema); p.err != nil {
			return nil, p.err
		}
	}
	return p.fn(row)
}

// sameFields reports whether a and b have the same field names in the same
// order (one shared Fields array, the common case, is checked first).
func sameFields(a, b *change.Schema) bool {
	if a == b {
		return true
	}
	if len(a.Fields) != len(b.Fields) {
		return false
	}
	if len(a.Fields) == 0 || &a.Fields[0] == &b.Fields[0] {
		return true
	}
	for i := range a.Fields {
		if a.Fields[i].Name != b.Fields[i].Name {
			return false
		}
	}
	return true
}

// copyStruct returns a struct schema with s's basics (name, version, doc,
// parameters, optional) and the given fields.
func copyStruct(s *change.Schema, fields []change.Field) *change.Schema {
	return &change.Schema{
		Type: change.TypeStruct, Optional: s.Optional, Name: s.Name, Version: s.Version, Doc: s.Doc,
		Parameters: s.Parameters, Fields: fields,
	}
}

// value returns row's i-th value, nil when absent.
func value(row *change.Struct, i int) any {
	if i < 0 || i >= len(row.Values) {
		return nil
	}
	return row.Values[i]
}

// withValues returns a copy of row with schema out and a copied value
// slice of n values that the caller may edit. Rows of up to 16 fields take
// one allocation instead of two (the struct and its values together).
func withValues(row *change.Struct, out *change.Schema, n int) *change.Struct {
	var st *change.Struct
	switch {
	case n <= 8:
		b := new(struct {
			s change.Struct
			v [8]any
		})
		st, b.s.Values = &b.s, b.v[:n:n]
	case n <= 16:
		b := new(struct {
			s change.Struct
			v [16]any
		})
		st, b.s.Values = &b.s, b.v[:n:n]
	default:
		st = &change.Struct{Values: make([]any, n)}
	}
	st.Schema = out
	copy(st.Values, row.Values)
	return st
}

// staticSchema returns the optional schema of a YAML scalar.
func staticValue(v any) (any, *change.Schema, error) {
	switch x := v.(type) {
	case string:
		return x, change.PrimitiveSchema(change.TypeString, true), nil
	case bool:
		return x, change.PrimitiveSchema(change.TypeBoolean, true), nil
	case int:
		return int64(x), change.PrimitiveSchema(change.TypeInt64, true), nil
	case int64:
		return x, change.PrimitiveSchema(change.TypeInt64, true), nil
	case float64:
		return x, change.PrimitiveSchema(change.TypeFloat64, true), nil
	case nil:
		return nil, change.PrimitiveSchema(change.TypeString, true), nil
	}
	return nil, nil, fmt.Errorf("want a string, number or boolean, got %s", kindOf(v))
}

// appendHeaders returns hs followed by add in a new array when hs has
// any, so that headers of the event a caller handed over (the writer
// transforms a copy of it) are never written to.
func appendHeaders(hs []change.Header, add ...change.Header) []change.Header {
	if len(hs) == 0 {
		return add
	}
	return append(hs[:len(hs):len(hs)], add...)
}
