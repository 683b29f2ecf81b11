package sources

import (
	"context"
	"errors"
	"sync"

	"github.com/sluice-cdc/sluice/change"
)

// Sizes of a SnapshotWriter's pipeline: events are handed to the emitting
// goroutine in batches of snapshotBatch, at most snapshotQueue of them
// waiting, so that the events read ahead of Kafka stay bounded (a few
// megabytes) whatever the chunk size.
const (
	snapshotBatch = 512
	snapshotQueue = 4
	// snapshotCommitEvents is how many events a snapshot's Kafka
	// transaction holds at least before a chunk boundary commits it (the
	// final one commits whatever is left). A commit waits for every record
	// to be acknowledged and for the markers: at one per 10,000-row chunk
	// they took a fifth of the writer's time. Bigger transactions cost
	// nothing at a restart: an interrupted snapshot starts over.
	snapshotCommitEvents = 50_000
)

// SnapshotWriter emits and commits a snapshot's events on a goroutine of
// its own, so that reading and decoding rows overlaps with encoding,
// producing and committing them. It holds the last event read back until
// the next one arrives, so that the very last event of the snapshot can be
// marked snapshot=last.
//
// The reader calls Hold for each event and Flush at each chunk boundary;
// both return at once unless the pipeline is full. Events and commits
// reach the Emitter in the order they were handed over, so the offset of a
// chunk is committed with exactly the events held before its Flush. The
// final Flush waits for everything to be committed; Close stops the
// goroutine early (on an error) and leaves the open Kafka transaction
// uncommitted. The Emitter must not be used by anyone else between
// StartSnapshot and the final Flush or Close.
type SnapshotWriter struct {
	// commitEvery and uncommitted (events handed on since the last
	// commit) decide which chunk boundaries commit; with commitEvery 0,
	// every one does.
	commitEvery, uncommitted int

	held    change.Event
	hasHeld bool
	cur     []change.Event

	work   chan snapshotWork
	free   chan []change.Event
	done   chan struct{}
	cancel context.CancelFunc
	closed bool

	mu  sync.Mutex
	err error
}

// snapshotWork is one step for the emitting goroutine: emit evs, then, if
// commit, commit with offset.
type snapshotWork struct {
	evs    []change.Event
	commit bool
	offset []byte
}

// StartSnapshot starts the goroutine that writes a snapshot's events
// through em; emitted is called there with the number of events each Emit
// wrote (for status counters) and may be nil.
func StartSnapshot(ctx context.Context, em Emitter, emitted func(n int)) *SnapshotWriter {
	ctx, cancel := context.WithCancel(ctx)
	w := &SnapshotWriter{
		commitEvery: snapshotCommitEvents,
		work:        make(chan snapshotWork, snapshotQueue),
		free:        make(chan []change.Event, snapshotQueue+2),
		done:        make(chan struct{}),
		cancel:      cancel,
	}
	go w.run(ctx, em, emitted)
	return w
}

func (w *SnapshotWriter) run(ctx context.Context, em Emitter, emitted func(int)) {
	defer close(w.done)
	for wk := range w.work {
		if err := ctx.Err(); err != nil {
			// Closed (or cancelled): commit nothing more.
			w.fail(err)
			return
		}
		if len(wk.evs) > 0 {
			if err := em.Emit(ctx, wk.evs); err != nil {
				w.fail(err)
				return
			}
			if emitted != nil {
				emitted(len(wk.evs))
			}
			// The events are encoded: let the reader refill the slice.
			clear(wk.evs)
			select {
			case w.free <- wk.evs[:0]:
			default:
			}
		}
		if wk.commit {
			if err := em.Commit(ctx, wk.offset); err != nil {
				w.fail(err)
				return
			}
		}
	}
}

func (w *SnapshotWriter) fail(err error) {
	w.mu.Lock()
	if w.err == nil {
		w.err = err
	}
	w.mu.Unlock()
}

// Err returns the error that stopped the emitting goroutine, if any.
func (w *SnapshotWriter) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// errStopped is returned when the writer was closed.
var errStopped = errors.New("snapshot writer closed")

// send hands wk to the emitting goroutine.
func (w *SnapshotWriter) send(ctx context.Context, wk snapshotWork) error {
	if w.closed {
		return errStopped
	}
	select {
	case w.work <- wk:
		return nil
	case <-w.done:
		if err := w.Err(); err != nil {
			return err
		}
		return errStopped
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Hold adds ev; the event held before it becomes pending. It returns the
// error that stopped the emitting goroutine, if any.
func (w *SnapshotWriter) Hold(ctx context.Context, ev change.Event) error {
	if !w.hasHeld {
		w.held, w.hasHeld = ev, true
		return nil
	}
	if w.cur == nil {
		select {
		case w.cur = <-w.free:
		default:
			w.cur = make([]change.Event, 0, snapshotBatch)
		}
	}
	w.cur = append(w.cur, w.held)
	w.held = ev
	if len(w.cur) < snapshotBatch {
		return nil
	}
	return w.pass(ctx, false, nil)
}

// pass hands the pending events (and a commit, with commit) on.
func (w *SnapshotWriter) pass(ctx context.Context, commit bool, offset []byte) error {
	wk := snapshotWork{evs: w.cur, commit: commit, offset: offset}
	w.uncommitted += len(w.cur)
	if commit {
		w.uncommitted = 0
	}
	w.cur = nil
	if len(wk.evs) == 0 && !commit {
		return nil
	}
	return w.send(ctx, wk)
}

// Flush marks a chunk boundary: the pending events are emitted and, once
// the open transaction holds snapshotCommitEvents events, committed with
// offset. With final, the held event is emitted too, marked
// snapshot=last, everything is committed, and Flush waits for that and
// stops the goroutine; without, it returns at once and the commit happens
// in the background (an error shows up in a later call).
func (w *SnapshotWriter) Flush(ctx context.Context, final bool, offset []byte) error {
	if final && w.hasHeld {
		w.held.Source.Snapshot = "last"
		w.cur = append(w.cur, w.held)
		w.held, w.hasHeld = change.Event{}, false
	}
	commit := final || w.uncommitted+len(w.cur) >= w.commitEvery
	if err := w.pass(ctx, commit, offset); err != nil {
		w.Close()
		return err
	}
	if !final {
		return nil
	}
	w.closed = true
	close(w.work)
	select {
	case <-w.done:
	case <-ctx.Done():
		w.cancel()
		<-w.done
	}
	w.cancel()
	if err := w.Err(); err != nil {
		return err
	}
	return ctx.Err()
}

// Close stops the emitting goroutine without committing what is pending
// and waits for it. It is idempotent and a no-op after the final Flush.
func (w *SnapshotWriter) Close() {
	if !w.closed {
		w.closed = true
		w.cancel()
		close(w.work)
	}
	<-w.done
}
