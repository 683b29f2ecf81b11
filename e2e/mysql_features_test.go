package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/internal/harness"
	"github.com/sluice-cdc/sluice/internal/runtime"
)

// TestMySQLFeatures covers snapshot.locking.mode none, table filters,
// heartbeats and the connector status.
func TestMySQLFeatures(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	my := harness.StartMariaDB(t)
	must(t, my.Exec(ctx, `CREATE DATABASE app; USE app;
		CREATE TABLE a (id INT PRIMARY KEY, v INT); CREATE TABLE a_log (id INT PRIMARY KEY);
		INSERT INTO a VALUES (1, 10), (2, 20); INSERT INTO a_log VALUES (1);`))

	d := runDaemon(t, mySourceYAML("feat", my.DSN(""), `tables: ["app\\.a.*"]`, "exclude_tables: [app.a_log]",
		"snapshot.locking.mode: none", "heartbeat.interval: 200ms"))
	c := newConsumer(t, d.Brokers(), "feat.app.a", "feat.app.a_log")
	recs := c.next(2, time.Minute)
	checkRecord(t, 0, recs[0], want{op: "r", key: 1, after: map[string]any{"id": 1, "v": 10}})
	checkRecord(t, 1, recs[1], want{op: "r", key: 2, after: map[string]any{"id": 2, "v": 20}})
	st := waitStatus(t, d, "feat", time.Minute, myStreaming)
	t.Logf("status details: %+v", st.Details)

	must(t, my.Exec(ctx, "USE app; INSERT INTO a_log VALUES (2); UPDATE a SET v = 11 WHERE id = 1;"))
	checkRecord(t, 2, c.next(1, time.Minute)[0], want{op: "u", key: 1,
		before: map[string]any{"id": 1, "v": 10}, after: map[string]any{"id": 1, "v": 11}})
	c.none(500 * time.Millisecond)

	hb := newConsumer(t, d.Brokers(), "__sluice-heartbeat.feat")
	h := hb.next(2, 30*time.Second)
	if h[0].Key["serverName"] != "feat" || h[0].Value["ts_ms"] == nil {
		t.Errorf("heartbeat: key %v value %v", h[0].Key, h[0].Value)
	}
}

// TestMySQLSnapshotInitialOnly: the snapshot and nothing else, then the
// connector finishes.
func TestMySQLSnapshotInitialOnly(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	my := harness.StartMariaDB(t)
	must(t, my.Exec(ctx, "CREATE DATABASE app; CREATE TABLE app.a (id INT PRIMARY KEY); INSERT INTO app.a VALUES (1), (2), (3);"))
	d := runDaemon(t, mySourceYAML("once", my.DSN(""), "snapshot: initial_only"))
	c := newConsumer(t, d.Brokers(), "once.app.a")
	for i, r := range c.next(3, time.Minute) {
		checkRecord(t, i, r, want{op: "r", key: int64(i + 1), after: map[string]any{"id": i + 1}})
	}
	waitStatus(t, d, "once", time.Minute, func(st runtime.Status) bool { return st.State == runtime.StateFinished })
	must(t, my.Exec(ctx, "INSERT INTO app.a VALUES (4)"))
	c.none(time.Second)
}
