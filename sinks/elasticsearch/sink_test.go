package elasticsearch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/change"
	"github.com/sluice-cdc/sluice/internal/esemu"
)

var (
	keySchema = &change.Schema{Type: change.TypeStruct, Name: "shop.public.items.Key", Fields: []change.Field{
		{Name: "id", Schema: change.PrimitiveSchema(change.TypeInt64, false)},
	}}
	rowSchema = &change.Schema{Type: change.TypeStruct, Name: "shop.public.items.Value", Optional: true, Fields: []change.Field{
		{Name: "id", Schema: change.PrimitiveSchema(change.TypeInt64, false)},
		{Name: "name", Schema: change.PrimitiveSchema(change.TypeString, true)},
		{Name: "qty", Schema: change.PrimitiveSchema(change.TypeInt64, true)},
		{Name: "price", Schema: change.DecimalSchema(2, 10, true)},
		{Name: "seen", Schema: change.MicroTimestampSchema(true)},
	}}
)

func dec(cents int64) []byte { return change.DecimalBytes(big.NewInt(cents)) }

func key(id int64) *change.Struct { return &change.Struct{Schema: keySchema, Values: []any{id}} }

func row(id int64, name string, qty, cents int64) *change.Struct {
	return &change.Struct{Schema: rowSchema, Values: []any{id, name, qty, dec(cents), int64(1_700_000_000_123_456)}}
}

func upsert(off, id int64, name string, qty int64) Record {
	return Record{Topic: "shop.public.items", Offset: off, Event: &change.Event{
		Topic: "shop.public.items", Op: change.OpUpdate, Key: key(id), RowSchema: rowSchema, After: row(id, name, qty, qty*100+5),
		Source: change.Source{Table: "items", Schema: "public", DB: "shop"},
	}}
}

func del(off, id int64) Record {
	return Record{Topic: "shop.public.items", Offset: off, Event: &change.Event{
		Topic: "shop.public.items", Op: change.OpDelete, Key: key(id), RowSchema: rowSchema, Before: row(id, "", 0, 0),
	}}
}

func tomb(off, id int64) Record {
	return Record{Topic: "shop.public.items", Offset: off, Event: &change.Event{Topic: "shop.public.items", Key: key(id), Tombstone: true}}
}

