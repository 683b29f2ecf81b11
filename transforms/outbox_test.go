package transforms_test

import (
	"strings"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"

	"github.com/sluice-cdc/sluice/change"
	"github.com/sluice-cdc/sluice/configs"
	"github.com/sluice-cdc/sluice/sources/postgres"
)

const relOutbox = 16500

// outboxEvents decodes an insert, an update and a delete (with its
// tombstone) of public.outbox (id uuid, aggregatetype, aggregateid, type
// varchar, payload jsonb).
func outboxEvents(t testing.TB) []change.Event {
	t.Helper()
	d := postgres.NewDecoder(postgres.DecoderOptions{TopicPrefix: "shop", Database: "shop", Tombstones: true,
		Now: func() time.Time { return procTime }})
	_, err := d.SetTable(postgres.Table{RelationID: relOutbox, Schema: "public", Name: "outbox", ReplicaIdentity: 'd',
		Columns: []postgres.Column{
			{Name: "id", TypeOID: 2950, TypeName: "uuid", Typmod: -1, Key: true, KeySeq: 1},
			{Name: "aggregatetype", TypeOID: 1043, TypeName: "varchar", Typmod: -1},
			{Name: "aggregateid", TypeOID: 1043, TypeName: "varchar", Typmod: -1},
			{Name: "type", TypeOID: 1043, TypeName: "varchar", Typmod: -1},
			{Name: "payload", TypeOID: 3802, TypeName: "jsonb", Typmod: -1, Nullable: true},
		}})
	if err != nil {
		t.Fatal(err)
	}
	d.Begin(&pglogrepl.BeginMessage{FinalLSN: 0x3000, CommitTime: commitTime, Xid: 900})
	row := tuple("5f0d6a3e-8b8e-4d3a-9a53-1b2c3d4e5f60", "order", "42", "OrderCreated", `{"id": 42, "total": 9.5}`)
	var out []change.Event
	evs, err := d.Insert(&pglogrepl.InsertMessage{RelationID: relOutbox, Tuple: row}, 0x2f00)
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, evs...)
	evs, err = d.Update(&pglogrepl.UpdateMessage{RelationID: relOutbox, NewTuple: row}, 0x2f10)
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, evs...)
	evs, err = d.Delete(&pglogrepl.DeleteMessage{RelationID: relOutbox, OldTupleType: 'K', OldTuple: tuple("5f0d6a3e-8b8e-4d3a-9a53-1b2c3d4e5f60", "<null>", "<null>", "<null>", "<null>")}, 0x2f20)
	if err != nil {
		t.Fatal(err)
	}
	return append(out, evs...)
}

func TestOutbox(t *testing.T) {
	evs := outboxEvents(t)
	if len(evs) != 4 {
		t.Fatalf("fixture: %d events", len(evs))
	}
	ins := evs[0]
	run(t, []step{
		{name: "insert to the default topic", chain: []configs.Transform{tf("outbox")}, in: ins, topic: "outbox.event.order",
			key: `"42"`, value: `"{\"id\": 42, \"total\": 9.5}"`},
		{name: "topic template", chain: []configs.Transform{tf("outbox", "route_topic_replacement", "${routedByValue}")}, in: ins, topic: "order"},
		{name: "update ignored", chain: []configs.Transform{tf("outbox")}, in: evs[1], drop: true},
		{name: "delete ignored", chain: []configs.Transform{tf("outbox")}, in: evs[2], drop: true},
		{name: "tombstone ignored", chain: []configs.Transform{tf("outbox")}, in: evs[3], drop: true},
		{name: "custom columns", chain: []configs.Transform{tf("outbox", "route_by_field", "type", "table_field_event_key", "id",
			"route_topic_regex", `Order(.*)`, "route_topic_replacement", "orders.${1}")}, in: ins,
			topic: "orders.Created", key: `"5f0d6a3e-8b8e-4d3a-9a53-1b2c3d4e5f60"`},
	})
	out, _ := apply(t, chain(t, tf("outbox", "table_fields_additional_placement", "aggregatetype:header:agg")), ins)
	want := map[string]string{"id": "5f0d6a3e-8b8e-4d3a-9a53-1b2c3d4e5f60", "type": "OrderCreated", "agg": "order"}
	if len(out.Headers) != len(want) {
		t.Errorf("headers: %+v", out.Headers)
	}
	for _, h := range out.Headers {
		if want[h.Key] != string(h.Value) {
			t.Errorf("header %s = %q, want %q", h.Key, h.Value, want[h.Key])
		}
	}
	k, v := encode(t, out)
	if k != `{"schema":{"type":"string","optional":false},"payload":"42"}` {
		t.Errorf("key with schema: %s", k)
	}
	if !strings.HasPrefix(v, `{"schema":{"type":"string","optional":true,"name":"io.debezium.data.Json","version":1},"payload":"{\"id\": 42`) {
		t.Errorf("value with schema: %s", v)
	}
	// An expanded JSON payload is a struct; payloads of one shape share
	// one schema.
	c := chain(t, tf("outbox", "table_expand_json_payload", true))
	x, _ := apply(t, c, ins)
	y, _ := apply(t, c, ins)
	if _, v := payload(t, x); v != `{"id":42,"total":9.5}` {
		t.Errorf("expanded payload: %s", v)
	}
	if x.RowSchema != y.RowSchema || !x.IsFlat() {
		t.Errorf("expanded payloads do not share a schema")
	}

	// A table without the routing column is an error naming it.
	e := ins
	_, err := chain(t, tf("outbox", "route_by_field", "kind")).Apply(&e)
	if err == nil || !strings.Contains(err.Error(), "no column kind") {
		t.Errorf("missing column: %v", err)
	}
}
