package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/configs"
	"github.com/sluice-cdc/sluice/internal/harness"
	"github.com/sluice-cdc/sluice/internal/runtime"
)

// reloadSource is one Postgres source entry of a sources list.
func reloadSource(name, dsn, tables string) string {
	return fmt.Sprintf(`
  - name: %s
    type: postgres
    dsn: %s
    tables: [%s]
    topic_prefix: %s
    max_batch_wait: 20ms`, name, dsn, tables, name)
}

// TestReload applies new configurations to a running daemon: an added
// connector starts while the others keep running untouched, a changed one
// restarts, a removed one stops, and one that cannot be built leaves
// everything as it was.
func TestReload(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	pg := harness.StartPostgres(t)
	must(t, pg.Exec(ctx, "postgres", `CREATE TABLE ra (id int PRIMARY KEY); CREATE TABLE rb (id int PRIMARY KEY); CREATE TABLE rc (id int PRIMARY KEY);`))
	head := fmt.Sprintf("state_dir: %s\nkafka: {listen: 127.0.0.1:0}\napi: {listen: \"\"}\nsources:", t.TempDir())
	parse := func(y string) *configs.Config {
		t.Helper()
		cfg, err := configs.Parse("reload.yaml", []byte(y))
		if err != nil {
			t.Fatalf("config: %v", err)
		}
		return cfg
	}
	a := reloadSource("ra", pg.DSN("postgres"), "public.ra")
	d := runDaemon(t, head+a+"\n")
	stA := waitStatus(t, d, "ra", time.Minute, streaming)
	unchanged := func() {
		t.Helper()
		st, _ := d.Supervisor().Status("ra")
		if st.State != runtime.StateRunning || !st.Since.Equal(stA.Since) || st.Restarts != 0 {
			t.Errorf("connector ra was disturbed by the reload: %+v (before: since %s)", st, stA.Since)
		}
	}

	// Add rb.
	must(t, d.Reload(parse(head+a+reloadSource("rb", pg.DSN("postgres"), "public.rb")+"\n")))
	stB := waitStatus(t, d, "rb", time.Minute, streaming)
	unchanged()
	must(t, pg.Exec(ctx, "postgres", `INSERT INTO ra VALUES (1); INSERT INTO rb VALUES (1);`))
	newConsumer(t, d.Brokers(), "ra.public.ra").next(1, time.Minute)
	newConsumer(t, d.Brokers(), "rb.public.rb").next(1, time.Minute)

	// A sink that cannot be built (its table template names an unknown
	// variable, which only the sink rejects): nothing changes.
	bad := head + a + reloadSource("rb", pg.DSN("postgres"), "public.rb, public.rc") + `
sinks:
  - name: copy
    type: sql
    topics: [x]
    dsn: sqlite://` + filepath.Join(t.TempDir(), "copy.db") + `
    table: "${nope}"
`
	if err := d.Reload(parse(bad)); err == nil {
		t.Error("a reload with a sink that cannot be built was accepted")
	}
	if st, _ := d.Supervisor().Status("rb"); !st.Since.Equal(stB.Since) {
		t.Errorf("a rejected reload restarted rb")
	}
	if names := d.Supervisor().Names(); strings.Join(names, ",") != "ra,rb" {
		t.Errorf("after a rejected reload: %v", names)
	}

	// Change rb: it restarts with the new table list.
	must(t, d.Reload(parse(head+a+reloadSource("rb", pg.DSN("postgres"), "public.rb, public.rc")+"\n")))
	waitStatus(t, d, "rb", time.Minute, func(st runtime.Status) bool { return streaming(st) && st.Since.After(stB.Since) })
	unchanged()
	must(t, pg.Exec(ctx, "postgres", `INSERT INTO rc VALUES (7)`))
	if r := newConsumer(t, d.Brokers(), "rb.public.rc").next(1, time.Minute); !jsonEq(r[0].Key, map[string]any{"id": 7}) {
		t.Errorf("rc after the change: %v", r[0].Key)
	}

	// Remove rb.
	must(t, d.Reload(parse(head+a+"\n")))
	if names := d.Supervisor().Names(); strings.Join(names, ",") != "ra" {
		t.Errorf("after removing rb: %v", names)
	}
	unchanged()
}

// syncBuffer is a bytes.Buffer safe for a process's writes and the test's
// reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestReloadSIGHUP runs the binary: SIGHUP with a new connector in the file
// starts it without restarting the running one; a broken file is reported
// with its file:line and changes nothing.
func TestReloadSIGHUP(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: -short")
	}
	ctx := context.Background()
	bin := buildSluice(t)
	dir := t.TempDir()
	pg := harness.StartPostgres(t)
	must(t, pg.Exec(ctx, "postgres", `CREATE TABLE ha (id int PRIMARY KEY); CREATE TABLE hb (id int PRIMARY KEY);`))
	apiAddr := freeAddr(t)
	head := fmt.Sprintf("state_dir: %s\nkafka: {listen: %s}\napi: {listen: %q}\nsources:", filepath.Join(dir, "state"), freeAddr(t), apiAddr)
	a := reloadSource("ha", pg.DSN("postgres"), "public.ha")
	cfgPath := filepath.Join(dir, "sluice.yaml")
	must(t, os.WriteFile(cfgPath, []byte(head+a+"\n"), 0o644))
	cmd := exec.Command(bin, "run", "-c", cfgPath)
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	must(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	d := &apiClient{t: t, base: "http://" + apiAddr}
	deadline := time.Now().Add(time.Minute)
	for {
		if resp, err := http.Get(d.base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the API did not come up; logs:\n%s", logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
	stA := d.waitStatus("ha", time.Minute, apiStreaming)

	must(t, os.WriteFile(cfgPath, []byte(head+a+reloadSource("hb", pg.DSN("postgres"), "public.hb")+"\n"), 0o644))
	must(t, cmd.Process.Signal(syscall.SIGHUP))
	d.waitStatus("hb", time.Minute, apiStreaming)
	if st := d.status("ha"); !st.Since.Equal(stA.Since) || st.Connector.State != runtime.StateRunning {
		t.Errorf("ha was restarted by the reload: %+v", st)
	}

	// A broken file: logged with file:line, nothing changes.
	must(t, os.WriteFile(cfgPath, []byte(head+a+"\n    snapshott: never\n"), 0o644))
	must(t, cmd.Process.Signal(syscall.SIGHUP))
	deadline = time.Now().Add(30 * time.Second)
	for !strings.Contains(logs.String(), "sluice.yaml:11:5: sources[0].snapshott: unknown key") {
		if time.Now().After(deadline) {
			t.Fatalf("no file:line error in the logs:\n%s", logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var names []string
	d.want(200, "GET", "/connectors", &names)
	if strings.Join(names, ",") != "ha,hb" {
		t.Errorf("after a broken reload: %v", names)
	}

	must(t, cmd.Process.Signal(syscall.SIGTERM))
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v; logs:\n%s", err, logs)
	}
}