func open(t *testing.T, srv *esemu.Server, mod func(*Options)) *Sink {
	t.Helper()
	o := Options{Name: "t", URLs: []string{srv.URL}, AutoCreate: true, RetryBackoff: time.Millisecond, RetryBackoffMax: 20 * time.Millisecond, RetryTimeout: 30 * time.Second}
	if mod != nil {
		mod(&o)
	}
	s, err := Open(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func noReject(t *testing.T) Reject {
	return func(i int, err error) error {
		t.Errorf("record %d rejected: %v", i, err)
		return err
	}
}

func docs(t *testing.T, srv *esemu.Server, index string) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for id, raw := range srv.Docs(index) {
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		out[id] = m
	}
	return out
}

func TestDocumentID(t *testing.T) {
	composite := &change.Schema{Type: change.TypeStruct, Fields: []change.Field{
		{Name: "id", Schema: change.PrimitiveSchema(change.TypeInt32, false)},
		{Name: "region", Schema: change.PrimitiveSchema(change.TypeString, false)},
		{Name: "day", Schema: change.DateSchema(false)},
	}}
	one := func(s *change.Schema, v any) *change.Struct {
		return &change.Struct{Schema: &change.Schema{Type: change.TypeStruct, Fields: []change.Field{{Name: "k", Schema: s}}}, Values: []any{v}}
	}
	for _, tc := range []struct {
		key  *change.Struct
		want string
	}{
		{key(42), "42"},
		{one(change.PrimitiveSchema(change.TypeString, false), `a "quoted"/id`), `a "quoted"/id`},
		{one(change.PrimitiveSchema(change.TypeBytes, false), []byte{0xde, 0xad}), "3q0="},
		{one(change.DateSchema(false), int32(19723)), "2024-01-01"},
		{one(change.DecimalSchema(2, 10, false), dec(-1234)), "-12.34"},
		{one(change.UUIDSchema(false), "0b7e2b0c-8f43-4b3b-9a53-1c1a1f6a2e4d"), "0b7e2b0c-8f43-4b3b-9a53-1c1a1f6a2e4d"},
		{&change.Struct{Schema: composite, Values: []any{int32(7), "EU", int32(0)}}, `[7,"EU","1970-01-01"]`},
	} {
		got, err := DocumentID(tc.key)
		if err != nil || got != tc.want {
			t.Errorf("DocumentID(%v) = %q, %v; want %q", tc.key.Values, got, err, tc.want)
		}
	}
	if _, err := DocumentID(nil); err == nil {
		t.Error("nil key: want an error")
	}
	if _, err := DocumentID(one(change.PrimitiveSchema(change.TypeInt64, true), nil)); err == nil {
		t.Error("null key field: want an error")
	}
}

func TestDocument(t *testing.T) {
	inner := &change.Schema{Type: change.TypeStruct, Optional: true, Fields: []change.Field{{Name: "x", Schema: change.PrimitiveSchema(change.TypeInt32, false)}}}
	sc := &change.Schema{Type: change.TypeStruct, Fields: []change.Field{
		{Name: "i8", Schema: change.PrimitiveSchema(change.TypeInt8, false)},
		{Name: "f32", Schema: change.PrimitiveSchema(change.TypeFloat32, false)},
		{Name: "nan", Schema: change.PrimitiveSchema(change.TypeFloat64, false)},
		{Name: "b", Schema: change.PrimitiveSchema(change.TypeBoolean, false)},
		{Name: "s", Schema: change.PrimitiveSchema(change.TypeString, true)},
		{Name: "bin", Schema: change.PrimitiveSchema(change.TypeBytes, true)},
		{Name: "d", Schema: change.DecimalSchema(3, 12, true)},
		{Name: "vd", Schema: change.VariableScaleDecimalSchema(true)},
		{Name: "date", Schema: change.DateSchema(true)},
		{Name: "ts", Schema: change.TimestampSchema(true)},
		{Name: "uts", Schema: change.MicroTimestampSchema(true)},
		{Name: "nts", Schema: change.NanoTimestampSchema(true)},
		{Name: "zts", Schema: change.ZonedTimestampSchema(true)},
		{Name: "t", Schema: change.MicroTimeSchema(true)},
		{Name: "dur", Schema: change.MicroDurationSchema(true)},
		{Name: "arr", Schema: change.ArraySchema(change.PrimitiveSchema(change.TypeString, false), true)},
		{Name: "obj", Schema: inner},
		{Name: "null", Schema: change.PrimitiveSchema(change.TypeString, true)},
	}}
	vd := change.VariableScaleDecimal(change.VariableScaleDecimalSchema(true), big.NewInt(-5), 3)
	r := &change.Struct{Schema: sc, Values: []any{
		int8(-3), float32(1.1), math.NaN(), true, "a\"b\\c\n\x01\u2028é\xff", []byte("hi"), dec(123456), vd,
		int32(-1), int64(1_000), int64(1_700_000_000_123_456), int64(1_700_000_000_123_456_789), "2024-01-02T03:04:05.5Z",
		int64(3_723_000_001), int64(90_000_000), []any{"x", "y"}, &change.Struct{Schema: inner, Values: []any{int32(5)}}, nil,
	}}
	b, err := appendDocument(nil, r)
	if err != nil {
		t.Fatal(err)
	}
	// Strings are escaped as the JSON converter escapes them (U+2028 and
	// the replacement of invalid UTF-8 are written as they are).
	want := `{"i8":-3,"f32":1.1,"nan":null,"b":true,"s":"a\"b\\c\n\u0001` + "\u2028é\ufffd" + `","bin":"aGk=","d":123.456,"vd":-0.005,` +
		`"date":"1969-12-31","ts":"1970-01-01T00:00:01Z","uts":"2023-11-14T22:13:20.123456Z","nts":"2023-11-14T22:13:20.123456789Z",` +
		`"zts":"2024-01-02T03:04:05.5Z","t":"01:02:03.000001","dur":90000000,"arr":["x","y"],"obj":{"x":5},"null":null}`
	if string(b) != want {
		t.Errorf("document\n got %s\nwant %s", b, want)
	}
	if !json.Valid(b) {
		t.Errorf("not valid JSON: %s", b)
	}
}

func TestMapping(t *testing.T) {
	m := Mapping(rowSchema)
	want := map[string]any{"properties": map[string]any{
		"id":    map[string]any{"type": "long"},
		"name":  textField(),
		"qty":   map[string]any{"type": "long"},
		"price": map[string]any{"type": "scaled_float", "scaling_factor": float64(100)},
		"seen":  map[string]any{"type": "date", "format": dateFormat},
	}}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("Mapping = %v\nwant %v", m, want)
	}
	for _, tc := range []struct {
		s    *change.Schema
		want string
	}{
		{change.DecimalSchema(2, 30, false), "double"},
		{change.PrimitiveSchema(change.TypeFloat64, false), "double"},
		{change.DateSchema(false), "date"},
		{change.ZonedTimestampSchema(false), "date"},
		{change.UUIDSchema(false), "keyword"},
		{change.MicroTimeSchema(false), "keyword"},
		{change.PrimitiveSchema(change.TypeBoolean, false), "boolean"},
		{change.PrimitiveSchema(change.TypeBytes, false), "binary"},
		{change.PrimitiveSchema(change.TypeInt16, false), "short"},
		{change.ArraySchema(change.PrimitiveSchema(change.TypeInt32, false), false), "integer"},
	} {
		if got := fieldMapping(tc.s)["type"]; got != tc.want {
			t.Errorf("fieldMapping(%s %s) = %v, want %s", tc.s.Type, tc.s.Name, got, tc.want)
		}
	}
}

