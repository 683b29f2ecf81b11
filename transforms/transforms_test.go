package transforms_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/sluice-cdc/sluice/change"
	"github.com/sluice-cdc/sluice/configs"
	"github.com/sluice-cdc/sluice/transforms"
)

const (
	annRow  = `"id":1,"email":"ann@example.com","name":"Ann","score":"BOI=","created":"2024-05-06T07:08:09.123456Z"`
	annRow2 = `"id":1,"email":"ann@example.org","name":"Ann","score":"Jw8=","created":"2024-05-06T07:08:09.123456Z"`
)

// step is one table-test case: events in, the chain, and the expected
// schemaless key and value (or drop).
type step struct {
	name  string
	chain []configs.Transform
	in    change.Event
	drop  bool
	topic string // "" = unchanged
	key   string // "" = not checked
	value string // "" = not checked; "null" for a tombstone
}

func run(t *testing.T, cases []step) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := chain(t, tc.chain...)
			out, keep := apply(t, c, tc.in)
			if keep == tc.drop {
				t.Fatalf("keep = %v, want %v", keep, !tc.drop)
			}
			if tc.drop {
				return
			}
			if tc.topic != "" && out.Topic != tc.topic {
				t.Errorf("topic = %s, want %s", out.Topic, tc.topic)
			}
			k, v := payload(t, out)
			if v == "" {
				v = "null"
			}
			if tc.key != "" && k != tc.key {
				t.Errorf("key:\n got %s\nwant %s", k, tc.key)
			}
			if tc.value != "" && v != tc.value {
				t.Errorf("value:\n got %s\nwant %s", v, tc.value)
			}
			// Whatever came out must encode with schemas too.
			encode(t, out)
		})
	}
}

func TestUnwrap(t *testing.T) {
	ins, upd, del, tomb := pgEvents(t)
	my1, _, myDel, myTomb := myEvents(t)
	run(t, []step{
		{name: "pg insert", chain: []configs.Transform{tf("unwrap")}, in: ins, key: `{"id":1}`, value: `{` + annRow + `}`},
		{name: "pg update", chain: []configs.Transform{tf("unwrap")}, in: upd, value: `{` + annRow2 + `}`},
		{name: "delete dropped by default", chain: []configs.Transform{tf("unwrap")}, in: del, drop: true},
		{name: "tombstone dropped by default", chain: []configs.Transform{tf("unwrap")}, in: tomb, drop: true},
		{name: "tombstone kept", chain: []configs.Transform{tf("unwrap", "drop_tombstones", false)}, in: tomb, key: `{"id":1}`, value: "null"},
		{name: "delete none is a null value", chain: []configs.Transform{tf("unwrap", "delete_handling", "none")}, in: del, key: `{"id":1}`, value: "null"},
		{name: "delete rewrite", chain: []configs.Transform{tf("unwrap", "delete_handling", "rewrite")}, in: del,
			value: `{` + annRow2 + `,"__deleted":"true"}`},
		{name: "delete rewrite without before image", chain: []configs.Transform{tf("unwrap", "delete_handling", "rewrite")}, in: func() change.Event { d := del; d.Before = nil; return d }(),
			key: `{"id":1}`, value: "null"},
		{name: "insert rewrite", chain: []configs.Transform{tf("unwrap", "delete_handling", "rewrite")}, in: ins,
			value: `{` + annRow + `,"__deleted":"false"}`},
		{name: "add_fields pg", chain: []configs.Transform{tf("unwrap", "add_fields", "op,table,lsn,source.ts_ms")}, in: upd,
			value: `{` + annRow2 + `,"__op":"u","__table":"customers","__lsn":4352,"__source_ts_ms":1714979289123}`},
		{name: "add_fields mysql", chain: []configs.Transform{tf("unwrap", "add_fields", []any{"op", "db", "file", "pos"}, "delete_handling", "rewrite")}, in: myDel,
			value: `{"id":7,"customer":"bob","qty":3,"__op":"d","__db":"shop","__file":"mysql-bin.000003","__pos":4711,"__deleted":"true"}`},
		{name: "mysql insert", chain: []configs.Transform{tf("unwrap")}, in: my1, value: `{"id":7,"customer":"bob","qty":3}`},
		{name: "mysql tombstone", chain: []configs.Transform{tf("unwrap")}, in: myTomb, drop: true},
	})

	// Schemas: the after field's schema (optional) when nothing is added,
	// a rebuilt required struct with the added fields otherwise.
	out, _ := apply(t, chain(t, tf("unwrap")), ins)
	if !out.IsFlat() || out.Op != "" || out.Before != nil || !out.RowSchema.Optional || out.RowSchema.Name != "inventory.public.customers.Value" {
		t.Errorf("flat event: op %q flat %v schema %+v", out.Op, out.IsFlat(), out.RowSchema)
	}
	_, v := encode(t, out)
	if !strings.HasPrefix(v, `{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"}`) ||
		!strings.Contains(v, `"optional":true,"name":"inventory.public.customers.Value"},"payload":{"id":1,`) {
		t.Errorf("flat value with schema: %s", v)
	}
	c := chain(t, tf("unwrap", "add_fields", "op"))
	a, _ := apply(t, c, ins)
	b, _ := apply(t, c, upd)
	if a.RowSchema != b.RowSchema || a.RowSchema.Optional || a.RowSchema.Fields[5].Name != "__op" {
		t.Errorf("derived schema is not cached per input schema, or wrong: %+v", a.RowSchema)
	}
	// The input event's schema is untouched.
	if len(ins.RowSchema.Fields) != 5 {
		t.Errorf("input schema modified: %+v", ins.RowSchema.Fields)
	}

	h, _ := apply(t, chain(t, tf("unwrap", "add_headers", "op,table,source.lsn")), ins)
	want := []change.Header{{Key: "__op", Value: []byte("c")}, {Key: "__table", Value: []byte("customers")}, {Key: "__source_lsn", Value: []byte("4096")}}
	if len(h.Headers) != len(want) {
		t.Fatalf("headers: %+v", h.Headers)
	}
	for i := range want {
		if h.Headers[i].Key != want[i].Key || string(h.Headers[i].Value) != string(want[i].Value) {
			t.Errorf("header %d = %s=%s, want %s=%s", i, h.Headers[i].Key, h.Headers[i].Value, want[i].Key, want[i].Value)
		}
	}
}

