package runtime

import (
	"context"
	"errors"
	"fmt"
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
// up to the batch size, a chunk that does not fit is split where the batch
// is full, failed records keep their index (in both parts of a split
// chunk), and an error comes on its own after the records before it.
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
	c3 := chunk(4, 5, 6) // does not fit: 4+3 > 5; 4 joins, 5 and 6 go on
	c3.failed = []failedRecord{{0, errors.New("bad 4")}, {2, errors.New("bad 6")}}
	in <- c3
	boom := errors.New("boom")
	go func() {
		in <- fetched{err: boom}
		close(in)
	}()
	b := <-out
	if got := offsetsOf(b); fmt.Sprint(got) != "[0 1 2 3 4]" || len(b.recs) != 5 {
		t.Fatalf("first batch = %v, want offsets 0-4", got)
	}
	if len(b.failed) != 2 || b.failed[0].i != 3 || b.failed[1].i != 4 || b.failed[1].err.Error() != "bad 4" {
		t.Fatalf("failed = %+v, want indexes 3 and 4 (bad 4)", b.failed)
	}
	b = <-out
	if got := offsetsOf(b); fmt.Sprint(got) != "[5 6]" || len(b.recs) != 2 || b.recs[1].Record.Offset != 6 {
		t.Fatalf("second batch = %v, want 5, 6", got)
	}
	if len(b.failed) != 1 || b.failed[0].i != 1 || b.failed[0].err.Error() != "bad 6" {
		t.Fatalf("second batch failed = %+v, want index 1 (bad 6)", b.failed)
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
