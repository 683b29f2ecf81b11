package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/internal/harness"
)

// TestMySQLSchemaHistoryAcrossRestart changes a table's columns twice while
// sluice is stopped: after the restart, the rows written before, between
// and after the two ALTER TABLEs are decoded with the columns they were
// written with (from the schema history and the DDL applied in binlog
// order), not with the table's current definition.
func TestMySQLSchemaHistoryAcrossRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	my := harness.StartMariaDB(t)
	must(t, my.Exec(ctx, `CREATE DATABASE app; USE app;
		CREATE TABLE t (id INT PRIMARY KEY, a VARCHAR(10) NOT NULL);
		INSERT INTO t VALUES (1, 'one');`))
	broker := sharedBroker(t)
	yaml := "kafka: {brokers: [" + broker + "]}\n" + mySourceYAML("hist", my.DSN(""), "tables: [app.t]")
	_, stop := stoppableDaemon(t, yaml)
	c := newConsumer(t, []string{broker}, "hist.app.t")
	checkRecord(t, 0, c.next(1, time.Minute)[0], want{op: "r", key: 1, after: map[string]any{"id": 1, "a": "one"}})
	must(t, my.Exec(ctx, "INSERT INTO app.t VALUES (2, 'two')"))
	checkRecord(t, 1, c.next(1, time.Minute)[0], want{op: "c", key: 2, after: map[string]any{"id": 2, "a": "two"}})
	stop()

	must(t, my.Exec(ctx, `USE app;
		INSERT INTO t VALUES (3, 'three');
		ALTER TABLE t ADD COLUMN b INT NULL;
		INSERT INTO t VALUES (4, 'four', 40);
		ALTER TABLE t DROP COLUMN a;
		INSERT INTO t VALUES (5, 50);`))
	_, stop = stoppableDaemon(t, yaml)
	recs := c.next(3, time.Minute)
	checkRecord(t, 2, recs[0], want{op: "c", key: 3, after: map[string]any{"id": 3, "a": "three"}})
	checkRecord(t, 3, recs[1], want{op: "c", key: 4, after: map[string]any{"id": 4, "a": "four", "b": 40}})
	checkRecord(t, 4, recs[2], want{op: "c", key: 5, after: map[string]any{"id": 5, "b": 50}})
	sc := newConsumer(t, []string{broker}, "hist")
	for i, ev := range sc.next(2, time.Minute) {
		if ddl, _ := ev.Value["ddl"].(string); ddl == "" {
			t.Errorf("schema change %d without ddl: %v", i, ev.Value)
		}
	}
	stop()

	// A third start takes the schema after both ALTERs from the history.
	must(t, my.Exec(ctx, "INSERT INTO app.t VALUES (6, 60)"))
	stoppableDaemon(t, yaml)
	checkRecord(t, 5, c.next(1, time.Minute)[0], want{op: "c", key: 6, after: map[string]any{"id": 6, "b": 60}})
	c.none(500 * time.Millisecond)
}

// TestMySQLLiveDDL runs CREATE, ALTER (change + add first), RENAME,
// TRUNCATE and DROP while streaming: rows after each statement use the new
// definitions, and each statement yields one schema-change event.
func TestMySQLLiveDDL(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	my := harness.StartMariaDB(t)
	must(t, my.Exec(ctx, "CREATE DATABASE app; CREATE TABLE app.a (id INT PRIMARY KEY, v INT); INSERT INTO app.a VALUES (1, 10);"))
	d := runDaemon(t, mySourceYAML("ddl", my.DSN(""), `tables: ["app\\..*"]`))
	c := newConsumer(t, d.Brokers(), "ddl.app.a", "ddl.app.b", "ddl.app.a2")
	checkRecord(t, 0, c.next(1, time.Minute)[0], want{op: "r", key: 1, after: map[string]any{"id": 1, "v": 10}})
	waitStatus(t, d, "ddl", time.Minute, myStreaming)

	must(t, my.Exec(ctx, "USE app; CREATE TABLE b (id INT PRIMARY KEY, s VARCHAR(10) DEFAULT 'x'); INSERT INTO b (id) VALUES (1);"))
	r := c.next(1, time.Minute)[0]
	if r.Topic != "ddl.app.b" {
		t.Fatalf("topic %s", r.Topic)
	}
	checkRecord(t, 1, r, want{op: "c", key: 1, after: map[string]any{"id": 1, "s": "x"}})

	must(t, my.Exec(ctx, "USE app; ALTER TABLE `a` CHANGE v w BIGINT NOT NULL DEFAULT 0, ADD COLUMN t TEXT FIRST; INSERT INTO a (id, w, t) VALUES (2, 5, 'hi');"))
	checkRecord(t, 2, c.next(1, time.Minute)[0], want{op: "c", key: 2, after: map[string]any{"t": "hi", "id": 2, "w": 5}})

	must(t, my.Exec(ctx, "USE app; RENAME TABLE a TO a2; INSERT INTO a2 VALUES ('x', 3, 6); TRUNCATE TABLE b; DROP TABLE b;"))
	r = c.next(1, time.Minute)[0]
	if r.Topic != "ddl.app.a2" {
		t.Fatalf("topic %s", r.Topic)
	}
	checkRecord(t, 3, r, want{op: "c", key: 3, after: map[string]any{"t": "x", "id": 3, "w": 6}})

	sc := newConsumer(t, d.Brokers(), "ddl")
	evs := sc.next(5, time.Minute)
	wantTypes := [][]string{{"CREATE"}, {"ALTER"}, {"DROP", "CREATE"}, {}, {"DROP"}}
	for i, ev := range evs {
		changes, _ := ev.Value["tableChanges"].([]any)
		var types []string
		for _, ch := range changes {
			types = append(types, ch.(map[string]any)["type"].(string))
		}
		if fmt.Sprint(types) != fmt.Sprint(wantTypes[i]) || ev.Value["databaseName"] != "app" || ev.Value["ddl"] == "" {
			t.Errorf("schema change %d: types %v (want %v), value %.300v", i, types, wantTypes[i], ev.Value)
		}
	}
	sc.none(500 * time.Millisecond)
}
