package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"
)

// Connector states, as Kafka Connect names them (plus FINISHED for a
// connector that completed its work, such as an initial_only snapshot).
const (
	StateUnassigned = "UNASSIGNED"
	StateRunning    = "RUNNING"
	StatePaused     = "PAUSED"
	StateFailed     = "FAILED"
	StateRestarting = "RESTARTING"
	StateFinished   = "FINISHED"
)

// Errors returned by the supervisor's control methods.
var (
	ErrNotFound = errors.New("connector not found")
	ErrExists   = errors.New("connector already exists")
	ErrStopped  = errors.New("supervisor stopped")
)

// Connector is one supervised unit of work.
type Connector struct {
	Name string
	Kind string // "source" | "sink"
	Type string // "postgres", "mysql", "sql", "elasticsearch"
	// Run does the connector's work until ctx is done (then it returns nil
	// or ctx's error) or it fails. Cancelling ctx is how the supervisor
	// stops, pauses and restarts a connector: Run must commit what it has
	// in flight and return, as on SIGTERM.
	Run func(ctx context.Context) error
	// Details returns connector-specific status (position, progress).
	Details func() any
}

// Status is a connector's state as reported by the API.
type Status struct {
	Name  string `json:"name"`
	Kind  string `json:"type"`
	Type  string `json:"connector_type"`
	State string `json:"state"`
	// Error is the error of the failure the connector is in (FAILED, or
	// RESTARTING after a failure); empty while it runs.
	Error string `json:"trace,omitempty"`
	// Causes is Error's chain: the error and each error it wraps whose
	// text adds something.
	Causes    []string  `json:"causes,omitempty"`
	ErrorTime time.Time `json:"error_time,omitzero"`
	// LastError stays after the connector recovered.
	LastError     string    `json:"last_error,omitempty"`
	LastErrorTime time.Time `json:"last_error_time,omitzero"`
	Restarts      int       `json:"restarts"`
	NextRetry     time.Time `json:"next_retry,omitzero"`
	// Since is when the connector entered State.
	Since   time.Time `json:"since,omitzero"`
	Details any       `json:"details,omitempty"`
}

// Supervisor runs connectors and restarts them when they fail. Each
// connector runs in its own goroutine: one failing, pausing or being
// replaced does not touch the others.
type Supervisor struct {
	log        *slog.Logger
	minBackoff time.Duration
	maxBackoff time.Duration

	mu      sync.Mutex
	items   map[string]*item
	running bool // between Run's start and its stop
	stopped bool // Run returned: nothing starts any more
}

type item struct {
	c Connector

	// Guarded by Supervisor.mu.
	state       string
	since       time.Time
	err         error
	errTime     time.Time
	lastErr     error
	lastErrTime time.Time
	restarts    int
	nextRetry   time.Time
	paused      bool               // target state: paused
	restartReq  bool               // a restart was asked for
	cancelRun   context.CancelFunc // cancels the current Run call
	cancel      context.CancelFunc // ends the item's goroutine
	done        chan struct{}      // closed when the goroutine ended
	wake        chan struct{}      // pokes a waiting loop (cap 1)
	startedLoop bool
}

// NewSupervisor returns a supervisor; restarts back off from min to max.
func NewSupervisor(log *slog.Logger, minBackoff, maxBackoff time.Duration) *Supervisor {
	if minBackoff <= 0 {
		minBackoff = time.Second
	}
	if maxBackoff < minBackoff {
		maxBackoff = minBackoff
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Supervisor{log: log, minBackoff: minBackoff, maxBackoff: maxBackoff, items: map[string]*item{}}
}

// Add registers a connector. Before Run it is started by Run; while Run
// runs it starts at once.
func (s *Supervisor) Add(c Connector) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return ErrStopped
	}
	if _, ok := s.items[c.Name]; ok {
		return fmt.Errorf("add %s: %w", c.Name, ErrExists)
	}
	it := &item{c: c, state: StateUnassigned, since: time.Now(), wake: make(chan struct{}, 1)}
	s.items[c.Name] = it
	if s.running {
		s.startLocked(it)
	}
	return nil
}

// Remove stops a connector (its Run returns after committing what it has
// in flight) and forgets it.
func (s *Supervisor) Remove(name string) error {
	s.mu.Lock()
	it, ok := s.items[name]
	if !ok {
		s.mu.Unlock()
		return fmt.Errorf("remove %s: %w", name, ErrNotFound)
	}
	delete(s.items, name)
	s.mu.Unlock()
	s.stopItem(it)
	return nil
}

// Replace stops the running connector of the same name and starts c in
// its place; the paused state carries over.
func (s *Supervisor) Replace(c Connector) error {
	s.mu.Lock()
	old, ok := s.items[c.Name]
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("replace %s: %w", c.Name, ErrNotFound)
	}
	s.stopItem(old)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return ErrStopped
	}
	it := &item{c: c, state: StateUnassigned, since: time.Now(), wake: make(chan struct{}, 1), paused: old.paused}
	s.items[c.Name] = it
	if s.running {
		s.startLocked(it)
	}
	return nil
}

