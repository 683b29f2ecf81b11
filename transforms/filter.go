package transforms

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"

	"github.com/sluice-cdc/sluice/change"
)

func init() { register("filter", buildFilter) }

// filterVars are the variables a filter condition sees, with example
// values for type checking:
//
//	topic      the record's topic
//	op         the envelope's op (c, u, d, r, t); "" for tombstones,
//	           schema changes and flat (unwrapped) records
//	tombstone  true for a null-valued record
//	key        the record key's fields; nil for a null key
//	value      the record value as Debezium's Filter SMT sees it: the
//	           envelope (value.op, value.before, value.after, value.source,
//	           value.ts_ms) or the flat row; nil for a tombstone
//	before     the envelope's before image
//	after      the envelope's after image, or the flat row
//	source     the envelope's source block (table, db, schema, lsn, ...)
//	headers    the record headers as strings
//
// The environment is one map reused for every event; only the variables a
// condition names are set (expr reads a map faster than a struct).
var filterVars = map[string]any{
	"topic": "", "op": "", "tombstone": false,
	"key": map[string]any{}, "value": map[string]any{}, "before": map[string]any{}, "after": map[string]any{},
	"source": map[string]any{}, "headers": map[string]string{},
}

// oneLine is an expr error without the picture of the position that
// follows its first line.
type oneLine struct{ err error }

func (e oneLine) Error() string {
	msg, _, _ := strings.Cut(e.err.Error(), "\n")
	return msg
}

func (e oneLine) Unwrap() error { return e.err }

// identifiers records the variables a condition uses.
type identifiers map[string]bool

func (ids identifiers) Visit(n *ast.Node) {
	if id, ok := (*n).(*ast.IdentifierNode); ok {
		ids[id.Value] = true
	}
}

// buildFilter keeps (action: keep, the default) or drops (action: drop)
// the records for which condition, an expr-lang expression over topic,
// op, key, value, before, after, source, headers and tombstone, is true.
// Tombstones are kept without evaluating the condition unless
// null_handling is drop or evaluate (Debezium's null.handling.mode).
func buildFilter(o *options) (func(*change.Event) (bool, error), error) {
	cond := o.str("condition", "")
	action := o.oneOf("action", "keep", "keep", "drop")
	nulls := o.oneOf("null_handling", "keep", "keep", "drop", "evaluate")
	if cond == "" {
		o.errorf("condition", `filter needs a condition, such as op != "r" or after.qty > 0`)
		return nil, nil
	}
	ids := identifiers{}
	prog, err := expr.Compile(cond, expr.Env(filterVars), expr.AsBool(), expr.Patch(ids))
	if err != nil {
		o.errorf("condition", "%v", oneLine{err})
		return nil, nil
	}
	var machine vm.VM
	env := make(map[string]any, len(filterVars))
	var lastTopic string
	var boxedTopic any = ""
	wantKeep := action == "keep"
	useTopic, useOp, useTombstone := ids["topic"], ids["op"], ids["tombstone"]
	useMaps := ids["key"] || ids["before"] || ids["after"] || ids["source"] || ids["value"] || ids["headers"]
	setMaps := func(env map[string]any, e *change.Event) {
		flat := e.IsFlat()
		if ids["key"] {
			env["key"] = structMap(e.Key)
		}
		if ids["before"] {
			var m map[string]any
			if !flat {
				m = structMap(e.Before)
			}
			env["before"] = m
		}
		if ids["after"] {
			env["after"] = structMap(e.After)
		}
		var src map[string]any
		if ids["source"] || ids["value"] {
			src = sourceMap(e)
			env["source"] = src
		}
		if ids["value"] {
			var m map[string]any
			if !e.Tombstone {
				m = valueMap(e, src)
			}
			env["value"] = m
		}
		if ids["headers"] {
			hs := make(map[string]string, len(e.Headers))
			for _, h := range e.Headers {
				hs[h.Key] = string(h.Value)
			}
			env["headers"] = hs
		}
	}
	return func(e *change.Event) (bool, error) {
		if e.Tombstone {
			switch nulls {
			case "keep":
				return true, nil
			case "drop":
				return false, nil
			}
		}
		// Values are boxed once where possible: topic per distinct topic,
		// op and tombstone from constants.
		if useTopic {
			if e.Topic != lastTopic || boxedTopic == "" {
				lastTopic, boxedTopic = e.Topic, e.Topic
			}
			env["topic"] = boxedTopic
		}
		if useOp {
			env["op"] = boxedOp(e.Op)
		}
		if useTombstone {
			env["tombstone"] = boxedBools[b2i(e.Tombstone)]
		}
		if useMaps {
			setMaps(env, e)
		}
		out, err := machine.Run(prog, env)
		if err != nil {
			return false, fmt.Errorf("condition %q: %w", cond, oneLine{err})
		}
		b, _ := out.(bool)
		return b == wantKeep, nil
	}, nil
}

