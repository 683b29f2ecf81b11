package offsets

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// DefaultTopic is the default offsets topic.
const DefaultTopic = "sluice.offsets"

// TopicConfigs are the configs the offsets topic is created with.
var TopicConfigs = map[string]string{"cleanup.policy": "compact"}

// ReadAll reads the offsets topic to its end, as a read_committed consumer,
// and returns the last value stored for every key. A key whose last record
// is a tombstone is absent. clientOpts reach the cluster (seed brokers,
// SASL, TLS); the topic must exist.
func ReadAll(ctx context.Context, clientOpts []kgo.Opt, topic string) (map[string][]byte, error) {
	adm, err := kgo.NewClient(clientOpts...)
	if err != nil {
		return nil, fmt.Errorf("read offsets topic %s: %w", topic, err)
	}
	ends, err := kadm.NewClient(adm).ListCommittedOffsets(ctx, topic)
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
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.KeepControlRecords(),
	)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("read offsets topic %s: %w", topic, err)
	}
	defer cl.Close()
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
			// Control records (transaction markers) are kept so that the
			// position reaches the last stable offset even when the log
			// ends with a marker; they carry no offset.
			if !r.Attrs.IsControl() {
				if r.Value == nil {
					delete(out, string(r.Key))
				} else {
					out[string(r.Key)] = r.Value
				}
			}
			if end, ok := remaining[r.Partition]; ok && r.Offset+1 >= end {
				delete(remaining, r.Partition)
			}
		})
	}
	return out, nil
}