func TestBuild(t *testing.T) {
	s := &Sink{o: Options{Index: "${source.db}-${source.table}"}, topics: map[string]change.Source{}}
	s.o.defaults()
	a, err := s.build(0, ptr(upsert(7, 1, "a", 2)))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"index":{"_index":"shop-items","_id":"1","version":7,"version_type":"external"}}` + "\n" +
		`{"id":1,"name":"a","qty":2,"price":2.05,"seen":"2023-11-14T22:13:20.123456Z"}` + "\n"
	if string(a.line) != want {
		t.Errorf("index action\n got %s\nwant %s", a.line, want)
	}
	// The tombstone has no source block: the index comes from the last
	// event of the topic.
	a, err = s.build(1, ptr(tomb(9, 1)))
	if err != nil || string(a.line) != `{"delete":{"_index":"shop-items","_id":"1","version":9,"version_type":"external"}}`+"\n" {
		t.Errorf("tombstone action = %s, %v", a.line, err)
	}
	s.o.BehaviorOnNullValues = NullIgnore
	if a, err := s.build(1, ptr(tomb(9, 1))); a != nil || err != nil {
		t.Errorf("ignored tombstone = %v, %v", a, err)
	}
	s.o.BehaviorOnNullValues = NullFail
	if _, err := s.build(1, ptr(tomb(9, 1))); err == nil || !strings.Contains(err.Error(), "behavior.on.null.values") {
		t.Errorf("failing tombstone: %v", err)
	}
	keyless := upsert(11, 1, "a", 2)
	keyless.Event.Key = nil
	keyless.Partition = 3
	if a, err := s.build(0, &keyless); err != nil || a.id != "shop.public.items+3+11" {
		t.Errorf("keyless index: %+v, %v", a, err)
	}
	kd := del(12, 1)
	kd.Event.Key = nil
	if _, err := s.build(0, &kd); err == nil {
		t.Error("keyless delete: want an error")
	}
	bad := &Sink{o: Options{Index: "_${topic}"}, topics: map[string]change.Source{}}
	bad.o.defaults()
	if _, err := bad.build(0, ptr(upsert(1, 1, "a", 1))); err == nil || !strings.Contains(err.Error(), "must not start with") {
		t.Errorf("invalid index name: %v", err)
	}
	tr := Record{Topic: "x", Event: &change.Event{Op: change.OpTruncate, RowSchema: rowSchema}}
	if _, err := s.build(0, &tr); err == nil || !strings.Contains(err.Error(), "truncate") {
		t.Errorf("truncate: %v", err)
	}
	// A row flattened by unwrap: no op, after image only.
	flat := upsert(13, 5, "f", 1)
	flat.Event.Op, flat.Event.Source = "", change.Source{}
	flatSink := &Sink{o: Options{}, topics: map[string]change.Source{}}
	flatSink.o.defaults()
	if a, err := flatSink.build(0, &flat); err != nil || a.op != "index" || a.index != "shop.public.items" {
		t.Errorf("flattened row: %+v, %v", a, err)
	}
}

func ptr[T any](v T) *T { return &v }

func TestWriteIdempotentAndOrdered(t *testing.T) {
	for _, flavor := range []esemu.Flavor{esemu.Elasticsearch, esemu.OpenSearch} {
		srv := esemu.New(esemu.Options{Flavor: flavor})
		s := open(t, srv, nil)
		ctx := context.Background()
		batch := []Record{upsert(0, 1, "a", 1), upsert(1, 2, "b", 1), upsert(2, 1, "a", 2), del(3, 2), tomb(4, 2), upsert(5, 3, "c", 1)}
		if err := s.Write(ctx, batch, noReject(t)); err != nil {
			t.Fatal(err)
		}
		want := map[string]map[string]any{
			"1": {"id": 1.0, "name": "a", "qty": 2.0, "price": 2.05, "seen": "2023-11-14T22:13:20.123456Z"},
			"3": {"id": 3.0, "name": "c", "qty": 1.0, "price": 1.05, "seen": "2023-11-14T22:13:20.123456Z"},
		}
		if got := docs(t, srv, "shop.public.items"); !reflect.DeepEqual(got, want) {
			t.Errorf("%v: docs = %v", flavor, got)
		}
		if m := srv.Mapping("shop.public.items"); fmt.Sprint(m["properties"].(map[string]any)["price"]) != "map[scaling_factor:100 type:scaled_float]" {
			t.Errorf("mapping = %v", m)
		}
		// A replay (after a crash) and an older change change nothing.
		if err := s.Write(ctx, append(batch, upsert(1, 3, "old", 9)), noReject(t)); err != nil {
			t.Fatal(err)
		}
		if got := docs(t, srv, "shop.public.items"); !reflect.DeepEqual(got, want) {
			t.Errorf("%v: after replay docs = %v", flavor, got)
		}
		if s.Conflicts.Load() == 0 {
			t.Error("replay: want version conflicts")
		}
		if err := srv.CheckVersions(); err != nil {
			t.Error(err)
		}
		srv.Close()
	}
}

func TestExistingIndexAndTemplate(t *testing.T) {
	srv := esemu.New(esemu.Options{})
	defer srv.Close()
	tpl := filepath.Join(t.TempDir(), "tpl.json")
	if err := os.WriteFile(tpl, []byte(`{"index_patterns":["tpl-*"],"priority":10,"template":{"mappings":{"properties":{"name":{"type":"keyword"}}}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	s := open(t, srv, func(o *Options) { o.Index = "tpl-${source.table}"; o.IndexTemplateFile = tpl })
	if err := s.Write(context.Background(), []Record{upsert(0, 1, "a", 1)}, noReject(t)); err != nil {
		t.Fatal(err)
	}
	props := srv.Mapping("tpl-items")["properties"].(map[string]any)
	if fmt.Sprint(props["name"]) != "map[type:keyword]" {
		t.Errorf("template mapping not used: %v", props)
	}
	// An index that exists is left alone.
	s2 := open(t, srv, func(o *Options) { o.Index = "tpl-items" })
	if err := s2.Write(context.Background(), []Record{upsert(1, 2, "b", 1)}, noReject(t)); err != nil {
		t.Fatal(err)
	}
	if len(srv.Docs("tpl-items")) != 2 {
		t.Errorf("docs = %v", srv.Docs("tpl-items"))
	}
}

func TestRejects(t *testing.T) {
	srv := esemu.New(esemu.Options{Flavor: esemu.OpenSearch})
	defer srv.Close()
	s := open(t, srv, nil)
	ctx := context.Background()
	if err := s.Write(ctx, []Record{upsert(0, 1, "a", 1)}, noReject(t)); err != nil {
		t.Fatal(err)
	}
	// qty becomes a string that is not a number: a mapping conflict.
	bad := upsert(1, 2, "b", 1)
	strSchema := &change.Schema{Type: change.TypeStruct, Fields: []change.Field{
		{Name: "id", Schema: change.PrimitiveSchema(change.TypeInt64, false)},
		{Name: "qty", Schema: change.PrimitiveSchema(change.TypeString, false)},
	}}
	bad.Event.RowSchema = strSchema
	bad.Event.After = &change.Struct{Schema: strSchema, Values: []any{int64(2), "many"}}
	var got []error
	var idx []int
	err := s.Write(ctx, []Record{bad, upsert(2, 3, "c", 1)}, func(i int, err error) error {
		idx, got = append(idx, i), append(got, err)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var ie *ItemError
	if len(got) != 1 || idx[0] != 0 || !errors.As(got[0], &ie) || ie.Type != "mapper_parsing_exception" || ie.Status != 400 ||
		!strings.Contains(ie.Reason, "failed to parse field [qty] of type [long]") {
		t.Fatalf("rejections = %v %v", idx, got)
	}
	h := ie.DeadLetterHeaders()
	if h[HeaderErrorType] != "mapper_parsing_exception" || !strings.Contains(h[HeaderErrorReason], "qty") || h[HeaderID] != "2" {
		t.Errorf("headers = %v", h)
	}
	if _, _, ok := srv.Doc("shop.public.items", "3"); !ok {
		t.Error("the record after the rejected one was not written")
	}
	// errors.tolerance none: the reject callback's error stops the write.
	stop := errors.New("stop")
	if err := s.Write(ctx, []Record{bad}, func(int, error) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("Write = %v, want the reject error", err)
	}
}

func TestRetries(t *testing.T) {
	srv := esemu.New(esemu.Options{})
	defer srv.Close()
	s := open(t, srv, func(o *Options) { o.BulkMaxActions = 7; o.Concurrency = 3 })
	srv.SetFaults(esemu.Faults{Seed: 3, Status429: 0.2, RetryAfter: "0", Status503: 0.1, Item429: 0.1, DropBefore: 0.1, DropAfter: 0.1})
	want := map[string]int64{}
	off := int64(0)
	for round := 0; round < 10; round++ {
		var batch []Record
		for i := 0; i < 60; i++ {
			id := int64((round*7 + i) % 40)
			if (round+i)%9 == 0 {
				batch = append(batch, del(off, id))
				delete(want, fmt.Sprint(id))
			} else {
				batch = append(batch, upsert(off, id, "n", off))
				want[fmt.Sprint(id)] = off
			}
			off++
		}
		if err := s.Write(context.Background(), batch, noReject(t)); err != nil {
			t.Fatal(err)
		}
	}
	got := docs(t, srv, "shop.public.items")
	if len(got) != len(want) {
		t.Errorf("%d docs, want %d", len(got), len(want))
	}
	for id, qty := range want {
		if d, ok := got[id]; !ok || d["qty"] != float64(qty) {
			t.Errorf("doc %s = %v, want qty %d", id, d, qty)
		}
	}
	if err := srv.CheckVersions(); err != nil {
		t.Error(err)
	}
	st := srv.Stats()
	if st.Injected429 == 0 || st.InjectedItem429 == 0 || st.DroppedAfter == 0 || s.Retries.Load() == 0 {
		t.Errorf("faults not exercised: %+v, retries %d", st, s.Retries.Load())
	}
	t.Logf("retries %d, conflicts %d, emulator %+v", s.Retries.Load(), s.Conflicts.Load(), st)
}

func TestRetryAfterHonoured(t *testing.T) {
	srv := esemu.New(esemu.Options{})
	defer srv.Close()
	s := open(t, srv, nil)
	srv.SetFaults(esemu.Faults{Seed: 1, Status429: 1, RetryAfter: "1"})
	go func() {
		time.Sleep(1500 * time.Millisecond)
		srv.SetFaults(esemu.Faults{})
	}()
	start := time.Now()
	if err := s.Write(context.Background(), []Record{upsert(0, 1, "a", 1)}, noReject(t)); err != nil {
		t.Fatal(err)
	}
	// With 1ms backoff, only Retry-After: 1 keeps the attempts a second
	// apart: two refused attempts at most, the third one passes.
	if st := srv.Stats(); st.Injected429 > 2 || time.Since(start) < time.Second {
		t.Errorf("429s %d in %s: Retry-After not honoured", st.Injected429, time.Since(start))
	}
}

func TestGivesUp(t *testing.T) {
	srv := esemu.New(esemu.Options{})
	defer srv.Close()
	s := open(t, srv, func(o *Options) { o.RetryTimeout = 200 * time.Millisecond })
	srv.SetFaults(esemu.Faults{Status503: 1})
	err := s.Write(context.Background(), []Record{upsert(0, 1, "a", 1)}, noReject(t))
	if err == nil || !strings.Contains(err.Error(), "gave up") || !strings.Contains(err.Error(), "503") {
		t.Errorf("Write = %v, want a give-up error naming the 503", err)
	}
}

func TestAuth(t *testing.T) {
	srv := esemu.New(esemu.Options{Username: "elastic", Password: "pw", APIKey: "a2V5OnNlY3JldA=="})
	defer srv.Close()
	if _, err := Open(context.Background(), Options{Name: "t", URLs: []string{srv.URL}}); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("no credentials: %v", err)
	}
	open(t, srv, func(o *Options) { o.APIKey = "a2V5OnNlY3JldA==" })
	open(t, srv, func(o *Options) { o.Username, o.Password = "elastic", "pw" })
	open(t, srv, func(o *Options) { o.URLs = []string{strings.Replace(srv.URL, "http://", "http://elastic:pw@", 1)} })
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		o    Options
		want string
	}{
		{Options{}, "urls"},
		{Options{URLs: []string{"ftp://x"}}, "urls"},
		{Options{URLs: []string{"http://x"}, Index: "${nope}"}, "unknown variable"},
		{Options{URLs: []string{"http://x"}, BehaviorOnNullValues: "drop"}, "behavior.on.null.values"},
		{Options{URLs: []string{"http://x"}, APIKey: "k", Username: "u"}, "api_key"},
		{Options{URLs: []string{"http://x"}, IndexTemplateFile: "/nonexistent.json"}, "index_template"},
	} {
		if err := tc.o.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate(%+v) = %v, want %q", tc.o, err, tc.want)
		}
	}
}