// Pause stops a connector's work until Resume: its Run context is
// cancelled, so it commits what it has in flight and returns.
func (s *Supervisor) Pause(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.items[name]
	if !ok {
		return fmt.Errorf("pause %s: %w", name, ErrNotFound)
	}
	if it.paused {
		return nil
	}
	it.paused = true
	if it.cancelRun != nil {
		it.cancelRun()
	}
	s.poke(it)
	return nil
}

// Resume restarts a paused connector.
func (s *Supervisor) Resume(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.items[name]
	if !ok {
		return fmt.Errorf("resume %s: %w", name, ErrNotFound)
	}
	if !it.paused {
		return nil
	}
	it.paused = false
	s.poke(it)
	return nil
}

// Restart stops a connector's current run (if any) and starts it again at
// once, whatever its state: a FAILED, FINISHED or backing-off connector is
// started, a paused one is resumed. The backoff starts afresh.
func (s *Supervisor) Restart(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.items[name]
	if !ok {
		return fmt.Errorf("restart %s: %w", name, ErrNotFound)
	}
	it.paused = false
	it.restartReq = true
	if it.cancelRun != nil {
		it.cancelRun()
	}
	s.poke(it)
	return nil
}

func (s *Supervisor) poke(it *item) {
	select {
	case it.wake <- struct{}{}:
	default:
	}
}

// Run runs every connector until ctx is done, then stops them all and
// returns when they have stopped. Connectors added while it runs start at
// once. Run may be called once.
func (s *Supervisor) Run(ctx context.Context) {
	s.mu.Lock()
	if s.running || s.stopped {
		s.mu.Unlock()
		return
	}
	s.running = true
	for _, it := range s.items {
		s.startLocked(it)
	}
	s.mu.Unlock()

	<-ctx.Done()

	s.mu.Lock()
	s.running = false
	s.stopped = true
	items := make([]*item, 0, len(s.items))
	for _, it := range s.items {
		items = append(items, it)
	}
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, it := range items {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.stopItem(it)
		}()
	}
	wg.Wait()
}

// startLocked starts the item's goroutine; s.mu is held.
func (s *Supervisor) startLocked(it *item) {
	if it.startedLoop {
		return
	}
	it.startedLoop = true
	ctx, cancel := context.WithCancel(context.Background())
	it.cancel = cancel
	it.done = make(chan struct{})
	go func() {
		defer close(it.done)
		defer cancel()
		s.loop(ctx, it)
	}()
}

// stopItem ends the item's goroutine and waits for it.
func (s *Supervisor) stopItem(it *item) {
	s.mu.Lock()
	cancel, done := it.cancel, it.done
	s.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	<-done
}

// permanent is implemented by errors that a restart cannot fix.
type permanent interface{ Permanent() bool }

// IsPermanent reports whether err (or an error it wraps) is permanent.
func IsPermanent(err error) bool {
	var p permanent
	return errors.As(err, &p) && p.Permanent()
}

// CauseChain lists err and the errors it wraps (the first of a joined
// list), outermost first, so that the root cause is the last entry. A layer
// whose text equals the one before it is left out.
func CauseChain(err error) []string {
	var out []string
	prev := ""
	for e := err; e != nil; {
		msg := e.Error()
		if msg != prev {
			out = append(out, msg)
			prev = msg
		}
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			e = u.Unwrap()
		case interface{ Unwrap() []error }:
			errs := u.Unwrap()
			if len(errs) == 0 {
				e = nil
			} else {
				e = errs[0]
			}
		default:
			e = nil
		}
	}
	return out
}

// Trace renders err and its causes like a Java "Caused by:" chain, which
// is what Kafka Connect's trace field holds.
func Trace(err error) string {
	if err == nil {
		return ""
	}
	return strings.Join(CauseChain(err), "\nCaused by: ")
}

func (s *Supervisor) setState(it *item, state string) {
	s.mu.Lock()
	if it.state != state {
		it.state = state
		it.since = time.Now()
	}
	s.mu.Unlock()
}

