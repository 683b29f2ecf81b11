package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-cdc/sluice/change"
	"github.com/sluice-cdc/sluice/internal/kafka"
	"github.com/sluice-cdc/sluice/internal/pipeline"
	"github.com/sluice-cdc/sluice/offsets"
)

func testEnv(t *testing.T, partitions int32) KafkaEnv {
	t.Helper()
	e, err := kafka.StartEmbedded(kafka.EmbeddedOptions{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Partitions: partitions})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	opts, err := kafka.Options{Brokers: []string{e.Addr()}}.ClientOpts()
	if err != nil {
		t.Fatal(err)
	}
	adm, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(adm.Close)
	return KafkaEnv{
		ClientOpts:   opts,
		Topics:       kafka.NewTopics(adm, partitions, -1, nil),
		OffsetsTopic: offsets.DefaultTopic,
		Admin:        adm,
		Log:          slog.New(slog.DiscardHandler),
	}
}

// readCommitted returns the values in topic as a read_committed consumer
// sees them, per partition.
func readCommitted(t *testing.T, env KafkaEnv, topic string) map[int32][]string {
	t.Helper()
	cl, err := kgo.NewClient(append(append([]kgo.Opt(nil), env.ClientOpts...), kgo.ConsumeTopics(topic),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	out := map[int32][]string{}
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		fs := cl.PollFetches(ctx)
		cancel()
		if fs.IsClientClosed() || errors.Is(fs.Err0(), context.DeadlineExceeded) {
			return out
		}
		fs.EachRecord(func(r *kgo.Record) { out[r.Partition] = append(out[r.Partition], string(r.Value)) })
	}
}

// A source that writes "<n>" records (n = 1, 2, ...) keyed by n to topic
// a and b alternately, committing offset "<n>" after every k records, and
// that resumes after the stored n: a deterministic replay, as the real
// sources are.
type countingSource struct {
	total, every int
	resumed      []string // the offsets it was started from
}

func (s *countingSource) run(ctx context.Context, stored []byte, w *pipeline.SourceWriter) error {
	s.resumed = append(s.resumed, string(stored))
	n := 0
	if stored != nil {
		if _, err := fmt.Sscan(string(stored), &n); err != nil {
			return err
		}
	}
	for n < s.total {
		n++
		topic := "a"
		if n%2 == 0 {
			topic = "b"
		}
		if err := w.WriteRaw(ctx, topic, fmt.Appendf(nil, "k%d", n), fmt.Appendf(nil, "%d", n)); err != nil {
			return err
		}
		if n%s.every == 0 || n == s.total {
			if err := w.Commit(ctx, fmt.Appendf(nil, "%d", n)); err != nil {
				return err
			}
		}
	}
	return nil
}

// partialCommit leaves what a broker crash in the middle of EndTxn leaves:
// a transaction of generation gen (records 7..10 after offset "6", and its
// offset record "10") committed in the partitions of commitIn only. The
// coordinator then loses the transaction (the producer is fenced), which
// aborts it everywhere else.
func partialCommit(t *testing.T, env KafkaEnv, gen int64, commitIn func(topic string) bool) {
	t.Helper()
	ctx := context.Background()
	txid := kafka.TransactionalID("c", gen)
	cl, err := kgo.NewClient(append(append([]kgo.Opt(nil), env.ClientOpts...), kgo.TransactionalID(txid),
		kgo.RecordPartitioner(kgo.BasicConsistentPartitioner(func(string) func(*kgo.Record, int) int {
			return func(r *kgo.Record, n int) int { return kafka.Partition(r.Key, r.Value, n) }
		})))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	parts := map[offsets.TopicPartition]*offsets.Part{}
	for n := 7; n <= 10; n++ {
		topic := "a"
		if n%2 == 0 {
			topic = "b"
		}
		r, err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Key: fmt.Appendf(nil, "k%d", n), Value: fmt.Appendf(nil, "%d", n)}).First()
		if err != nil {
			t.Fatal(err)
		}
		tp := offsets.TopicPartition{Topic: r.Topic, Partition: r.Partition}
		if parts[tp] == nil {
			parts[tp] = &offsets.Part{Topic: r.Topic, Partition: r.Partition, First: r.Offset}
		}
		parts[tp].Count++
	}
	meta := offsets.Meta{Generation: gen, Prev: []byte("6"), Records: 4}
	for _, p := range parts {
		meta.Parts = append(meta.Parts, *p)
	}
	off, err := cl.ProduceSync(ctx, &kgo.Record{Topic: env.OffsetsTopic, Key: []byte("c"), Value: []byte("10"), Headers: meta.Headers()}).First()
	if err != nil {
		t.Fatal(err)
	}
	pid, epoch, err := cl.ProducerID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The commit markers that made it before the crash.
	req := kmsg.NewPtrWriteTxnMarkersRequest()
	m := kmsg.NewWriteTxnMarkersRequestMarker()
	m.ProducerID, m.ProducerEpoch, m.Committed = pid, epoch, true
	byTopic := map[string][]int32{}
	for tp := range parts {
		if commitIn(tp.Topic) {
			byTopic[tp.Topic] = append(byTopic[tp.Topic], tp.Partition)
		}
	}
	if commitIn(env.OffsetsTopic) {
		byTopic[off.Topic] = append(byTopic[off.Topic], off.Partition)
	}
	for topic, ps := range byTopic {
		mt := kmsg.NewWriteTxnMarkersRequestMarkerTopic()
		mt.Topic, mt.Partitions = topic, ps
		m.Topics = append(m.Topics, mt)
	}
	req.Markers = append(req.Markers, m)
	if _, err := req.RequestWith(ctx, env.Admin); err != nil {
		t.Fatal(err)
	}
	if err := Fence(ctx, env.Admin, txid); err != nil {
		t.Fatal(err)
	}
}

