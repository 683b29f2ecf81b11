package change

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// roundTripEvents covers every event shape the codec writes.
func roundTripEvents() []*Event {
	typesRow, typesAfter := pgTypesRow()
	typesKey := &Schema{Type: TypeStruct, Name: "types.public.all_types.Key", Fields: typesRow.Fields[:2]}

	addr := &Schema{Type: TypeStruct, Optional: true, Name: "address", Fields: []Field{
		{Name: "street", Schema: PrimitiveSchema(TypeString, false)},
		{Name: "zip", Schema: PrimitiveSchema(TypeInt32, true)},
	}}
	nested := &Schema{Type: TypeStruct, Optional: true, Name: "app.public.nested.Value", Fields: []Field{
		{Name: "id", Schema: PrimitiveSchema(TypeInt64, false)},
		{Name: "home", Schema: addr},
		{Name: "others", Schema: ArraySchema(addr, true)},
		{Name: "tags", Schema: MapSchema(PrimitiveSchema(TypeString, false), PrimitiveSchema(TypeInt8, true), true)},
		{Name: "by_id", Schema: MapSchema(PrimitiveSchema(TypeInt32, false), PrimitiveSchema(TypeBoolean, false), true)},
		{Name: "small", Schema: PrimitiveSchema(TypeInt8, true)},
		{Name: "f32", Schema: PrimitiveSchema(TypeFloat32, true)},
		{Name: "nothing", Schema: PrimitiveSchema(TypeString, true)},
	}}
	nestedKey := &Schema{Type: TypeStruct, Name: "app.public.nested.Key", Fields: nested.Fields[:1]}
	nestedRow := func(id int64) *Struct {
		return &Struct{Schema: nested, Values: []any{
			id,
			&Struct{Schema: addr, Values: []any{"Main St 1", int32(12345)}},
			[]any{&Struct{Schema: addr, Values: []any{"x", nil}}, nil},
			map[string]any{"b": int8(-2), "a": int8(1), "z": nil},
			map[any]any{int32(3): true, int32(-1): false},
			int8(-128),
			float32(math.Inf(-1)),
			nil,
		}}
	}

	keyless := &Schema{Type: TypeStruct, Optional: true, Name: "app.public.log.Value", Fields: []Field{
		{Name: "msg", Schema: PrimitiveSchema(TypeString, false)},
	}}

	pg := Source{Version: "1.0.0", Connector: ConnectorPostgres, Name: "app", TsUs: 1700000000123456, Snapshot: "false",
		DB: "app", Sequence: `["1","2"]`, Schema: "public", Table: "nested", TxID: 9, LSN: 1 << 40, Xmin: 7,
		Origin: "pg_origin", OriginLSN: 99}
	pgSnap := pg
	pgSnap.Snapshot, pgSnap.Sequence, pgSnap.TxID, pgSnap.LSN, pgSnap.Xmin, pgSnap.Origin, pgSnap.OriginLSN = "last", "", 0, 0, 0, "", 0
	my := Source{Version: "1.0.0", Connector: ConnectorMySQL, Name: "app", TsUs: 1700000000000000, Snapshot: "first",
		DB: "shop", Table: "orders", ServerID: 1, GTID: "3E11FA47-71CA-11E1-9E33-C80AA9429562:23", File: "bin.000001",
		Pos: 4, Row: 2, Thread: 11, Query: "INSERT INTO orders VALUES ('\x00')"}
	myNull := my
	myNull.Table, myNull.GTID, myNull.Thread, myNull.Query, myNull.Snapshot = "", "", 0, "", "false"

	scale := int32(2)
	return []*Event{
		{Topic: "app.public.nested", Op: OpCreate, Key: &Struct{Schema: nestedKey, Values: []any{int64(1)}},
			RowSchema: nested, After: nestedRow(1), Source: pg, TsUs: 1700000000200000},
		{Topic: "app.public.nested", Op: OpUpdate, Key: &Struct{Schema: nestedKey, Values: []any{int64(1)}},
			RowSchema: nested, Before: nestedRow(1), After: nestedRow(1), Source: pg, TsUs: 1,
			Transaction: &Transaction{ID: "9:1099511627776", TotalOrder: 3, DataCollectionOrder: 2}},
		{Topic: "app.public.nested", Op: OpDelete, Key: &Struct{Schema: nestedKey, Values: []any{int64(2)}},
			RowSchema: nested, Before: nestedRow(2), Source: pg, TsUs: -1500},
		{Topic: "app.public.nested", Op: OpRead, Key: &Struct{Schema: nestedKey, Values: []any{int64(3)}},
			RowSchema: nested, After: nestedRow(3), Source: pgSnap, TsUs: 1700000000200001},
		{Topic: "app.public.nested", Op: OpTruncate, RowSchema: nested, Source: pg, TsUs: 5},
		{Topic: "app.public.nested", Key: &Struct{Schema: nestedKey, Values: []any{int64(2)}}, Tombstone: true},
		{Topic: "app.public.log", Op: OpCreate, RowSchema: keyless,
			After: &Struct{Schema: keyless, Values: []any{"no key"}}, Source: pg, TsUs: 2},
		{Topic: "types.public.all_types", Op: OpCreate, Key: &Struct{Schema: typesKey, Values: typesAfter.Values[:2]},
			RowSchema: typesRow, After: typesAfter, Source: pg, TsUs: 3},
		{Topic: "app.shop.orders", Op: OpCreate, RowSchema: keyless,
			After: &Struct{Schema: keyless, Values: []any{"mysql"}}, Source: my, TsUs: 4},
		{Topic: "app.shop.orders", Op: OpUpdate, RowSchema: keyless,
			Before: &Struct{Schema: keyless, Values: []any{""}},
			After:  &Struct{Schema: keyless, Values: []any{"mysql"}}, Source: myNull, TsUs: 4},
		{Topic: "app", Source: my, TsUs: 1700000000001000, SchemaChange: &SchemaChange{
			DatabaseName: "shop", DDL: "CREATE TABLE orders (id INT, kind ENUM('a','b'), price DECIMAL(10,2) DEFAULT 0)",
			TableChanges: []TableChange{{Type: "CREATE", ID: `"shop"."orders"`, Table: TableSchema{
				DefaultCharsetName: "utf8mb4", PrimaryKeyColumnNames: []string{"id"}, Comment: "orders table",
				Columns: []ColumnSchema{
					{Name: "id", JdbcType: 4, TypeName: "INT", TypeExpression: "INT", Position: 1, AutoIncremented: true},
					{Name: "kind", JdbcType: 1, TypeName: "ENUM", TypeExpression: "ENUM", CharsetName: "utf8mb4", Length: 1,
						Position: 2, Optional: true, EnumValues: []string{"'a'", "'b'"}, Comment: "the kind"},
					{Name: "price", JdbcType: 3, TypeName: "DECIMAL", TypeExpression: "DECIMAL", Length: 10, Scale: &scale,
						Position: 3, Optional: true, DefaultValue: "0", Generated: true},
				}}}},
		}},
		{Topic: "app", Source: pg, TsUs: 1700000000002000, SchemaChange: &SchemaChange{
			DatabaseName: "app", SchemaName: "public",
			TableChanges: []TableChange{
				{Type: "ALTER", ID: `"public"."nested"`, Table: TableSchema{Columns: []ColumnSchema{
					{Name: "id", JdbcType: -5, NativeType: 20, TypeName: "int8", TypeExpression: "int8", Length: 19, Position: 1}}}},
				{Type: "DROP", ID: `"public"."gone"`},
			},
		}},
	}
}

