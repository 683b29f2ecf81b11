package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

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
	// cur is the slab the records' keys and values are encoded into, one
	// after the other: one allocation per many records instead of two per
	// record, and no copy. reserve is the room left for the next record
	// (the largest key and value encoded so far).
	cur     *slab
	reserve int
	// pool holds the slabs whose records Kafka has all delivered (or
	// failed): their bytes are no longer referenced, so they are reused
	// instead of being left to the garbage collector, while they are still
	// in the CPU's caches.
	pool slabPool
	recs []*kgo.Record
	// chunk is where records are allocated, many at a time.
	chunk []kgo.Record
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
	s := &SourceWriter{w: w, enc: change.NewJSONEncoder(opts)}
	if w != nil {
		w.OnDelivered(releaseSlab)
	}
	return s
}

const (
	slabSize = 1 << 20
	// recordChunk is how many kgo.Records are allocated at once.
	recordChunk = 256
)

// maxPooledSlabs bounds the slabs kept for reuse, and so the memory they
// hold. The producer buffers at most 16 MB of records
// (kafka.MaxBufferedBytes), so about as many slabs are in use at a time.
const maxPooledSlabs = 24

// slab is a buffer that records' keys and values are carved from. refs
// counts the records carved from it that Kafka has not delivered yet, plus
// one while the writer still fills it; at zero, buf goes back to the pool.
// A slab is the Context of each of its records (see releaseSlab).
type slab struct {
	context.Context // Background: no deadline, values or cancellation
	buf             []byte
	refs            atomic.Int64
	pool            *slabPool
}

// slabPool is the free list of slabs, filled by the producer's goroutines
// and drained by the writer's.
type slabPool struct {
	mu   sync.Mutex
	free [][]byte
}

func (p *slabPool) get(n int) []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.free) > 0 {
		f := p.free[len(p.free)-1]
		p.free[len(p.free)-1] = nil
		p.free = p.free[:len(p.free)-1]
		if cap(f) >= n {
			return f[:0]
		}
	}
	return nil
}

func (p *slabPool) put(b []byte) {
	p.mu.Lock()
	if len(p.free) < maxPooledSlabs {
		p.free = append(p.free, b)
	}
	p.mu.Unlock()
}

// release drops one reference; the last one returns the slab's bytes to
// the pool.
func (sl *slab) release() {
	if sl.refs.Add(-1) == 0 {
		sl.pool.put(sl.buf)
		sl.buf = nil
	}
}

// releaseSlab is the TxnWriter's delivery hook: a record carved from a slab
// has been delivered or failed, and Kafka holds its bytes no more.
func releaseSlab(r *kgo.Record) {
	if sl, ok := r.Context.(*slab); ok {
		sl.release()
	}
}

// newSlab retires the current slab and makes cur an empty one with room
// for at least n bytes: a pooled one if there is one, else a new one.
func (s *SourceWriter) newSlab(n int) {
	if s.cur != nil {
		s.cur.release()
	}
	buf := s.pool.get(n)
	if buf == nil {
		buf = make([]byte, 0, n)
	}
	s.cur = &slab{Context: context.Background(), buf: buf, pool: &s.pool}
	s.cur.refs.Store(1)
}

// appendTo encodes one key or value at the end of the current slab with
// fn and returns it. An encoding larger than the room left still fits:
// append then moves the slab (the records already carved keep the old
// array, which is not reused), so a key or value of any size is encoded
// whole.
func (s *SourceWriter) appendTo(fn func([]byte, *change.Event) ([]byte, error), e *change.Event) ([]byte, error) {
	sl := s.cur
	start := len(sl.buf)
	b, err := fn(sl.buf, e)
	if err != nil {
		sl.buf = sl.buf[:start]
		return nil, err
	}
	sl.buf = b
	return b[start:len(b):len(b)], nil
}

// Emit encodes events and adds them to the open Kafka transaction.
func (s *SourceWriter) Emit(ctx context.Context, evs []change.Event) error {
	if err := s.encode(evs); err != nil {
		return err
	}
	return s.w.Write(ctx, s.recs...)
}

// newRecord returns a zero record from the current chunk.
func (s *SourceWriter) newRecord() *kgo.Record {
	if len(s.chunk) == 0 {
		s.chunk = make([]kgo.Record, recordChunk)
	}
	r := &s.chunk[0]
	s.chunk = s.chunk[1:]
	return r
}

// encode transforms and encodes evs into s.recs.
func (s *SourceWriter) encode(evs []change.Event) error {
	clear(s.recs)
	s.recs = s.recs[:0]
	// One clock reading for the batch rather than one per record (the
	// producer stamps records it gets without a timestamp).
	now := time.Now()
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
		if s.cur == nil || cap(s.cur.buf)-len(s.cur.buf) < s.reserve {
			s.newSlab(max(slabSize, 2*s.reserve))
		}
		sl := s.cur
		start := len(sl.buf)
		r := s.newRecord()
		r.Topic, r.Timestamp = e.Topic, now
		if len(e.Headers) > 0 {
			r.Headers = make([]kgo.RecordHeader, len(e.Headers))
			for j, h := range e.Headers {
				r.Headers[j] = kgo.RecordHeader{Key: h.Key, Value: h.Value}
			}
		}
		if !change.KeyIsNull(e) {
			var err error
			if r.Key, err = s.appendTo(s.enc.AppendKey, e); err != nil {
				sl.buf = sl.buf[:start]
				return fmt.Errorf("encode key for %s: %w", e.Topic, err)
			}
		}
		if !change.ValueIsNull(e) {
			var err error
			if r.Value, err = s.appendTo(s.enc.AppendValue, e); err != nil {
				sl.buf = sl.buf[:start]
				return fmt.Errorf("encode value for %s: %w", e.Topic, err)
			}
		}
		s.reserve = max(s.reserve, len(r.Key)+len(r.Value))
		// Released by the TxnWriter's delivery hook.
		sl.refs.Add(1)
		r.Context = sl
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