// BenchmarkWrite measures documents per second into the emulator with the
// default bulk settings (1000 actions per request, concurrency 1 and 4).
func BenchmarkWrite(b *testing.B) {
	for _, conc := range []int{1, 4} {
		b.Run(fmt.Sprintf("concurrency=%d", conc), func(b *testing.B) {
			srv := esemu.New(esemu.Options{})
			defer srv.Close()
			s, err := Open(context.Background(), Options{Name: "b", URLs: []string{srv.URL}, AutoCreate: true, Concurrency: conc, BulkMaxActions: 1000})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			const batch = 4000
			recs := make([]Record, batch)
			b.ResetTimer()
			off := int64(0)
			for n := 0; n < b.N; n++ {
				for i := range recs {
					recs[i] = upsert(off, off%50_000, "item name", off)
					off++
				}
				if err := s.Write(context.Background(), recs, func(i int, err error) error { return err }); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "docs/s")
		})
	}
}

// TestSlowResponses: a response slower than RequestTimeout counts as a
// failed request and is retried; the write lands once the server is fast
// again, exactly once.
func TestSlowResponses(t *testing.T) {
	srv := esemu.New(esemu.Options{})
	defer srv.Close()
	s := open(t, srv, func(o *Options) { o.RequestTimeout = 100 * time.Millisecond })
	srv.SetFaults(esemu.Faults{Delay: 300 * time.Millisecond})
	go func() {
		time.Sleep(700 * time.Millisecond)
		srv.SetFaults(esemu.Faults{})
	}()
	if err := s.Write(context.Background(), []Record{upsert(0, 1, "a", 1), upsert(1, 2, "b", 1)}, noReject(t)); err != nil {
		t.Fatal(err)
	}
	if s.Retries.Load() == 0 {
		t.Error("no retries: the delay did not hit the request timeout")
	}
	if n := len(srv.Docs("shop.public.items")); n != 2 {
		t.Errorf("%d docs, want 2", n)
	}
	if err := srv.CheckVersions(); err != nil {
		t.Error(err)
	}
}

