package transforms

import (
	"errors"
	"fmt"
	"regexp"

	"github.com/sluice-cdc/sluice/change"
)

func init() { register("route", buildRoute) }

// DefaultKeyFieldName is the key field ByLogicalTableRouter adds to keep
// keys unique when several tables are merged into one topic.
const DefaultKeyFieldName = "__dbz__physicalTableIdentifier"

// expandAll replaces the whole of s, which re matches entirely, with the
// template ($1, ${1}, ${name}).
func expandAll(re *regexp.Regexp, template, s string) (string, bool) {
	m := re.FindStringSubmatchIndex(s)
	if m == nil || m[0] != 0 || m[1] != len(s) {
		return "", false
	}
	return string(re.ExpandString(nil, template, s, m)), true
}

func anchored(o *options, key, pat string) *regexp.Regexp {
	re, err := regexp.Compile("^(?:" + pat + ")$")
	if err != nil {
		o.errorf(key, "%v", err)
		return nil
	}
	return re
}

// buildRoute renames topics matching regex (whole name) to replacement, as
// Kafka Connect's RegexRouter does. With key_enforce_uniqueness (Debezium's
// ByLogicalTableRouter, for merging sharded tables: orders_(\d+) ->
// orders) the key gets a field key_field_name holding the original topic
// (or its key_field_regex/key_field_replacement rewrite), so rows of two
// shards with the same primary key stay distinct; key and value schemas
// are renamed after the new topic.
func buildRoute(o *options) (func(*change.Event) (bool, error), error) {
	pat := o.str("regex", "")
	replacement := o.str("replacement", "")
	unique := o.boolean("key_enforce_uniqueness", false)
	keyField := o.str("key_field_name", DefaultKeyFieldName)
	keyPat := o.str("key_field_regex", "")
	keyRepl := o.str("key_field_replacement", "")
	if pat == "" {
		o.errorf("regex", "route needs regex (matched against the whole topic name)")
	}
	if replacement == "" {
		o.errorf("replacement", "route needs replacement (the new topic; $1 or ${name} refer to groups of regex)")
	}
	if (keyPat == "") != (keyRepl == "") {
		o.errorf("key_field_regex", "key_field_regex and key_field_replacement go together")
	}
	if !unique && (keyPat != "" || o.t.Options["key_field_name"] != nil) {
		o.errorf("key_enforce_uniqueness", "key_field_name and key_field_regex need key_enforce_uniqueness: true")
	}
	if pat == "" || replacement == "" {
		return nil, errors.New("incomplete route")
	}
	re := anchored(o, "regex", pat)
	var keyRe *regexp.Regexp
	if keyPat != "" {
		keyRe = anchored(o, "key_field_regex", keyPat)
	}
	if re == nil || (keyPat != "" && keyRe == nil) {
		return nil, errors.New("invalid route")
	}

	type routed struct {
		ok       bool
		topic    string
		keyValue string
	}
	topics := map[string]routed{}
	type schemaKey struct {
		s     *change.Schema
		topic string
	}
	keySchemas := map[schemaKey]*change.Schema{}
	rowSchemas := map[schemaKey]*change.Schema{}
	// The last row schema renamed: consecutive events are mostly of one
	// table.
	var lastRow schemaKey
	var lastRenamed *change.Schema
	return func(e *change.Event) (bool, error) {
		r, seen := topics[e.Topic]
		if !seen {
			r.topic, r.ok = expandAll(re, replacement, e.Topic)
			if r.ok && r.topic == "" {
				return false, fmt.Errorf("topic %s is routed to an empty name", e.Topic)
			}
			r.keyValue = e.Topic
			if keyRe != nil {
				if v, ok := expandAll(keyRe, keyRepl, e.Topic); ok {
					r.keyValue = v
				}
			}
			if len(topics) >= maxPlans {
				clear(topics)
			}
			topics[e.Topic] = r
		}
		if !r.ok {
			return true, nil
		}
		old := e.Topic
		e.Topic = r.topic
		if rs := e.RowSchema; rs != nil && rs == lastRow.s && r.topic == lastRow.topic {
			e.RowSchema = lastRenamed
		} else if rs != nil && len(rs.Name) == len(old)+len(".Value") && rs.Name == change.ValueSchemaName(old) {
			k := schemaKey{rs, r.topic}
			ns, ok := rowSchemas[k]
			if !ok {
				c := *rs
				c.Name = change.ValueSchemaName(r.topic)
				ns = &c
				if len(rowSchemas) >= maxPlans {
					clear(rowSchemas)
				}
				rowSchemas[k] = ns
			}
			e.RowSchema = ns
			lastRow, lastRenamed = k, ns
		}
		if !unique || e.Key == nil || e.Key.Schema == nil {
			return true, nil
		}
		ks := e.Key.Schema
		k := schemaKey{ks, r.topic}
		nks, ok := keySchemas[k]
		if !ok {
			if ks.FieldIndex(keyField) >= 0 {
				return false, fmt.Errorf("key of %s already has a field %s", old, keyField)
			}
			fs := append(append(make([]change.Field, 0, len(ks.Fields)+1), ks.Fields...),
				change.Field{Name: keyField, Schema: change.PrimitiveSchema(change.TypeString, false)})
			nks = copyStruct(ks, fs)
			if ks.Name == change.KeySchemaName(old) || ks.Name == "" {
				nks.Name = change.KeySchemaName(r.topic)
			}
			if len(keySchemas) >= maxPlans {
				clear(keySchemas)
			}
			keySchemas[k] = nks
		}
		vals := make([]any, len(nks.Fields))
		copy(vals, e.Key.Values)
		vals[len(vals)-1] = r.keyValue
		e.Key = &change.Struct{Schema: nks, Values: vals}
		return true, nil
	}, nil
}