func TestRoute(t *testing.T) {
	my1, my2, myDel, myTomb := myEvents(t)
	ins, _, _, _ := pgEvents(t)
	merge := tf("route", "regex", `shop\.shop\.orders_(\d+)`, "replacement", "shop.shop.orders", "key_enforce_uniqueness", true)
	run(t, []step{
		{name: "shard 1", chain: []configs.Transform{merge}, in: my1, topic: "shop.shop.orders",
			key: `{"id":7,"__dbz__physicalTableIdentifier":"shop.shop.orders_1"}`},
		{name: "shard 2", chain: []configs.Transform{merge}, in: my2, topic: "shop.shop.orders",
			key: `{"id":7,"__dbz__physicalTableIdentifier":"shop.shop.orders_2"}`},
		{name: "tombstone keeps the key unique too", chain: []configs.Transform{merge}, in: myTomb, topic: "shop.shop.orders",
			key: `{"id":7,"__dbz__physicalTableIdentifier":"shop.shop.orders_1"}`, value: "null"},
		{name: "other topics pass", chain: []configs.Transform{merge}, in: ins, topic: "inventory.public.customers", key: `{"id":1}`},
		{name: "rename only", chain: []configs.Transform{tf("route", "regex", `inventory\.public\.(.*)`, "replacement", "crm.${1}")}, in: ins,
			topic: "crm.customers", key: `{"id":1}`},
		{name: "key field regex and name", chain: []configs.Transform{tf("route", "regex", `shop\.shop\.orders_(\d+)`, "replacement", "orders",
			"key_enforce_uniqueness", true, "key_field_name", "shard", "key_field_regex", `.*_(\d+)`, "key_field_replacement", "$1")}, in: myDel,
			topic: "orders", key: `{"id":7,"shard":"1"}`},
	})
	c := chain(t, merge)
	a, _ := apply(t, c, my1)
	b, _ := apply(t, c, my2)
	if a.Key.Schema.Name != "shop.shop.orders.Key" || !a.Key.Schema.Equal(b.Key.Schema) {
		t.Errorf("merged key schemas: %+v vs %+v", a.Key.Schema, b.Key.Schema)
	}
	if a.RowSchema.Name != "shop.shop.orders.Value" || !a.RowSchema.Equal(b.RowSchema) {
		t.Errorf("merged row schemas: %s vs %s", a.RowSchema.Name, b.RowSchema.Name)
	}
	_, v := encode(t, a)
	if !strings.Contains(v, `"name":"shop.shop.orders.Envelope"`) {
		t.Errorf("envelope not renamed: %.300s", v)
	}
	if my1.Topic != "shop.shop.orders_1" || len(my1.Key.Values) != 1 {
		t.Errorf("input event modified: %s %+v", my1.Topic, my1.Key)
	}
}

