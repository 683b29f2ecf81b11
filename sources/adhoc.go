package sources

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// ErrSnapshotPending is returned by AdHoc.Request while an earlier ad-hoc
// snapshot request has not started yet.
var ErrSnapshotPending = errors.New("an ad-hoc snapshot is already pending")

// AdHoc carries ad-hoc snapshot requests (POST /connectors/{name}/snapshot)
// to a source's streaming loop: a blocking snapshot of some captured
// tables, as Debezium's execute-snapshot signal with type blocking.
// Streaming stops at the next transaction boundary, the tables are read
// (op r events) and streaming goes on from where it stopped, so changes
// made while the snapshot ran come after its rows.
type AdHoc struct {
	mu       sync.Mutex
	captured []string // schema.table or db.table names the source captures
	ch       chan []string
}

// NewAdHoc returns an empty request queue.
func NewAdHoc() *AdHoc { return &AdHoc{ch: make(chan []string, 1)} }

// SetCaptured records the tables the running source captures.
func (a *AdHoc) SetCaptured(names []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.captured = slices.Clone(names)
}

// Request queues a snapshot of tables, which must be captured.
func (a *AdHoc) Request(tables []string) error {
	if len(tables) == 0 {
		return errors.New("no tables to snapshot: list them in \"data-collections\"")
	}
	a.mu.Lock()
	captured := a.captured
	a.mu.Unlock()
	if captured == nil {
		return errors.New("the connector has not started streaming yet")
	}
	for _, t := range tables {
		if !slices.Contains(captured, t) {
			return fmt.Errorf("table %q is not captured by this connector (captured: %s)", t, strings.Join(captured, ", "))
		}
	}
	select {
	case a.ch <- slices.Clone(tables):
		return nil
	default:
		return ErrSnapshotPending
	}
}

// Next returns a queued request, if any, without waiting.
func (a *AdHoc) Next() ([]string, bool) {
	select {
	case t := <-a.ch:
		return t, true
	default:
		return nil, false
	}
}

// AdHocStop is returned by a source's streaming loop when it stopped for an
// ad-hoc snapshot: Offset is the position streaming goes on from.
type AdHocStop[O any] struct {
	Tables []string
	Offset O
}

func (r *AdHocStop[O]) Error() string {
	return "streaming stopped for an ad-hoc snapshot of " + strings.Join(r.Tables, ", ")
}
