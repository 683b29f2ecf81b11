package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/sluice-cdc/sluice/internal/harness"
	"github.com/sluice-cdc/sluice/internal/kafka"
)

// benchMySQL measures the MariaDB snapshot and streaming backlog drain.
func benchMySQL(ctx context.Context, e *env) ([]result, error) {
	return snapshotAndStreaming(ctx, e, benchMySQLSnapshot, benchMySQLStreaming)
}

// myOrders is the PG orders table in MariaDB: mixed types, ~200 bytes a row.
const myOrders = `CREATE DATABASE %[1]s; USE %[1]s;
CREATE TABLE orders (
  id BIGINT AUTO_INCREMENT PRIMARY KEY,
  customer_id BIGINT NOT NULL,
  status VARCHAR(16) NOT NULL,
  amount DECIMAL(12,2) NOT NULL,
  created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  note TEXT,
  ts_us BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE bench_marker (id INT PRIMARY KEY);
INSERT INTO orders (customer_id, status, amount, note)
SELECT seq %% 5000, ELT(1 + seq %% 4, 'new', 'paid', 'shipped', 'returned'), (seq %% 100000) / 100.0, REPEAT(MD5(seq), 3)
FROM seq_1_to_%[2]d;`

// myTableYAML is a MariaDB source on db's orders and bench_marker tables.
func myTableYAML(name, dsn, db, snapshot string) string {
	return fmt.Sprintf(`
sources:
  - name: %s
    type: mysql
    dsn: %s
    tables: [%[3]s.orders, %[3]s.bench_marker]
    snapshot: %s
`+os.Getenv("SLUICE_BENCH_EXTRA"), name, dsn, db, snapshot)
}

func benchMySQLSnapshot(ctx context.Context, e *env) (result, error) {
	rows := e.sz.MySQLRows
	if err := e.my.Exec(ctx, fmt.Sprintf(myOrders, "mysnap", rows)); err != nil {
		return result{}, fmt.Errorf("create mysnap.orders: %w", err)
	}
	logf("MariaDB snapshot of %d rows: the mariadb client, then sluice (%d runs each)", rows, e.sz.SnapshotRuns)
	client, err := exec.LookPath("mariadb")
	if err != nil {
		if client, err = exec.LookPath("mysql"); err != nil {
			return result{}, fmt.Errorf("mariadb client: %w", err)
		}
	}
	base, u, err := alternate(e.sz.SnapshotRuns, func() (time.Duration, error) {
		return timedDump(ctx, client, "--no-defaults", "--protocol=TCP", "-h127.0.0.1", "-P"+strconv.Itoa(e.my.Port()),
			"-uroot", "--quick", "--batch", "-e", "SELECT * FROM mysnap.orders ORDER BY id")
	}, func() (usage, error) {
		return e.runSluiceAlone(ctx, "mysnap", myTableYAML("mysnap", e.my.DSN(""), "mysnap", "initial_only"), finished)
	})
	if err != nil {
		return result{}, err
	}
	return newRunsResult("MariaDB snapshot", int64(rows), "rows", u, base, "mariadb --quick -e 'SELECT ...' → /dev/null", targetSnapshot), nil
}

// masterStatus is the server's current binlog file and position.
func masterStatus(ctx context.Context, my *harness.MariaDB) (gomysql.Position, error) {
	rows, err := my.Query(ctx, "SHOW MASTER STATUS")
	if err != nil {
		return gomysql.Position{}, fmt.Errorf("show master status: %w", err)
	}
	if len(rows) != 1 || len(rows[0]) < 2 {
		return gomysql.Position{}, fmt.Errorf("show master status: %v (is the binlog on?)", rows)
	}
	pos, err := strconv.ParseUint(rows[0][1], 10, 32)
	if err != nil {
		return gomysql.Position{}, fmt.Errorf("show master status: position %q: %w", rows[0][1], err)
	}
	return gomysql.Position{Name: rows[0][0], Pos: uint32(pos)}, nil
}

// myBacklog writes n autocommit transactions of one change each, round
// robin over insert / update / delete, through the mariadb client.
func myBacklog(ctx context.Context, my *harness.MariaDB, db string, n int) error {
	const chunk = 5000
	for done := 0; done < n; {
		var b strings.Builder
		fmt.Fprintf(&b, "USE %s;\n", db)
		for i := 0; i < chunk && done < n; i, done = i+1, done+1 {
			r := done%10000 + 1
			switch done % 3 {
			case 0:
				fmt.Fprintf(&b, "INSERT INTO orders (customer_id, status, amount, note) VALUES (%d, 'new', %d / 100.0, REPEAT(MD5(%d), 3));\n", r, r, r)
			case 1:
				b.WriteString("UPDATE orders SET status = 'paid', amount = amount + 1 ORDER BY id DESC LIMIT 1;\n")
			default:
				b.WriteString("DELETE FROM orders ORDER BY id LIMIT 1;\n")
			}
		}
		if err := my.Exec(ctx, b.String()); err != nil {
			return fmt.Errorf("backlog: %w", err)
		}
	}
	return nil
}