func TestFilter(t *testing.T) {
	ins, upd, del, tomb := pgEvents(t)
	my1, my2, _, _ := myEvents(t)
	run(t, []step{
		{name: "keep by op", chain: []configs.Transform{tf("filter", "condition", `op in ["c", "u"]`)}, in: upd},
		{name: "drop by op", chain: []configs.Transform{tf("filter", "condition", `op in ["c", "u"]`)}, in: del, drop: true},
		{name: "debezium style value.op", chain: []configs.Transform{tf("filter", "condition", `value.op == "d"`, "action", "drop")}, in: del, drop: true},
		{name: "after field", chain: []configs.Transform{tf("filter", "condition", `after.qty > 4`)}, in: my1, drop: true},
		{name: "after field keeps", chain: []configs.Transform{tf("filter", "condition", `after.qty > 4`)}, in: my2},
		{name: "source table", chain: []configs.Transform{tf("filter", "condition", `source.table == "orders_2" && source.file startsWith "mysql-bin"`)}, in: my2},
		{name: "key", chain: []configs.Transform{tf("filter", "condition", `key.id == 7`, "action", "drop")}, in: my1, drop: true},
		{name: "topic", chain: []configs.Transform{tf("filter", "condition", `topic matches "customers$"`)}, in: ins},
		{name: "decimal compares as a number", chain: []configs.Transform{tf("filter", "condition", `after.score > 50.0`)}, in: upd},
		{name: "decimal drop", chain: []configs.Transform{tf("filter", "condition", `after.score > 50.0`)}, in: ins, drop: true},
		{name: "no before image", chain: []configs.Transform{tf("filter", "condition", `before == nil && after != nil`)}, in: ins},
		{name: "guarded after on a delete", chain: []configs.Transform{tf("filter", "condition", `after != nil && after.qty > 0`)}, in: del, drop: true},
		{name: "before image", chain: []configs.Transform{tf("filter", "condition", `before != nil && before.email != after.email`)}, in: upd},
		{name: "tombstones kept by default", chain: []configs.Transform{tf("filter", "condition", `after.qty > 4`)}, in: tomb, value: "null"},
		{name: "tombstones dropped", chain: []configs.Transform{tf("filter", "condition", `true`, "null_handling", "drop")}, in: tomb, drop: true},
		{name: "tombstones evaluated", chain: []configs.Transform{tf("filter", "condition", `tombstone`, "null_handling", "evaluate")}, in: tomb},
		{name: "flat value after unwrap", chain: []configs.Transform{tf("unwrap", "add_fields", "op"), tf("filter", "condition", `value.__op == "c" && after.name == "Ann"`)}, in: ins},
	})
}