func TestRoundTrip(t *testing.T) {
	for _, opts := range []JSONOptions{{Schemas: true}, {Schemas: true, KeepNulls: true}} {
		enc := NewJSONEncoder(opts)
		for i, e := range roundTripEvents() {
			key, val, err := enc.Encode(e)
			if err != nil {
				t.Fatalf("event %d (%s): %v", i, e.Topic, err)
			}
			if (key == nil) != KeyIsNull(e) || (val == nil) != ValueIsNull(e) {
				t.Fatalf("event %d: null key/value mismatch", i)
			}
			for _, b := range [][]byte{key, val} {
				if b != nil && !json.Valid(b) {
					t.Fatalf("event %d: invalid JSON %s", i, b)
				}
			}
			got, err := DecodeJSON(e.Topic, key, val)
			if err != nil {
				t.Fatalf("event %d (%s): decode: %v\n%s", i, e.Topic, err, val)
			}
			want := *e
			if want.SchemaChange == nil && !want.Tombstone && want.Source.Snapshot == "" {
				want.Source.Snapshot = "false"
			}
			if opts.KeepNulls && (want.Source.Snapshot == "false") {
				want.Source.Snapshot = "" // written as null
			}
			assertEventEqual(t, got, &want)
			// Re-encoding the decoded event gives the same bytes.
			key2, val2, err := enc.Encode(got)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(key, key2) || !bytes.Equal(val, val2) {
				t.Fatalf("event %d: re-encoding differs:\n%s\n%s", i, val, val2)
			}
		}
	}
}

func TestDecodeSharesSchemas(t *testing.T) {
	enc := NewJSONEncoder(JSONOptions{Schemas: true})
	events := roundTripEvents()
	var first *Event
	for i := 0; i < 3; i++ {
		key, val, err := enc.Encode(events[0])
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeJSON(events[0].Topic, key, val)
		if err != nil {
			t.Fatal(err)
		}
		if got.After.Schema != got.RowSchema {
			t.Fatal("After.Schema is not RowSchema")
		}
		if first == nil {
			first = got
			continue
		}
		if got.RowSchema != first.RowSchema || got.Key.Schema != first.Key.Schema {
			t.Fatal("records with the same schema block decoded to different *Schema")
		}
	}
	// Before and After share the row schema too.
	key, val, _ := enc.Encode(events[1])
	got, err := DecodeJSON(events[1].Topic, key, val)
	if err != nil {
		t.Fatal(err)
	}
	if got.Before.Schema != got.After.Schema || got.Before.Schema != got.RowSchema {
		t.Fatal("before/after schemas not shared")
	}
}

