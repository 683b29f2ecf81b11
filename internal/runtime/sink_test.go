package runtime

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/change"
)

func TestDecodeSinkRecord(t *testing.T) {
	// A Debezium envelope without schemas.
	e, err := decodeRecord(&kgo.Record{Topic: "a.public.t", Key: []byte(`{"id":1}`),
		Value: []byte(`{"before":null,"after":{"id":1,"v":"x"},"source":{"connector":"postgresql","table":"t"},"op":"c","ts_ms":1}`)})
	if err != nil || e.Op != change.OpCreate || e.After == nil || e.Source.Table != "t" {
		t.Fatalf("envelope: %+v, %v", e, err)
	}
	// A tombstone.
	e, err = decodeRecord(&kgo.Record{Topic: "a.public.t", Key: []byte(`{"id":1}`)})
	if err != nil || !e.Tombstone || e.Key == nil {
		t.Fatalf("tombstone: %+v, %v", e, err)
	}
	// A row flattened by an unwrap transform, with a schema block.
	e, err = decodeRecord(&kgo.Record{Topic: "a.public.t", Key: []byte(`{"id":2}`),
		Value: []byte(`{"schema":{"type":"struct","fields":[{"field":"id","type":"int32"},{"field":"v","type":"string","optional":true}]},"payload":{"id":2,"v":"y"}}`)})
	if err != nil || e.Op != "" || e.After == nil || e.Key == nil {
		t.Fatalf("flattened: %+v, %v", e, err)
	}
	if v, _ := e.After.Get("id"); v != int32(2) {
		t.Errorf("flattened id = %#v", v)
	}
	// Garbage is an error (the record is rejected).
	if _, err := decodeRecord(&kgo.Record{Topic: "a.public.t", Value: []byte(`{not json`)}); err == nil {
		t.Error("garbage decoded")
	}
}
