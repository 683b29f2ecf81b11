package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/internal/harness"
)

// The kill tests prove exactly-once delivery by killing the real binary:
// a workload of small transactions (inserts, updates, deletes, primary-key
// changes, rolled-back transactions, and one transaction of 100,000 rows)
// runs against the database while sluice is SIGKILLed and restarted 20
// times. Afterwards a read_committed consumer must see every change exactly
// once and, per key, in order. Topics have 3 partitions, so that every
// Kafka transaction spans several partitions.
//
// Each test runs twice:
//   - embedded: the broker lives in the killed process, so every kill is
//     also a broker crash. kfake writes a transaction's commit markers
//     partition by partition, so a kill can leave the last transaction
//     committed in only some of its partitions; the restart finds that out
//     from the offset record and replays it into the others only (see
//     runtime.SourceTask). The log counts how often that happened.
//   - separate: the broker is its own process (`sluice broker`), restarted
//     once cleanly and once with SIGKILL.

func TestPostgresKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: -short")
	}
	bin := buildSluice(t)
	for _, mode := range []string{"embedded", "separate"} {
		t.Run(mode, func(t *testing.T) { killTest(t, bin, mode, pgKillSource) })
	}
}

func TestMySQLKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: -short")
	}
	bin := buildSluice(t)
	for _, mode := range []string{"embedded", "separate"} {
		t.Run(mode, func(t *testing.T) { killTest(t, bin, mode, myKillSource) })
	}
}

// topicWant is a change expected on a topic.
type topicWant struct {
	topic string
	want
}

// killWorkload is a database under a kill test.
type killWorkload struct {
	sourceYAML string      // the source connector's YAML (name: shop)
	topics     []string    // the topics to check
	initial    []topicWant // the snapshot
	// txn runs a small random transaction, bulk one of n inserts.
	txn  func(ctx context.Context) ([]topicWant, error)
	bulk func(ctx context.Context, n int) ([]topicWant, error)
}

func pgKillSource(t *testing.T, ctx context.Context, seed uint64) killWorkload {
	pg := harness.StartPostgres(t)
	must(t, createItems(ctx, pg, "postgres", 200))
	wl := newItemWorkload(seed, 200)
	conn, err := pgx.Connect(ctx, pg.DSN("postgres"))
	must(t, err)
	t.Cleanup(func() { conn.Close(context.Background()) })
	const topic = "shop.public.items"
	wrap := func(ws []want, err error) ([]topicWant, error) {
		out := make([]topicWant, len(ws))
		for i, w := range ws {
			out[i] = topicWant{topic, w}
		}
		return out, err
	}
	initial, _ := wrap(wl.snapshotWants(), nil)
	return killWorkload{
		sourceYAML: fmt.Sprintf("name: shop\n    type: postgres\n    dsn: %s\n    tables: [public.items]", pg.DSN("postgres")),
		topics:     []string{topic},
		initial:    initial,
		txn:        func(ctx context.Context) ([]topicWant, error) { return wrap(wl.txn(ctx, conn, 20)) },
		bulk:       func(ctx context.Context, n int) ([]topicWant, error) { return wrap(wl.bulk(ctx, conn, n)) },
	}
}

func myKillSource(t *testing.T, ctx context.Context, seed uint64) killWorkload {
	my := harness.StartMariaDB(t)
	const initial = 200
	must(t, createShop(ctx, my, initial))
	wl := newMyWorkload(seed, initial)
	c := myConn(t, my, "shop")
	wrap := func(ws []myWant, err error) ([]topicWant, error) {
		out := make([]topicWant, len(ws))
		for i, w := range ws {
			out[i] = topicWant{w.topic, w.want()}
		}
		return out, err
	}
	var snap []topicWant
	for i := int64(1); i <= initial; i++ {
		snap = append(snap, topicWant{"shop.shop.items", want{op: "r", key: i, after: initialItem(i).payload(false)}})
	}
	return killWorkload{
		sourceYAML: fmt.Sprintf("name: shop\n    type: mysql\n    dsn: %s\n    tables: [shop.items, shop.orders]\n    topic_prefix: shop", my.DSN("")),
		topics:     []string{"shop.shop.items", "shop.shop.orders"},
		initial:    snap,
		txn:        func(context.Context) ([]topicWant, error) { return wrap(wl.txn(c, 20)) },
		bulk:       func(_ context.Context, n int) ([]topicWant, error) { return wrap(wl.bigInsert(c, n)) },
	}
}

