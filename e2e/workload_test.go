package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"

	"github.com/jackc/pgx/v5"

	"github.com/sluice-cdc/sluice/internal/harness"
)

// createItems creates public.items (REPLICA IDENTITY FULL) with rows
// 1..initial as newItemWorkload models them.
func createItems(ctx context.Context, pg *harness.Postgres, db string, initial int) error {
	return pg.Exec(ctx, db, fmt.Sprintf(`
		CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL, qty bigint NOT NULL, price numeric(10,2) NOT NULL);
		ALTER TABLE items REPLICA IDENTITY FULL;
		INSERT INTO items SELECT g, 'item-' || g, g %% 100, (g * 7 %% 100000) / 100.0 FROM generate_series(1, %d) g;`, initial))
}

// itemWorkload writes random transactions to public.items and models the
// records they must produce, in commit order.
type itemWorkload struct {
	rng      *rand.Rand
	rows     map[int64]*item
	nextID   int64
	withNote bool
	// changes counts the change statements generated so far (rolled-back
	// ones included); truncateAt and alterAt, when > 0, make that change a
	// TRUNCATE or an ALTER TABLE ... ADD COLUMN note.
	changes             int
	truncateAt, alterAt int
}

func newItemWorkload(seed uint64, initial int64) *itemWorkload {
	w := &itemWorkload{rng: rand.New(rand.NewPCG(seed, seed+1)), rows: map[int64]*item{}, nextID: max(20000, 2*initial)}
	for i := int64(1); i <= initial; i++ {
		w.rows[i] = &item{ID: i, Name: fmt.Sprintf("item-%d", i), Qty: i % 100, Cents: i * 7 % 100000}
	}
	return w
}

// snapshotWants is what a snapshot of the current rows produces.
func (w *itemWorkload) snapshotWants() []want {
	ids := make([]int64, 0, len(w.rows))
	for id := range w.rows {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	out := make([]want, len(ids))
	for i, id := range ids {
		out[i] = want{op: "r", key: id, after: w.rows[id].payload(w.withNote)}
	}
	return out
}

// txn runs one transaction of 1 to 20 (at most limit) changes — one in
// twenty is rolled back — and returns the records it must produce.
func (w *itemWorkload) txn(ctx context.Context, conn *pgx.Conn, limit int) ([]want, error) {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // no-op after commit
	rollback := w.rng.IntN(20) == 0
	var wants []want
	staged := map[int64]*item{} // rows as this transaction leaves them; nil = deleted
	get := func(id int64) *item {
		if it, ok := staged[id]; ok {
			return it
		}
		return w.rows[id]
	}
	ids := liveIDs(w.rows, staged)
	withNote := w.withNote
	n := min(1+w.rng.IntN(20), limit)
	for s := 0; s < n; s++ {
		w.changes++
		switch {
		case w.changes == w.truncateAt && !rollback:
			if _, err := tx.Exec(ctx, "TRUNCATE items"); err != nil {
				return nil, err
			}
			for _, id := range ids {
				staged[id] = nil
			}
			ids = nil
			wants = append(wants, want{op: "t"})
			continue
		case w.changes == w.alterAt && !rollback:
			if _, err := tx.Exec(ctx, "ALTER TABLE items ADD COLUMN note text"); err != nil {
				return nil, err
			}
			withNote = true
			continue
		}
		kind := w.rng.IntN(10)
		if len(ids) < 10 {
			kind = 0
		}
		switch {
		case kind < 4: // insert
			w.nextID++
			it := &item{ID: w.nextID, Name: fmt.Sprintf("new-%d", w.nextID), Qty: int64(w.rng.IntN(1000)), Cents: int64(w.rng.IntN(10_000_000)) - 5_000_000}
			if withNote {
				note := fmt.Sprintf("note %d", w.nextID)
				it.Note = &note
				_, err = tx.Exec(ctx, "INSERT INTO items (id, name, qty, price, note) VALUES ($1, $2, $3, $4::numeric / 100, $5)", it.ID, it.Name, it.Qty, it.Cents, note)
			} else {
				_, err = tx.Exec(ctx, "INSERT INTO items (id, name, qty, price) VALUES ($1, $2, $3, $4::numeric / 100)", it.ID, it.Name, it.Qty, it.Cents)
			}
			staged[it.ID] = it
			ids = append(ids, it.ID)
			wants = append(wants, want{op: "c", key: it.ID, after: it.payload(withNote)})
		case kind < 7: // update
			id := ids[w.rng.IntN(len(ids))]
			old := *get(id)
			nu := old
			nu.Qty = old.Qty + 1
			nu.Name = old.Name + "'"
			_, err = tx.Exec(ctx, "UPDATE items SET qty = $2, name = $3 WHERE id = $1", id, nu.Qty, nu.Name)
			staged[id] = &nu
			wants = append(wants, want{op: "u", key: id, before: old.payload(withNote), after: nu.payload(withNote)})
		case kind < 9: // delete
			i := w.rng.IntN(len(ids))
			id := ids[i]
			old := *get(id)
			_, err = tx.Exec(ctx, "DELETE FROM items WHERE id = $1", id)
			staged[id] = nil
			ids = append(ids[:i], ids[i+1:]...)
			wants = append(wants, want{op: "d", key: id, before: old.payload(withNote)}, want{op: "tombstone", key: id})
		default: // primary-key change
			i := w.rng.IntN(len(ids))
			id := ids[i]
			old := *get(id)
			w.nextID++
			nu := old
			nu.ID = w.nextID
			_, err = tx.Exec(ctx, "UPDATE items SET id = $2 WHERE id = $1", id, nu.ID)
			staged[id] = nil
			staged[nu.ID] = &nu
			ids[i] = nu.ID
			wants = append(wants,
				want{op: "d", key: id, before: old.payload(withNote)},
				want{op: "tombstone", key: id},
				want{op: "c", key: nu.ID, after: nu.payload(withNote)})
		}
		if err != nil {
			return nil, err
		}
	}
	if rollback {
		return nil, tx.Rollback(ctx)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, err
	}
	w.withNote = withNote
	for id, it := range staged {
		if it == nil {
			delete(w.rows, id)
		} else {
			w.rows[id] = it
		}
	}
	return wants, nil
}

// bulk inserts n rows in one transaction.
func (w *itemWorkload) bulk(ctx context.Context, conn *pgx.Conn, n int) ([]want, error) {
	first := w.nextID + 1
	if _, err := conn.Exec(ctx, fmt.Sprintf(
		"INSERT INTO items (id, name, qty, price) SELECT g, 'bulk-' || g, g %% 1000, (g %% 100000) / 100.0 FROM generate_series(%d, %d) g",
		first, first+int64(n)-1)); err != nil {
		return nil, err
	}
	wants := make([]want, n)
	for i := range wants {
		id := first + int64(i)
		it := &item{ID: id, Name: fmt.Sprintf("bulk-%d", id), Qty: id % 1000, Cents: id % 100000}
		w.rows[id] = it
		wants[i] = want{op: "c", key: id, after: it.payload(w.withNote)}
	}
	w.nextID += int64(n)
	w.changes += n
	return wants, nil
}

func liveIDs(rows map[int64]*item, staged map[int64]*item) []int64 {
	var ids []int64
	for id := range rows {
		if it, ok := staged[id]; !ok || it != nil {
			ids = append(ids, id)
		}
	}
	for id, it := range staged {
		if _, ok := rows[id]; !ok && it != nil {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}
