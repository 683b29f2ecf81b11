package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	// defaultStartTimeout bounds how long a server may take to accept
	// connections. CI machines have 2 cores shared by parallel test packages.
	defaultStartTimeout = 90 * time.Second
	// stopTimeout bounds Close's graceful shutdown before it falls back to SIGKILL.
	stopTimeout = 30 * time.Second
	// portAttempts is how often a first start retries on a port collision.
	portAttempts = 5
	// tempPrefix starts the name of every directory this package creates.
	tempPrefix = "sluice-harness-"
	// ownerFile inside a server directory holds the PID of the process that
	// created it; sweepStale removes directories whose owner is gone.
	ownerFile = "owner.pid"
	// logTailBytes is how much of a server log Log returns.
	logTailBytes = 64 << 10
)

// runAs is the OS identity a server runs as.
type runAs struct {
	name     string // OS user name, for messages
	uid, gid uint32
	switchTo bool // set Credential: we are root and the server must not be
}

// lookupRunAs returns the identity to run a server as: the named OS user when
// running as root (databases refuse to run as root), else the current user.
func lookupRunAs(name, aptPkg string) (runAs, error) {
	if os.Geteuid() != 0 {
		return runAs{name: "current user", uid: uint32(os.Geteuid()), gid: uint32(os.Getegid())}, nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return runAs{}, fmt.Errorf("harness: running as root, so the server must run as the OS user %q, "+
			"but looking it up failed: %w (install it with: apt-get install -y %s, or run scripts/install-deps.sh)",
			name, err, aptPkg)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return runAs{}, fmt.Errorf("harness: OS user %q has non-numeric uid/gid %q/%q", name, u.Uid, u.Gid)
	}
	return runAs{name: name, uid: uint32(uid), gid: uint32(gid), switchTo: true}, nil
}

// sysProcAttr puts the child in its own process group, kills it when the
// thread that started it dies (Go never retires an unlocked thread, so in
// practice: when this process dies) and switches to the server's OS user.
func (r runAs) sysProcAttr() *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if r.switchTo {
		a.Credential = &syscall.Credential{Uid: r.uid, Gid: r.gid, Groups: []uint32{}}
	}
	return a
}

// chown hands path to the server's OS user (no-op when not switching users).
func (r runAs) chown(path string) error {
	if !r.switchTo {
		return nil
	}
	if err := os.Chown(path, int(r.uid), int(r.gid)); err != nil {
		return fmt.Errorf("harness: chown %s to %s: %w", path, r.name, err)
	}
	return nil
}

// command builds a command for a helper binary (initdb, mariadb-install-db)
// run as r in dir, in its own process group, whose whole group is killed if
// ctx ends.
func (r runAs) command(ctx context.Context, dir string, env []string, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.SysProcAttr = r.sysProcAttr()
	cmd.Cancel = func() error { return killGroup(cmd.Process.Pid) }
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// childEnv is a small, predictable environment for servers and their tools:
// nothing from the caller's PG*/MYSQL* variables or locale leaks in.
func childEnv(home string) []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "LC_ALL=C", "LANG=C", "HOME=" + home}
	if tz, ok := os.LookupEnv("TZ"); ok {
		env = append(env, "TZ="+tz)
	}
	return env
}

// makeServerDir creates a fresh private directory for one server, owned by
// the server's OS user, and records the creating process as its owner. It
// first sweeps directories left behind by dead processes.
func makeServerDir(kind string, r runAs) (string, error) {
	base := tempBase(r)
	sweepStale(base)
	dir, err := os.MkdirTemp(base, tempPrefix+kind+"-")
	if err != nil {
		return "", fmt.Errorf("harness: create temp dir for %s: %w", kind, err)
	}
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		_ = os.RemoveAll(dir)
		return "", fmt.Errorf("harness: write owner file: %w", err)
	}
	if err := r.chown(dir); err != nil {
		_ = os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}

// tempBase is os.TempDir unless the server's user could not reach into it or
// unix socket paths under it would be too long; then /tmp.
func tempBase(r runAs) string {
	base := os.TempDir()
	if len(base) > 60 {
		return "/tmp"
	}
	if r.switchTo {
		fi, err := os.Stat(base)
		if err != nil || fi.Mode().Perm()&0o001 == 0 {
			return "/tmp"
		}
	}
	return base
}

// sweepStale removes server directories whose owning process no longer
// exists (a test binary that was killed before its cleanups ran). Its servers
// died with it (Pdeathsig); only the files remain.
func sweepStale(base string) {
	dirs, _ := filepath.Glob(filepath.Join(base, tempPrefix+"*"))
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, ownerFile))
		if err != nil {
			// No owner file: either being created right now or not ours to judge.
			fi, serr := os.Stat(d)
			if serr == nil && fi.IsDir() && time.Since(fi.ModTime()) > time.Hour {
				_ = os.RemoveAll(d)
			}
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 || pid == os.Getpid() || processAlive(pid) {
			continue
		}
		_ = os.RemoveAll(d)
	}
}

func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

var (
	portMu    sync.Mutex
	portsUsed = map[int]bool{}
)

