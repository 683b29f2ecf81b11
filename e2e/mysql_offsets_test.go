package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/internal/harness"
)

// TestMySQLOffsetsReset drives `sluice offsets show/reset` on a MySQL
// connector with the real binary: reset refuses while the connector runs;
// a reset to latest skips what was written while sluice was stopped and
// drops the schema history, so a column added meanwhile is decoded; a reset
// to a binlog position replays from there.
func TestMySQLOffsetsReset(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: -short")
	}
	bin := buildSluice(t)
	ctx := context.Background()
	my := harness.StartMariaDB(t)
	must(t, my.Exec(ctx, `CREATE DATABASE app; CREATE TABLE app.notes (id INT PRIMARY KEY, body VARCHAR(20)); INSERT INTO app.notes VALUES (1, 'one');`))
	dir := t.TempDir()
	kafkaAddr, apiAddr := freeAddr(t), freeAddr(t)
	cfgPath := filepath.Join(dir, "sluice.yaml")
	must(t, os.WriteFile(cfgPath, []byte(fmt.Sprintf(`
state_dir: %s
kafka: {listen: %s}
api: {listen: "%s"}
sources:
  - name: app
    type: mysql
    dsn: %s
    tables: [app.notes]
    max_batch_wait: 10ms
`, filepath.Join(dir, "state"), kafkaAddr, apiAddr, my.DSN(""))), 0o644))

	var cmd *exec.Cmd
	var logs bytes.Buffer
	start := func() {
		cmd = exec.Command(bin, "run", "-c", cfgPath)
		logs.Reset()
		cmd.Stdout, cmd.Stderr = &logs, &logs
		must(t, cmd.Start())
		waitHTTPState(t, apiAddr, "app", "streaming", time.Minute)
	}
	t.Cleanup(func() {
		if cmd != nil && cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	stop := func() {
		must(t, cmd.Process.Signal(syscall.SIGTERM))
		if err := cmd.Wait(); err != nil {
			t.Fatalf("sluice exited with %v after SIGTERM; logs:\n%s", err, logs.String())
		}
	}
	// tail returns the topic's records once there are n.
	tail := func(n int) []string {
		t.Helper()
		var lines []string
		for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			out, err := exec.Command(bin, "tail", "-brokers", kafkaAddr, "-f=false", "app.app.notes").Output()
			if err == nil {
				lines = strings.Split(strings.TrimSpace(string(out)), "\n")
				if len(lines) >= n && lines[0] != "" {
					return lines
				}
			}
		}
		t.Fatalf("tail: got %d records, want %d: %q", len(lines), n, lines)
		return nil
	}
	reset := func(to string) (string, int) {
		out, err := exec.Command(bin, "offsets", "reset", "-c", cfgPath, "-connector", "app", "-to", to).CombinedOutput()
		return string(out), exitCode(err)
	}

	start()
	must(t, my.Exec(ctx, `INSERT INTO app.notes VALUES (2, 'two')`))
	tail(2)
	// While it runs, reset refuses.
	if out, code := reset("latest"); code != 1 || !strings.Contains(out, "stop it") {
		t.Errorf("offsets reset while running: exit %d, output:\n%s", code, out)
	}
	stop()
	out, err := exec.Command(bin, "offsets", "show", "-c", cfgPath).CombinedOutput()
	must(t, err)
	if !strings.Contains(string(out), `"connector":"app"`) || !strings.Contains(string(out), `"kind":"mysql"`) {
		t.Fatalf("offsets show:\n%s", out)
	}

	// Written while stopped, then skipped by a reset to latest; the column
	// added meanwhile is in the next event.
	must(t, my.Exec(ctx, `INSERT INTO app.notes VALUES (3, 'skipped'); ALTER TABLE app.notes ADD COLUMN tag VARCHAR(10)`))
	if out, code := reset("latest"); code != 0 {
		t.Fatalf("offsets reset: exit %d\n%s", code, out)
	}
	rows, err := my.Query(ctx, "SHOW MASTER STATUS")
	must(t, err)
	position := rows[0][0] + ":" + rows[0][1] // before the next insert
	start()
	must(t, my.Exec(ctx, `INSERT INTO app.notes VALUES (4, 'after', 'new')`))
	lines := tail(3)
	if len(lines) != 3 || !strings.Contains(lines[2], `"id":4`) || !strings.Contains(lines[2], `"tag":"new"`) {
		t.Fatalf("after a reset to latest the topic holds:\n%s\nwant the insert of id 4, with its tag, added", strings.Join(lines, "\n"))
	}
	stop()

	// Back to a binlog position: the insert of id 4 comes again.
	if out, code := reset(position); code != 0 {
		t.Fatalf("offsets reset to %s: exit %d\n%s", position, code, out)
	}
	if out, code := reset("nowhere"); code != 1 || !strings.Contains(out, "binlog position") {
		t.Errorf("offsets reset to a bad position: exit %d\n%s", code, out)
	}
	start()
	lines = tail(4)
	if len(lines) != 4 || !strings.Contains(lines[3], `"id":4`) {
		t.Fatalf("after a reset to %s the topic holds:\n%s\nwant the insert of id 4 again", position, strings.Join(lines, "\n"))
	}
	stop()
}
