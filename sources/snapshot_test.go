package sources

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/sluice-cdc/sluice/change"
)

// recEmitter records what reaches it: "e:<topic>/<snapshot>" per event,
// "c:<offset>" per commit.
type recEmitter struct {
	mu       sync.Mutex
	log      []string
	failEmit int // fail the n-th Emit (1-based); 0: never
	emits    int
	block    chan struct{} // when set, Commit waits for it
}

func (r *recEmitter) Emit(_ context.Context, evs []change.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.emits++
	if r.emits == r.failEmit {
		return errors.New("broker gone")
	}
	for _, e := range evs {
		r.log = append(r.log, "e:"+e.Topic+"/"+e.Source.Snapshot)
	}
	return nil
}

func (r *recEmitter) Heartbeat(context.Context, string, int64) error { return nil }

func (r *recEmitter) Commit(ctx context.Context, offset []byte) error {
	if r.block != nil {
		select {
		case <-r.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	r.mu.Lock()
	r.log = append(r.log, "c:"+string(offset))
	r.mu.Unlock()
	return nil
}

func ev(i int) change.Event {
	return change.Event{Topic: strconv.Itoa(i), Op: change.OpRead, Source: change.Source{Snapshot: "true"}}
}

// TestSnapshotWriterOrder: events and commits reach the emitter in the
// order they were handed over; each commit covers exactly the events held
// before its Flush except the held one; the last event is snapshot=last.
func TestSnapshotWriterOrder(t *testing.T) {
	ctx := context.Background()
	em := &recEmitter{}
	var emitted int
	w := StartSnapshot(ctx, em, func(n int) { emitted += n })
	w.commitEvery = 0 // every chunk boundary commits
	defer w.Close()
	var want []string
	n := 0
	for chunk, size := range []int{3, snapshotBatch*2 + 7, 0, 1, snapshotBatch} {
		for range size {
			if err := w.Hold(ctx, ev(n)); err != nil {
				t.Fatal(err)
			}
			if n > 0 {
				want = append(want, fmt.Sprintf("e:%d/true", n-1))
			}
			n++
		}
		final := chunk == 4
		if final {
			want = append(want, fmt.Sprintf("e:%d/last", n-1))
		}
		want = append(want, "c:"+strconv.Itoa(chunk))
		if err := w.Flush(ctx, final, []byte(strconv.Itoa(chunk))); err != nil {
			t.Fatal(err)
		}
	}
	if fmt.Sprint(em.log) != fmt.Sprint(want) {
		t.Fatalf("emitter saw\n%v\nwant\n%v", em.log, want)
	}
	if emitted != n {
		t.Errorf("emitted %d, want %d", emitted, n)
	}
	w.Close() // idempotent after the final Flush
}

// TestSnapshotWriterError: an Emit error stops the writer; the reader sees
// it at a later Hold or Flush, and nothing after it is committed.
// TestSnapshotWriterCommitEvery checks that a chunk boundary commits only
// once the transaction holds commitEvery events, and the final one always.
func TestSnapshotWriterCommitEvery(t *testing.T) {
	ctx := context.Background()
	em := &recEmitter{}
	w := StartSnapshot(ctx, em, nil)
	w.commitEvery = 10
	defer w.Close()
	var commits []string
	n := 0
	for chunk, size := range []int{4, 4, 4, 12, 3, 2} {
		for range size {
			if err := w.Hold(ctx, ev(n)); err != nil {
				t.Fatal(err)
			}
			n++
		}
		if err := w.Flush(ctx, chunk == 5, []byte(strconv.Itoa(chunk))); err != nil {
			t.Fatal(err)
		}
	}
	events := 0
	for _, l := range em.log {
		if strings.HasPrefix(l, "c:") {
			commits = append(commits, fmt.Sprintf("%s@%d", l, events))
		} else {
			events++
		}
	}
	// Events handed on at a boundary lag one behind (the last one is held
	// for snapshot=last): 11 by chunk 2's end, 23 by chunk 3's, 29 in all.
	if want := []string{"c:2@11", "c:3@23", "c:5@29"}; fmt.Sprint(commits) != fmt.Sprint(want) {
		t.Fatalf("commits %v, want %v (log %v)", commits, want, em.log)
	}
}

func TestSnapshotWriterError(t *testing.T) {
	ctx := context.Background()
	em := &recEmitter{failEmit: 2}
	w := StartSnapshot(ctx, em, nil)
	defer w.Close()
	var err error
	for i := 0; err == nil && i < 100*snapshotBatch; i++ {
		err = w.Hold(ctx, ev(i))
		if err == nil && i%1000 == 999 {
			err = w.Flush(ctx, false, []byte("x"))
		}
	}
	if err == nil {
		err = w.Flush(ctx, true, []byte("end"))
	}
	if err == nil || err.Error() != "broker gone" {
		t.Fatalf("err = %v, want broker gone", err)
	}
	for _, l := range em.log {
		if l[0] == 'c' {
			t.Errorf("committed after a failed emit: %v", l)
		}
	}
}

// TestSnapshotWriterClose: Close while a commit is pending stops the
// goroutine and commits nothing that was handed over after it.
func TestSnapshotWriterClose(t *testing.T) {
	ctx := context.Background()
	em := &recEmitter{block: make(chan struct{})}
	w := StartSnapshot(ctx, em, nil)
	for i := range 10 {
		if err := w.Hold(ctx, ev(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(ctx, false, []byte("1")); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(ctx, false, []byte("2")); err != nil {
		t.Fatal(err)
	}
	w.Close() // the blocked commit sees the cancelled context
	w.Close()
	for _, l := range em.log {
		if l[0] == 'c' {
			t.Errorf("committed after Close: %v", l)
		}
	}
	if err := w.Hold(ctx, ev(11)); err != nil { // held, nothing sent
		t.Fatal(err)
	}
	if err := w.Flush(ctx, true, []byte("3")); err == nil {
		t.Error("Flush after Close succeeded")
	}
}
