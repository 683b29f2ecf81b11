package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/internal/harness"
	"github.com/sluice-cdc/sluice/internal/runtime"
)

// TestSecondInstanceFencesFirst: two daemons run the same connector; the
// second fences the first, which stops with a clear error, and no change
// reaches the topic twice.
func TestSecondInstanceFencesFirst(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	pg := harness.StartPostgres(t)
	must(t, pg.Exec(ctx, "postgres", "CREATE TABLE t (id int PRIMARY KEY)"))
	src := pgSourceYAML("twin", pg.DSN("postgres"), "tables: [public.t]")
	a := runDaemon(t, src)
	waitStatus(t, a, "twin", time.Minute, streaming)

	next := 1
	write := func(n int) {
		for i := 0; i < n; i++ {
			must(t, pg.Exec(ctx, "postgres", fmt.Sprintf("INSERT INTO t VALUES (%d)", next)))
			next++
		}
	}
	write(20)
	b := runDaemon(t, "kafka: {brokers: ["+a.Brokers()[0]+"]}\n"+src)
	// A is fenced at its next commit.
	deadline := time.Now().Add(time.Minute)
	for {
		write(1)
		st, _ := a.Supervisor().Status("twin")
		if st.State == runtime.StateFailed {
			if !strings.Contains(st.Error, "another sluice instance") {
				t.Fatalf("fenced instance's error does not say why: %s", st.Error)
			}
			t.Logf("first instance: %s", st.Error)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("first instance was not fenced; status %+v", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
	waitStatus(t, b, "twin", 2*time.Minute, streaming)
	write(20)
	total := next - 1

	c := newConsumer(t, a.Brokers(), "twin.public.t")
	recs := c.next(total, time.Minute)
	for i, r := range recs {
		if r.op() != "c" || !jsonEq(r.Key, map[string]any{"id": i + 1}) {
			t.Fatalf("record %d: %s %v, want c of id %d", i, r.op(), r.Key, i+1)
		}
	}
	c.none(time.Second)
}