func TestEncoderCachesSchemaBlocks(t *testing.T) {
	enc := NewJSONEncoder(JSONOptions{Schemas: true})
	e := roundTripEvents()[0]
	a, _ := enc.AppendValue(nil, e)
	if len(enc.envBlocks) != 1 || len(enc.keyBlocks) != 0 {
		t.Fatalf("cache sizes %d/%d", len(enc.envBlocks), len(enc.keyBlocks))
	}
	b, _ := enc.AppendValue(nil, e)
	if !bytes.Equal(a, b) {
		t.Fatal("cached encoding differs")
	}
	enc.AppendKey(nil, e)
	if len(enc.keyBlocks) != 1 {
		t.Fatal("key block not cached")
	}
}

func TestSchemaless(t *testing.T) {
	enc := NewJSONEncoder(JSONOptions{})
	e := roundTripEvents()[1]
	key, val, err := enc.Encode(e)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(val, []byte(`{"before":{"id":1,`)) {
		t.Fatalf("unexpected schemaless value %s", val)
	}
	if string(key) != `{"id":1}` {
		t.Fatalf("key = %s", key)
	}
	got, err := DecodeJSON(e.Topic, key, val)
	if err != nil {
		t.Fatal(err)
	}
	if got.Op != OpUpdate || got.TsUs != e.TsUs || *got.Transaction != *e.Transaction {
		t.Fatalf("envelope fields: %+v", got)
	}
	if got.Source.LSN != e.Source.LSN || got.Source.Origin != "pg_origin" {
		t.Fatalf("source: %+v", got.Source)
	}
	id, _ := got.After.Get("id")
	if id != int64(1) {
		t.Fatalf("id = %#v, want int64(1)", id)
	}
	home, _ := got.After.Get("home")
	hs, ok := home.(*Struct)
	if !ok {
		t.Fatalf("home = %#v", home)
	}
	if zip, _ := hs.Get("zip"); zip != int64(12345) {
		t.Fatalf("zip = %#v", zip)
	}
	if f, _ := got.After.Get("f32"); f != "-Infinity" {
		t.Fatalf("f32 = %#v (schemaless: the string Jackson wrote)", f)
	}
	if got.RowSchema != got.After.Schema || got.RowSchema.Fields[0].Schema.Type != TypeInt64 {
		t.Fatalf("inferred row schema %+v", got.RowSchema)
	}
	if got.Key.Schema.Fields[0].Name != "id" || got.Key.Values[0] != int64(1) {
		t.Fatalf("key %+v", got.Key)
	}

	// Floats and null inference.
	st, sc, err := DecodeJSONValue([]byte(` {"a": 1.5, "b": null, "c": [true], "d": 1e2, "e": 99999999999999999999} `))
	if err != nil {
		t.Fatal(err)
	}
	want := []any{1.5, nil, []any{true}, 100.0, 1e20}
	for i := range want {
		if !ValueEqual(st.Values[i], want[i]) {
			t.Errorf("%s = %#v, want %#v", sc.Fields[i].Name, st.Values[i], want[i])
		}
	}
	if sc.Fields[1].Schema.Type != TypeString || !sc.Fields[1].Schema.Optional || sc.Fields[2].Schema.Items.Type != TypeBoolean {
		t.Errorf("inferred schema %+v", sc)
	}
}

func TestDecodeSchemalessSchemaChange(t *testing.T) {
	enc := NewJSONEncoder(JSONOptions{})
	e := roundTripEvents()[10]
	key, val, err := enc.Encode(e)
	if err != nil {
		t.Fatal(err)
	}
	if string(key) != `{"databaseName":"shop"}` {
		t.Fatalf("key %s", key)
	}
	got, err := DecodeJSON(e.Topic, key, val)
	if err != nil {
		t.Fatal(err)
	}
	want := *e
	assertEventEqual(t, got, &want)
}

func TestDecodeJSONValueUnwrapped(t *testing.T) {
	// A row as written by an unwrap (ExtractNewRecordState) transform.
	row, st := pgTypesRow()
	enc := NewJSONEncoder(JSONOptions{Schemas: true})
	schemaJSON, err := appendSchema(nil, row, "", false)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := enc.appendStruct(nil, row, st)
	if err != nil {
		t.Fatal(err)
	}
	rec := append(append(append([]byte(`{"schema":`), schemaJSON...), `,"payload":`...), append(payload, '}')...)
	got, sc, err := DecodeJSONValue(rec)
	if err != nil {
		t.Fatal(err)
	}
	if !sc.Equal(row) || !got.Equal(st) {
		t.Fatal("unwrapped row does not round-trip")
	}
	got2, sc2, err := DecodeJSONValue(rec)
	if err != nil || sc2 != sc {
		t.Fatal("schema not shared between records", err)
	}
	_ = got2
	if _, err := DecodeJSON("t", nil, rec); !errors.Is(err, ErrNotEnvelope) {
		t.Fatalf("DecodeJSON of an unwrapped row: %v, want ErrNotEnvelope", err)
	}
	if _, err := DecodeJSON("t", nil, payload); !errors.Is(err, ErrNotEnvelope) {
		t.Fatalf("DecodeJSON of a schemaless unwrapped row: %v, want ErrNotEnvelope", err)
	}
	if st, sc, err := DecodeJSONValue([]byte("null")); st != nil || sc != nil || err != nil {
		t.Fatal("null value")
	}
	if st, _, err := DecodeJSONValue(nil); st != nil || err != nil {
		t.Fatal("nil value")
	}
}

