package sources

import (
	"context"

	"github.com/sluice-cdc/sluice/change"
)

// SnapshotBatch collects a snapshot's events for Emitter.Emit. It holds
// the last event read back until the next one arrives, so that the very
// last event of the snapshot can be marked snapshot=last.
type SnapshotBatch struct {
	held    *change.Event
	pending []change.Event
}

// Hold adds ev; the event held before it becomes pending.
func (b *SnapshotBatch) Hold(ev change.Event) {
	if b.held != nil {
		b.pending = append(b.pending, *b.held)
	}
	b.held = &ev
}

// Flush emits the pending events and commits them with offset; with
// final, the held event too, marked snapshot=last. It returns how many
// events were emitted.
func (b *SnapshotBatch) Flush(ctx context.Context, em Emitter, final bool, offset []byte) (int, error) {
	if final && b.held != nil {
		b.held.Source.Snapshot = "last"
		b.pending = append(b.pending, *b.held)
		b.held = nil
	}
	n := len(b.pending)
	if n > 0 {
		if err := em.Emit(ctx, b.pending); err != nil {
			return 0, err
		}
		b.pending = b.pending[:0]
	}
	return n, em.Commit(ctx, offset)
}
