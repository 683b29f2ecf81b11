package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/internal/harness"
	"github.com/sluice-cdc/sluice/internal/kafka"
	"github.com/sluice-cdc/sluice/internal/runtime"
	"github.com/sluice-cdc/sluice/sources/mysql"
)

func mySourceYAML(name, dsn string, extra ...string) string {
	return sourceYAML("mysql", name, dsn, extra...)
}

// sharedBroker starts an embedded broker that outlives the daemons of a test.
func sharedBroker(t *testing.T) string {
	t.Helper()
	b, err := kafka.StartEmbedded(kafka.EmbeddedOptions{Listen: "127.0.0.1:0", Logger: testLogger(t)})
	must(t, err)
	t.Cleanup(b.Close)
	return b.Addr()
}

func TestMySQLBinlogFormatNotRow(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: -short")
	}
	my := harness.StartMariaDB(t, harness.WithMariaDBArgs("--binlog-format=STATEMENT"))
	d := runDaemon(t, mySourceYAML("stmt", my.DSN("")))
	st := waitStatus(t, d, "stmt", time.Minute, failedWith("binlog_format=STATEMENT"))
	t.Logf("status: %s", st.Error)
}

func TestMySQLRowImageNotFull(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: -short")
	}
	my := harness.StartMariaDB(t, harness.WithMariaDBArgs("--binlog-row-image=MINIMAL"))
	d := runDaemon(t, mySourceYAML("minimal", my.DSN("")))
	st := waitStatus(t, d, "minimal", time.Minute, failedWith("binlog_row_image=MINIMAL"))
	t.Logf("status: %s", st.Error)
}

func TestMySQLFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	my := harness.StartMariaDB(t)
	must(t, my.Exec(ctx, `CREATE DATABASE app; USE app;
		CREATE TABLE accounts (id INT PRIMARY KEY, owner VARCHAR(20) NOT NULL);
		CREATE TABLE audit (at INT, what VARCHAR(20));
		INSERT INTO accounts VALUES (1, 'a'), (2, 'b');
		CREATE USER 'plain'@'%';
		GRANT SELECT, RELOAD ON *.* TO 'plain'@'%';`))

	t.Run("user without REPLICATION privileges", func(t *testing.T) {
		dsn := strings.Replace(my.DSN(""), "root@", "plain@", 1)
		d := runDaemon(t, mySourceYAML("norepl", dsn, "tables: [app.accounts]"))
		st := waitStatus(t, d, "norepl", time.Minute, failedWith("REPLICATION SLAVE"))
		t.Logf("status: %s", st.Error)
	})

	t.Run("table without primary key has null keys", func(t *testing.T) {
		d := runDaemon(t, mySourceYAML("nopk", my.DSN(""), "tables: [app.audit]", "snapshot: never"))
		c := newConsumer(t, d.Brokers(), "nopk.app.audit")
		// snapshot: never starts at the binlog's end once streaming.
		waitStatus(t, d, "nopk", time.Minute, myStreaming)
		must(t, my.Exec(ctx, `USE app; INSERT INTO audit VALUES (1, 'login'); UPDATE audit SET what = 'logout' WHERE at = 1; DELETE FROM audit WHERE at = 1;`))
		recs := c.next(4, time.Minute)
		for i, op := range []string{"c", "u", "d", "tombstone"} {
			if recs[i].op() != op || recs[i].RawKey != nil {
				t.Errorf("record %d: op %s key %q, want op %s and a null key", i, recs[i].op(), recs[i].RawKey, op)
			}
		}
		c.none(500 * time.Millisecond)
	})

	t.Run("server_id clash", func(t *testing.T) {
		d1 := runDaemon(t, mySourceYAML("first", my.DSN(""), "tables: [app.accounts]", "server_id: 4242"))
		waitStatus(t, d1, "first", time.Minute, myStreaming)
		d2 := runDaemon(t, mySourceYAML("second", my.DSN(""), "tables: [app.accounts]", "server_id: 4242"))
		st := waitStatus(t, d2, "second", time.Minute, func(st runtime.Status) bool {
			return st.State == runtime.StateRestarting && strings.Contains(st.Error, "server_id 4242")
		})
		t.Logf("status: %s", st.Error)
		if st, _ := d1.Supervisor().Status("first"); st.State != runtime.StateRunning {
			t.Errorf("the first connector was disturbed: %+v", st)
		}
	})

	t.Run("stored position purged", func(t *testing.T) {
		broker := sharedBroker(t)
		yaml := "kafka: {brokers: [" + broker + "]}\n" + mySourceYAML("purged", my.DSN(""), "tables: [app.accounts]")
		d, stop := stoppableDaemon(t, yaml)
		c := newConsumer(t, []string{broker}, "purged.app.accounts")
		c.next(2, time.Minute) // the snapshot
		must(t, my.Exec(ctx, "INSERT INTO app.accounts VALUES (3, 'c')"))
		c.next(1, time.Minute)
		_ = d
		stop()

		must(t, my.Exec(ctx, "INSERT INTO app.accounts VALUES (4, 'd'); FLUSH BINARY LOGS; FLUSH BINARY LOGS;"))
		rows, err := my.Query(ctx, "SHOW MASTER STATUS")
		must(t, err)
		// PURGE keeps files a (closing) binlog dump thread still reads.
		for deadline := time.Now().Add(30 * time.Second); ; {
			must(t, my.Exec(ctx, "PURGE BINARY LOGS TO '"+rows[0][0]+"'"))
			logs, err := my.Query(ctx, "SHOW BINARY LOGS")
			must(t, err)
			if logs[0][0] == rows[0][0] {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("binary logs not purged: %v", logs)
			}
			time.Sleep(100 * time.Millisecond)
		}

		d2, stop2 := stoppableDaemon(t, yaml)
		st := waitStatus(t, d2, "purged", time.Minute, failedWith("purged"))
		t.Logf("status: %s", st.Error)
		stop2()

		// when_needed takes a new snapshot instead.
		d3, _ := stoppableDaemon(t, yaml+"    snapshot: when_needed\n")
		_ = d3
		recs := c.next(4, time.Minute)
		for i, r := range recs {
			if r.op() != "r" || !jsonEq(r.Key, map[string]any{"id": i + 1}) {
				t.Fatalf("re-snapshot record %d: op %s key %v", i, r.op(), r.Key)
			}
		}
	})
}

// myStreaming reports whether a MySQL source has reached the streaming phase.
func myStreaming(st runtime.Status) bool {
	d, ok := st.Details.(mysql.StatusSnapshot)
	return st.State == runtime.StateRunning && ok && d.State == "streaming"
}
