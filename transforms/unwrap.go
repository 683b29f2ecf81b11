package transforms

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sluice-cdc/sluice/change"
)

func init() { register("unwrap", buildUnwrap) }

// DeletedField is the field delete_handling: rewrite adds, "true" for
// deletes and "false" otherwise (a string, as Debezium writes it).
const DeletedField = "__deleted"

// metaField is an envelope or source field that add_fields / add_headers
// copy into the record.
type metaField struct {
	name   string // output name: prefix + ref with "." -> "_"
	schema *change.Schema
	get    func(e *change.Event) any
}

func optString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func optInt(n int64) any {
	if n == 0 {
		return nil
	}
	return n
}

var (
	optStringSchema = change.PrimitiveSchema(change.TypeString, true)
	optInt64Schema  = change.PrimitiveSchema(change.TypeInt64, true)
	optInt32Schema  = change.PrimitiveSchema(change.TypeInt32, true)
)

// metaRefs are the fields add_fields and add_headers accept: envelope
// fields (op, ts_ms, ts_us, ts_ns, transaction.*) and source fields, with
// or without "source.".
var metaRefs = map[string]func() (*change.Schema, func(e *change.Event) any){
	"op":    str(func(e *change.Event) string { return string(e.Op) }),
	"ts_ms": i64(func(e *change.Event) int64 { return floorDiv(e.TsUs, 1000) }),
	"ts_us": i64(func(e *change.Event) int64 { return e.TsUs }),
	"ts_ns": i64(func(e *change.Event) int64 { return e.TsUs * 1000 }),
	"transaction.id": str(func(e *change.Event) string {
		if e.Transaction == nil {
			return ""
		}
		return e.Transaction.ID
	}),
	"transaction.total_order": i64(func(e *change.Event) int64 {
		if e.Transaction == nil {
			return 0
		}
		return e.Transaction.TotalOrder
	}),
	"transaction.data_collection_order": i64(func(e *change.Event) int64 {
		if e.Transaction == nil {
			return 0
		}
		return e.Transaction.DataCollectionOrder
	}),
	"source.version":   str(func(e *change.Event) string { return e.Source.Version }),
	"source.connector": str(func(e *change.Event) string { return e.Source.Connector }),
	"source.name":      str(func(e *change.Event) string { return e.Source.Name }),
	"source.ts_ms":     i64(func(e *change.Event) int64 { return floorDiv(e.Source.TsUs, 1000) }),
	"source.ts_us":     i64(func(e *change.Event) int64 { return e.Source.TsUs }),
	"source.ts_ns":     i64(func(e *change.Event) int64 { return e.Source.TsUs * 1000 }),
	"source.snapshot": str(func(e *change.Event) string {
		if e.Source.Snapshot == "" {
			return "false"
		}
		return e.Source.Snapshot
	}),
	"source.db":        str(func(e *change.Event) string { return e.Source.DB }),
	"source.sequence":  str(func(e *change.Event) string { return e.Source.Sequence }),
	"source.schema":    str(func(e *change.Event) string { return e.Source.Schema }),
	"source.table":     str(func(e *change.Event) string { return e.Source.Table }),
	"source.txId":      i64(func(e *change.Event) int64 { return e.Source.TxID }),
	"source.lsn":       i64(func(e *change.Event) int64 { return e.Source.LSN }),
	"source.xmin":      i64(func(e *change.Event) int64 { return e.Source.Xmin }),
	"source.file":      str(func(e *change.Event) string { return e.Source.File }),
	"source.pos":       i64(func(e *change.Event) int64 { return e.Source.Pos }),
	"source.gtid":      str(func(e *change.Event) string { return e.Source.GTID }),
	"source.server_id": i64(func(e *change.Event) int64 { return e.Source.ServerID }),
	"source.thread":    i64(func(e *change.Event) int64 { return e.Source.Thread }),
	"source.query":     str(func(e *change.Event) string { return e.Source.Query }),
	"source.row": func() (*change.Schema, func(e *change.Event) any) {
		return optInt32Schema, func(e *change.Event) any { return e.Source.Row }
	},
}

func str(f func(e *change.Event) string) func() (*change.Schema, func(e *change.Event) any) {
	return func() (*change.Schema, func(e *change.Event) any) {
		return optStringSchema, func(e *change.Event) any { return optString(f(e)) }
	}
}