func TestFieldsAndInsert(t *testing.T) {
	ins, upd, _, tomb := pgEvents(t)
	run(t, []step{
		{name: "exclude on the envelope's before and after", chain: []configs.Transform{tf("fields", "exclude", []any{"email", "score"})}, in: upd, key: `{"id":1}`},
		{name: "include and rename on the flat value", chain: []configs.Transform{tf("unwrap"), tf("fields", "include", "id,name", "rename", map[string]any{"name": "full_name"})}, in: ins,
			value: `{"id":1,"full_name":"Ann"}`},
		{name: "rename in Kafka Connect form", chain: []configs.Transform{tf("unwrap"), tf("fields", "rename", "email:mail,name:who", "exclude", "created,score")}, in: ins,
			value: `{"id":1,"mail":"ann@example.com","who":"Ann"}`},
		{name: "insert static fields and headers", chain: []configs.Transform{tf("unwrap"), tf("fields", "include", "id"),
			tf("insert", "fields", map[string]any{"region": "eu", "version": 2, "live": true}, "headers", map[string]any{"origin": "sluice"})}, in: ins,
			value: `{"id":1,"live":true,"region":"eu","version":2}`},
		{name: "tombstones pass", chain: []configs.Transform{tf("fields", "exclude", "email")}, in: tomb, value: "null"},
	})
	// Field transforms on the envelope keep it an envelope; check the
	// cut-off golden value of the first case fully here.
	out, _ := apply(t, chain(t, tf("fields", "exclude", []any{"email", "score"})), upd)
	if _, v := payload(t, out); !strings.HasPrefix(v, `{"before":{"id":1,"name":"Ann","created":"2024-05-06T07:08:09.123456Z"},"after":{"id":1,"name":"Ann","created":"2024-05-06T07:08:09.123456Z"},"source":`) {
		t.Errorf("envelope: %s", v)
	}
	out, _ = apply(t, chain(t, tf("insert", "headers", "a:1,b:2")), tomb)
	if len(out.Headers) != 2 || out.Headers[1].Key != "b" || string(out.Headers[1].Value) != "2" {
		t.Errorf("headers on a tombstone: %+v", out.Headers)
	}
}

func TestCast(t *testing.T) {
	ins, _, _, _ := pgEvents(t)
	my1, _, _, _ := myEvents(t)
	unwrap := tf("unwrap")
	run(t, []step{
		{name: "decimal to float64, int to string", chain: []configs.Transform{unwrap, tf("fields", "include", "id,score"), tf("cast", "spec", map[string]any{"score": "float64", "id": "string"})}, in: ins,
			value: `{"id":"1","score":12.5}`},
		{name: "kafka connect spec string", chain: []configs.Transform{unwrap, tf("cast", "spec", "qty:boolean,id:int8,customer:string")}, in: my1,
			value: `{"id":7,"customer":"bob","qty":true}`},
		{name: "decimal to string and int", chain: []configs.Transform{unwrap, tf("fields", "include", "score"), tf("insert", "fields", map[string]any{"n": "42", "f": 2.75}),
			tf("cast", "spec", "score:string,n:int16,f:int32")}, in: ins, value: `{"score":"12.50","f":2,"n":42}`},
	})
	out, _ := apply(t, chain(t, unwrap, tf("cast", "spec", "qty:float32")), my1)
	if s := out.RowSchema.Fields[2].Schema; s.Type != change.TypeFloat32 || !s.Optional {
		t.Errorf("cast schema: %+v", s)
	}
	c := chain(t, unwrap, tf("insert", "fields", map[string]any{"n": "x1"}), tf("cast", "spec", "n:int64"))
	e := ins
	_, err := c.Apply(&e)
	var te *transforms.Error
	if !errors.As(err, &te) || !te.Permanent() || !strings.Contains(err.Error(), "sources[0].transforms[2] (cast)") ||
		!strings.Contains(err.Error(), "at lsn 4096 (txId 771)") || !strings.Contains(err.Error(), `"x1" is not an int64`) {
		t.Errorf("cast error: %v", err)
	}
	e = my1
	_, err = chain(t, tf("cast", "spec", "customer:int32")).Apply(&e)
	if err == nil || !strings.Contains(err.Error(), "at binlog mysql-bin.000003:4711 row 0") {
		t.Errorf("mysql position: %v", err)
	}
}

