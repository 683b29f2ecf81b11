package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/internal/harness"
)

// buildSluice builds cmd/sluice into a temp dir.
func buildSluice(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "sluice")
	cmd := exec.Command("go", "build", "-o", bin, "../cmd/sluice")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

// TestBinary runs the real binary: validate (good and broken configs), run
// with the embedded broker, tail, and a SIGTERM that exits 0 after
// committing; a second run resumes without repeating anything.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: -short")
	}
	bin := buildSluice(t)
	dir := t.TempDir()

	t.Run("validate reports file, line and key", func(t *testing.T) {
		bad := filepath.Join(dir, "bad.yaml")
		must(t, os.WriteFile(bad, []byte("sources:\n  - name: a\n    type: postgres\n    dsn: postgres://h/db\n    snapshott: initial\n"), 0o644))
		out, err := exec.Command(bin, "validate", "-c", bad).CombinedOutput()
		if code := exitCode(err); code != 1 {
			t.Fatalf("exit code %d, want 1; output:\n%s", code, out)
		}
		if !strings.Contains(string(out), `bad.yaml:5:5: sources[0].snapshott: unknown key (did you mean "snapshot"?)`) {
			t.Errorf("output does not name file, line and key:\n%s", out)
		}
	})

	ctx := context.Background()
	pg := harness.StartPostgres(t)
	must(t, pg.Exec(ctx, "postgres", `CREATE TABLE notes (id int PRIMARY KEY, body text); INSERT INTO notes VALUES (1, 'one'), (2, 'two');`))
	kafkaAddr, apiAddr := freeAddr(t), freeAddr(t)
	cfgPath := filepath.Join(dir, "sluice.yaml")
	must(t, os.WriteFile(cfgPath, []byte(fmt.Sprintf(`
state_dir: %s
kafka: {listen: %s}
api: {listen: "%s"}
sources:
  - name: notes
    type: postgres
    dsn: postgres://postgres:s3cret@%s/postgres?sslmode=disable
    tables: [public.notes]
    max_batch_wait: 10ms
`, filepath.Join(dir, "state"), kafkaAddr, apiAddr, pg.Addr())), 0o644))

	t.Run("validate redacts secrets", func(t *testing.T) {
		out, err := exec.Command(bin, "validate", "-c", cfgPath).CombinedOutput()
		must(t, err)
		if strings.Contains(string(out), "s3cret") || !strings.Contains(string(out), "*****") {
			t.Errorf("validate output shows the password or no redaction:\n%s", out)
		}
	})

	tail := func(n int) []string {
		t.Helper()
		var lines []string
		deadline := time.Now().Add(time.Minute)
		for time.Now().Before(deadline) {
			out, err := exec.Command(bin, "tail", "-brokers", kafkaAddr, "-f=false", "-summary", "notes.public.notes").Output()
			if err == nil {
				lines = strings.Split(strings.TrimSpace(string(out)), "\n")
				if len(lines) >= n && lines[0] != "" {
					return lines
				}
			}
			time.Sleep(200 * time.Millisecond)
		}
		t.Fatalf("tail: got %d lines, want %d: %q", len(lines), n, lines)
		return nil
	}

	start := func() (*exec.Cmd, *bytes.Buffer) {
		cmd := exec.Command(bin, "run", "-c", cfgPath)
		var logs bytes.Buffer
		cmd.Stdout, cmd.Stderr = &logs, &logs
		must(t, cmd.Start())
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		return cmd, &logs
	}
	stop := func(cmd *exec.Cmd, logs *bytes.Buffer) {
		must(t, cmd.Process.Signal(syscall.SIGTERM))
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("sluice exited with %v after SIGTERM; logs:\n%s", err, logs)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("sluice did not exit within 30s of SIGTERM; logs:\n%s", logs)
		}
	}

	cmd, logs := start()
	lines := tail(2)
	must(t, pg.Exec(ctx, "postgres", `UPDATE notes SET body = 'uno' WHERE id = 1`))
	lines = tail(3)
	stop(cmd, logs)
	if !strings.Contains(logs.String(), `"msg":"stopped cleanly"`) {
		t.Errorf("no clean stop in the logs:\n%s", logs)
	}

	// Changes made while sluice is down arrive after a restart, once.
	must(t, pg.Exec(ctx, "postgres", `DELETE FROM notes WHERE id = 2`))
	cmd, logs = start()
	lines = tail(5)
	stop(cmd, logs)
	want := []string{"op=r", "op=r", "op=u", "op=d", "tombstone"}
	if len(lines) != len(want) {
		t.Fatalf("topic holds %d records, want %d:\n%s", len(lines), len(want), strings.Join(lines, "\n"))
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("record %d = %q, want %s", i, lines[i], w)
		}
	}

	// offsets show/reset while sluice is stopped: the command opens the
	// embedded broker's log itself.
	out, err := exec.Command(bin, "offsets", "show", "-c", cfgPath).CombinedOutput()
	must(t, err)
	if !strings.Contains(string(out), `"connector":"notes"`) || !strings.Contains(string(out), `"complete":true`) {
		t.Fatalf("offsets show:\n%s", out)
	}
	// A change made while stopped, then a reset to latest: it is skipped.
	must(t, pg.Exec(ctx, "postgres", `INSERT INTO notes VALUES (3, 'skipped')`))
	out, err = exec.Command(bin, "offsets", "reset", "-c", cfgPath, "-connector", "notes", "-to", "latest").CombinedOutput()
	if err != nil {
		t.Fatalf("offsets reset: %v\n%s", err, out)
	}
	cmd, logs = start()
	waitHTTPState(t, apiAddr, "notes", "streaming", time.Minute)
	// While it runs, reset refuses.
	out, err = exec.Command(bin, "offsets", "reset", "-c", cfgPath, "-connector", "notes", "-to", "earliest").CombinedOutput()
	if exitCode(err) != 1 || !strings.Contains(string(out), "stop it") {
		t.Errorf("offsets reset while running: exit %d, output:\n%s", exitCode(err), out)
	}
	must(t, pg.Exec(ctx, "postgres", `INSERT INTO notes VALUES (4, 'after reset')`))
	lines = tail(6)
	stop(cmd, logs)
	if len(lines) != 6 || !strings.Contains(lines[5], `"id":4`) {
		t.Errorf("after reset to latest, the topic ends with:\n%s\nwant only the insert of id 4 added", strings.Join(lines, "\n"))
	}
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return -1
}