func i64(f func(e *change.Event) int64) func() (*change.Schema, func(e *change.Event) any) {
	return func() (*change.Schema, func(e *change.Event) any) {
		return optInt64Schema, func(e *change.Event) any { return optInt(f(e)) }
	}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// metaFields resolves add_fields / add_headers names.
func (o *options) metaFields(key, prefix string) []metaField {
	var out []metaField
	for i, name := range o.strs(key) {
		ref := name
		mk, ok := metaRefs[ref]
		if !ok && !strings.Contains(ref, ".") {
			ref = "source." + name
			mk, ok = metaRefs[ref]
		}
		if !ok {
			o.errorf(fmt.Sprintf("%s[%d]", key, i), "unknown field %q: want op, ts_ms, transaction.id or a source field such as table, lsn, source.ts_ms", name)
			continue
		}
		s, get := mk()
		out = append(out, metaField{name: prefix + strings.ReplaceAll(name, ".", "_"), schema: s, get: get})
	}
	return out
}

// headerText is a header value's text; nil stays nil.
func headerText(v any) []byte {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		return []byte(x)
	case int64:
		return strconv.AppendInt(nil, x, 10)
	case int32:
		return strconv.AppendInt(nil, int64(x), 10)
	}
	return []byte(fmt.Sprint(v))
}

// buildUnwrap is Debezium's ExtractNewRecordState: a row event becomes
// its after state (a flat value); deletes are dropped, rewritten (the
// before state plus __deleted: "true") or kept as a null value (none);
// tombstones are dropped unless drop_tombstones is false. Schema-change,
// truncate and already flat events pass unchanged.
func buildUnwrap(o *options) (func(*change.Event) (bool, error), error) {
	dropTombstones := o.boolean("drop_tombstones", true)
	deletes := o.oneOf("delete_handling", "drop", "drop", "rewrite", "none")
	fieldPrefix := o.str("add_fields_prefix", "__")
	headerPrefix := o.str("add_headers_prefix", "__")
	fields := o.metaFields("add_fields", fieldPrefix)
	headers := o.metaFields("add_headers", headerPrefix)
	rewrite := deletes == "rewrite"

	type plan struct {
		out *change.Schema
		n   int // row fields
	}
	cache := map[*change.Schema]*plan{}
	planFor := func(in *change.Schema) *plan {
		if p, ok := cache[in]; ok {
			return p
		}
		p := &plan{n: len(in.Fields)}
		if len(fields) == 0 && !rewrite {
			// The value schema is the envelope's after field: optional.
			out := *in
			out.Optional = true
			p.out = &out
		} else {
			fs := append(make([]change.Field, 0, len(in.Fields)+len(fields)+1), in.Fields...)
			for _, f := range fields {
				fs = append(fs, change.Field{Name: f.name, Schema: f.schema})
			}
			if rewrite {
				fs = append(fs, change.Field{Name: DeletedField, Schema: optStringSchema})
			}
			p.out = copyStruct(in, fs)
			p.out.Optional = false
		}
		if len(cache) >= maxPlans {
			clear(cache)
		}
		cache[in] = p
		return p
	}

	return func(e *change.Event) (bool, error) {
		switch {
		case e.Tombstone:
			return !dropTombstones, nil
		case !e.IsRow():
			return true, nil // schema change, truncate, already flat
		}
		row := e.After
		if e.Op == change.OpDelete {
			switch {
			case deletes == "drop":
				return false, nil
			case deletes == "none" || e.Before == nil:
				// A delete without a before image (REPLICA IDENTITY
				// NOTHING) cannot be rewritten: it becomes a null value,
				// as with none.
				e.Tombstone = true
				e.Op, e.Before, e.After = "", nil, nil
				return true, nil
			}
			row = e.Before
		}
		if row == nil {
			return false, fmt.Errorf("%s event without an after image", e.Op)
		}
		if len(headers) > 0 {
			hs := make([]change.Header, len(headers))
			for i, h := range headers {
				hs[i] = change.Header{Key: h.name, Value: headerText(h.get(e))}
			}
			e.Headers = appendHeaders(e.Headers, hs...)
		}
		p := planFor(e.RowSchema)
		if len(fields) > 0 || rewrite {
			vals := make([]any, len(p.out.Fields))
			copy(vals, row.Values[:min(len(row.Values), p.n)])
			i := p.n
			for _, f := range fields {
				vals[i] = f.get(e)
				i++
			}
			if rewrite {
				vals[i] = "false"
				if e.Op == change.OpDelete {
					vals[i] = "true"
				}
			}
			row = &change.Struct{Schema: p.out, Values: vals}
		}
		// Without added fields the row keeps its Struct (its Schema has
		// the same fields as p.out, which only differs in optionality).
		e.Op, e.Before, e.After, e.RowSchema = "", nil, row, p.out
		return true, nil
	}, nil
}
