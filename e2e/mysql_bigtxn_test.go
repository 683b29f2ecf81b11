package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/internal/harness"
	"github.com/sluice-cdc/sluice/internal/runtime"
	"github.com/sluice-cdc/sluice/sources/mysql"
)

// TestMySQLLargeTransactionMemory streams one MariaDB transaction of 256 MB
// (SLUICE_BIGTXN_MB sets another size, e.g. 1024) made of 100 KB rows and
// samples the daemon's Go heap meanwhile: it must stay flat, far below the
// transaction's size — the transaction is never held in memory. The broker
// is a separate process so that its log is not counted.
func TestMySQLLargeTransactionMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: -short")
	}
	mb := 256
	if v := os.Getenv("SLUICE_BIGTXN_MB"); v != "" {
		mb, _ = strconv.Atoi(v)
	}
	const rowBytes = 100_000
	rows := mb << 20 / rowBytes
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	bin := buildSluice(t)
	addr := freeAddr(t)
	broker := exec.Command(bin, "broker", "-listen", addr, "-data-dir", filepath.Join(t.TempDir(), "broker"))
	broker.Stderr = &bytes.Buffer{}
	must(t, broker.Start())
	t.Cleanup(func() { _ = broker.Process.Kill(); _ = broker.Wait() })

	my := harness.StartMariaDB(t)
	must(t, my.Exec(ctx, `CREATE DATABASE app; CREATE TABLE app.big (id INT PRIMARY KEY, body LONGTEXT NOT NULL)`))
	d := runDaemon(t, "kafka: {brokers: ["+addr+"]}\n"+mySourceYAML("big", my.DSN(""), "tables: [app.big]", "snapshot: never"))
	waitStatus(t, d, "big", time.Minute, myStreaming)

	stopSampling := sampleHeap()

	start := time.Now()
	c := myConn(t, my, "app")
	_, err := c.Execute("BEGIN")
	must(t, err)
	for i := 0; i < rows; i += 100 {
		_, err := c.Execute(fmt.Sprintf("INSERT INTO big SELECT seq, REPEAT(CHAR(97 + seq %% 26), %d) FROM seq_%d_to_%d", rowBytes, i+1, min(i+100, rows)))
		must(t, err)
	}
	_, err = c.Execute("COMMIT")
	must(t, err)
	wrote := time.Since(start)
	waitStatus(t, d, "big", 8*time.Minute, func(st runtime.Status) bool {
		s, ok := st.Details.(mysql.StatusSnapshot)
		return ok && s.Events >= int64(rows)
	})
	el := time.Since(start)
	p := stopSampling()
	t.Logf("one transaction of %d rows × %d bytes (%d MB): written in %.1fs, streamed to Kafka after %.1fs; live heap %d MB before, peak %d MB; heap in use peak %d MB",
		rows, rowBytes, mb, wrote.Seconds(), el.Seconds(), p.base>>20, p.live>>20, p.inuse>>20)
	if limit := uint64(100 << 20); p.live > limit {
		t.Errorf("live heap peaked at %d MB while streaming a %d MB transaction; want under %d MB", p.live>>20, mb, limit>>20)
	}

	// Every row arrived, once.
	cons := newConsumer(t, []string{addr}, "big.app.big")
	seen := map[string]bool{}
	for _, r := range cons.next(rows, 3*time.Minute) {
		id := fmt.Sprint(r.Key["id"])
		if seen[id] || r.op() != "c" {
			t.Fatalf("record %s: op %s, seen before %v", id, r.op(), seen[id])
		}
		seen[id] = true
	}
	cons.none(time.Second)
}
