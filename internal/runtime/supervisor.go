package runtime

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sort"
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

// Connector is one supervised unit of work.
type Connector struct {
	Name string
	Kind string // "source" | "sink"
	Type string // "postgres", "mysql", "sql", "elasticsearch"
	// Run does the connector's work until ctx is done (then it returns nil
	// or ctx's error) or it fails.
	Run func(ctx context.Context) error
	// Details returns connector-specific status (position, progress).
	Details func() any
}

// Status is a connector's state as reported by the API.
type Status struct {
	Name      string    `json:"name"`
	Kind      string    `json:"type"`
	Type      string    `json:"connector_type"`
	State     string    `json:"state"`
	Error     string    `json:"trace,omitempty"`
	ErrorTime time.Time `json:"error_time,omitzero"`
	Restarts  int       `json:"restarts"`
	NextRetry time.Time `json:"next_retry,omitzero"`
	Details   any       `json:"details,omitempty"`
}

// Supervisor runs connectors and restarts them when they fail.
type Supervisor struct {
	log        *slog.Logger
	minBackoff time.Duration
	maxBackoff time.Duration

	mu    sync.Mutex
	items map[string]*item
}

type item struct {
	c         Connector
	state     string
	err       error
	errTime   time.Time
	restarts  int
	nextRetry time.Time
}

// NewSupervisor returns a supervisor; restarts back off from min to max.
func NewSupervisor(log *slog.Logger, minBackoff, maxBackoff time.Duration) *Supervisor {
	if minBackoff <= 0 {
		minBackoff = time.Second
	}
	if maxBackoff < minBackoff {
		maxBackoff = minBackoff
	}
	return &Supervisor{log: log, minBackoff: minBackoff, maxBackoff: maxBackoff, items: map[string]*item{}}
}

// Add registers a connector; Run starts it.
func (s *Supervisor) Add(c Connector) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.items[c.Name] = &item{c: c, state: StateUnassigned}
}

// Run runs every connector until ctx is done and all have stopped.
func (s *Supervisor) Run(ctx context.Context) {
	s.mu.Lock()
	var wg sync.WaitGroup
	for _, it := range s.items {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.loop(ctx, it)
		}()
	}
	s.mu.Unlock()
	wg.Wait()
}

// permanent is implemented by errors that a restart cannot fix.
type permanent interface{ Permanent() bool }

// IsPermanent reports whether err (or an error it wraps) is permanent.
func IsPermanent(err error) bool {
	var p permanent
	return errors.As(err, &p) && p.Permanent()
}

func (s *Supervisor) loop(ctx context.Context, it *item) {
	log := s.log.With("connector", it.c.Name)
	attempt := 0
	for ctx.Err() == nil {
		s.set(it, func() { it.state = StateRunning; it.nextRetry = time.Time{} })
		started := time.Now()
		err := it.c.Run(ctx)
		if ctx.Err() != nil {
			s.set(it, func() { it.state = StateUnassigned })
			if err != nil && !errors.Is(err, context.Canceled) {
				log.Error("connector stopped with an error during shutdown", "err", err)
			}
			return
		}
		if err == nil {
			log.Info("connector finished")
			s.set(it, func() { it.state = StateFinished })
			return
		}
		if IsPermanent(err) {
			log.Error("connector failed; not restarting: fix the cause and restart sluice", "err", err)
			s.set(it, func() { it.state = StateFailed; it.err = err; it.errTime = time.Now() })
			return
		}
		if time.Since(started) > 5*time.Minute {
			attempt = 0 // it ran fine for a while: start backing off afresh
		}
		attempt++
		d := s.backoff(attempt)
		log.Warn("connector failed; restarting", "err", err, "attempt", attempt, "backoff", d.String())
		s.set(it, func() {
			it.state = StateRestarting
			it.err = err
			it.errTime = time.Now()
			it.restarts++
			it.nextRetry = time.Now().Add(d)
		})
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
	}
	s.set(it, func() { it.state = StateUnassigned })
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

func (s *Supervisor) set(it *item, f func()) {
	s.mu.Lock()
	f()
	s.mu.Unlock()
}

// Statuses returns every connector's status, sorted by name.
func (s *Supervisor) Statuses() []Status {
	s.mu.Lock()
	out := make([]Status, 0, len(s.items))
	details := make([]func() any, 0, len(s.items))
	for _, it := range s.items {
		st := Status{Name: it.c.Name, Kind: it.c.Kind, Type: it.c.Type, State: it.state, Restarts: it.restarts, NextRetry: it.nextRetry, ErrorTime: it.errTime}
		if it.err != nil {
			st.Error = it.err.Error()
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
	for _, st := range s.Statuses() {
		if st.Name == name {
			return st, true
		}
	}
	return Status{}, false
}
