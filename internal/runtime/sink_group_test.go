package runtime

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/internal/kafka"
)

// groupWriter keeps no offsets: the task uses the consumer group's.
type groupWriter struct {
	mu      sync.Mutex
	offsets []int64
	writes  int
	enough  int
	done    func()
}

func (w *groupWriter) Positions(context.Context) (map[string]map[int32]int64, error) { return nil, nil }

func (w *groupWriter) Write(_ context.Context, recs []SinkRecord, _ func(int, error) error) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes++
	for _, r := range recs {
		w.offsets = append(w.offsets, r.Record.Offset)
	}
	if len(w.offsets) >= w.enough {
		w.done()
	}
	return nil
}

func (w *groupWriter) Close() error { return nil }

// TestSinkTaskGroupOffsets: a writer without offsets of its own resumes
// at the offsets committed to the group sluice-<name> after each batch,
// and a lingering batch collects records that arrive within Linger.
func TestSinkTaskGroupOffsets(t *testing.T) {
	e, err := kafka.StartEmbedded(kafka.EmbeddedOptions{Listen: "127.0.0.1:0", Partitions: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	opts := []kgo.Opt{kgo.SeedBrokers(e.Addr())}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	env := KafkaEnv{ClientOpts: opts, Topics: kafka.NewTopics(cl, 1, -1, nil), Admin: cl}
	ctx := context.Background()
	if err := env.Topics.Ensure(ctx, nil, "g.t"); err != nil {
		t.Fatal(err)
	}
	produce := func(from, n int) {
		for i := from; i < from+n; i++ {
			r := &kgo.Record{Topic: "g.t", Key: []byte(fmt.Sprintf(`{"id":%d}`, i)), Value: []byte(fmt.Sprintf(`{"id":%d}`, i))}
			if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}
	run := func(enough int, linger time.Duration, during func()) *groupWriter {
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		w := &groupWriter{enough: enough, done: cancel}
		task := SinkTask(env, SinkOptions{Name: "g", Topics: []string{"g.t"}, BatchSize: 100, Linger: linger}, &SinkStatus{},
			func(context.Context) (SinkWriter, error) { return w, nil })
		errc := make(chan error, 1)
		go func() { errc <- task(rctx) }()
		if during != nil {
			during()
		}
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
		if rctx.Err() == context.DeadlineExceeded {
			t.Fatalf("got offsets %v, want %d records", w.offsets, enough)
		}
		return w
	}
	produce(0, 10)
	w := run(10, 0, nil)
	if len(w.offsets) != 10 || w.offsets[0] != 0 {
		t.Fatalf("first run offsets = %v", w.offsets)
	}
	resp, err := kadm.NewClient(cl).FetchOffsets(ctx, "sluice-g")
	if err != nil {
		t.Fatal(err)
	}
	if o, ok := resp.Lookup("g.t", 0); !ok || o.At != 10 {
		t.Fatalf("committed offset = %+v", o)
	}
	// The second run starts at the committed offset; with a linger of
	// 700ms, records produced 200ms apart land in one batch.
	produce(10, 3)
	w = run(6, 700*time.Millisecond, func() {
		time.Sleep(200 * time.Millisecond)
		produce(13, 3)
	})
	if fmt.Sprint(w.offsets) != "[10 11 12 13 14 15]" {
		t.Errorf("second run offsets = %v, want 10..15", w.offsets)
	}
	if w.writes != 1 {
		t.Errorf("second run: %d writes, want 1 lingering batch", w.writes)
	}
}
