package change

import "testing"

// TestFlatEvents encodes the records unwrap and outbox transforms produce
// (Event.IsFlat, a non-struct key) and decodes the struct ones back.
func TestFlatEvents(t *testing.T) {
	row := &Schema{Type: TypeStruct, Optional: true, Name: "p.public.t.Value", Fields: []Field{
		{Name: "id", Schema: PrimitiveSchema(TypeInt32, false)},
		{Name: "name", Schema: PrimitiveSchema(TypeString, true)},
	}}
	key := &Struct{Schema: &Schema{Type: TypeStruct, Name: "p.public.t.Key", Fields: row.Fields[:1]}, Values: []any{int32(1)}}
	flat := Event{Topic: "p.public.t", Key: key, RowSchema: row, After: &Struct{Schema: row, Values: []any{int32(1), "a"}}}
	if !flat.IsFlat() || (&Event{Op: OpCreate, RowSchema: row}).IsFlat() || (&Event{Tombstone: true, RowSchema: row}).IsFlat() {
		t.Fatal("IsFlat")
	}
	enc := NewJSONEncoder(JSONOptions{Schemas: true})
	k, v, err := enc.Encode(&flat)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"},{"type":"string","optional":true,"field":"name"}],"optional":true,"name":"p.public.t.Value"},"payload":{"id":1,"name":"a"}}`
	if string(v) != want {
		t.Errorf("value:\n got %s\nwant %s", v, want)
	}
	got, sc, err := DecodeJSONValue(v)
	if err != nil || !got.Equal(flat.After) || !sc.Equal(row) {
		t.Errorf("decode: %v %+v %+v", err, got, sc)
	}
	if _, err := DecodeJSON(flat.Topic, k, v); err == nil {
		t.Error("DecodeJSON of a flat value: want ErrNotEnvelope")
	}

	// An outbox event: a string key and a JSON string value.
	out := Event{Topic: "order", KeySchema: PrimitiveSchema(TypeString, false), KeyValue: "42",
		RowSchema: JSONSchema(true), Value: `{"id":42}`}
	for _, schemas := range []bool{true, false} {
		k, v, err := NewJSONEncoder(JSONOptions{Schemas: schemas}).Encode(&out)
		if err != nil {
			t.Fatal(err)
		}
		wk, wv := `"42"`, `"{\"id\":42}"`
		if schemas {
			wk = `{"schema":{"type":"string","optional":false},"payload":"42"}`
			wv = `{"schema":{"type":"string","optional":true,"name":"io.debezium.data.Json","version":1},"payload":"{\"id\":42}"}`
		}
		if string(k) != wk || string(v) != wv {
			t.Errorf("schemas=%v: key %s value %s", schemas, k, v)
		}
	}
	if KeyIsNull(&out) {
		t.Error("KeyIsNull for a string key")
	}
	// A null flat value (an optional schema) encodes as null.
	nul := Event{Topic: "order", RowSchema: JSONSchema(true)}
	if _, v, err := NewJSONEncoder(JSONOptions{}).Encode(&nul); err != nil || string(v) != "null" {
		t.Errorf("null flat value: %s %v", v, err)
	}
}
