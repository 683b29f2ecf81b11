package runtime

import (
	"context"
	"errors"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

func chunk(offsets ...int64) fetched {
	var b fetched
	for _, o := range offsets {
		r := &kgo.Record{Offset: o}
		b.krecs = append(b.krecs, r)
		b.recs = append(b.recs, SinkRecord{Record: r})
	}
	return b
}

func offsetsOf(b fetched) []int64 {
	var out []int64
	for _, r := range b.krecs {
		out = append(out, r.Offset)
	}
	return out
}

// TestMergeBatches: chunks that arrive while the writer is busy are joined
// up to the batch size, failed records keep their index, and an error
// comes on its own after the records before it.
func TestMergeBatches(t *testing.T) {
	in, out := make(chan fetched), make(chan fetched)
	done := make(chan error, 1)
	go func() {
		defer close(out)
		done <- mergeBatches(context.Background(), in, out, 5)
	}()
	c2 := chunk(2, 3)
	c2.failed = []failedRecord{{1, errors.New("bad")}}
	in <- chunk(0, 1)
	in <- c2
	in <- chunk(4, 5) // does not fit: 4+2 > 5
	boom := errors.New("boom")
	go func() {
		in <- fetched{err: boom}
		close(in)
	}()
	b := <-out
	if got := offsetsOf(b); len(got) != 4 || got[0] != 0 || got[3] != 3 || len(b.recs) != 4 {
		t.Fatalf("first batch = %v, want offsets 0-3", got)
	}
	if len(b.failed) != 1 || b.failed[0].i != 3 {
		t.Fatalf("failed = %+v, want index 3", b.failed)
	}
	if got := offsetsOf(<-out); len(got) != 2 || got[0] != 4 {
		t.Fatalf("second batch = %v, want 4, 5", got)
	}
	if b := <-out; !errors.Is(b.err, boom) || len(b.krecs) != 0 {
		t.Fatalf("third batch = %+v, want the error alone", b)
	}
	if _, ok := <-out; ok {
		t.Fatal("out not closed after in was")
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
