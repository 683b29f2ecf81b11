package mysql

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/go-mysql-org/go-mysql/replication"
)

// eventQueue carries binlog events from go-mysql's reading goroutine (it is
// the syncer's SynchronousEventHandler) to the streamer. It is bounded by
// event bytes as well as by count, so it can hold thousands of small
// events, yet only a few large ones: go-mysql's own channel is bounded by
// count alone, and at 128 events (all that is safe with 100 KB rows) the
// reader filled it within a few transactions, so the two goroutines took
// turns, a wake-up per event, instead of running side by side.
type eventQueue struct {
	mu    sync.Mutex
	evs   []*replication.BinlogEvent
	bytes int
	err   error // the reader's, handed over once the events before it are

	maxEvents, maxBytes int

	// takerWaits / readerWaits: that side is blocked on ready / space
	// (each buffered, so that a signal sent before the wait is not lost).
	takerWaits, readerWaits bool
	ready, space            chan struct{}
	done                    chan struct{} // closed by close: the reader stops waiting
	closeOnce               sync.Once
}

// Bounds of the event queue. A small event (a GTID, a table map, rows of
// a narrow table) is 50–300 bytes and holds about 1 KB once parsed.
const (
	queueMaxEvents = 8192
	queueMaxBytes  = 4 << 20
)

var errQueueClosed = errors.New("binlog event queue closed")

func newEventQueue(maxEvents, maxBytes int) *eventQueue {
	return &eventQueue{
		maxEvents: maxEvents, maxBytes: maxBytes,
		ready: make(chan struct{}, 1), space: make(chan struct{}, 1), done: make(chan struct{}),
	}
}

// HandleEvent queues e, waiting while the queue is full. It runs on
// go-mysql's reading goroutine.
func (q *eventQueue) HandleEvent(e *replication.BinlogEvent) error {
	size := 0
	if e.Header != nil {
		size = int(e.Header.EventSize)
	}
	q.mu.Lock()
	for len(q.evs) > 0 && (len(q.evs) >= q.maxEvents || q.bytes+size > q.maxBytes) {
		q.readerWaits = true
		q.mu.Unlock()
		select {
		case <-q.space:
		case <-q.done:
			return errQueueClosed
		}
		q.mu.Lock()
	}
	q.evs = append(q.evs, e)
	q.bytes += size
	wake := q.takerWaits
	q.takerWaits = false
	q.mu.Unlock()
	if wake {
		signal(q.ready)
	}
	return nil
}

// fail hands the reader's error to the taker, after the queued events.
func (q *eventQueue) fail(err error) {
	q.mu.Lock()
	if q.err == nil {
		q.err = err
	}
	q.takerWaits = false
	q.mu.Unlock()
	signal(q.ready)
}

// take returns the queued events, appended to buf[:0] (which the queue
// then fills again: the caller must be done with it). With none queued, it
// returns the reader's error, if any.
func (q *eventQueue) take(buf []*replication.BinlogEvent) ([]*replication.BinlogEvent, error) {
	clear(buf)
	q.mu.Lock()
	evs := q.evs
	q.evs, q.bytes = buf[:0], 0
	var err error
	if len(evs) == 0 {
		err = q.err
	}
	wake := q.readerWaits
	q.readerWaits = false
	q.mu.Unlock()
	if wake {
		signal(q.space)
	}
	return evs, err
}

// wait blocks until events or an error are queued, d has passed, or ctx is
// done.
func (q *eventQueue) wait(ctx context.Context, d time.Duration) {
	q.mu.Lock()
	if len(q.evs) > 0 || q.err != nil {
		q.mu.Unlock()
		return
	}
	q.takerWaits = true
	q.mu.Unlock()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-q.ready:
	case <-t.C:
	case <-ctx.Done():
	}
}

// close releases a reader blocked on a full queue, for good.
func (q *eventQueue) close() { q.closeOnce.Do(func() { close(q.done) }) }

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}
