package harness

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// childProcesses lists our live child processes.
func childProcesses() []procStat {
	var out []procStat
	for _, st := range liveProcesses() {
		if st.ppid == os.Getpid() {
			out = append(out, st)
		}
	}
	return out
}

// assertGone checks that a closed server left no directory and no process.
func assertGone(t *testing.T, dir string, pid int) {
	t.Helper()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("server dir %s still exists after Close (stat err %v)", dir, err)
	}
	if m := groupMembers(pid); len(m) > 0 {
		t.Errorf("process group %d still has live members %v after Close", pid, m)
	}
	if st, ok := readProcStat(pid); ok && st.state != 'Z' {
		t.Errorf("server process %d still alive after Close: %+v", pid, st)
	}
	if left := procsUnder(dir); len(left) > 0 {
		t.Errorf("processes working in %s remain after Close: %v", dir, left)
	}
	for _, c := range childProcesses() {
		if c.pid == pid || c.pgrp == pid {
			t.Errorf("child process %+v of the server remains", c)
		}
	}
}

// assertRunsAs checks the process's real uid is the named OS user when root.
func assertRunsAs(t *testing.T, pid int, name string) {
	t.Helper()
	ra, err := lookupRunAs(name, "")
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := readProcStat(pid); st.pgrp != pid {
		t.Errorf("server pgrp = %d, want its own group %d", st.pgrp, pid)
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "Uid:" {
			if f[1] != strconv.Itoa(int(ra.uid)) {
				t.Errorf("server runs as uid %s, want %d (%s)", f[1], ra.uid, ra.name)
			}
			return
		}
	}
	t.Errorf("no Uid line in /proc/%d/status", pid)
}

const helperEnv = "SLUICE_HARNESS_HELPER"

// TestHelperProcess is not a test: TestServerDiesWithParent runs the test
// binary as a child that starts a server and then waits to be killed.
func TestHelperProcess(t *testing.T) {
	kind := os.Getenv(helperEnv)
	if kind == "" {
		return
	}
	ctx := context.Background()
	var pid int
	var dir string
	switch kind {
	case "postgres":
		p, err := NewPostgres(ctx, PGConfig{})
		if err != nil {
			fmt.Println("ERROR", err)
			os.Exit(1)
		}
		pid, dir = p.PID(), p.Dir()
	case "mariadb":
		m, err := NewMariaDB(ctx, MariaDBConfig{})
		if err != nil {
			fmt.Println("ERROR", err)
			os.Exit(1)
		}
		pid, dir = m.PID(), m.Dir()
	}
	fmt.Println("READY", pid, dir)
	time.Sleep(5 * time.Minute)
	os.Exit(2)
}

// TestServerDiesWithParent kills (SIGKILL) a process that started servers
// and checks the servers die with it and that their directories are swept.
func TestServerDiesWithParent(t *testing.T) {
	for _, kind := range []string{"postgres", "mariadb"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
			cmd.Env = append(os.Environ(), helperEnv+"="+kind)
			cmd.Stderr = os.Stderr
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			line, err := bufio.NewReader(out).ReadString('\n')
			if err != nil {
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
				t.Fatalf("reading helper output: %v (got %q)", err, line)
			}
			var pid int
			var dir string
			if _, err := fmt.Sscan(strings.TrimPrefix(line, "READY"), &pid, &dir); err != nil || !strings.HasPrefix(line, "READY") {
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
				t.Fatalf("helper said %q", line)
			}
			if st, ok := readProcStat(pid); !ok || st.state == 'Z' {
				t.Fatalf("server %d not running while helper alive", pid)
			}
			_ = cmd.Process.Kill()
			_ = cmd.Wait()

			deadline := time.Now().Add(15 * time.Second)
			for {
				st, ok := readProcStat(pid)
				if (!ok || st.state == 'Z') && len(groupMembers(pid)) == 0 && len(procsUnder(dir)) == 0 {
					break
				}
				if time.Now().After(deadline) {
					left := procsUnder(dir)
					_ = killGroup(pid)
					for _, q := range left {
						_ = syscall.Kill(q, syscall.SIGKILL)
					}
					t.Fatalf("server %d (processes %v) outlived the process that started it", pid, left)
				}
				time.Sleep(50 * time.Millisecond)
			}

			sweepStale(filepath.Dir(dir))
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				_ = os.RemoveAll(dir)
				t.Errorf("stale dir %s of the killed helper was not swept", dir)
			}
		})
	}
}

func TestUnescapeBatch(t *testing.T) {
	for in, want := range map[string]string{
		`plain`:     "plain",
		`a\tb`:      "a\tb",
		`a\nb`:      "a\nb",
		`a\\b`:      `a\b`,
		`nul\0`:     "nul\x00",
		`trailing\`: `trailing\`,
	} {
		if got := unescapeBatch(in); got != want {
			t.Errorf("unescapeBatch(%q) = %q, want %q", in, got, want)
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func isRoot() bool { return os.Geteuid() == 0 }