func TestTLS(t *testing.T) {
	srv := esemu.New(esemu.Options{TLS: true})
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, srv.CACertPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(context.Background(), Options{Name: "t", URLs: []string{srv.URL}}); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("untrusted certificate: %v", err)
	}
	s := open(t, srv, func(o *Options) { o.TLS.CAFile = ca })
	if err := s.Write(context.Background(), []Record{upsert(0, 1, "a", 1)}, noReject(t)); err != nil {
		t.Fatal(err)
	}
	open(t, srv, func(o *Options) { o.TLS.InsecureSkipVerify = true })
}

// TestMappingEvolves: a column that appears later gets its derived
// mapping before the first document holding it; fields already mapped
// (here by hand, before the sink started) are never changed.
func TestMappingEvolves(t *testing.T) {
	srv := esemu.New(esemu.Options{})
	defer srv.Close()
	resp, err := http.DefaultClient.Do(must(http.NewRequest(http.MethodPut, srv.URL+"/shop.public.items", strings.NewReader(`{"mappings":{"properties":{"name":{"type":"keyword"}}}}`))))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	http.DefaultClient.CloseIdleConnections()
	s := open(t, srv, nil)
	ctx := context.Background()
	if err := s.Write(ctx, []Record{upsert(0, 1, "a", 1)}, noReject(t)); err != nil {
		t.Fatal(err)
	}
	wider := &change.Schema{Type: change.TypeStruct, Fields: append(append([]change.Field{}, rowSchema.Fields...),
		change.Field{Name: "rating", Schema: change.DecimalSchema(1, 3, true)})}
	r := upsert(1, 2, "b", 1)
	r.Event.RowSchema = wider
	r.Event.After = &change.Struct{Schema: wider, Values: append(append([]any{}, r.Event.After.Values...), dec(45))}
	if err := s.Write(ctx, []Record{r}, noReject(t)); err != nil {
		t.Fatal(err)
	}
	props := srv.Mapping("shop.public.items")["properties"].(map[string]any)
	if fmt.Sprint(props["rating"]) != "map[scaling_factor:10 type:scaled_float]" {
		t.Errorf("new field mapping = %v", props["rating"])
	}
	if fmt.Sprint(props["name"]) != "map[type:keyword]" {
		t.Errorf("existing field changed: %v", props["name"])
	}
	if fmt.Sprint(props["qty"]) != "map[type:long]" {
		t.Errorf("fields missing from the hand-made mapping are added: %v", props["qty"])
	}
	d, _, _ := srv.Doc("shop.public.items", "2")
	if !strings.Contains(string(d), `"rating":4.5`) {
		t.Errorf("doc = %s", d)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
