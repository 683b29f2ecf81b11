package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/change"
	"github.com/sluice-cdc/sluice/internal/kafka"
)

// SourceWriter encodes a source's events and writes them in Kafka
// transactions together with the source's offset record. It is used by one
// goroutine (the source's).
type SourceWriter struct {
	w   *kafka.TxnWriter
	enc *change.JSONEncoder
	// slab holds the records' keys and values, encoded into it one after
	// the other: one allocation per many records instead of two per
	// record, and no copy. reserve is the room left for the next one (the
	// largest encoded so far).
	slab    []byte
	reserve int
	// retired are the slabs filled up since the last commit (at most
	// maxPooledSlabs of them), free those whose records a commit has
	// delivered: Kafka no longer holds their bytes, so they are reused
	// instead of being left to the garbage collector (a snapshot fills
	// one per few hundred rows).
	retired, free [][]byte
	recs          []*kgo.Record
	// tf, when set, is applied to a copy of each event before encoding.
	tf Transform
	ev change.Event
}

// Transform is applied to each event before it is encoded: it may change
// the event (topic, key, value, headers) in place, or return false to drop
// it. An error stops the Emit.
type Transform func(e *change.Event) (keep bool, err error)

// SetTransform makes Emit apply tf to a copy of each event (the caller's
// events are not modified). nil removes it.
func (s *SourceWriter) SetTransform(tf Transform) { s.tf = tf }

// NewSourceWriter returns a writer that encodes with opts and writes
// through w.
func NewSourceWriter(w *kafka.TxnWriter, opts change.JSONOptions) *SourceWriter {
	return &SourceWriter{w: w, enc: change.NewJSONEncoder(opts)}
}

const slabSize = 1 << 20

// maxPooledSlabs bounds the slabs kept for reuse, and so the memory they
// hold (16 MB; a snapshot transaction of 10,000 rows of ~4 KB records
// fills about 40): the pool saves zeroing and collecting most slabs while
// keeping the peak heap (twice the live heap) well below 150 MB.
const maxPooledSlabs = 16

// newSlab retires the current slab and returns an empty one with room for
// at least n bytes: a free one if there is one, else a new one.
func (s *SourceWriter) newSlab(n int) []byte {
	if cap(s.slab) > 0 && len(s.retired) < maxPooledSlabs {
		s.retired = append(s.retired, s.slab)
	}
	for len(s.free) > 0 {
		f := s.free[len(s.free)-1]
		s.free[len(s.free)-1] = nil
		s.free = s.free[:len(s.free)-1]
		if cap(f) >= n {
			return f[:0]
		}
	}
	return make([]byte, 0, n)
}

// recycle makes the slabs retired before a successful commit free for
// reuse; the free list keeps no more than the last transaction needed, so
// that memory is given back once the writer fills fewer slabs (a snapshot
// has ended).
func (s *SourceWriter) recycle() {
	n := len(s.retired)
	if len(s.free) > n {
		clear(s.free[n:])
		s.free = s.free[:n]
	}
	for _, r := range s.retired {
		if len(s.free) >= maxPooledSlabs {
			break
		}
		s.free = append(s.free, r)
	}
	clear(s.retired)
	s.retired = s.retired[:0]
}

// appendTo encodes one key or value at the end of the slab with fn and
// returns it. A slab with less room than the largest so far is left for a
// new one; an encoding larger than any before may still outgrow it, and
// append then moves the slab (the records already carved keep the old
// array), so a key or value of any size is encoded whole.
func (s *SourceWriter) appendTo(fn func([]byte, *change.Event) ([]byte, error), e *change.Event) ([]byte, error) {
	if s.slab == nil || cap(s.slab)-len(s.slab) < s.reserve {
		s.slab = s.newSlab(max(slabSize, 2*s.reserve))
	}
	start := len(s.slab)
	b, err := fn(s.slab, e)
	if err != nil {
		s.slab = s.slab[:start]
		return nil, err
	}
	s.slab = b
	out := b[start:len(b):len(b)]
	s.reserve = max(s.reserve, len(out))
	return out, nil
}

// Emit encodes events and adds them to the open Kafka transaction.
func (s *SourceWriter) Emit(ctx context.Context, evs []change.Event) error {
	if err := s.encode(evs); err != nil {
		return err
	}
	return s.w.Write(ctx, s.recs...)
}

// encode transforms and encodes evs into s.recs.
func (s *SourceWriter) encode(evs []change.Event) error {
	s.recs = s.recs[:0]
	for i := range evs {
		e := &evs[i]
		if s.tf != nil {
			s.ev = *e
			e = &s.ev
			keep, err := s.tf(e)
			if err != nil {
				return err
			}
			if !keep {
				continue
			}
		}
		r := &kgo.Record{Topic: e.Topic}
		if len(e.Headers) > 0 {
			r.Headers = make([]kgo.RecordHeader, len(e.Headers))
			for j, h := range e.Headers {
				r.Headers[j] = kgo.RecordHeader{Key: h.Key, Value: h.Value}
			}
		}
		if !change.KeyIsNull(e) {
			var err error
			if r.Key, err = s.appendTo(s.enc.AppendKey, e); err != nil {
				return fmt.Errorf("encode key for %s: %w", e.Topic, err)
			}
		}
		if !change.ValueIsNull(e) {
			var err error
			if r.Value, err = s.appendTo(s.enc.AppendValue, e); err != nil {
				return fmt.Errorf("encode value for %s: %w", e.Topic, err)
			}
		}
		s.recs = append(s.recs, r)
	}
	return nil
}

// Heartbeat writes a Debezium heartbeat record to
// __sluice-heartbeat.<serverName>.
func (s *SourceWriter) Heartbeat(ctx context.Context, serverName string, tsMs int64) error {
	key, value := HeartbeatRecord(serverName, tsMs, s.enc.Schemas())
	// A heartbeat depends on the clock, not on the source's position: a
	// replay would not reproduce it, so it is not counted.
	return s.w.WriteUncounted(ctx, &kgo.Record{Topic: change.HeartbeatTopic(serverName), Key: key, Value: value})
}

// Commit commits the open transaction with the offset record.
func (s *SourceWriter) Commit(ctx context.Context, offset []byte) error {
	if err := s.w.Commit(ctx, offset); err != nil {
		// Aborted: records may still be held; leave their slabs to the
		// garbage collector.
		clear(s.retired)
		s.retired = s.retired[:0]
		return err
	}
	// Every record written so far is delivered (Commit waits for all of
	// them): Kafka holds none of the retired slabs' bytes any more.
	s.recycle()
	return nil
}

// HeartbeatRecord encodes a heartbeat as Debezium does: key
// {"serverName": ...}, value {"ts_ms": ...}.
func HeartbeatRecord(serverName string, tsMs int64, schemas bool) (key, value []byte) {
	nb, _ := json.Marshal(serverName) // a string always marshals
	name := string(nb)
	if schemas {
		key = []byte(`{"schema":{"type":"struct","fields":[{"type":"string","optional":false,"field":"serverName"}],"optional":false,"name":"io.debezium.connector.common.ServerNameKey"},"payload":{"serverName":` + name + `}}`)
		value = []byte(`{"schema":{"type":"struct","fields":[{"type":"int64","optional":false,"field":"ts_ms"}],"optional":false,"name":"io.debezium.connector.common.Heartbeat"},"payload":{"ts_ms":` + strconv.FormatInt(tsMs, 10) + `}}`)
		return key, value
	}
	return []byte(`{"serverName":` + name + `}`), []byte(`{"ts_ms":` + strconv.FormatInt(tsMs, 10) + `}`)
}
