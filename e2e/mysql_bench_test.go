package e2e

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/internal/harness"
	"github.com/sluice-cdc/sluice/internal/runtime"
	"github.com/sluice-cdc/sluice/sources/mysql"
)

// TestMySQLThroughput measures snapshot rows/s and streaming events/s
// (binlog read, decode, encode and Kafka transactions, from the connector's
// own event counter). Set SLUICE_MYSQL_BENCH=1 to run it.
func TestMySQLThroughput(t *testing.T) {
	if os.Getenv("SLUICE_MYSQL_BENCH") == "" {
		t.Skip("set SLUICE_MYSQL_BENCH=1 to measure")
	}
	const rows = 100_000
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	my := harness.StartMariaDB(t)
	must(t, createShop(ctx, my, rows))
	broker := sharedBroker(t)
	yaml := "kafka: {brokers: [" + broker + "]}\n" + mySourceYAML("bench", my.DSN(""), "tables: [shop.items]")

	start := time.Now()
	d, stop := stoppableDaemon(t, yaml)
	waitStatus(t, d, "bench", 5*time.Minute, myStreaming)
	snap := time.Since(start)
	t.Logf("snapshot: %d rows in %.2fs (incl. startup): %.0f rows/s", rows, snap.Seconds(), rows/snap.Seconds())
	stop()

	// The backlog is written while sluice is stopped: then streaming is
	// measured alone.
	var sb strings.Builder
	c := myConn(t, my, "shop")
	for b := 0; b < rows/1000; b++ {
		sb.Reset()
		sb.WriteString("UPDATE items SET qty = qty + 1 WHERE id BETWEEN ")
		fmt.Fprintf(&sb, "%d AND %d", b*1000+1, b*1000+1000)
		_, err := c.Execute(sb.String())
		must(t, err)
	}
	start = time.Now()
	d, _ = stoppableDaemon(t, yaml)
	st := waitStatus(t, d, "bench", 5*time.Minute, func(st runtime.Status) bool {
		s, ok := st.Details.(mysql.StatusSnapshot)
		return ok && s.Events >= rows
	})
	el := time.Since(start)
	t.Logf("streaming: %d update events in %.2fs (incl. startup): %.0f events/s; %+v", rows, el.Seconds(), rows/el.Seconds(), st.Details)
}