func TestDecodeTombstones(t *testing.T) {
	key := []byte(`{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"}],"optional":false,"name":"k"},"payload":{"id":7}}`)
	for _, val := range [][]byte{nil, {}, []byte(`{"schema":null,"payload":null}`)} {
		e, err := DecodeJSON("t", key, val)
		if err != nil {
			t.Fatal(err)
		}
		if !e.Tombstone || e.Key == nil || e.Key.Values[0] != int32(7) || e.Op != "" {
			t.Fatalf("%q: %+v", val, e)
		}
	}
	e, err := DecodeJSON("t", nil, nil)
	if err != nil || !e.Tombstone || e.Key != nil {
		t.Fatalf("%+v %v", e, err)
	}
}

// TestDecodeRecentSchemas decodes records of several schemas interleaved
// (their schema blocks are found among the recent ones by their bytes),
// and records whose schema block only starts like a recent one.
func TestDecodeRecentSchemas(t *testing.T) {
	enc := NewJSONEncoder(JSONOptions{Schemas: true})
	events := roundTripEvents()
	for round := 0; round < 3; round++ {
		for _, e := range events {
			key, val, err := enc.Encode(e)
			if err != nil {
				t.Fatal(err)
			}
			want, err := DecodeJSON(e.Topic, key, val)
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeJSON(e.Topic, key, val)
			if err != nil {
				t.Fatal(err)
			}
			assertEventEqual(t, want, got)
		}
	}
	key, val, err := enc.Encode(events[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := DecodeJSON(events[0].Topic, key, val); err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(val, []byte(`,"payload":`))
	for name, bad := range map[string]string{
		"junk after the schema":        string(val[:i]) + "x" + string(val[i:]),
		"schema inside a longer value": `{"schema":[` + string(val[len(`{"schema":`):i]) + `],` + string(val[i+1:]),
		"nested":                       `{"schema":` + string(val[len(`{"schema":`):i]) + `}` + string(val[i:]),
	} {
		if _, err := DecodeJSON(events[0].Topic, key, []byte(bad)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	// A key after the payload: not the {"schema","payload"} layout, so not
	// an envelope, although the schema block is a recent one and the
	// payload decodes.
	extra := string(val[:len(val)-1]) + `,"extra":1}`
	if _, err := DecodeJSON(events[0].Topic, key, []byte(extra)); !errors.Is(err, ErrNotEnvelope) {
		t.Errorf("key after the payload: %v, want ErrNotEnvelope", err)
	}
}

// TestDecodeFastPathAgrees checks that splitKnown (the layout with a recent
// schema block) decodes every kind of record as the general path does.
func TestDecodeFastPathAgrees(t *testing.T) {
	enc := NewJSONEncoder(JSONOptions{Schemas: true})
	for _, e := range roundTripEvents() {
		key, val, err := enc.Encode(e)
		if err != nil {
			t.Fatal(err)
		}
		if len(val) == 0 {
			continue // a tombstone
		}
		if _, err := DecodeJSON(e.Topic, key, val); err != nil { // now recent
			t.Fatal(err)
		}
		d, payload := splitKnown(val)
		if d == nil {
			t.Fatalf("%s %s: fast path not taken", e.Topic, e.Op)
		}
		fast, err := decodePayload(e.Topic, key, d, payload, true)
		if err != nil {
			t.Fatalf("%s %s: fast path: %v", e.Topic, e.Op, err)
		}
		d, payload, withSchema, err := splitRecord(val)
		if err != nil {
			t.Fatal(err)
		}
		general, err := decodePayload(e.Topic, key, d, payload, withSchema)
		if err != nil {
			t.Fatal(err)
		}
		assertEventEqual(t, general, fast)
	}
}

func TestDecodeErrors(t *testing.T) {
	var compact bytes.Buffer
	if err := json.Compact(&compact, readGolden(t, "pg_create.json")); err != nil {
		t.Fatal(err)
	}
	good := compact.Bytes()
	for name, val := range map[string]string{
		"truncated":     string(good[:len(good)-5]),
		"trailing":      string(good) + "x",
		"bad op":        strings.Replace(string(good), `"op":"c"`, `"op":"m"`, 1),
		"int overflow":  strings.Replace(string(good), `"id":1`, `"id":2147483648`, 1),
		"wrong type":    strings.Replace(string(good), `"id":1`, `"id":"1"`, 1),
		"required null": strings.Replace(string(good), `"first_name":"Anne"`, `"first_name":null`, 1),
		"bad schema":    strings.Replace(string(good), `"type":"struct"`, `"type":"strukt"`, 1),
		"not json":      "{'a':1}",
		"deep":          strings.Repeat("[", 5000),
		"ctl in string": "{\"op\":\"c\x01\"}",
	} {
		if _, err := DecodeJSON("t", nil, []byte(val)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	// Compact and re-indented JSON decode the same.
	var indented bytes.Buffer
	json.Indent(&indented, good, "", "\t")
	a, err1 := DecodeJSON("t", nil, good)
	b, err2 := DecodeJSON("t", nil, indented.Bytes())
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	assertEventEqual(t, a, b)
}

func TestDecodeLenient(t *testing.T) {
	sc := `{"type":"struct","fields":[` +
		`{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"},"field":"d"},` +
		`{"type":"int64","optional":false,"field":"i"},` +
		`{"type":"string","optional":false,"default":"dflt","field":"s"},` +
		`{"type":"bytes","optional":true,"field":"b"},` +
		`{"type":"float","optional":true,"field":"f"}` +
		`],"optional":false}`
	st, _, err := DecodeJSONValue([]byte(`{"schema":` + sc + `,"payload":{"d":-12.34,"i":1e3,"s":null,"b":"AQ","f":"NaN","extra":[1,{"x":2}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if DecimalFromBytes(st.Values[0].([]byte)).Int64() != -1234 {
		t.Errorf("numeric decimal = %v", st.Values[0])
	}
	if st.Values[1] != int64(1000) || st.Values[2] != "dflt" || !bytes.Equal(st.Values[3].([]byte), []byte{1}) {
		t.Errorf("values %#v", st.Values)
	}
	if f := st.Values[4].(float32); f == f {
		t.Errorf("NaN decoded as %v", f)
	}
	if _, _, err := DecodeJSONValue([]byte(`{"schema":` + sc + `,"payload":{"d":1e999999,"i":1}}`)); err == nil {
		t.Error("huge decimal exponent accepted")
	}
	// Debezium 1.x wrote snapshot as a boolean.
	e, err := DecodeJSON("t", nil, []byte(`{"before":null,"after":null,"source":{"connector":"mysql","snapshot":true,"ts_ms":5},"op":"c","ts_ms":7}`))
	if err != nil {
		t.Fatal(err)
	}
	if e.Source.Snapshot != "true" || e.Source.TsUs != 5000 || e.TsUs != 7000 {
		t.Fatalf("%+v", e)
	}
}

func TestNullsAndDefaults(t *testing.T) {
	row := &Schema{Type: TypeStruct, Optional: true, Name: "t.Value", Fields: []Field{
		{Name: "req", Schema: PrimitiveSchema(TypeString, false)},
		{Name: "dflt", Schema: &Schema{Type: TypeInt32, Optional: true, Default: int32(5), HasDefault: true}},
	}}
	e := &Event{Topic: "t", Op: OpCreate, RowSchema: row, Source: Source{Connector: ConnectorMySQL},
		After: &Struct{Schema: row, Values: []any{"x", nil}}}
	val, err := NewJSONEncoder(JSONOptions{}).AppendValue(nil, e)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(val, []byte(`"after":{"req":"x","dflt":5}`)) || !bytes.Contains(val, []byte(`"snapshot":"false"`)) {
		t.Fatalf("null not replaced by default: %s", val)
	}
	val, _ = NewJSONEncoder(JSONOptions{KeepNulls: true}).AppendValue(nil, e)
	if !bytes.Contains(val, []byte(`"after":{"req":"x","dflt":null}`)) || !bytes.Contains(val, []byte(`"snapshot":null`)) {
		t.Fatalf("KeepNulls: %s", val)
	}
	e.After.Values[0] = nil
	dst := []byte("keep")
	out, err := NewJSONEncoder(JSONOptions{Schemas: true}).AppendValue(dst, e)
	if !errors.Is(err, ErrNullRequired) || string(out) != "keep" || !strings.Contains(err.Error(), "after: req:") {
		t.Fatalf("err = %v, out = %q", err, out)
	}
}

func TestEncodeErrors(t *testing.T) {
	row := &Schema{Type: TypeStruct, Optional: true, Fields: []Field{{Name: "a", Schema: PrimitiveSchema(TypeInt32, false)}}}
	base := Event{Topic: "t", Op: OpCreate, RowSchema: row, Source: Source{Connector: ConnectorPostgres}}
	cases := map[string]func(e *Event){
		"go int":            func(e *Event) { e.After = &Struct{Schema: row, Values: []any{1}} },
		"too few values":    func(e *Event) { e.After = &Struct{Schema: row} },
		"unknown connector": func(e *Event) { e.Source.Connector = "oracle" },
		"no row schema":     func(e *Event) { e.RowSchema = nil },
		"unknown op":        func(e *Event) { e.Op = "x" },
		"bad schema type": func(e *Event) {
			e.RowSchema = &Schema{Type: "decimal", Optional: true}
		},
	}
	for name, mutate := range cases {
		e := base
		mutate(&e)
		if _, err := NewJSONEncoder(JSONOptions{Schemas: true}).AppendValue(nil, &e); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := NewJSONEncoder(JSONOptions{}).AppendKey(nil, &Event{Key: &Struct{}}); err == nil {
		t.Error("key without schema: no error")
	}
}

func TestAppendString(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                `"plain"`,
		"q\"b\\s/":             `"q\"b\\s/"`,
		"\b\t\n\f\r":           `"\b\t\n\f\r"`,
		"\x00\x1f\x7f":         "\"\\u0000\\u001F\x7f\"",
		"é€𝄞\u2028<>&":         "\"é€𝄞\u2028<>&\"",
		"bad\xffutf8\xc3":      "\"bad\uFFFDutf8\uFFFD\"",
		"\xed\xa0\x80":         "\"\uFFFD\uFFFD\uFFFD\"", // UTF-8-encoded surrogate
		"":                     `""`,
		"tail\"":               `"tail\""`,
		strings.Repeat("a", 3): `"aaa"`,
	} {
		if got := string(appendString(nil, in)); got != want {
			t.Errorf("appendString(%q) = %s, want %s", in, got, want)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		b := make([]byte, rng.IntN(20))
		for j := range b {
			b[j] = byte(rng.IntN(256))
		}
		out := appendString(nil, string(b))
		if !json.Valid(out) || !utf8.Valid(out) {
			t.Fatalf("invalid JSON for %q: %q", b, out)
		}
		s := scanner{b: out}
		got, err := s.str()
		if err != nil {
			t.Fatal(err)
		}
		if want := strings.ToValidUTF8(string(b), "\uFFFD"); utf8.ValidString(string(b)) && got != want {
			t.Fatalf("round trip %q -> %q", b, got)
		}
	}
}

func TestUnescape(t *testing.T) {
	for in, want := range map[string]string{
		`"a\u00e9\/\ud834\udd1e"`: "aé/𝄞",
		`"\ud834x"`:               "\uFFFDx", // unpaired surrogate
		`"\udd1e\ud834"`:          "\uFFFD\uFFFD",
		"\"\xff\"":                "\uFFFD",
	} {
		s := scanner{b: []byte(in)}
		got, err := s.str()
		if err != nil || got != want {
			t.Errorf("%s -> %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{`"\x"`, `"\u12"`, `"\`, `"abc`} {
		s := scanner{b: []byte(in)}
		if _, err := s.str(); err == nil {
			t.Errorf("%s: no error", in)
		}
	}
}

func TestJavaFloat(t *testing.T) {
	for _, c := range []struct {
		f    float64
		bits int
		want string
	}{
		{1, 64, "1.0"},
		{100, 64, "100.0"},
		{1234.5, 64, "1234.5"},
		{0.001, 64, "0.001"},
		{0.002, 64, "0.002"},
		{0.0001, 64, "1.0E-4"},
		{9999999, 64, "9999999.0"},
		{1e7, 64, "1.0E7"},
		{12345678.9, 64, "1.23456789E7"},
		{-1.5e-10, 64, "-1.5E-10"},
		{func() float64 { a, b := 0.1, 0.2; return a + b }(), 64, "0.30000000000000004"},
		{math.MaxFloat64, 64, "1.7976931348623157E308"},
		{5e-324, 64, "4.9E-324"}, // JDK 19+: closest of length 1 or 2
		{1e23, 64, "1.0E23"},
		{2e-3, 64, "0.002"},
		{-0.0 * -1, 64, "0.0"},
		{math.Copysign(0, -1), 64, "-0.0"},
		{math.NaN(), 64, `"NaN"`},
		{math.Inf(1), 64, `"Infinity"`},
		{math.Inf(-1), 64, `"-Infinity"`},
		{float64(float32(0.1)), 32, "0.1"},
		{float64(float32(3.14)), 32, "3.14"},
		{float64(float32(1e10)), 32, "1.0E10"},
		{float64(float32(16777216)), 32, "1.6777216E7"},
		{float64(math.MaxFloat32), 32, "3.4028235E38"},
		{float64(math.SmallestNonzeroFloat32), 32, "1.4E-45"},
		{float64(float32(1e-3)), 32, "0.001"},
	} {
		if got := string(appendJavaFloat(nil, c.f, c.bits)); got != c.want {
			t.Errorf("appendJavaFloat(%v, %d) = %s, want %s", c.f, c.bits, got, c.want)
		}
	}
	// Every written float parses back to the same value.
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 20000; i++ {
		f := math.Float64frombits(rng.Uint64())
		if math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		s := scanner{b: appendJavaFloat(nil, f, 64)}
		if g, err := s.float(64); err != nil || g != f {
			t.Fatalf("%v -> %s -> %v (%v)", f, s.b, g, err)
		}
		f32 := math.Float32frombits(rng.Uint32())
		if f32 != f32 || math.IsInf(float64(f32), 0) {
			continue
		}
		s = scanner{b: appendJavaFloat(nil, float64(f32), 32)}
		if g, err := s.float(32); err != nil || float32(g) != f32 {
			t.Fatalf("%v -> %s -> %v (%v)", f32, s.b, g, err)
		}
	}
}

func TestDecimalBytes(t *testing.T) {
	// Expected values are Java's BigInteger.toByteArray.
	for _, c := range []struct {
		v    int64
		want []byte
	}{
		{0, []byte{0}}, {1, []byte{1}}, {127, []byte{0x7f}}, {128, []byte{0, 0x80}}, {255, []byte{0, 0xff}},
		{256, []byte{1, 0}}, {-1, []byte{0xff}}, {-128, []byte{0x80}}, {-129, []byte{0xff, 0x7f}},
		{-256, []byte{0xff, 0x00}}, {-32768, []byte{0x80, 0}}, {math.MinInt64, []byte{0x80, 0, 0, 0, 0, 0, 0, 0}},
	} {
		got := DecimalBytes(big.NewInt(c.v))
		if !bytes.Equal(got, c.want) {
			t.Errorf("DecimalBytes(%d) = %x, want %x", c.v, got, c.want)
		}
		if back := DecimalFromBytes(got); back.Int64() != c.v {
			t.Errorf("DecimalFromBytes(%x) = %v", got, back)
		}
	}
}

func TestLogicalSchemas(t *testing.T) {
	d := DecimalSchema(2, 10, false)
	d.Parameters["zz"] = "1"
	d.Parameters["aa"] = "2"
	got, err := appendSchema(nil, d, "", false)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,` +
		`"parameters":{"scale":"2","connect.decimal.precision":"10","aa":"2","zz":"1"}}`
	if string(got) != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if s := SourceSchema(ConnectorPostgres); s == nil || s.Name != "io.debezium.connector.postgresql.Source" || SourceSchema("x") != nil {
		t.Fatal("SourceSchema")
	}
	// Constructors return fresh schemas.
	if DateSchema(true) == DateSchema(true) {
		t.Fatal("shared schema")
	}
}

func TestTopics(t *testing.T) {
	for _, c := range [][2]string{
		{TopicFor("inventory", "public", "customers"), "inventory.public.customers"},
		{TopicFor("inv", "", "t"), "inv.t"},
		{TopicFor("inv", "my db", "tä$ble"), "inv.my_db.t__ble"},
		{TopicFor("inv", "s", "𝄞"), "inv.s.__"},
		{SchemaChangeTopic("inventory"), "inventory"},
		{TransactionTopic("inventory"), "inventory.transaction"},
		{HeartbeatTopic("inventory"), "__sluice-heartbeat.inventory"},
		{KeySchemaName("a.b.c"), "a.b.c.Key"},
		{ValueSchemaName("a.b.c"), "a.b.c.Value"},
		{EnvelopeSchemaName("a.b.c.Value"), "a.b.c.Envelope"},
		{EnvelopeSchemaName("x"), "x.Envelope"},
		{TopicFor(".", "", ""), "_"},
		{TopicFor(strings.Repeat("a", 300), "b", "c"), strings.Repeat("a", 249)},
	} {
		if c[0] != c[1] {
			t.Errorf("got %q, want %q", c[0], c[1])
		}
	}
}

func TestEncodeAllocs(t *testing.T) {
	e := benchEvent()
	for _, schemas := range []bool{true, false} {
		enc := NewJSONEncoder(JSONOptions{Schemas: schemas})
		buf := make([]byte, 0, 16<<10)
		allocs := testing.AllocsPerRun(100, func() {
			var err error
			if buf, err = enc.AppendKey(buf[:0], e); err != nil {
				t.Fatal(err)
			}
			if buf, err = enc.AppendValue(buf[:0], e); err != nil {
				t.Fatal(err)
			}
		})
		if allocs > 2 {
			t.Errorf("schemas=%v: %v allocations per encoded event, want <= 2", schemas, allocs)
		}
	}
}

// benchEvent is a 10-column row update of a Postgres table.
func benchEvent() *Event {
	row := &Schema{Type: TypeStruct, Optional: true, Name: "bench.public.orders.Value", Fields: []Field{
		{Name: "id", Schema: PrimitiveSchema(TypeInt64, false)},
		{Name: "customer_id", Schema: PrimitiveSchema(TypeInt32, false)},
		{Name: "status", Schema: EnumSchema([]string{"new", "paid", "shipped"}, false)},
		{Name: "note", Schema: PrimitiveSchema(TypeString, true)},
		{Name: "amount", Schema: DecimalSchema(2, 12, false)},
		{Name: "weight", Schema: PrimitiveSchema(TypeFloat64, true)},
		{Name: "paid", Schema: PrimitiveSchema(TypeBoolean, false)},
		{Name: "created_at", Schema: MicroTimestampSchema(false)},
		{Name: "updated_at", Schema: ZonedTimestampSchema(true)},
		{Name: "payload", Schema: JSONSchema(true)},
	}}
	key := &Schema{Type: TypeStruct, Name: "bench.public.orders.Key", Fields: row.Fields[:1]}
	vals := func(status string) []any {
		return []any{int64(123456789), int32(42), status, "leave at the door, \"please\"", []byte{0x01, 0xe2, 0x40},
			12.75, true, int64(1700000000123456), "2023-11-14T22:13:20.123456Z", `{"gift":true,"items":[1,2,3]}`}
	}
	return &Event{
		Topic: "bench.public.orders", Op: OpUpdate, RowSchema: row,
		Key:    &Struct{Schema: key, Values: []any{int64(123456789)}},
		Before: &Struct{Schema: row, Values: vals("new")},
		After:  &Struct{Schema: row, Values: vals("paid")},
		Source: Source{Version: "0.1.0", Connector: ConnectorPostgres, Name: "bench", TsUs: 1700000000123456,
			DB: "bench", Sequence: `["24023119","24023128"]`, Schema: "public", Table: "orders", TxID: 555, LSN: 24023128},
		TsUs:        1700000000223456,
		Transaction: &Transaction{ID: "555:24023128", TotalOrder: 1, DataCollectionOrder: 1},
	}
}

func BenchmarkEncodeValue(b *testing.B) {
	e := benchEvent()
	for _, c := range []struct {
		name    string
		schemas bool
	}{{"schemas", true}, {"no-schemas", false}} {
		b.Run(c.name, func(b *testing.B) {
			enc := NewJSONEncoder(JSONOptions{Schemas: c.schemas})
			buf, _ := enc.AppendValue(nil, e)
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if buf, err = enc.AppendValue(buf[:0], e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecodeJSON(b *testing.B) {
	e := benchEvent()
	for _, c := range []struct {
		name    string
		schemas bool
	}{{"schemas", true}, {"no-schemas", false}} {
		b.Run(c.name, func(b *testing.B) {
			key, val, err := NewJSONEncoder(JSONOptions{Schemas: c.schemas}).Encode(e)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(val)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := DecodeJSON(e.Topic, key, val); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func FuzzDecodeJSON(f *testing.F) {
	enc := NewJSONEncoder(JSONOptions{Schemas: true})
	for _, e := range roundTripEvents() {
		key, val, err := enc.Encode(e)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(key, val)
	}
	for _, tc := range goldenCases() {
		var key, val []byte
		if tc.keyFile != "" {
			key = readGolden(f, tc.keyFile)
		}
		if tc.valFile != "" {
			val = readGolden(f, tc.valFile)
		}
		f.Add(key, val)
	}
	f.Add([]byte(nil), []byte(`{"before":null,"after":{"a":[1,2.5,"x",null,{"b":true}]},"source":{},"op":"c"}`))
	f.Add([]byte(`{"id":1}`), []byte(`{"schema":{"type":"map","keys":{"type":"int16"},"values":{"type":"float"},"optional":false},"payload":[[1,"NaN"]]}`))
	encoders := []*JSONEncoder{NewJSONEncoder(JSONOptions{Schemas: true}), NewJSONEncoder(JSONOptions{})}
	f.Fuzz(func(t *testing.T, key, val []byte) {
		e, err := DecodeJSON("fuzz", key, val)
		if err != nil {
			return
		}
		DecodeJSONValue(val)
		for _, enc := range encoders {
			k, v, err := enc.Encode(e)
			if err != nil {
				continue // e.g. a schemaless null in a row whose inferred field is required
			}
			if (k != nil && !json.Valid(k)) || (v != nil && !json.Valid(v)) {
				t.Fatalf("encoder wrote invalid JSON: %q %q", k, v)
			}
			if _, err := DecodeJSON("fuzz", k, v); err != nil {
				t.Fatalf("cannot decode own output: %v\n%q\n%q", err, k, v)
			}
		}
	})
}

func TestSourceMemo(t *testing.T) {
	base := roundTripEvents()[0] // a create with a PostgreSQL source
	pg := base.Source
	nextLSN := pg
	nextLSN.LSN++ // same length, one digit apart
	later := pg
	later.TsUs += 1000
	snap := pg
	snap.Snapshot, snap.Sequence, snap.TxID = "true", "", 0
	enc := NewJSONEncoder(JSONOptions{Schemas: true})
	var last *sourceMemo
	for i, step := range []struct {
		src Source
		id  int64
		hit bool // the memo of the step before holds this source block
	}{
		{pg, 1, false}, {pg, 2, true}, {nextLSN, 3, false}, {nextLSN, 4, true},
		{later, 5, false}, {pg, 6, false}, {snap, 7, false}, {snap, 8, true}, {pg, 9, false},
	} {
		e := *base
		e.Source = step.src
		e.Key = &Struct{Schema: base.Key.Schema, Values: []any{step.id}}
		key, val, err := enc.Encode(&e)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeJSON(e.Topic, key, val)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if got.Source != step.src || got.Key.Values[0] != step.id {
			t.Fatalf("step %d: decoded source %+v key %v, want %+v key %d", i, got.Source, got.Key.Values, step.src, step.id)
		}
		d, _ := splitKnown(val)
		if d == nil {
			t.Fatalf("step %d: schema block not recent", i)
		}
		m := d.source.Load()
		if m == nil || (i > 0 && (m == last) != step.hit) {
			t.Fatalf("step %d: memo %p after %p, want a hit: %v", i, m, last, step.hit)
		}
		last = m
	}
}
