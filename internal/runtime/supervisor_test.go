package runtime

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

type permErr struct{ error }

func (permErr) Permanent() bool { return true }

// blocker runs until its context ends and counts its runs.
func blocker(name string, runs *atomic.Int32) Connector {
	return Connector{Name: name, Kind: "source", Type: "test", Run: func(ctx context.Context) error {
		runs.Add(1)
		<-ctx.Done()
		return nil
	}}
}

func waitState(t *testing.T, s *Supervisor, name string, cond func(Status) bool) Status {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, ok := s.Status(name)
		if ok && cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: condition not met; last status %+v", name, st)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func state(want string) func(Status) bool { return func(st Status) bool { return st.State == want } }

func startSupervisor(t *testing.T, s *Supervisor) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

func TestSupervisorRestartsAFailingConnectorAlone(t *testing.T) {
	s := NewSupervisor(nil, 10*time.Millisecond, 40*time.Millisecond)
	var steady, attempts atomic.Int32
	must(t, s.Add(blocker("steady", &steady)))
	root := errors.New("connection refused")
	must(t, s.Add(Connector{Name: "flaky", Run: func(ctx context.Context) error {
		if attempts.Add(1) <= 3 {
			return fmt.Errorf("flaky: connect: %w", fmt.Errorf("dial tcp: %w", root))
		}
		<-ctx.Done()
		return nil
	}}))
	startSupervisor(t, s)
	st := waitState(t, s, "flaky", func(st Status) bool { return st.State == StateRunning && st.Restarts == 3 })
	if !strings.Contains(st.LastError, "Caused by: connection refused") || st.Error != "" {
		t.Errorf("after recovery: error %q, last error %q", st.Error, st.LastError)
	}
	if n := steady.Load(); n != 1 {
		t.Errorf("the steady connector ran %d times, want 1", n)
	}
	var panicky atomic.Int32
	must(t, s.Add(Connector{Name: "panicky", Run: func(ctx context.Context) error {
		if panicky.Add(1) == 1 {
			var m map[string]int
			m["boom"]++ // a bug
		}
		<-ctx.Done()
		return nil
	}}))
	st = waitState(t, s, "panicky", func(st Status) bool { return st.State == StateRunning && st.Restarts == 1 })
	if !strings.Contains(st.LastError, "connector panicked: assignment to entry in nil map") {
		t.Errorf("panic not reported: %q", st.LastError)
	}
	if got := CauseChain(fmt.Errorf("a: %w", fmt.Errorf("b: %w", root))); len(got) != 3 || got[2] != "connection refused" {
		t.Errorf("cause chain %q", got)
	}
}

func TestSupervisorPauseResumeRestart(t *testing.T) {
	s := NewSupervisor(nil, 10*time.Millisecond, 10*time.Millisecond)
	var runs atomic.Int32
	var cancelled atomic.Int32
	must(t, s.Add(Connector{Name: "c", Run: func(ctx context.Context) error {
		runs.Add(1)
		<-ctx.Done()
		cancelled.Add(1) // the connector saw the cancellation and committed
		return ctx.Err()
	}}))
	startSupervisor(t, s)
	waitState(t, s, "c", state(StateRunning))
	must(t, s.Pause("c"))
	waitState(t, s, "c", state(StatePaused))
	time.Sleep(50 * time.Millisecond)
	if runs.Load() != 1 || cancelled.Load() != 1 {
		t.Fatalf("paused: runs %d, cancelled %d", runs.Load(), cancelled.Load())
	}
	must(t, s.Resume("c"))
	waitState(t, s, "c", func(st Status) bool { return st.State == StateRunning && runs.Load() == 2 })
	before, _ := s.Status("c")
	must(t, s.Restart("c"))
	st := waitState(t, s, "c", func(st Status) bool { return st.State == StateRunning && runs.Load() == 3 })
	if st.Restarts != 0 || !st.Since.After(before.Since) {
		t.Errorf("after restart: %+v (before %+v)", st, before)
	}
	if err := s.Pause("nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("pause of unknown connector: %v", err)
	}
}

func TestSupervisorPermanentFailureWaitsForRestart(t *testing.T) {
	s := NewSupervisor(nil, time.Millisecond, time.Millisecond)
	var runs atomic.Int32
	must(t, s.Add(Connector{Name: "p", Run: func(ctx context.Context) error {
		if runs.Add(1) == 1 {
			return permErr{errors.New("bad configuration")}
		}
		<-ctx.Done()
		return nil
	}}))
	startSupervisor(t, s)
	st := waitState(t, s, "p", state(StateFailed))
	if st.Error != "bad configuration" {
		t.Errorf("trace %q", st.Error)
	}
	time.Sleep(30 * time.Millisecond)
	if runs.Load() != 1 {
		t.Fatalf("a permanent failure was retried")
	}
	must(t, s.Restart("p"))
	waitState(t, s, "p", state(StateRunning))
}

func TestSupervisorAddRemoveReplaceWhileRunning(t *testing.T) {
	s := NewSupervisor(nil, time.Millisecond, time.Millisecond)
	var a, b, b2 atomic.Int32
	must(t, s.Add(blocker("a", &a)))
	startSupervisor(t, s)
	waitState(t, s, "a", state(StateRunning))
	must(t, s.Add(blocker("b", &b)))
	waitState(t, s, "b", state(StateRunning))
	if err := s.Add(blocker("b", &b)); !errors.Is(err, ErrExists) {
		t.Errorf("duplicate add: %v", err)
	}
	must(t, s.Replace(blocker("b", &b2)))
	waitState(t, s, "b", func(Status) bool { return b2.Load() == 1 })
	must(t, s.Remove("b"))
	if _, ok := s.Status("b"); ok {
		t.Error("removed connector still listed")
	}
	if a.Load() != 1 || b.Load() != 1 {
		t.Errorf("runs: a %d, b %d", a.Load(), b.Load())
	}
	if names := s.Names(); len(names) != 1 || names[0] != "a" {
		t.Errorf("names %v", names)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
