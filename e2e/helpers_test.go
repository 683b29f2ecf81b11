package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	goruntime "runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/goleak"

	"github.com/sluice-cdc/sluice/configs"
	"github.com/sluice-cdc/sluice/internal/daemon"
	"github.com/sluice-cdc/sluice/internal/runtime"
)

// runDaemon parses a YAML configuration and runs sluice's runtime
// in-process until the test ends. The embedded broker listens on a free
// port unless the YAML says otherwise.
func runDaemon(t *testing.T, yaml string) *daemon.Daemon {
	t.Helper()
	d, _ := stoppableDaemon(t, yaml)
	return d
}

// stoppableDaemon runs sluice in-process like runDaemon, and returns a
// function that stops it (also called when the test ends). A state_dir, an
// embedded broker on a free port and a disabled API are added unless the
// YAML sets them.
func stoppableDaemon(t *testing.T, yaml string) (*daemon.Daemon, func()) {
	t.Helper()
	if !strings.Contains(yaml, "state_dir:") {
		yaml = "state_dir: " + t.TempDir() + "\n" + yaml
	}
	if !strings.Contains(yaml, "kafka:") {
		yaml = "kafka: {listen: 127.0.0.1:0}\n" + yaml
	}
	if !strings.Contains(yaml, "api:") {
		yaml = "api: {listen: \"\"}\n" + yaml
	}
	cfg, err := configs.Parse("test.yaml", []byte(yaml))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	d, err := daemon.New(cfg, testLogger(t))
	if err != nil {
		t.Fatalf("daemon: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = d.Run(ctx)
	}()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(60 * time.Second):
				t.Errorf("daemon did not stop within 60s")
			}
			d.Close()
		})
	}
	t.Cleanup(stop)
	return d, stop
}

// sourceYAML is the sources section for one connector of type typ.
func sourceYAML(typ, name, dsn string, extra ...string) string {
	y := fmt.Sprintf(`
sources:
  - name: %s
    type: %s
    dsn: %s
    topic_prefix: %s
    max_batch_wait: 20ms
`, name, typ, dsn, name)
	for _, e := range extra {
		y += "    " + e + "\n"
	}
	return y
}

func testLogger(t *testing.T) *slog.Logger {
	var w io.Writer = io.Discard
	if testing.Verbose() || os.Getenv("SLUICE_TEST_LOG") != "" {
		w = os.Stderr
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})).With("test", t.Name())
}

// record is a consumed Kafka record with its JSON decoded.
type record struct {
	Topic     string
	Partition int32
	Offset    int64
	Key       map[string]any // key payload; nil for a null key
	Value     map[string]any // value payload; nil for a tombstone
	RawKey    []byte
	RawValue  []byte
}

func (r record) op() string {
	if r.Value == nil {
		return "tombstone"
	}
	op, _ := r.Value["op"].(string)
	return op
}

// consumer reads topics as a read_committed consumer from the start.
type consumer struct {
	t  *testing.T
	cl *kgo.Client
}

func newConsumer(t *testing.T, brokers []string, topics ...string) *consumer {
	t.Helper()
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(brokers...),
		kgo.ConsumeTopics(topics...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.FetchMaxWait(200*time.Millisecond),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return &consumer{t: t, cl: cl}
}

// next returns exactly n records, failing the test if they do not arrive
// within timeout.
func (c *consumer) next(n int, timeout time.Duration) []record {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var out []record
	for len(out) < n {
		fs := c.cl.PollRecords(ctx, n-len(out))
		if ctx.Err() != nil {
			c.t.Fatalf("got %d of %d records within %s", len(out), n, timeout)
		}
		fs.EachError(func(tp string, p int32, err error) { c.t.Fatalf("fetch %s/%d: %v", tp, p, err) })
		fs.EachRecord(func(r *kgo.Record) { out = append(out, decodeRecord(c.t, r)) })
	}
	return out
}

// upTo returns up to n records, as many as arrive within timeout.
func (c *consumer) upTo(n int, timeout time.Duration) []record {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var out []record
	for len(out) < n && ctx.Err() == nil {
		fs := c.cl.PollRecords(ctx, n-len(out))
		fs.EachError(func(tp string, p int32, err error) {
			if ctx.Err() == nil {
				c.t.Fatalf("fetch %s/%d: %v", tp, p, err)
			}
		})
		fs.EachRecord(func(r *kgo.Record) { out = append(out, decodeRecord(c.t, r)) })
	}
	return out
}

// none fails the test if a record arrives within d.
func (c *consumer) none(d time.Duration) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	fs := c.cl.PollFetches(ctx)
	fs.EachRecord(func(r *kgo.Record) {
		c.t.Errorf("unexpected record on %s at offset %d: key=%s value=%.300s", r.Topic, r.Offset, r.Key, r.Value)
	})
}

func decodeRecord(t *testing.T, r *kgo.Record) record {
	t.Helper()
	out := record{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, RawKey: r.Key, RawValue: r.Value}
	if r.Key != nil {
		out.Key = payload(t, r.Key)
	}
	if r.Value != nil {
		out.Value = payload(t, r.Value)
	}
	return out
}

// payload decodes a JSON converter message and returns its payload.
func payload(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("decode %.200s: %v", b, err)
	}
	if p, ok := m["payload"].(map[string]any); ok && m["schema"] != nil {
		return p
	}
	return m
}

// waitStatus polls a connector's status until cond holds.
func waitStatus(t *testing.T, d *daemon.Daemon, name string, timeout time.Duration, cond func(runtime.Status) bool) runtime.Status {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var st runtime.Status
	for time.Now().Before(deadline) {
		st, _ = d.Supervisor().Status(name)
		if cond(st) {
			return st
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("connector %s: condition not met within %s; last status: %+v", name, timeout, st)
	return st
}

// jsonEq compares two JSON-like values, numbers by their text.
func jsonEq(a, b any) bool {
	return fmt.Sprint(normalize(a)) == fmt.Sprint(normalize(b))
}

func normalize(v any) any {
	switch x := v.(type) {
	case json.Number:
		return x.String()
	case int:
		return fmt.Sprint(x)
	case int64:
		return fmt.Sprint(x)
	case int32:
		return fmt.Sprint(x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, v := range x {
			out[k] = normalize(v)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, v := range x {
			out[i] = normalize(v)
		}
		return out
	}
	return v
}

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// heapPeaks are what sampleHeap saw.
type heapPeaks struct {
	base, live, inuse uint64 // live heap at the start; peaks of the live heap and of the heap in use
}

// sampleHeap samples this process's heap every 20 ms until the returned
// function is called. The live heap (what the last GC found reachable) is
// what the daemon holds; the heap in use also counts garbage not yet
// collected, up to twice the live heap with GOGC=100.
func sampleHeap() (stop func() heapPeaks) {
	goruntime.GC()
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(sample)
	p := heapPeaks{base: sample[0].Value.Uint64()}
	done, out := make(chan struct{}), make(chan heapPeaks)
	go func() {
		var m goruntime.MemStats
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				out <- p
				return
			case <-tick.C:
				metrics.Read(sample)
				p.live = max(p.live, sample[0].Value.Uint64())
				goruntime.ReadMemStats(&m)
				p.inuse = max(p.inuse, m.HeapInuse)
			}
		}
	}()
	return func() heapPeaks { close(done); return <-out }
}
