package kafka

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Topics creates topics on demand and remembers which exist.
type Topics struct {
	adm               *kadm.Client
	partitions        int32
	replicationFactor int16
	configs           map[string]*string

	mu     sync.Mutex
	known  map[string]bool
	counts map[string]int // partition counts looked up
}

// NewTopics returns a topic creator using cl. Topics are created with the
// given partition count, replication factor (-1 = broker default) and configs.
func NewTopics(cl *kgo.Client, partitions int32, replicationFactor int16, configs map[string]string) *Topics {
	if partitions <= 0 {
		partitions = 1
	}
	if replicationFactor == 0 {
		replicationFactor = -1
	}
	cfg := make(map[string]*string, len(configs))
	for k, v := range configs {
		cfg[k] = &v
	}
	return &Topics{adm: kadm.NewClient(cl), partitions: partitions, replicationFactor: replicationFactor, configs: cfg, known: map[string]bool{}, counts: map[string]int{}}
}

// Ensure creates the named topics that do not exist yet. extra configs are
// merged over the defaults (for example cleanup.policy=compact).
func (t *Topics) Ensure(ctx context.Context, extra map[string]string, names ...string) error {
	var missing []string
	t.mu.Lock()
	for _, n := range names {
		if !t.known[n] {
			missing = append(missing, n)
		}
	}
	t.mu.Unlock()
	if len(missing) == 0 {
		return nil
	}
	cfg := t.configs
	if len(extra) > 0 {
		cfg = make(map[string]*string, len(t.configs)+len(extra))
		for k, v := range t.configs {
			cfg[k] = v
		}
		for k, v := range extra {
			cfg[k] = &v
		}
	}
	resp, err := t.adm.CreateTopics(ctx, t.partitions, t.replicationFactor, cfg, missing...)
	if err != nil {
		return fmt.Errorf("create topics %v: %w", missing, err)
	}
	for _, r := range resp.Sorted() {
		if r.Err != nil && !errors.Is(r.Err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("create topic %s: %w", r.Topic, r.Err)
		}
	}
	t.mu.Lock()
	for _, n := range missing {
		t.known[n] = true
	}
	t.mu.Unlock()
	return nil
}

// PartitionCount returns the number of partitions of an existing topic,
// asking the cluster the first time.
func (t *Topics) PartitionCount(ctx context.Context, topic string) (int, error) {
	t.mu.Lock()
	n, ok := t.counts[topic]
	t.mu.Unlock()
	if ok {
		return n, nil
	}
	md, err := t.adm.ListTopics(ctx, topic)
	if err != nil {
		return 0, fmt.Errorf("describe topic %s: %w", topic, err)
	}
	d, ok := md[topic]
	if !ok || d.Err != nil {
		return 0, fmt.Errorf("describe topic %s: %w", topic, errors.Join(d.Err, errIfMissing(ok)))
	}
	n = len(d.Partitions)
	t.mu.Lock()
	t.counts[topic] = n
	t.mu.Unlock()
	return n, nil
}

func errIfMissing(found bool) error {
	if found {
		return nil
	}
	return kerr.UnknownTopicOrPartition
}
