package e2e

import (
	"context"
	stdsql "database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/internal/harness"
	"github.com/sluice-cdc/sluice/internal/runtime"
)

// TestSQLSinkTargetOutage stops the target databases (PostgreSQL and
// MariaDB) while changes stream: the sinks fail, restart with backoff, and
// once the targets are back every change is there exactly once.
func TestSQLSinkTargetOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	src := harness.StartPostgres(t)
	must(t, src.CreateDatabase(ctx, "log"))
	must(t, src.Exec(ctx, "log", `CREATE TABLE events (seq bigint NOT NULL, body text)`))
	tpg := harness.StartPostgres(t)
	must(t, tpg.CreateDatabase(ctx, "target"))
	tmy := harness.StartMariaDB(t)
	must(t, tmy.CreateDatabase(ctx, "target"))

	d := runDaemon(t, pgSourceYAML("log", src.DSN("log"), "tables: [public.events]")+fmt.Sprintf(`sinks:
  - {name: out-pg, type: sql, topics: [log.public.events], dsn: %q, table: "${source.table}", insert_mode: insert, batch_size: 50}
  - {name: out-mariadb, type: sql, topics: [log.public.events], dsn: %q, table: "${source.table}", insert_mode: insert, batch_size: 50}
`, tpg.DSN("target"), tmy.DSN("target")))
	waitStatus(t, d, "log", time.Minute, streaming)

	total := 0
	insert := func(n int) {
		must(t, src.Exec(ctx, "log", "INSERT INTO events SELECT g, 'e' || g FROM generate_series($1::bigint, $2::bigint) g", total+1, total+n))
		total += n
	}
	for range 10 {
		insert(100)
		time.Sleep(20 * time.Millisecond)
	}
	must(t, tpg.Stop(ctx))
	must(t, tmy.Stop(ctx))
	for range 10 {
		insert(100)
	}
	for _, name := range []string{"out-pg", "out-mariadb"} {
		waitStatus(t, d, name, time.Minute, func(st runtime.Status) bool { return st.Restarts > 0 })
	}
	must(t, tpg.Start(ctx))
	must(t, tmy.Start(ctx))
	insert(100)

	for name, dsn := range map[string][2]string{"out-pg": {"pgx", tpg.DSN("target")}, "out-mariadb": {"mysql", tmy.GoSQLDSN("target")}} {
		db, err := stdsql.Open(dsn[0], dsn[1])
		must(t, err)
		defer db.Close()
		deadline := time.Now().Add(90 * time.Second)
		var n, distinct int
		for {
			err := db.QueryRowContext(ctx, "SELECT COUNT(*), COUNT(DISTINCT seq) FROM events").Scan(&n, &distinct)
			if err == nil && n >= total {
				break
			}
			if time.Now().After(deadline) {
				st, _ := d.Supervisor().Status(name)
				t.Fatalf("%s: %d of %d rows (%v); status %+v", name, n, total, err, st)
			}
			time.Sleep(100 * time.Millisecond)
		}
		time.Sleep(200 * time.Millisecond)
		must(t, db.QueryRowContext(ctx, "SELECT COUNT(*), COUNT(DISTINCT seq) FROM events").Scan(&n, &distinct))
		st, _ := d.Supervisor().Status(name)
		if n != total || distinct != total {
			t.Errorf("%s: %d rows, %d distinct, want %d", name, n, distinct, total)
		} else {
			t.Logf("%s: %d rows exactly once after the outage (%d restarts, state %s)", name, n, st.Restarts, st.State)
		}
	}
}