var boxedBools = [2]any{false, true}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// boxedOp returns op as an interface; constants box without allocating.
func boxedOp(op change.Op) any {
	switch op {
	case change.OpCreate:
		return "c"
	case change.OpUpdate:
		return "u"
	case change.OpDelete:
		return "d"
	case change.OpRead:
		return "r"
	case change.OpTruncate:
		return "t"
	case "":
		return ""
	}
	return string(op)
}

func valueMap(e *change.Event, source map[string]any) map[string]any {
	switch {
	case e.IsFlat():
		if e.After != nil {
			return structMap(e.After)
		}
		return map[string]any{"value": plain(e.RowSchema, e.Value)}
	case e.SchemaChange != nil:
		return map[string]any{"source": source, "databaseName": e.SchemaChange.DatabaseName,
			"schemaName": e.SchemaChange.SchemaName, "ddl": e.SchemaChange.DDL}
	}
	m := map[string]any{"op": string(e.Op), "source": source, "ts_ms": floorDiv(e.TsUs, 1000)}
	if e.Before != nil {
		m["before"] = structMap(e.Before)
	} else {
		m["before"] = nil
	}
	if e.After != nil {
		m["after"] = structMap(e.After)
	} else {
		m["after"] = nil
	}
	return m
}

var sourceNames = []string{"version", "connector", "name", "ts_ms", "snapshot", "db", "sequence", "schema", "table",
	"txId", "lsn", "xmin", "file", "pos", "row", "gtid", "server_id", "thread", "query"}

func sourceMap(e *change.Event) map[string]any {
	m := make(map[string]any, len(sourceNames))
	for _, n := range sourceNames {
		_, get := metaRefs["source."+n]()
		m[n] = get(e)
	}
	return m
}

// structMap converts a struct into a map for expressions: Decimals become
// float64, bytes strings, nested structs maps.
func structMap(s *change.Struct) map[string]any {
	if s == nil || s.Schema == nil {
		return nil
	}
	m := make(map[string]any, len(s.Schema.Fields))
	for i, f := range s.Schema.Fields {
		m[f.Name] = plain(f.Schema, value(s, i))
	}
	return m
}

func plain(sc *change.Schema, v any) any {
	switch x := v.(type) {
	case []byte:
		if sc != nil && sc.Name == change.DecimalName {
			scale, _ := strconv.Atoi(sc.Parameters[change.DecimalScaleParam])
			r := new(big.Rat).SetFrac(change.DecimalFromBytes(x), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil))
			f, _ := r.Float64()
			return f
		}
		return string(x)
	case *change.Struct:
		return structMap(x)
	case []any:
		out := make([]any, len(x))
		for i, el := range x {
			var items *change.Schema
			if sc != nil {
				items = sc.Items
			}
			out[i] = plain(items, el)
		}
		return out
	}
	return v
}
