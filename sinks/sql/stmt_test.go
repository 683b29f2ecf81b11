package sql

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/sluice-cdc/sluice/change"
)

// TestSQLitePreparedChunks: full multi-row INSERT chunks run as kept
// prepared statements on SQLite, batch after batch; a chunk that fails is
// replayed record by record and its statement prepared afresh.
func TestSQLitePreparedChunks(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, Options{Name: "st", DSN: "sqlite://" + filepath.Join(t.TempDir(), "s.db"), Table: "${source.table}",
		InsertMode: InsertModeInsert, AutoCreate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	next := int64(0)
	batch := func(ids ...int32) []Record {
		out := make([]Record, len(ids))
		for i, id := range ids {
			out[i] = Record{Topic: "srv.public.t", Offset: next, Event: ev(change.OpCreate, id, nil, fullRow(rowSchema(), id, "x"))}
			next++
		}
		return out
	}
	seq := func(from, n int32) []int32 {
		out := make([]int32, n)
		for i := range out {
			out[i] = from + int32(i)
		}
		return out
	}
	for _, ids := range [][]int32{seq(1, 2100), seq(3000, 1000)} {
		if err := s.Write(ctx, batch(ids...), noReject(t)); err != nil {
			t.Fatal(err)
		}
	}
	if len(s.stmts.m) != 1 {
		t.Errorf("%d statements kept, want 1", len(s.stmts.m))
	}
	// Id 5 exists: that record is rejected, the others are written.
	ids := seq(5000, 1000)
	ids[7] = 5
	var rejected []int
	if err := s.Write(ctx, batch(ids...), func(i int, err error) error { rejected = append(rejected, i); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(rejected) != 1 || rejected[0] != 7 {
		t.Errorf("rejected %v, want [7]", rejected)
	}
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM t`).Scan(&n); err != nil || n != 2100+1000+999 {
		t.Errorf("t: %d rows, %v; want %d", n, err, 2100+1000+999)
	}
	pos, err := s.Positions(ctx)
	if err != nil || pos["srv.public.t"][0] != next {
		t.Errorf("positions = %v, %v; want next %d", pos, err, next)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}