// freePort returns a 127.0.0.1 TCP port that was free a moment ago and has
// not been handed out before by this process. Callers retry on collision.
func freePort() (int, error) {
	portMu.Lock()
	defer portMu.Unlock()
	for range 20 {
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("harness: find free port: %w", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		_ = l.Close()
		if !portsUsed[port] {
			portsUsed[port] = true
			return port, nil
		}
	}
	return 0, errors.New("harness: find free port: no unused port after 20 tries")
}

// proc is one running server process.
type proc struct {
	cmd  *exec.Cmd
	dir  string        // the server's working (data) directory
	done chan struct{} // closed once cmd.Wait returned
	err  error         // cmd.Wait's result, valid after done
}

// startServer starts cmd (whose SysProcAttr must set Setpgid) in dir with
// its output appended to logPath and reaps it in the background.
func startServer(cmd *exec.Cmd, dir, logPath string) (*proc, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("harness: open server log: %w", err)
	}
	// Files, not pipes: the child writes directly, no copying goroutines.
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Dir = dir
	err = cmd.Start()
	_ = logf.Close() // the child holds its own descriptor
	if err != nil {
		return nil, fmt.Errorf("harness: start %s: %w", cmd.Path, err)
	}
	if resolved, rerr := filepath.EvalSymlinks(dir); rerr == nil {
		dir = resolved
	}
	p := &proc{cmd: cmd, dir: dir, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends sig to the server and waits for it to exit; if ctx ends first it
// kills it. If nudge is not nil and the server is still running after
// nudgeAfter, nudge is called (again every nudgeAfter) to help the shutdown
// along. Either way no process of the server remains when it returns.
func (p *proc) stop(ctx context.Context, sig syscall.Signal, nudgeAfter time.Duration, nudge func()) error {
	var err error
	if !p.exited() {
		_ = p.cmd.Process.Signal(sig)
		var tick <-chan time.Time
		if nudge != nil {
			t := time.NewTicker(nudgeAfter)
			defer t.Stop()
			tick = t.C
		}
	wait:
		for {
			select {
			case <-p.done:
				break wait
			case <-tick:
				nudge()
			case <-ctx.Done():
				err = fmt.Errorf("harness: server did not stop on %v in time, killed it: %w", sig, ctx.Err())
				break wait
			}
		}
	}
	p.kill()
	return err
}

// kill SIGKILLs the server's process group and every process working in its
// data directory, reaps the leader and waits (bounded) for the rest to be
// gone. Postgres backends call setsid, so the process group alone misses
// them; their working directory is the data directory, which is private to
// this server.
func (p *proc) kill() {
	pid := p.pid()
	if !p.exited() {
		_ = killGroup(pid)
	}
	<-p.done
	deadline := time.Now().Add(10 * time.Second)
	for {
		left := 0
		// A group with live members keeps its ID, so this cannot hit a
		// stranger that reused the leader's PID.
		if m := groupMembers(pid); len(m) > 0 {
			_ = killGroup(pid)
			left += len(m)
		}
		for _, q := range procsUnder(p.dir) {
			_ = syscall.Kill(q, syscall.SIGKILL)
			left++
		}
		if left == 0 || time.Now().After(deadline) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func killGroup(pgid int) error {
	err := syscall.Kill(-pgid, syscall.SIGKILL)
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}

// procStat is the part of /proc/PID/stat this package needs.
type procStat struct {
	pid, ppid, pgrp int
	state           byte
}

func readProcStat(pid int) (procStat, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, false
	}
	// "pid (comm) state ppid pgrp ..."; comm may contain spaces and parens.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 3 || len(f[0]) != 1 {
		return procStat{}, false
	}
	ppid, _ := strconv.Atoi(f[1])
	pgrp, _ := strconv.Atoi(f[2])
	return procStat{pid: pid, ppid: ppid, pgrp: pgrp, state: f[0][0]}, true
}

// liveProcesses lists every non-zombie process visible in /proc.
func liveProcesses() []procStat {
	ents, _ := os.ReadDir("/proc")
	var out []procStat
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, ok := readProcStat(pid); ok && st.state != 'Z' && st.state != 'X' {
			out = append(out, st)
		}
	}
	return out
}

// groupMembers lists the live processes in process group pgid.
func groupMembers(pgid int) []int {
	var pids []int
	for _, st := range liveProcesses() {
		if st.pgrp == pgid {
			pids = append(pids, st.pid)
		}
	}
	return pids
}

// procsUnder lists the live processes whose working directory is dir or
// below it.
func procsUnder(dir string) []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cwd, err := os.Readlink("/proc/" + e.Name() + "/cwd")
		if err != nil {
			continue // gone, a zombie, or not ours to see
		}
		cwd = strings.TrimSuffix(cwd, " (deleted)")
		if cwd == dir || strings.HasPrefix(cwd, dir+"/") {
			if st, ok := readProcStat(pid); ok && st.state != 'Z' && st.state != 'X' {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

// cmdline is the command line (process title) of pid, arguments joined by
// spaces.
func cmdline(pid int) string {
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	return strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))
}

// fileTail returns up to n bytes from the end of the file at path.
func fileTail(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return ""
	}
	off := fi.Size() - n
	if off < 0 {
		off = 0
	}
	b, _ := io.ReadAll(io.NewSectionReader(f, off, fi.Size()-off))
	return string(b)
}

// lookBin finds the first of names on $PATH, then the first existing
// executable among fallbacks.
func lookBin(names []string, fallbacks ...string) string {
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	for _, p := range fallbacks {
		if isExecutable(p) {
			return p
		}
	}
	return ""
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode().Perm()&0o111 != 0
}

// sleepCtx sleeps for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
