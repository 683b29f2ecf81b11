package offsets

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// DefaultTopic is the default offsets topic.
const DefaultTopic = "sluice.offsets"

// TopicConfigs are the configs the offsets topic is created with.
var TopicConfigs = map[string]string{"cleanup.policy": "compact"}

// ReadAll reads the offsets topic to its end and returns the last committed
// value stored for every key. A key whose last record is a tombstone is
// absent. clientOpts reach the cluster (seed brokers, SASL, TLS); the topic
// must exist.
//
// It reads with read_uncommitted up to the high watermark and applies the
// transaction markers itself: a transactional record counts once its
// producer's commit marker is read, and records of transactions that are
// aborted or still open are dropped. Unlike a read_committed consumer this
// neither waits for other producers' open transactions (which hold back
// the last stable offset) nor depends on where the broker puts that offset.
func ReadAll(ctx context.Context, clientOpts []kgo.Opt, topic string) (map[string][]byte, error) {
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
	out := map[string][]byte{}
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
		if r.Value == nil {
			delete(out, string(r.Key))
		} else {
			out[string(r.Key)] = r.Value
		}
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
			k := pk{r.Partition, r.ProducerID, r.ProducerEpoch}
			switch {
			case r.Attrs.IsControl():
				// Key: version int16, type int16 (0 abort, 1 commit).
				if len(r.Key) >= 4 && binary.BigEndian.Uint16(r.Key[2:4]) == 1 {
					for _, tr := range open[k] {
						apply(tr)
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
	return out, nil
}
