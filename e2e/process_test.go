package e2e

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"
)

// sluiceProcess runs `sluice run -c cfg` with the real binary and keeps the
// current run's output. The test's cleanup kills what still runs and, if
// the test failed, logs the output's tail.
type sluiceProcess struct {
	t        *testing.T
	bin, cfg string

	mu   sync.Mutex // guards cmd
	cmd  *exec.Cmd
	logs bytes.Buffer
}

// runBinary starts the binary on cfg.
func runBinary(t *testing.T, bin, cfg string) *sluiceProcess {
	t.Helper()
	p := &sluiceProcess{t: t, bin: bin, cfg: cfg}
	p.start()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("sluice log tail:\n%s", tailLines(p.output(), 40))
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.cmd != nil && p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			_ = p.cmd.Wait()
		}
	})
	return p
}

// start runs the binary again (after kill); the output starts afresh. It
// may run on a goroutine of the test's: a failure to start is reported
// with Errorf.
func (p *sluiceProcess) start() {
	p.t.Helper()
	c := exec.Command(p.bin, "run", "-c", p.cfg)
	p.logs.Reset()
	c.Stdout, c.Stderr = &p.logs, &p.logs
	if err := c.Start(); err != nil {
		p.t.Errorf("start %s run -c %s: %v", p.bin, p.cfg, err)
		return
	}
	p.mu.Lock()
	p.cmd = c
	p.mu.Unlock()
}

// kill sends SIGKILL and waits for the process to die.
func (p *sluiceProcess) kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	_ = p.cmd.Wait()
}

// stop sends SIGTERM and returns how the process exited.
func (p *sluiceProcess) stop() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return errors.New("sluice did not start")
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	return p.cmd.Wait()
}

// output is the current run's output so far.
func (p *sluiceProcess) output() string { return p.logs.String() }

// killRestart kills and restarts p n times, each after a random wait of
// min to min+spread.
func (p *sluiceProcess) killRestart(rng *rand.Rand, n int, min, spread time.Duration) {
	for range n {
		time.Sleep(min + time.Duration(rng.Int64N(int64(spread))))
		p.kill()
		p.start()
	}
}