// TestResumeAfterPartialCommit: whichever partitions a crashed broker
// committed the last transaction in, the restarted source's records reach
// every partition exactly once.
func TestResumeAfterPartialCommit(t *testing.T) {
	for _, tc := range []struct {
		name     string
		commitIn []string
		resumed  string // offset the second run starts from
	}{
		{"data a only", []string{"a"}, "6"},
		{"data b and offsets", []string{"b", offsets.DefaultTopic}, "6"},
		{"offsets only", []string{offsets.DefaultTopic}, "6"},
		{"everything", []string{"a", "b", offsets.DefaultTopic}, "10"},
		{"nothing", nil, "6"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, partitions := range []int32{1, 3} {
				env := testEnv(t, partitions)
				ctx := context.Background()
				// Generation 1 commits 1..6.
				src := &countingSource{total: 6, every: 3}
				if err := SourceTask(env, "c", change.JSONOptions{}, src.run)(ctx); err != nil {
					t.Fatal(err)
				}
				partialCommit(t, env, 1, func(topic string) bool { return slices.Contains(tc.commitIn, topic) })
				src = &countingSource{total: 14, every: 3}
				if err := SourceTask(env, "c", change.JSONOptions{}, src.run)(ctx); err != nil {
					t.Fatal(err)
				}
				if got := src.resumed[0]; got != tc.resumed {
					t.Errorf("%d partitions: resumed from %q, want %q", partitions, got, tc.resumed)
				}
				checkExactlyOnce(t, env, 14)
			}
		})
	}
}

// checkExactlyOnce: topics a and b hold 1..total exactly once, in order per
// partition.
func checkExactlyOnce(t *testing.T, env KafkaEnv, total int) {
	t.Helper()
	seen := map[int]int{}
	for _, topic := range []string{"a", "b"} {
		for p, vals := range readCommitted(t, env, topic) {
			last := 0
			for _, v := range vals {
				var n int
				fmt.Sscan(v, &n)
				if n <= last {
					t.Errorf("%s[%d]: %d after %d: %v", topic, p, n, last, vals)
				}
				last = n
				seen[n]++
			}
		}
	}
	for n := 1; n <= total; n++ {
		if seen[n] != 1 {
			t.Errorf("record %d seen %d times", n, seen[n])
		}
	}
}

// TestResumeAfterRepeatedPartialCommits: the replay of a partly committed
// transaction is itself cut short by another broker crash; the filter is
// carried in the offset record and still applies.
func TestResumeAfterRepeatedPartialCommits(t *testing.T) {
	env := testEnv(t, 1)
	ctx := context.Background()
	src := &countingSource{total: 6, every: 3}
	if err := SourceTask(env, "c", change.JSONOptions{}, src.run)(ctx); err != nil {
		t.Fatal(err)
	}
	// 7..10 committed in a only (7, 9), offset record lost.
	partialCommit(t, env, 1, func(topic string) bool { return topic == "a" })
	// Generation 2 replays from 6 and commits 8 (b) with offset 8 —
	// leaving 7 out —, then a transaction of 9..10 that again reaches
	// only... nothing but its offset record: simulate with a source that
	// stops after offset 8.
	src = &countingSource{total: 8, every: 2}
	if err := SourceTask(env, "c", change.JSONOptions{}, src.run)(ctx); err != nil {
		t.Fatal(err)
	}
	src = &countingSource{total: 14, every: 5}
	if err := SourceTask(env, "c", change.JSONOptions{}, src.run)(ctx); err != nil {
		t.Fatal(err)
	}
	if got := src.resumed[0]; got != "8" {
		t.Errorf("resumed from %q, want 8", got)
	}
	checkExactlyOnce(t, env, 14)
}
