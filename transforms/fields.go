package transforms

import (
	"errors"
	"fmt"
	"slices"

	"github.com/sluice-cdc/sluice/change"
)

func init() {
	register("fields", buildFields)
	register("insert", buildInsert)
}

// buildFields is Kafka Connect's ReplaceField: include (keep only these),
// exclude (drop these), rename (old: new), applied in that order.
func buildFields(o *options) (func(*change.Event) (bool, error), error) {
	include := o.strs("include")
	exclude := o.strs("exclude")
	rename := o.strMap("rename")
	if len(include) == 0 && len(exclude) == 0 && len(rename) == 0 {
		return nil, errors.New("fields needs include, exclude or rename")
	}
	ed := newRowEditor(func(in *change.Schema) (*rowPlan, error) {
		var fields []change.Field
		var idx []int
		for i, f := range in.Fields {
			if len(include) > 0 && !slices.Contains(include, f.Name) {
				continue
			}
			if slices.Contains(exclude, f.Name) {
				continue
			}
			if n, ok := rename[f.Name]; ok {
				f.Name = n
			}
			fields = append(fields, f)
			idx = append(idx, i)
		}
		seen := map[string]bool{}
		for _, f := range fields {
			if seen[f.Name] {
				return nil, fmt.Errorf("rename gives two fields named %q", f.Name)
			}
			seen[f.Name] = true
		}
		out := copyStruct(in, fields)
		return &rowPlan{out: out, fn: func(row *change.Struct) (*change.Struct, error) {
			vals := make([]any, len(idx))
			for j, i := range idx {
				vals[j] = value(row, i)
			}
			return &change.Struct{Schema: out, Values: vals}, nil
		}}, nil
	})
	return ed.apply, nil
}

// buildInsert is Kafka Connect's InsertField (static fields) and
// InsertHeader: fields {name: value} are set in the row values (the flat
// value, or before and after), headers {name: value} on every record.
func buildInsert(o *options) (func(*change.Event) (bool, error), error) {
	fields, fieldOrder := o.anyMap("fields")
	headers, headerOrder := o.strMapOrdered("headers")
	if len(fields) == 0 && len(headers) == 0 {
		return nil, errors.New("insert needs fields or headers")
	}
	type static struct {
		name   string
		value  any
		schema *change.Schema
	}
	var statics []static
	for _, name := range fieldOrder {
		v, s, err := staticValue(fields[name])
		if err != nil {
			o.errorf("fields."+name, "%v", err)
			continue
		}
		statics = append(statics, static{name, v, s})
	}
	hs := make([]change.Header, 0, len(headerOrder))
	for _, k := range headerOrder {
		hs = append(hs, change.Header{Key: k, Value: []byte(headers[k])})
	}
	var ed *rowEditor
	if len(statics) > 0 {
		ed = newRowEditor(func(in *change.Schema) (*rowPlan, error) {
			fields := slices.Clone(in.Fields)
			pos := make([]int, len(statics))
			for j, st := range statics {
				i := in.FieldIndex(st.name)
				if i < 0 {
					i = len(fields)
					fields = append(fields, change.Field{Name: st.name, Schema: st.schema})
				} else {
					fields[i].Schema = st.schema
				}
				pos[j] = i
			}
			out := copyStruct(in, fields)
			return &rowPlan{out: out, fn: func(row *change.Struct) (*change.Struct, error) {
				r := withValues(row, out, len(fields))
				for j, st := range statics {
					r.Values[pos[j]] = st.value
				}
				return r, nil
			}}, nil
		})
	}
	return func(e *change.Event) (bool, error) {
		if len(hs) > 0 {
			e.Headers = appendHeaders(e.Headers, hs...)
		}
		if ed != nil {
			return ed.apply(e)
		}
		return true, nil
	}, nil
}
