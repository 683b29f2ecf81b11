package runtime

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/change"
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

// embeddedSinkEnv starts an embedded broker with topic (one partition) and
// returns a sink task's environment on it and a client of it.
func embeddedSinkEnv(t *testing.T, topic string) (KafkaEnv, *kgo.Client) {
	t.Helper()
	e, err := kafka.StartEmbedded(kafka.EmbeddedOptions{Listen: "127.0.0.1:0", Partitions: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	opts := []kgo.Opt{kgo.SeedBrokers(e.Addr())}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	env := KafkaEnv{ClientOpts: opts, Topics: kafka.NewTopics(cl, 1, -1, nil), Admin: cl}
	if err := env.Topics.Ensure(context.Background(), nil, topic); err != nil {
		t.Fatal(err)
	}
	return env, cl
}

// TestSinkTaskGroupOffsets: a writer without offsets of its own resumes
// at the offsets committed to the group sluice-<name> after each batch,
// and a lingering batch collects records that arrive within Linger.
func TestSinkTaskGroupOffsets(t *testing.T) {
	env, cl := embeddedSinkEnv(t, "g.t")
	ctx := context.Background()
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

// storingWriter stores its own offsets (like the SQL sink's table); the
// group only mirrors them.
type storingWriter struct{ groupWriter }

func (w *storingWriter) Positions(context.Context) (map[string]map[int32]int64, error) {
	return map[string]map[int32]int64{}, nil
}

// TestSinkTaskGroupMirror: with the target storing the offsets, the task
// mirrors them to the group sluice-<name> in the background: the group
// follows the batches while the sink runs, and holds the last batch's
// offsets once the task stops, even when it stops right after the batch.
func TestSinkTaskGroupMirror(t *testing.T) {
	env, cl := embeddedSinkEnv(t, "m.t")
	adm := kadm.NewClient(cl)
	ctx := context.Background()
	for i := range 25 {
		r := &kgo.Record{Topic: "m.t", Key: []byte(fmt.Sprintf(`{"id":%d}`, i)), Value: []byte(fmt.Sprintf(`{"id":%d}`, i))}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	committed := func() int64 {
		resp, err := adm.FetchOffsets(ctx, "sluice-m")
		if err != nil {
			t.Fatal(err)
		}
		o, _ := resp.Lookup("m.t", 0)
		return o.At
	}
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	w := &storingWriter{groupWriter: groupWriter{enough: 25, done: cancel}}
	task := SinkTask(env, SinkOptions{Name: "m", Topics: []string{"m.t"}, BatchSize: 10}, &SinkStatus{},
		func(context.Context) (SinkWriter, error) { return w, nil })
	// The task stops (cancel) inside the write of the last record: the
	// mirror's last commit happens at the stop.
	if err := task(rctx); err != nil {
		t.Fatal(err)
	}
	if rctx.Err() == context.DeadlineExceeded {
		t.Fatalf("got offsets %v, want 25 records", w.offsets)
	}
	if got := committed(); got != 25 {
		t.Fatalf("group offset after the stop = %d, want 25", got)
	}

	// While the sink runs: the group follows without the writer waiting.
	for i := 25; i < 30; i++ {
		r := &kgo.Record{Topic: "m.t", Value: []byte(fmt.Sprintf(`{"id":%d}`, i))}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	rctx, cancel = context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	w = &storingWriter{groupWriter: groupWriter{enough: 1 << 30, done: func() {}}}
	task = SinkTask(env, SinkOptions{Name: "m", Topics: []string{"m.t"}, BatchSize: 10}, &SinkStatus{},
		func(context.Context) (SinkWriter, error) { return w, nil })
	errc := make(chan error, 1)
	go func() { errc <- task(rctx) }()
	for committed() != 30 {
		if rctx.Err() != nil {
			t.Fatalf("the group did not reach offset 30 while the sink ran: %d", committed())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

// preparingWriter records what its Prepare made of each event.
type preparingWriter struct {
	storingWriter
	got []any
}

func (w *preparingWriter) Prepare(e *change.Event) any { return "prepared " + e.Topic }

func (w *preparingWriter) Write(ctx context.Context, recs []SinkRecord, reject func(int, error) error) error {
	for _, r := range recs {
		w.got = append(w.got, r.Prepared)
	}
	return w.storingWriter.Write(ctx, recs, reject)
}

// TestSinkTaskPrepare: a SinkPreparer's Prepare sees each event after the
// transform, and Write gets the result in the record; records the
// transform dropped or that failed to decode are not prepared.
func TestSinkTaskPrepare(t *testing.T) {
	env, cl := embeddedSinkEnv(t, "p.t")
	ctx := context.Background()
	for i, v := range []string{`{"id":0}`, `{"id":1}`, `not json`, `{"id":3}`} {
		r := &kgo.Record{Topic: "p.t", Key: []byte(fmt.Sprintf(`{"id":%d}`, i)), Value: []byte(v)}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	w := &preparingWriter{storingWriter: storingWriter{groupWriter{enough: 4, done: cancel}}}
	n := 0
	task := SinkTask(env, SinkOptions{Name: "p", Topics: []string{"p.t"}, BatchSize: 10, ErrorsTolerance: "all",
		Transform: func(e *change.Event) (bool, error) {
			n++
			e.Topic = fmt.Sprintf("routed%d", n)
			return n != 2, nil // the second decoded record is dropped
		}}, &SinkStatus{},
		func(context.Context) (SinkWriter, error) { return w, nil })
	if err := task(rctx); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(w.got); got != "[prepared routed1 <nil> <nil> prepared routed3]" {
		t.Errorf("Prepared per record = %s, want the transformed topics, nil for the dropped and the undecodable record", got)
	}
}
