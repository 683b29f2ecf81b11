package offsets

import (
	"context"
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// DefaultTopic is the default offsets topic.
const DefaultTopic = "sluice.offsets"

// TopicConfigs are the configs the offsets topic is created with.
var TopicConfigs = map[string]string{"cleanup.policy": "compact"}

// Entry is what the offsets topic holds for one key.
type Entry struct {
	// Committed is the key's last committed record (a tombstone if its
	// Value is nil); nil if none.
	Committed *kgo.Record
	// Uncommitted is the key's last record written after Committed by a
	// transaction that did not commit in the offsets topic: aborted, or
	// left without a marker by a crashed broker. Such a transaction may
	// still have committed in other partitions (see runtime.SourceTask).
	// nil if none.
	Uncommitted *kgo.Record
	// Generation is the highest HeaderGeneration of any of the key's
	// records, committed or not, tombstones included.
	Generation int64
}

// ReadAll reads the offsets topic to its end and returns the last committed
// value stored for every key. A key whose last record is a tombstone is
// absent. clientOpts reach the cluster (seed brokers, SASL, TLS); the topic
// must exist.
func ReadAll(ctx context.Context, clientOpts []kgo.Opt, topic string) (map[string][]byte, error) {
	log, err := ReadLog(ctx, clientOpts, topic)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]byte, len(log))
	for k, e := range log {
		if e.Committed != nil && e.Committed.Value != nil {
			out[k] = e.Committed.Value
		}
	}
	return out, nil
}

// ReadLog reads the offsets topic to its end and returns, for every key,
// its last committed record and the record, if any, of an uncommitted
// transaction after it.
//
// It reads with read_uncommitted up to the high watermark and applies the
// transaction markers itself: a transactional record counts once its
// producer's commit marker is read; records of transactions that are
// aborted or unfinished do not. Unlike a read_committed consumer this
// neither waits for other producers' open transactions (which hold back the
// last stable offset) nor depends on where the broker puts that offset.
func ReadLog(ctx context.Context, clientOpts []kgo.Opt, topic string) (map[string]Entry, error) {
	adm, err := kgo.NewClient(clientOpts...)
	if err != nil {
		return nil, fmt.Errorf("read offsets topic %s: %w", topic, err)
	}
	ends, err := kadm.NewClient(adm).ListEndOffsets(ctx, topic)
	adm.Close()
	if err != nil {
		return nil, fmt.Errorf("read offsets topic %s: list end offsets: %w", topic, err)
	}
	if err := ends.Error(); err != nil {
		return nil, fmt.Errorf("read offsets topic %s: list end offsets: %w", topic, err)
	}
	remaining := map[int32]int64{}
	parts := map[int32]kgo.Offset{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			remaining[o.Partition] = o.Offset
			parts[o.Partition] = kgo.NewOffset().AtStart()
		}
	})
	out := map[string]Entry{}
	if len(parts) == 0 {
		return out, nil
	}
	opts := append(append([]kgo.Opt(nil), clientOpts...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: parts}),
		kgo.FetchIsolationLevel(kgo.ReadUncommitted()),
		kgo.KeepControlRecords(),
	)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("read offsets topic %s: %w", topic, err)
	}
	defer cl.Close()
	apply := func(r *kgo.Record) {
		e := out[string(r.Key)]
		e.Committed = r
		out[string(r.Key)] = e
	}
	uncommitted := func(r *kgo.Record) {
		e := out[string(r.Key)]
		if e.Uncommitted == nil || e.Uncommitted.Offset < r.Offset {
			e.Uncommitted = r
		}
		out[string(r.Key)] = e
	}
	// A transaction is identified by producer id and epoch: a producer
	// re-initialised after a crash keeps its id with a higher epoch, and
	// the crashed epoch's unterminated records must stay uncommitted.
	type pk struct {
		partition int32
		producer  int64
		epoch     int16
	}
	open := map[pk][]*kgo.Record{} // records of transactions not ended yet
	gens := map[string]int64{}
	for len(remaining) > 0 {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("read offsets topic %s: %w", topic, err)
		}
		var ferr error
		fs.EachError(func(t string, p int32, err error) {
			ferr = fmt.Errorf("read offsets topic %s partition %d: %w", t, p, err)
		})
		if ferr != nil {
			return nil, ferr
		}
		fs.EachRecord(func(r *kgo.Record) {
			if g := generation(r); g > gens[string(r.Key)] {
				gens[string(r.Key)] = g
			}
			k := pk{r.Partition, r.ProducerID, r.ProducerEpoch}
			switch {
			case r.Attrs.IsControl():
				// Key: version int16, type int16 (0 abort, 1 commit).
				if len(r.Key) >= 4 && binary.BigEndian.Uint16(r.Key[2:4]) == 1 {
					for _, tr := range open[k] {
						apply(tr)
					}
				} else {
					for _, tr := range open[k] {
						uncommitted(tr)
					}
				}
				delete(open, k)
			case r.Attrs.IsTransactional():
				open[k] = append(open[k], r)
			default:
				apply(r)
			}
			if end, ok := remaining[r.Partition]; ok && r.Offset+1 >= end {
				delete(remaining, r.Partition)
			}
		})
	}
	// What is still open had no marker up to the high watermark.
	for _, recs := range open {
		for _, r := range recs {
			uncommitted(r)
		}
	}
	for k, e := range out {
		if c, u := e.Committed, e.Uncommitted; c != nil && u != nil && c.Partition == u.Partition && c.Offset > u.Offset {
			e.Uncommitted = nil
			out[k] = e
		}
	}
	for k, g := range gens {
		e := out[k]
		e.Generation = g
		out[k] = e
	}
	return out, nil
}

// generation returns the HeaderGeneration of r, 0 if it has none.
func generation(r *kgo.Record) int64 {
	for _, h := range r.Headers {
		if h.Key == HeaderGeneration {
			g, _ := strconv.ParseInt(string(h.Value), 10, 64)
			return g
		}
	}
	return 0
}