func killTest(t *testing.T, bin, mode string, source func(*testing.T, context.Context, uint64) killWorkload) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("SLUICE_KILL_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (rerun with SLUICE_KILL_SEED=%d)", seed, seed)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("failed with seed %d", seed)
		}
	})
	rng := rand.New(rand.NewPCG(seed, 7))
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	wl := source(t, ctx, seed)
	expected := wl.initial

	dir := t.TempDir()
	kafkaAddr, apiAddr := freeAddr(t), freeAddr(t)
	kafkaYAML := "kafka: {listen: " + kafkaAddr + ", topic: {partitions: 3}}"
	var broker *exec.Cmd
	startBroker := func() {
		broker = exec.Command(bin, "broker", "-listen", kafkaAddr, "-data-dir", filepath.Join(dir, "broker"))
		broker.Stderr = &bytes.Buffer{}
		must(t, broker.Start())
	}
	if mode == "separate" {
		kafkaYAML = "kafka: {brokers: [" + kafkaAddr + "], topic: {partitions: 3}}"
		startBroker()
		t.Cleanup(func() { _ = broker.Process.Kill(); _ = broker.Wait() })
	}
	cfg := filepath.Join(dir, "sluice.yaml")
	must(t, os.WriteFile(cfg, []byte(fmt.Sprintf(`
state_dir: %s
log: {level: debug}
%s
api: {listen: %s}
sources:
  - %s
    max_batch_size: 512
    max_batch_wait: 10ms
`, filepath.Join(dir, "state"), kafkaYAML, apiAddr, wl.sourceYAML)), 0o644))

	sluice := runBinary(t, bin, cfg)
	recovered := 0 // restarts that found a partly committed transaction
	waitHTTPState(t, apiAddr, "shop", "streaming", time.Minute)

	// The workload runs until the kills are over.
	var (
		mu       sync.Mutex
		werr     error
		stopWork = make(chan struct{})
		workDone = make(chan struct{})
		bulkNow  = make(chan struct{}, 1)
	)
	go func() {
		defer close(workDone)
		for {
			var (
				w   []topicWant
				err error
			)
			select {
			case <-stopWork:
				return
			case <-bulkNow:
				w, err = wl.bulk(ctx, 100_000)
			default:
				w, err = wl.txn(ctx)
				time.Sleep(2 * time.Millisecond)
			}
			if err != nil {
				werr = err
				return
			}
			mu.Lock()
			expected = append(expected, w...)
			mu.Unlock()
		}
	}()

	const kills = 20
	for i := 1; i <= kills; i++ {
		time.Sleep(time.Duration(200+rng.IntN(800)) * time.Millisecond)
		sluice.kill()
		recovered += strings.Count(sluice.output(), "reached only some partitions")
		if i == 5 {
			bulkNow <- struct{}{}
		}
		if mode == "separate" && (i == kills/2 || i == 3*kills/4) {
			// The broker restarts too: cleanly once, killed once.
			sig := syscall.SIGTERM
			if i == 3*kills/4 {
				sig = syscall.SIGKILL
			}
			_ = broker.Process.Signal(sig)
			_ = broker.Wait()
			startBroker()
		}
		sluice.start()
	}
	close(stopWork)
	<-workDone
	must(t, werr)
	t.Logf("%d kills survived (%d restarts found a partly committed transaction); %d records expected", kills, recovered, len(expected))

	// Per topic and key: every change exactly once, in order.
	type tk struct {
		topic string
		key   int64
	}
	wants := map[tk][]want{}
	for _, w := range expected {
		wants[tk{w.topic, w.key}] = append(wants[tk{w.topic, w.key}], w.want)
	}
	c := newConsumer(t, []string{kafkaAddr}, wl.topics...)
	got := map[tk][]record{}
	recs := c.upTo(len(expected), 2*time.Minute)
	if len(recs) < len(expected) {
		t.Errorf("got %d of %d records; partitions (high watermark / last stable offset):\n%s", len(recs), len(expected), partitionEnds(t, kafkaAddr, wl.topics))
	}
	for _, r := range recs {
		id, err := strconv.ParseInt(fmt.Sprint(r.Key["id"]), 10, 64)
		if err != nil {
			t.Fatalf("record without an id key on %s: %v", r.Topic, r.Key)
		}
		got[tk{r.Topic, id}] = append(got[tk{r.Topic, id}], r)
	}
	c.none(2 * time.Second)
	var short, long []string
	for k, ws := range wants {
		if rs := got[k]; len(rs) < len(ws) {
			short = append(short, fmt.Sprintf("%s/%d: %d of %d", k.topic, k.key, len(rs), len(ws)))
		} else if len(rs) > len(ws) {
			var at []string
			for _, r := range rs {
				at = append(at, fmt.Sprintf("%s@%d[%d]", r.op(), r.Offset, r.Partition))
			}
			long = append(long, fmt.Sprintf("%s/%d: %d of %d at %v", k.topic, k.key, len(rs), len(ws), at))
		}
	}
	if len(short)+len(long) > 0 {
		sort.Strings(short)
		sort.Strings(long)
		t.Errorf("%d keys with missing records, e.g. %v", len(short), short[:min(5, len(short))])
		t.Errorf("%d keys with extra records, e.g. %v", len(long), long[:min(5, len(long))])
	}
	for k, ws := range wants {
		rs := got[k]
		for i, w := range ws {
			if i >= len(rs) {
				var last record
				if len(rs) > 0 {
					last = rs[len(rs)-1]
				}
				t.Fatalf("%s key %d: %d records, want %d (next: %s; last got at partition %d offset %d)", k.topic, k.key, len(rs), len(ws), w, last.Partition, last.Offset)
			}
			checkRecord(t, i, rs[i], w)
		}
		if len(rs) > len(ws) {
			t.Fatalf("%s key %d: %d records, want %d", k.topic, k.key, len(rs), len(ws))
		}
	}
	if len(got) != len(wants) {
		t.Fatalf("records for %d keys, want %d", len(got), len(wants))
	}

	// A clean stop still works after all that.
	if err := sluice.stop(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, sluice.output())
	}
}