// loop runs one connector until ctx (the item's lifetime) is done.
func (s *Supervisor) loop(ctx context.Context, it *item) {
	log := s.log.With("connector", it.c.Name)
	attempt := 0
	defer s.setState(it, StateUnassigned)
	for ctx.Err() == nil {
		// Paused: wait for resume, restart or the end.
		s.mu.Lock()
		paused := it.paused
		it.restartReq = false
		s.mu.Unlock()
		if paused {
			s.setState(it, StatePaused)
			log.Info("connector paused")
			if !s.waitWake(ctx, it, func() bool { return !it.paused }) {
				return
			}
			log.Info("connector resumed")
			attempt = 0
			continue
		}

		runCtx, cancelRun := context.WithCancel(ctx)
		s.mu.Lock()
		it.cancelRun = cancelRun
		if it.state != StateRunning {
			it.state = StateRunning
			it.since = time.Now()
		}
		it.err, it.errTime, it.nextRetry = nil, time.Time{}, time.Time{}
		s.mu.Unlock()
		started := time.Now()
		err := runRecovered(runCtx, it.c.Run)
		cancelled := runCtx.Err() != nil
		cancelRun()
		s.mu.Lock()
		it.cancelRun = nil
		interrupted := it.paused || it.restartReq
		s.mu.Unlock()
		if ctx.Err() != nil {
			if err != nil && !errors.Is(err, context.Canceled) {
				log.Error("connector stopped with an error", "err", err)
			}
			return
		}
		if interrupted && (err == nil || cancelled) {
			// Paused or restarted on request: loop around.
			if err != nil && !errors.Is(err, context.Canceled) {
				log.Warn("connector stopped with an error on pause/restart", "err", err)
			}
			s.mu.Lock()
			if it.restartReq {
				it.state, it.since = StateRestarting, time.Now()
				log.Info("connector restarting on request")
			}
			s.mu.Unlock()
			attempt = 0
			continue
		}
		if err == nil {
			log.Info("connector finished")
			s.setState(it, StateFinished)
			if !s.waitWake(ctx, it, func() bool { return it.restartReq || it.paused }) {
				return
			}
			attempt = 0
			continue
		}
		now := time.Now()
		if IsPermanent(err) {
			log.Error("connector failed; not restarting until asked: fix the cause and POST /connectors/"+it.c.Name+"/restart", "err", err)
			s.mu.Lock()
			it.state, it.since = StateFailed, now
			it.err, it.errTime, it.lastErr, it.lastErrTime = err, now, err, now
			s.mu.Unlock()
			if !s.waitWake(ctx, it, func() bool { return it.restartReq || it.paused }) {
				return
			}
			attempt = 0
			continue
		}
		if time.Since(started) > 5*time.Minute {
			attempt = 0 // it ran fine for a while: start backing off afresh
		}
		attempt++
		d := s.backoff(attempt)
		log.Warn("connector failed; restarting", "err", err, "attempt", attempt, "backoff", d.String())
		s.mu.Lock()
		it.state, it.since = StateRestarting, now
		it.err, it.errTime, it.lastErr, it.lastErrTime = err, now, err, now
		it.restarts++
		it.nextRetry = now.Add(d)
		s.mu.Unlock()
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
		case <-t.C:
		case <-it.wake:
			// Paused or restarted during the backoff: the top of the
			// loop looks at which.
		}
		t.Stop()
	}
}

// runRecovered calls run and turns a panic in it into an error, so that a
// bug in one connector fails that connector (which is restarted with
// backoff) instead of the process. Panics in goroutines the connector
// starts itself cannot be caught here.
func runRecovered(ctx context.Context, run func(context.Context) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("connector panicked: %v\n%s", r, debug.Stack())
		}
	}()
	return run(ctx)
}

// waitWake waits until cond (evaluated under s.mu) holds; false when ctx
// ended first.
func (s *Supervisor) waitWake(ctx context.Context, it *item, cond func() bool) bool {
	for {
		s.mu.Lock()
		ok := cond()
		s.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-it.wake:
		}
	}
}

func (s *Supervisor) backoff(attempt int) time.Duration {
	d := s.minBackoff
	for i := 1; i < attempt && d < s.maxBackoff; i++ {
		d *= 2
	}
	d = min(d, s.maxBackoff)
	// Full jitter over the upper half keeps restarts of many connectors apart.
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// Statuses returns every connector's status, sorted by name.
func (s *Supervisor) Statuses() []Status {
	s.mu.Lock()
	out := make([]Status, 0, len(s.items))
	details := make([]func() any, 0, len(s.items))
	for _, it := range s.items {
		st := Status{Name: it.c.Name, Kind: it.c.Kind, Type: it.c.Type, State: it.state, Since: it.since,
			Restarts: it.restarts, NextRetry: it.nextRetry, ErrorTime: it.errTime, LastErrorTime: it.lastErrTime}
		if it.paused && it.state != StatePaused {
			// Pause asked for; the connector is committing and stopping.
			st.State = StatePaused
		}
		if it.err != nil {
			st.Error = Trace(it.err)
			st.Causes = CauseChain(it.err)
		}
		if it.lastErr != nil {
			st.LastError = Trace(it.lastErr)
		}
		out = append(out, st)
		details = append(details, it.c.Details)
	}
	s.mu.Unlock()
	for i, d := range details {
		if d != nil {
			out[i].Details = d()
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Status returns one connector's status.
func (s *Supervisor) Status(name string) (Status, bool) {
	s.mu.Lock()
	_, ok := s.items[name]
	s.mu.Unlock()
	if !ok {
		return Status{}, false
	}
	for _, st := range s.Statuses() {
		if st.Name == name {
			return st, true
		}
	}
	return Status{}, false
}

// Names returns the connectors' names, sorted.
func (s *Supervisor) Names() []string {
	s.mu.Lock()
	out := make([]string, 0, len(s.items))
	for n := range s.items {
		out = append(out, n)
	}
	s.mu.Unlock()
	sort.Strings(out)
	return out
}
