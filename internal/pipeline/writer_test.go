package pipeline

import (
	"bytes"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/change"
)

// TestEncodeIntoSlab checks that records encoded one after the other into
// the writer's slabs keep their bytes: through new slabs, a value larger
// than a slab, a value larger than any before (which moves the slab), and
// tombstones (null value).
func TestEncodeIntoSlab(t *testing.T) {
	evs := benchEvents(t, 6000)
	// A value of 3 MB (larger than a slab) and one of 100 KB, larger than
	// any before it, in the middle.
	for i, size := range map[int]int{2500: 3 << 20, 4000: 100 << 10} {
		e := evs[i]
		after := *e.After
		after.Values = append([]any(nil), after.Values...)
		after.Values[2] = strings.Repeat("x", size)
		e.After = &after
		evs[i] = e
	}
	opts := change.JSONOptions{Schemas: true}
	s := NewSourceWriter(nil, opts)
	var recs []*kgo.Record
	for i := 0; i < len(evs); i += 700 {
		if err := s.encode(evs[i:min(i+700, len(evs))]); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, s.recs...)
	}
	if len(recs) != len(evs) {
		t.Fatalf("%d records for %d events", len(recs), len(evs))
	}
	enc := change.NewJSONEncoder(opts)
	tombstones := 0
	for i := range evs {
		key, value, err := enc.Encode(&evs[i])
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(recs[i].Key, key) || !bytes.Equal(recs[i].Value, value) {
			t.Fatalf("record %d: key %.80q value %.80q, want key %.80q value %.80q", i, recs[i].Key, recs[i].Value, key, value)
		}
		if value == nil {
			tombstones++
			if recs[i].Value != nil {
				t.Fatalf("record %d: tombstone with a value", i)
			}
		}
	}
	if tombstones == 0 {
		t.Fatal("no tombstone among the events")
	}
}

// TestSlabsReused: once Kafka has delivered the records of a slab (the
// TxnWriter's delivery hook), the slab is reused, and the records encoded
// into it are whole; a slab still being filled or with a record in flight
// is not.
func TestSlabsReused(t *testing.T) {
	evs := benchEvents(t, 3000)
	opts := change.JSONOptions{Schemas: true}
	s := NewSourceWriter(nil, opts)
	enc := change.NewJSONEncoder(opts)
	check := func() {
		t.Helper()
		for i := range evs {
			key, value, err := enc.Encode(&evs[i])
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(s.recs[i].Key, key) || !bytes.Equal(s.recs[i].Value, value) {
				t.Fatalf("record %d: key %.80q value %.80q, want key %.80q value %.80q", i, s.recs[i].Key, s.recs[i].Value, key, value)
			}
		}
	}
	if err := s.encode(evs); err != nil {
		t.Fatal(err)
	}
	check()
	first, cur := s.recs[0].Context.(*slab), s.cur
	if first == nil || first == cur {
		t.Fatal("the events fill less than one slab; the test needs more")
	}
	firstByte := &s.recs[0].Key[0] // the start of the slab
	// All but the first record delivered: the first slab stays in use.
	for _, r := range s.recs[1:] {
		releaseSlab(r)
	}
	if first.buf == nil {
		t.Fatal("a slab with a record in flight was released")
	}
	if cur.buf == nil {
		t.Fatal("the slab being filled was released")
	}
	releaseSlab(s.recs[0])
	if first.buf != nil {
		t.Fatal("the first slab was not released once its records were delivered")
	}
	if err := s.encode(evs); err != nil {
		t.Fatal(err)
	}
	check()
	reused := false
	for _, r := range s.recs {
		if len(r.Key) > 0 && &r.Key[0] == firstByte {
			reused = true
		}
	}
	if !reused {
		t.Error("the first slab was not reused")
	}
}
