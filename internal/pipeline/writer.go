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
	// slab is carved into the records' keys and values: one allocation per
	// many records instead of two per record.
	slab    []byte
	scratch []byte
	recs    []*kgo.Record
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

// carve copies b into the slab and returns the copy.
func (s *SourceWriter) carve(b []byte) []byte {
	if len(b) > slabSize/4 {
		return append([]byte(nil), b...)
	}
	if cap(s.slab)-len(s.slab) < len(b) {
		s.slab = make([]byte, 0, slabSize)
	}
	start := len(s.slab)
	s.slab = append(s.slab, b...)
	return s.slab[start:len(s.slab):len(s.slab)]
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
	scratch := s.scratch[:0]
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
		var err error
		start := len(scratch)
		scratch, err = s.enc.AppendKey(scratch, e)
		if err != nil {
			return fmt.Errorf("encode key for %s: %w", e.Topic, err)
		}
		if !change.KeyIsNull(e) {
			r.Key = s.carve(scratch[start:])
		}
		scratch = scratch[:start]
		scratch, err = s.enc.AppendValue(scratch, e)
		if err != nil {
			return fmt.Errorf("encode value for %s: %w", e.Topic, err)
		}
		if !e.Tombstone {
			r.Value = s.carve(scratch[start:])
		}
		scratch = scratch[:start]
		s.recs = append(s.recs, r)
	}
	s.scratch = scratch
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
	return s.w.Commit(ctx, offset)
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
