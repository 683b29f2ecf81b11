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
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluice-cdc/sluice/internal/harness"
)

// TestPostgresKill9 proves exactly-once delivery by killing the real
// binary: a workload of small transactions (and one of 100,000 rows) runs
// against PostgreSQL while sluice is SIGKILLed and restarted 20 times.
// Afterwards a read_committed consumer must see every change exactly once,
// in order. The broker is its own process (`sluice broker`), itself
// restarted once in the middle.
//
// The "embedded" mode — the broker dies with every kill — does not pass
// yet and runs only with SLUICE_KILL_EMBEDDED=1, as the reproducer for
// issue 5. It shows duplicates after restarts because of how kfake
// recovers its log after a crash: (1) EndTxn writes the commit markers
// partition by partition, so a kill between two of them leaves the
// transaction committed in some partitions and, at reload, aborted in the
// others; (2) at reload kfake tracks open transactions by producer id
// only, so records of a crash-aborted transaction count as committed once
// the same producer id (re-initialised with a higher epoch, as Kafka does
// for a transactional.id) commits again in that partition.
func TestPostgresKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: -short")
	}
	bin := buildSluice(t)
	t.Run("separate", func(t *testing.T) { killTest(t, bin, "separate") })
	if os.Getenv("SLUICE_KILL_EMBEDDED") != "" {
		t.Run("embedded", func(t *testing.T) { killTest(t, bin, "embedded") })
	}
}

func killTest(t *testing.T, bin, mode string) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("SLUICE_KILL_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (rerun with SLUICE_KILL_SEED=%d)", seed, seed)
	var logs bytes.Buffer // the current sluice process's output
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("failed with seed %d; sluice log tail:\n%s", seed, tailLines(logs.String(), 40))
		}
	})
	rng := rand.New(rand.NewPCG(seed, 7))
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	pg := harness.StartPostgres(t)
	must(t, createItems(ctx, pg, "postgres", 200))
	wl := newItemWorkload(seed, 200)
	expected := wl.snapshotWants()

	dir := t.TempDir()
	kafkaAddr, apiAddr := freeAddr(t), freeAddr(t)
	kafkaYAML := "kafka: {listen: " + kafkaAddr + "}"
	var broker *exec.Cmd
	startBroker := func() {
		broker = exec.Command(bin, "broker", "-listen", kafkaAddr, "-data-dir", filepath.Join(dir, "broker"))
		broker.Stderr = &bytes.Buffer{}
		must(t, broker.Start())
	}
	if mode == "separate" {
		kafkaYAML = "kafka: {brokers: [" + kafkaAddr + "]}"
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
  - name: shop
    type: postgres
    dsn: %s
    tables: [public.items]
    max_batch_size: 512
    max_batch_wait: 10ms
`, filepath.Join(dir, "state"), kafkaYAML, apiAddr, pg.DSN("postgres"))), 0o644))

	var sluice *exec.Cmd
	start := func() {
		sluice = exec.Command(bin, "run", "-c", cfg)
		logs.Reset()
		sluice.Stdout, sluice.Stderr = &logs, &logs
		must(t, sluice.Start())
	}
	kill := func() {
		_ = sluice.Process.Signal(syscall.SIGKILL)
		_ = sluice.Wait()
	}
	start()
	t.Cleanup(func() { _ = sluice.Process.Kill(); _ = sluice.Wait() })
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
		conn, err := pgx.Connect(ctx, pg.DSN("postgres"))
		if err != nil {
			werr = err
			return
		}
		defer conn.Close(context.Background())
		for {
			var w []want
			select {
			case <-stopWork:
				return
			case <-bulkNow:
				w, err = wl.bulk(ctx, conn, 100_000)
			default:
				w, err = wl.txn(ctx, conn, 20)
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
		kill()
		if i == 5 {
			bulkNow <- struct{}{}
		}
		if mode == "separate" && i == kills/2 {
			// A clean restart: the broker persists open transactions.
			_ = broker.Process.Signal(syscall.SIGTERM)
			_ = broker.Wait()
			startBroker()
		}
		start()
	}
	close(stopWork)
	<-workDone
	must(t, werr)
	t.Logf("%d kills survived; %d records expected", kills, len(expected))

	c := newConsumer(t, []string{kafkaAddr}, "shop.public.items")
	got := c.next(len(expected), 3*time.Minute)
	for i, r := range got {
		if r.op() != expected[i].op || (r.Key != nil && !jsonEq(r.Key, map[string]any{"id": expected[i].key})) {
			for j := max(0, i-8); j < min(len(got), i+8); j++ {
				t.Logf("%d: got %s %v (offset %d) | want %s %d", j, got[j].op(), got[j].Key, got[j].Offset, expected[j].op, expected[j].key)
			}
		}
		checkRecord(t, i, r, expected[i])
	}
	c.none(2 * time.Second)

	// A clean stop still works after all that.
	must(t, sluice.Process.Signal(syscall.SIGTERM))
	if err := sluice.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, logs.String())
	}
}

// waitHTTPState polls GET /connectors/{name}/status until details.state is state.
func waitHTTPState(t *testing.T, addr, name, state string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + addr + "/connectors/" + name + "/status")
		if err == nil {
			var st struct {
				State   string `json:"state"`
				Trace   string `json:"trace"`
				Details struct {
					State string `json:"state"`
				} `json:"details"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&st)
			resp.Body.Close()
			if st.Details.State == state {
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
