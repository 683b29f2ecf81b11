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

// filterEnv is what a filter condition sees. Maps are built only when the
// condition names them.
type filterEnv struct {
	// Topic is the record's topic (a string).
	Topic any `expr:"topic"`
	// Op is the envelope's op (c, u, d, r, t); "" for tombstones, schema
	// changes and flat (unwrapped) records.
	Op any `expr:"op"`
	// Tombstone is true for a null-valued record.
	Tombstone any `expr:"tombstone"`
	// Key is the record key's fields; nil for a null key.
	Key map[string]any `expr:"key"`
	// Value is the record value as Debezium's Filter SMT sees it: the
	// envelope (value.op, value.before, value.after, value.source, value.ts_ms)
	// or the flat row; nil for a tombstone.
	Value map[string]any `expr:"value"`
	// Before and After are the envelope's row images; After is the flat
	// row of an unwrapped record.
	Before map[string]any `expr:"before"`
	After  map[string]any `expr:"after"`
	// Source is the envelope's source block (table, db, schema, lsn, ...).
	Source map[string]any `expr:"source"`
	// Headers are the record headers as strings.
	Headers map[string]string `expr:"headers"`
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
	prog, err := expr.Compile(cond, expr.Env(&filterEnv{}), expr.AsBool(), expr.Patch(ids))
	if err != nil {
		o.errorf("condition", "%v", oneLine{err})
		return nil, nil
	}
	var machine vm.VM
	env := &filterEnv{Topic: "", Op: ""}
	lastTopic := ""

	wantKeep := action == "keep"
	usesMaps := ids["key"] || ids["before"] || ids["after"] || ids["source"] || ids["value"] || ids["headers"]
	return func(e *change.Event) (bool, error) {
		if e.Tombstone {
			switch nulls {
			case "keep":
				return true, nil
			case "drop":
				return false, nil
			}
		}
		// Fields are set one by one (a whole-struct assignment costs write
		// barriers on every event); maps are built only when named.
		// Topic, Op and Tombstone are interfaces holding values boxed once
		// (expr reads them without allocating).
		if e.Topic != lastTopic {
			lastTopic, env.Topic = e.Topic, e.Topic
		}
		env.Op, env.Tombstone = boxedOp(e.Op), e.Tombstone
		if usesMaps {
			flat := e.IsFlat()
			env.Key, env.Before, env.After, env.Source, env.Value, env.Headers = nil, nil, nil, nil, nil, nil
			if ids["key"] && e.Key != nil {
				env.Key = structMap(e.Key)
			}
			if ids["before"] && !flat && e.Before != nil {
				env.Before = structMap(e.Before)
			}
			if ids["after"] && e.After != nil {
				env.After = structMap(e.After)
			}
			if ids["source"] || ids["value"] {
				env.Source = sourceMap(e)
			}
			if ids["value"] && !e.Tombstone {
				env.Value = valueMap(e, env.Source)
			}
			if ids["headers"] && len(e.Headers) > 0 {
				env.Headers = make(map[string]string, len(e.Headers))
				for _, h := range e.Headers {
					env.Headers[h.Key] = string(h.Value)
				}
			}
		}
		out, err := machine.Run(prog, env)
		if err != nil {
			return false, fmt.Errorf("condition %q: %w", cond, oneLine{err})
		}
		b, _ := out.(bool)
		return b == wantKeep, nil
	}, nil
}

var boxedOps = map[change.Op]any{}

func init() {
	for _, op := range []change.Op{"", change.OpCreate, change.OpUpdate, change.OpDelete, change.OpRead, change.OpTruncate} {
		boxedOps[op] = string(op)
	}
}

// boxedOp returns op as an interface without allocating for known ops.
func boxedOp(op change.Op) any {
	if b, ok := boxedOps[op]; ok {
		return b
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
