package e2e

import (
	"bytes"
	"context"
	stdsql "database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/internal/kafka"
	"github.com/sluice-cdc/sluice/internal/runtime"
)

// TestSQLSinkBacklogMemory lets a SQL sink (SQLite target) drain a backlog
// of 300,000 records (SLUICE_SINK_BACKLOG sets another count, e.g.
// 3000000) that waits in a topic of a separate broker process, sampling
// the daemon's live heap meanwhile: it stays flat, a fraction of the
// backlog's size.
func TestSQLSinkBacklogMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: -short")
	}
	n := 300_000
	if v, err := strconv.Atoi(os.Getenv("SLUICE_SINK_BACKLOG")); err == nil && v > 0 {
		n = v
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	bin := buildSluice(t)
	addr := freeAddr(t)
	broker := exec.Command(bin, "broker", "-listen", addr, "-data-dir", filepath.Join(t.TempDir(), "broker"))
	broker.Stderr = &bytes.Buffer{}
	must(t, broker.Start())
	t.Cleanup(func() { _ = broker.Process.Kill(); _ = broker.Wait() })

	// The backlog: rows as the unwrap transform writes them, with schemas,
	// compressed as sluice's sources compress them (lz4: a fetch
	// decompresses to many times its size).
	opts, err := kafka.Options{Brokers: []string{addr}}.ClientOpts()
	must(t, err)
	cl, err := kgo.NewClient(append(opts, kgo.ProducerLinger(5*time.Millisecond), kgo.ProducerBatchMaxBytes(1<<20))...)
	must(t, err)
	defer cl.Close()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		// The broker process may still be starting.
		if _, err = kadm.NewClient(cl).CreateTopic(ctx, 3, 1, nil, "backlog.items"); err == nil || time.Now().After(deadline) {
			break
		}
	}
	must(t, err)
	keySchema := `{"type":"struct","fields":[{"field":"id","type":"int64"}],"optional":false}`
	valSchema := `{"type":"struct","fields":[{"field":"id","type":"int64"},{"field":"name","type":"string","optional":true},` +
		`{"field":"qty","type":"int32","optional":true},{"field":"note","type":"string","optional":true}],"optional":true}`
	produceStart := time.Now()
	var bytesOut int64
	for i := 1; i <= n; i++ {
		r := &kgo.Record{
			Topic: "backlog.items",
			Key:   fmt.Appendf(nil, `{"schema":%s,"payload":{"id":%d}}`, keySchema, i),
			Value: fmt.Appendf(nil, `{"schema":%s,"payload":{"id":%d,"name":"item %d","qty":%d,"note":"%0100d"}}`, valSchema, i, i, i%1000, i),
		}
		bytesOut += int64(len(r.Key) + len(r.Value))
		cl.Produce(ctx, r, func(_ *kgo.Record, err error) {
			if err != nil {
				t.Errorf("produce: %v", err)
			}
		})
	}
	must(t, cl.Flush(ctx))
	t.Logf("backlog: %d records, %d MB, produced in %.1fs", n, bytesOut>>20, time.Since(produceStart).Seconds())

	stopSampling := sampleHeap()
	path := filepath.Join(t.TempDir(), "backlog.db")
	start := time.Now()
	d := runDaemon(t, fmt.Sprintf("kafka: {brokers: [%s]}\nsinks:\n  - {name: backlog, type: sql, topics: [backlog.items], dsn: \"sqlite://%s\", insert_mode: insert}\n", addr, path))
	waitStatus(t, d, "backlog", 8*time.Minute, func(st runtime.Status) bool {
		s, ok := st.Details.(runtime.SinkStatusSnapshot)
		return ok && s.Records >= int64(n)
	})
	el := time.Since(start)
	p := stopSampling()
	t.Logf("drained %d records in %.1fs (%.0f rows/s into SQLite); live heap %d MB before, peak %d MB", n, el.Seconds(), float64(n)/el.Seconds(), p.base>>20, p.live>>20)
	if limit := uint64(96 << 20); p.live > limit {
		t.Errorf("live heap peaked at %d MB while draining a %d MB backlog; want under %d MB", p.live>>20, bytesOut>>20, limit>>20)
	}
	db, err := stdsql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	must(t, err)
	defer db.Close()
	var rows, distinct int
	must(t, db.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(DISTINCT id) FROM backlog_items`).Scan(&rows, &distinct))
	if rows != n || distinct != n {
		t.Errorf("backlog_items: %d rows, %d distinct ids; want %d", rows, distinct, n)
	}
}