// partitionEnds describes the end offsets of the topics' partitions.
func partitionEnds(t *testing.T, addr string, topics []string) string {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	must(t, err)
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	hw, err := adm.ListEndOffsets(ctx, topics...)
	must(t, err)
	ls, err := adm.ListCommittedOffsets(ctx, topics...)
	must(t, err)
	var sb strings.Builder
	hw.Each(func(o kadm.ListedOffset) {
		l, _ := ls.Lookup(o.Topic, o.Partition)
		fmt.Fprintf(&sb, "  %s[%d]: %d / %d\n", o.Topic, o.Partition, o.Offset, l.Offset)
	})
	return sb.String()
}

// waitHTTPState polls GET /connectors/{name}/status until the source's
// phase is state.
func waitHTTPState(t *testing.T, addr, name, state string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + addr + "/connectors/" + name + "/status")
		if err == nil {
			var st struct {
				Connector struct {
					State string `json:"state"`
				} `json:"connector"`
				Tasks []struct {
					Trace string `json:"trace"`
				} `json:"tasks"`
				Phase string `json:"phase"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&st)
			resp.Body.Close()
			if st.Phase == state {
				return
			}
			last = fmt.Sprintf("%+v", st)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("connector %s did not reach %s within %s; last status %s", name, state, timeout, last)
}

func tailLines(s string, n int) string {
	lines := bytes.Split([]byte(s), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
