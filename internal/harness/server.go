package harness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// server is the lifecycle Postgres and MariaDB share: one server process at a
// time in a private directory, on a port fixed at the first start. Its
// methods are safe for concurrent use; the ...Locked ones need mu.
type server struct {
	kind    string // "postgres", "mariadb": for messages
	binary  string // the server binary, for messages: "postgres", "mariadbd"
	runAs   runAs
	dir     string // the server's temporary directory
	dataDir string // the server process's working directory
	logPath string

	startTimeout time.Duration    // per start; zero: defaultStartTimeout
	command      func() *exec.Cmd // the server command line (port included)
	// ready reports nil once the started server accepts connections; it is
	// polled every pollEvery.
	ready     func(ctx context.Context) error
	pollEvery time.Duration
	// bindErrors are server log texts that mean the port was taken.
	bindErrors []string
	// stopSignal shuts the server down; with nudge set, nudge is called
	// every nudgeAfter until it has exited (see proc.stop).
	stopSignal syscall.Signal
	nudgeAfter time.Duration
	nudge      func(*proc)

	port atomic.Int32 // fixed after the first start

	mu     sync.Mutex
	proc   *proc // nil while stopped
	closed bool
}

// serverHandle is what startForTest needs of Postgres and MariaDB.
type serverHandle interface {
	Port() int
	Log() string
	Close() error
}

// startForTest creates a server with newServer (all its starts bounded by
// three start timeouts), fails the test if that fails, and has the test's
// cleanup log the server log tail when the test failed and close the server.
func startForTest[S serverHandle](t testing.TB, kind string, timeout time.Duration, newServer func(context.Context) (S, error)) S {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*startTimeout(timeout))
	defer cancel()
	s, err := newServer(ctx)
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s on port %d, server log tail:\n%s", kind, s.Port(), tail(s.Log(), 8<<10))
		}
		if err := s.Close(); err != nil {
			t.Errorf("%v", err)
		}
	})
	return s
}

func startTimeout(d time.Duration) time.Duration {
	if d <= 0 {
		return defaultStartTimeout
	}
	return d
}

// setUp runs init and then firstStart; if either fails it closes the server
// (removing its directory).
func (s *server) setUp(ctx context.Context, init, firstStart func(context.Context) error) error {
	if err := init(ctx); err != nil {
		_ = s.Close()
		return err
	}
	if err := firstStart(ctx); err != nil {
		_ = s.Close()
		return err
	}
	return nil
}

// firstStartLocked starts the server on fixedPort, or when that is zero on a
// free port from pick (default freePort), moving to another free port if the
// chosen one was taken in the meantime.
func (s *server) firstStartLocked(ctx context.Context, fixedPort int, pick func() (int, error)) error {
	for attempt := 1; ; attempt++ {
		port := fixedPort
		if port == 0 {
			var err error
			if pick == nil {
				pick = freePort
			}
			if port, err = pick(); err != nil {
				return err
			}
		}
		s.port.Store(int32(port))
		err := s.startLocked(ctx)
		if err == nil {
			return nil
		}
		if fixedPort != 0 || attempt >= portAttempts || !errors.Is(err, errPortInUse) {
			return err
		}
	}
}

var errPortInUse = errors.New("port in use")

// Start starts the stopped (or killed) server again on the same port and
// data directory and waits until it accepts connections.
func (s *server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("harness: " + s.kind + ": Start after Close")
	}
	if s.proc != nil && !s.proc.exited() {
		return fmt.Errorf("harness: %s on port %d is already running", s.kind, s.Port())
	}
	return s.startLocked(ctx)
}

func (s *server) startLocked(ctx context.Context) error {
	if s.proc != nil {
		s.proc.kill() // exited by itself: make sure nothing of it is left
		s.proc = nil
	}
	logStart := fileSize(s.logPath)
	cmd := s.command()
	cmd.Env = childEnv(s.dir)
	cmd.SysProcAttr = s.runAs.sysProcAttr()
	pr, err := startServer(cmd, s.dataDir, s.logPath)
	if err != nil {
		return err
	}
	s.proc = pr

	ctx, cancel := context.WithTimeout(ctx, startTimeout(s.startTimeout))
	defer cancel()
	for {
		if pr.exited() {
			s.proc = nil
			log := fileTailFrom(s.logPath, logStart)
			err := fmt.Errorf("harness: %s exited during start on port %d (%v); server log:\n%s", s.binary, s.Port(), pr.err, log)
			for _, b := range s.bindErrors {
				if strings.Contains(log, b) {
					err = fmt.Errorf("%w: %w", errPortInUse, err)
					break
				}
			}
			return err
		}
		rerr := s.ready(ctx)
		if rerr == nil {
			return nil
		}
		if serr := sleepCtx(ctx, s.pollEvery); serr != nil {
			_ = pr.stop(context.Background(), syscall.SIGKILL, 0, nil)
			s.proc = nil
			return fmt.Errorf("harness: %s on port %d not accepting connections: %w (last error: %v); server log:\n%s",
				s.kind, s.Port(), serr, rerr, fileTailFrom(s.logPath, logStart))
		}
	}
}

// stop shuts the server down and waits for it to exit; if ctx ends first the
// server is killed. Stopping a stopped server is a no-op.
func (s *server) stop(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return nil
	}
	if err := s.stopLocked(ctx); err != nil {
		return fmt.Errorf("harness: stop %s on port %d: %w", s.kind, s.Port(), err)
	}
	return nil
}

func (s *server) stopLocked(ctx context.Context) error {
	pr := s.proc
	s.proc = nil
	var nudge func()
	if s.nudge != nil {
		nudge = func() { s.nudge(pr) }
	}
	return pr.stop(ctx, s.stopSignal, s.nudgeAfter, nudge)
}

// kill SIGKILLs the server and waits for it to be gone.
func (s *server) kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		s.proc.kill()
		s.proc = nil
	}
}

// Close stops the server and removes its directory. It is idempotent.
func (s *server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var errs []error
	if s.proc != nil {
		ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
		if err := s.stopLocked(ctx); err != nil {
			errs = append(errs, fmt.Errorf("harness: close %s on port %d: %w", s.kind, s.Port(), err))
		}
		cancel()
	}
	if err := os.RemoveAll(s.dir); err != nil {
		errs = append(errs, fmt.Errorf("harness: remove %s: %w", s.dir, err))
	}
	return errors.Join(errs...)
}

// Port is the TCP port on 127.0.0.1.
func (s *server) Port() int {
	return int(s.port.Load())
}

// Addr is "127.0.0.1:PORT".
func (s *server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.Port()) }

// pid is the server's process ID, 0 while stopped.
func (s *server) pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil || s.proc.exited() {
		return 0
	}
	return s.proc.pid()
}

// log returns the tail of the server log (across restarts).
func (s *server) log() string { return fileTail(s.logPath, logTailBytes) }