func TestTimestampConvert(t *testing.T) {
	ins, _, _, _ := pgEvents(t)
	base := []configs.Transform{tf("unwrap"), tf("fields", "include", "created")}
	with := func(o ...any) []configs.Transform {
		return append(append([]configs.Transform(nil), base...), tf("timestamp_convert", append([]any{"field", "created"}, o...)...))
	}
	run(t, []step{
		{name: "zoned to unix ms", chain: with("target_type", "unix"), in: ins, value: `{"created":1714979289123}`},
		{name: "zoned to unix µs", chain: with("target_type", "unix", "unix_precision", "microseconds"), in: ins, value: `{"created":1714979289123456}`},
		{name: "zoned to string", chain: with("target_type", "string", "format", "yyyy-MM-dd'T'HH:mm:ss.SSSXXX"), in: ins, value: `{"created":"2024-05-06T07:08:09.123Z"}`},
		{name: "to Date", chain: with("target_type", "Date"), in: ins, value: `{"created":19849}`},
		{name: "to Time", chain: with("target_type", "Time"), in: ins, value: `{"created":25689123}`},
		{name: "to Timestamp and back to string", chain: append(with("target_type", "Timestamp"),
			tf("timestamp_convert", "field", "created", "target_type", "string", "format", "dd/MM/yy HH:mm")), in: ins, value: `{"created":"06/05/24 07:08"}`},
		{name: "string parsed with format", chain: append(with("target_type", "string", "format", "yyyy-MM-dd"),
			tf("timestamp_convert", "field", "created", "target_type", "unix", "unix_precision", "seconds", "format", "yyyy-MM-dd")), in: ins, value: `{"created":1714953600}`},
	})
	out, _ := apply(t, chain(t, with("target_type", "Timestamp")...), ins)
	if s := out.RowSchema.Fields[0].Schema; s.Name != change.ConnectTimestampName || s.Type != change.TypeInt64 {
		t.Errorf("Timestamp schema: %+v", s)
	}
}

func TestMask(t *testing.T) {
	ins, upd, _, _ := pgEvents(t)
	my1, _, _, _ := myEvents(t)
	mac := func(s string) string {
		h := hmac.New(sha256.New, []byte("pepper"))
		h.Write([]byte(s))
		return hex.EncodeToString(h.Sum(nil))
	}
	run(t, []step{
		{name: "hash on the flat value", chain: []configs.Transform{tf("unwrap"), tf("fields", "include", "id,email"), tf("mask", "fields", "email", "hash", true, "salt", "pepper")}, in: ins,
			value: `{"id":1,"email":"` + mac("ann@example.com") + `"}`},
		{name: "hash a number", chain: []configs.Transform{tf("unwrap"), tf("mask", "fields", "qty,customer", "hash", true, "salt", "pepper")}, in: my1,
			value: `{"id":7,"customer":"` + mac("bob") + `","qty":"` + mac("3") + `"}`},
		{name: "replacement on before and after", chain: []configs.Transform{tf("fields", "include", "id,email,name"), tf("mask", "fields", []any{"email", "name"}, "replacement", "***")}, in: upd},
		{name: "typed replacement and zero", chain: []configs.Transform{tf("unwrap"), tf("mask", "fields", "qty", "replacement", "-1"), tf("mask", "fields", "customer")}, in: my1,
			value: `{"id":7,"customer":"","qty":-1}`},
	})
	out, _ := apply(t, chain(t, tf("fields", "include", "id,email,name"), tf("mask", "fields", []any{"email", "name"}, "replacement", "***")), upd)
	if _, v := payload(t, out); !strings.HasPrefix(v, `{"before":{"id":1,"email":"***","name":"***"},"after":{"id":1,"email":"***","name":"***"}`) {
		t.Errorf("envelope mask: %s", v)
	}
	// Nulls stay null; the schema of a hashed non-string field is string.
	e := my1
	e.After = &change.Struct{Schema: my1.After.Schema, Values: []any{int64(7), nil, int32(1)}}
	out, _ = apply(t, chain(t, tf("unwrap"), tf("mask", "fields", "qty,customer", "hash", true, "salt", "pepper")), e)
	if out.After.Values[1] != nil || out.RowSchema.Fields[2].Schema.Type != change.TypeString {
		t.Errorf("null or schema: %+v %+v", out.After.Values, out.RowSchema.Fields[2].Schema)
	}
	if my1.After.Values[1] != "bob" {
		t.Errorf("input row modified: %+v", my1.After.Values)
	}
}