func benchMySQLStreaming(ctx context.Context, e *env) ([]result, error) {
	const db, name = "mystream", "mystream"
	changes := e.sz.MySQLChanges
	if err := e.my.Exec(ctx, fmt.Sprintf(myOrders, db, 10_000)); err != nil {
		return nil, fmt.Errorf("create %s.orders: %w", db, err)
	}
	yaml := myTableYAML(name, e.my.DSN(""), db, "initial")
	// Each drain by sluice runs against a broker of its own, where a first
	// run snapshotted the 10,000 rows and stored its position; the backlog
	// is written after the first runs, so the drains measure streaming
	// alone, each from the same position.
	runs := e.sz.StreamRuns
	var brokers []*kafka.Embedded
	defer func() {
		for _, b := range brokers {
			b.Close()
		}
	}()
	for i := range runs {
		broker, err := e.newBroker()
		if err != nil {
			return nil, err
		}
		brokers = append(brokers, broker)
		if _, err := e.runSluice(ctx, broker.Addr(), name, yaml, func(st status) (bool, error) {
			return st.Phase == "streaming", failed(st)
		}); err != nil {
			return nil, fmt.Errorf("first run %d: %w", i+1, err)
		}
	}
	start, err := masterStatus(ctx, e.my)
	if err != nil {
		return nil, err
	}
	logf("MariaDB streaming: writing a backlog of %d transactions", changes)
	if err := myBacklog(ctx, e.my, db, changes); err != nil {
		return nil, err
	}
	if err := e.my.Exec(ctx, "INSERT INTO "+db+".bench_marker VALUES (1)"); err != nil {
		return nil, fmt.Errorf("marker: %w", err)
	}
	end, err := masterStatus(ctx, e.my)
	if err != nil {
		return nil, err
	}
	logf("MariaDB streaming: draining it with a go-mysql BinlogSyncer loop, then with sluice (%d runs each)", runs)
	var events int64
	i := 0
	bases, us, err := alternate(runs, func() (time.Duration, error) {
		return timed(func() error { return drainBinlog(ctx, e.my, start, end) })
	}, func() (usage, error) {
		broker := brokers[i]
		i++
		return e.runSluice(ctx, broker.Addr(), name, yaml, func(st status) (bool, error) {
			events = st.Events
			file, _ := st.Position["file"].(string)
			pos, _ := st.Position["pos"].(float64) // a JSON number
			return file > end.Name || file == end.Name && uint32(pos) >= end.Pos, failed(st)
		})
	})
	if err != nil {
		return nil, err
	}
	r := newRunsResult("MariaDB streaming (backlog drain), exactly_once: true", int64(changes), "changes", us, bases,
		"go-mysql BinlogSyncer reading and discarding the events", targetStreaming)
	r.Note = joinNotes(r.Note, fmt.Sprintf("%d events", events))
	return []result{r}, nil
}

// drainBinlog reads the binlog from start to end with a bare go-mysql
// BinlogSyncer (events decoded, rows parsed) and discards the events.
func drainBinlog(ctx context.Context, my *harness.MariaDB, start, end gomysql.Position) error {
	syncer := replication.NewBinlogSyncer(replication.BinlogSyncerConfig{
		ServerID: 4_000_000_000, Flavor: gomysql.MariaDBFlavor, Host: "127.0.0.1", Port: uint16(my.Port()), User: "root",
		TimestampStringLocation: time.UTC, Logger: slog.New(slog.DiscardHandler),
	})
	defer syncer.Close()
	st, err := syncer.StartSync(start)
	if err != nil {
		return fmt.Errorf("binlog sync from %s: %w", start, err)
	}
	file := start.Name
	for {
		ev, err := st.GetEvent(ctx)
		if err != nil {
			return fmt.Errorf("binlog event: %w", err)
		}
		if rot, ok := ev.Event.(*replication.RotateEvent); ok {
			file = string(rot.NextLogName)
			continue
		}
		if file > end.Name || file == end.Name && ev.Header.LogPos >= end.Pos {
			return nil
		}
	}
}
