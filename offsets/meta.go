package offsets

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Headers of an offset record that carry the delivery bookkeeping of the
// Kafka transaction it was committed in. The record's value stays the
// source's own offset (Postgres, MySQL).
const (
	HeaderGeneration = "sluice.generation"
	HeaderPrev       = "sluice.prev"
	HeaderRecords    = "sluice.records"
	HeaderParts      = "sluice.parts"
	HeaderFilter     = "sluice.filter"
)

// Meta is what a source connector's transaction wrote, stored in the
// headers of its offset record so that a restart can tell whether the
// transaction reached every partition (see the "Delivery" section of
// DESIGN.md: a broker that crashes while writing commit markers can leave a
// transaction committed in some partitions only).
type Meta struct {
	// Generation numbers the run of the connector that wrote the record;
	// each start takes the next one, and with it a fresh transactional id.
	Generation int64
	// Prev is the offset committed before this transaction: the point to
	// replay this transaction from.
	Prev []byte
	// Records counts the change records this transaction covered after
	// Prev, including those it left out because an earlier, partly
	// committed transaction had already written them (Filter). Heartbeats
	// are not counted: they are not reproduced by a replay.
	Records int64
	// Parts are the partitions this transaction wrote change records to.
	Parts []Part
	// Filter holds the windows, counted from Prev, whose records this
	// transaction did not write where they were already committed.
	Filter []Window
}

// Part is the range of one partition written by a transaction.
type Part struct {
	Topic     string `json:"t"`
	Partition int32  `json:"p"`
	// First is the offset of the transaction's first record there.
	First int64 `json:"o"`
	Count int64 `json:"n"`
}

// Window says that the first Records change records after a replay point
// were already committed in the listed partitions.
type Window struct {
	Records   int64            `json:"n"`
	Committed []TopicPartition `json:"c"`
}

// TopicPartition names a partition.
type TopicPartition struct {
	Topic     string `json:"t"`
	Partition int32  `json:"p"`
}

// Headers encodes m as record headers.
func (m *Meta) Headers() []kgo.RecordHeader {
	h := []kgo.RecordHeader{
		{Key: HeaderGeneration, Value: []byte(strconv.FormatInt(m.Generation, 10))},
		{Key: HeaderPrev, Value: m.Prev},
		{Key: HeaderRecords, Value: []byte(strconv.FormatInt(m.Records, 10))},
	}
	if len(m.Parts) > 0 {
		h = append(h, kgo.RecordHeader{Key: HeaderParts, Value: mustJSON(m.Parts)})
	}
	if len(m.Filter) > 0 {
		h = append(h, kgo.RecordHeader{Key: HeaderFilter, Value: mustJSON(m.Filter)})
	}
	return h
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // plain structs: cannot fail
	}
	return b
}

// ParseMeta decodes the bookkeeping headers of an offset record. A record
// without them (written by `sluice offsets reset`, or by an older sluice)
// gives a zero Meta with HasPrev false.
func ParseMeta(r *kgo.Record) (m Meta, hasPrev bool, err error) {
	for _, h := range r.Headers {
		switch h.Key {
		case HeaderGeneration:
			m.Generation, err = strconv.ParseInt(string(h.Value), 10, 64)
		case HeaderPrev:
			m.Prev, hasPrev = h.Value, true
		case HeaderRecords:
			m.Records, err = strconv.ParseInt(string(h.Value), 10, 64)
		case HeaderParts:
			err = json.Unmarshal(h.Value, &m.Parts)
		case HeaderFilter:
			err = json.Unmarshal(h.Value, &m.Filter)
		}
		if err != nil {
			return Meta{}, false, fmt.Errorf("offset record of %s: header %s: %w", r.Key, h.Key, err)
		}
	}
	return m, hasPrev, nil
}

// Replayable reports whether a source restarted at offset replays the
// same change records it produced the first time: true once streaming,
// false before the first offset and while an initial or ad-hoc snapshot
// runs (an interrupted snapshot starts over, and its rows may have changed
// meanwhile). An offset that is not a sluice source's JSON is taken as a
// plain streaming position.
func Replayable(offset []byte) bool {
	if len(offset) == 0 {
		return false
	}
	var o struct {
		Snapshot string   `json:"snapshot"`
		AdHoc    []string `json:"adhoc_snapshot"`
	}
	if err := json.Unmarshal(offset, &o); err != nil {
		return true
	}
	return o.Snapshot != SnapshotRunning && len(o.AdHoc) == 0
}