func TestPredicates(t *testing.T) {
	ins, _, del, tomb := pgEvents(t)
	my1, _, _, myTomb := myEvents(t)
	onlyCustomers := tf("mask", "fields", "email", "replacement", "x", "predicate", map[string]any{"type": "topic_matches", "pattern": `inventory\.public\..*`})
	run(t, []step{
		{name: "topic matches", chain: []configs.Transform{tf("unwrap"), onlyCustomers}, in: ins, value: `{"id":1,"email":"x","name":"Ann","score":"BOI=","created":"2024-05-06T07:08:09.123456Z"}`},
		{name: "topic does not match", chain: []configs.Transform{tf("unwrap"), tf("mask", "fields", "customer", "predicate", map[string]any{"type": "topic_matches", "pattern": `inventory\..*`})}, in: my1,
			value: `{"id":7,"customer":"bob","qty":3}`},
		{name: "negate", chain: []configs.Transform{tf("unwrap"), tf("mask", "fields", "customer", "negate", true, "predicate", map[string]any{"type": "topic_matches", "pattern": `inventory\..*`})}, in: my1,
			value: `{"id":7,"customer":"","qty":3}`},
		{name: "drop tombstones with a filter", chain: []configs.Transform{tf("filter", "condition", "false", "null_handling", "evaluate", "predicate", map[string]any{"type": "is_tombstone"})}, in: myTomb, drop: true},
		{name: "non-tombstones untouched", chain: []configs.Transform{tf("filter", "condition", "false", "null_handling", "evaluate", "predicate", map[string]any{"type": "is_tombstone"})}, in: del},
		{name: "not a tombstone", chain: []configs.Transform{tf("filter", "condition", "false", "negate", true, "predicate", map[string]any{"type": "is_tombstone"})}, in: tomb, value: "null"},
		{name: "has header", chain: []configs.Transform{tf("insert", "headers", "pii:yes"), tf("unwrap"), tf("fields", "exclude", "email,score,created", "predicate", map[string]any{"type": "has_header_key", "name": "pii"})}, in: ins,
			value: `{"id":1,"name":"Ann"}`},
		{name: "has no header", chain: []configs.Transform{tf("unwrap"), tf("fields", "exclude", "email,score,created", "predicate", map[string]any{"type": "has_header_key", "name": "pii"})}, in: ins,
			value: `{` + annRow + `}`},
	})
}

// TestSchemalessSinkRecords: a sink decodes schemaless envelopes with one
// inferred schema per image; field transforms handle each image.
func TestSchemalessSinkRecords(t *testing.T) {
	_, upd, _, _ := pgEvents(t)
	k, v := payload(t, upd)
	e, err := change.DecodeJSON(upd.Topic, []byte(k), []byte(v))
	if err != nil {
		t.Fatal(err)
	}
	if e.Before.Schema == e.After.Schema {
		t.Fatal("fixture: want an inferred schema per image")
	}
	// A row whose fields differ from RowSchema's gets its own plan.
	e.Before = &change.Struct{Schema: &change.Schema{Type: change.TypeStruct, Fields: []change.Field{
		{Name: "email", Schema: change.PrimitiveSchema(change.TypeString, true)},
		{Name: "id", Schema: change.PrimitiveSchema(change.TypeInt64, true)},
	}}, Values: []any{"old@example.com", int64(1)}}
	out, _ := apply(t, chain(t, tf("mask", "fields", "email", "replacement", "x"), tf("fields", "exclude", "score,created")), *e)
	if b := out.Before; len(b.Values) != 2 || b.Values[0] != "x" || b.Values[1] != int64(1) || b.Schema.Fields[0].Name != "email" {
		t.Errorf("before: %+v", b.Values)
	}
	if a := out.After; len(a.Values) != 3 || a.Values[1] != "x" || a.Values[2] != "Ann" || out.RowSchema.Fields[2].Name != "name" {
		t.Errorf("after: %+v", a.Values)
	}
}
