package e2e

import (
	"context"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"

	"github.com/sluice-cdc/sluice/internal/harness"
)

// myItem is the model of a row of shop.items.
type myItem struct {
	ID    int64
	Name  string
	Qty   int64
	Cents int64 // price decimal(10,2) in cents
	Data  []byte
	Note  *string
}

func (it myItem) payload(withNote bool) map[string]any {
	m := map[string]any{
		"id":    it.ID,
		"name":  it.Name,
		"qty":   it.Qty,
		"price": decimalBase64(it.Cents),
		"data":  nil,
	}
	if it.Data != nil {
		m["data"] = base64.StdEncoding.EncodeToString(it.Data)
	}
	if withNote {
		if it.Note == nil {
			m["note"] = nil
		} else {
			m["note"] = *it.Note
		}
	}
	return m
}

// myWant is one expected record on a topic.
type myWant struct {
	topic         string
	op            string
	key           int64
	before, after map[string]any
}

func (w myWant) want() want { return want{op: w.op, key: w.key, before: w.before, after: w.after} }

// myWorkload writes random transactions to shop.items and shop.orders and
// models the records they must produce, in commit order.
type myWorkload struct {
	rng      *rand.Rand
	rows     map[int64]*myItem
	nextID   int64
	nextOID  int64
	withNote bool
	changes  int
	alterAt  int
}

func newMyWorkload(seed uint64, initial int64) *myWorkload {
	w := &myWorkload{rng: rand.New(rand.NewPCG(seed, seed+1)), rows: map[int64]*myItem{}, nextID: 2 * initial, nextOID: 1}
	for i := int64(1); i <= initial; i++ {
		w.rows[i] = initialItem(i)
	}
	return w
}

func initialItem(i int64) *myItem {
	return &myItem{ID: i, Name: fmt.Sprintf("item-%d", i), Qty: i % 100, Cents: i * 7 % 100000, Data: []byte{byte(i), 0, byte(i >> 8)}}
}

var unicodeNames = []string{"naïve café", "日本語テキスト", "emoji 🎉🚀", "Ελληνικά", "plain", "quote ' and \\ backslash"}

func (w *myWorkload) liveIDs(staged map[int64]*myItem) []int64 {
	var ids []int64
	for id := range w.rows {
		if it, ok := staged[id]; ok && it == nil {
			continue
		}
		ids = append(ids, id)
	}
	for id, it := range staged {
		if it != nil {
			if _, ok := w.rows[id]; !ok {
				ids = append(ids, id)
			}
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

func (w *myWorkload) txn(c *client.Conn, limit int) ([]myWant, error) {
	if w.alterAt > 0 && w.changes >= w.alterAt && !w.withNote {
		w.changes++
		if _, err := c.Execute("ALTER TABLE items ADD COLUMN note VARCHAR(50) NULL"); err != nil {
			return nil, err
		}
		w.withNote = true
		return nil, nil
	}
	if err := c.Begin(); err != nil {
		return nil, err
	}
	rollback := w.rng.IntN(20) == 0
	staged := map[int64]*myItem{}
	get := func(id int64) *myItem {
		if it, ok := staged[id]; ok {
			return it
		}
		return w.rows[id]
	}
	var wants []myWant
	n := min(1+w.rng.IntN(20), limit)
	for s := 0; s < n; s++ {
		w.changes++
		ids := w.liveIDs(staged)
		switch r := w.rng.IntN(100); {
		case r < 35 || len(ids) < 10: // insert
			id := w.nextID
			w.nextID++
			it := &myItem{ID: id, Name: unicodeNames[w.rng.IntN(len(unicodeNames))], Qty: int64(w.rng.IntN(1000)), Cents: int64(w.rng.IntN(1000000)) - 500000}
			if w.rng.IntN(4) > 0 {
				it.Data = make([]byte, 1+w.rng.IntN(15))
				for i := range it.Data {
					it.Data[i] = byte(w.rng.IntN(256))
				}
			}
			if w.withNote && w.rng.IntN(2) == 0 {
				note := "note ✓"
				it.Note = &note
			}
			if _, err := c.Execute("INSERT INTO items (id, name, qty, price, data"+w.noteCol()+") VALUES (?, ?, ?, ?, ?"+w.noteArg()+")",
				w.args(it, it.ID, it.Name, it.Qty, price(it.Cents), nullBytes(it.Data))...); err != nil {
				return nil, err
			}
			staged[id] = it
			wants = append(wants, myWant{topic: "shop.shop.items", op: "c", key: id, after: it.payload(w.withNote)})
		case r < 70: // update
			id := ids[w.rng.IntN(len(ids))]
			old := get(id)
			it := *old
			it.Qty = int64(w.rng.IntN(1000))
			it.Name = unicodeNames[w.rng.IntN(len(unicodeNames))] + fmt.Sprint(w.changes)
			if _, err := c.Execute("UPDATE items SET qty = ?, name = ? WHERE id = ?", it.Qty, it.Name, id); err != nil {
				return nil, err
			}
			staged[id] = &it
			wants = append(wants, myWant{topic: "shop.shop.items", op: "u", key: id, before: old.payload(w.withNote), after: it.payload(w.withNote)})
		case r < 85: // delete
			id := ids[w.rng.IntN(len(ids))]
			old := get(id)
			if _, err := c.Execute("DELETE FROM items WHERE id = ?", id); err != nil {
				return nil, err
			}
			staged[id] = nil
			wants = append(wants,
				myWant{topic: "shop.shop.items", op: "d", key: id, before: old.payload(w.withNote)},
				myWant{topic: "shop.shop.items", op: "tombstone", key: id})
		case r < 92: // primary-key change
			id := ids[w.rng.IntN(len(ids))]
			old := get(id)
			nid := w.nextID
			w.nextID++
			it := *old
			it.ID = nid
			if _, err := c.Execute("UPDATE items SET id = ? WHERE id = ?", nid, id); err != nil {
				return nil, err
			}
			staged[id] = nil
			staged[nid] = &it
			wants = append(wants,
				myWant{topic: "shop.shop.items", op: "d", key: id, before: old.payload(w.withNote)},
				myWant{topic: "shop.shop.items", op: "tombstone", key: id},
				myWant{topic: "shop.shop.items", op: "c", key: nid, after: it.payload(w.withNote)})
		default: // the other table, in the same transaction
			oid := w.nextOID
			w.nextOID++
			item := ids[w.rng.IntN(len(ids))]
			if _, err := c.Execute("INSERT INTO orders (id, item_id, placed) VALUES (?, ?, ?)", oid, item, "2024-02-29 12:34:56.789"); err != nil {
				return nil, err
			}
			wants = append(wants, myWant{topic: "shop.shop.orders", op: "c", key: oid,
				after: map[string]any{"id": oid, "item_id": item, "placed": int64(1709210096789)}})
		}
	}
	if rollback {
		if err := c.Rollback(); err != nil {
			return nil, err
		}
		return nil, nil
	}
	if err := c.Commit(); err != nil {
		return nil, err
	}
	for id, it := range staged {
		if it == nil {
			delete(w.rows, id)
		} else {
			w.rows[id] = it
		}
	}
	return wants, nil
}

func (w *myWorkload) noteCol() string {
	if w.withNote {
		return ", note"
	}
	return ""
}

func (w *myWorkload) noteArg() string {
	if w.withNote {
		return ", ?"
	}
	return ""
}

func (w *myWorkload) args(it *myItem, base ...any) []any {
	if w.withNote {
		if it.Note == nil {
			return append(base, nil)
		}
		return append(base, *it.Note)
	}
	return base
}

func price(cents int64) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	return fmt.Sprintf("%s%d.%02d", sign, cents/100, cents%100)
}

func createShop(ctx context.Context, my *harness.MariaDB, initial int) error {
	return my.Exec(ctx, fmt.Sprintf(`CREATE DATABASE shop; USE shop;
		CREATE TABLE items (id BIGINT PRIMARY KEY, name VARCHAR(100) CHARACTER SET utf8mb4 NOT NULL, qty INT NOT NULL,
			price DECIMAL(10,2) NOT NULL, data VARBINARY(16) NULL);
		CREATE TABLE orders (id BIGINT PRIMARY KEY, item_id BIGINT NOT NULL, placed DATETIME(3) NOT NULL);
		INSERT INTO items SELECT seq, CONCAT('item-', seq), seq %% 100, (seq * 7 %% 100000) / 100.0,
			CONCAT(CHAR(seq %% 256), CHAR(0), CHAR((seq >> 8) %% 256)) FROM seq_1_to_%d;`, initial))
}

func myConn(t *testing.T, my *harness.MariaDB, db string) *client.Conn {
	t.Helper()
	c, err := client.Connect(my.Addr(), "root", "", db)
	must(t, err)
	t.Cleanup(func() { c.Close() })
	_, err = c.Execute("SET NAMES utf8mb4")
	must(t, err)
	return c
}

// TestMySQLSnapshotThenStream snapshots 10,000 rows, streams 10,000 mixed
// changes (inserts, updates, deletes, primary-key changes, multi-table and
// rolled-back transactions, unicode and binary values, an ALTER TABLE
// mid-stream) and compares the topics with what was written, record by
// record and in order.
func TestMySQLSnapshotThenStream(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	my := harness.StartMariaDB(t)
	const initial = 10000
	must(t, createShop(ctx, my, initial))
	wl := newMyWorkload(1, initial)

	d := runDaemon(t, fmt.Sprintf(`
sources:
  - name: shop
    type: mysql
    dsn: %s
    tables: [shop.items, shop.orders]
    topic_prefix: shop
    max_batch_wait: 20ms
    snapshot.fetch.size: 1000
`, my.DSN("")))
	items := newConsumer(t, d.Brokers(), "shop.shop.items")
	orders := newConsumer(t, d.Brokers(), "shop.shop.orders")

	start := time.Now()
	snap := items.next(initial, 2*time.Minute)
	snapSecs := time.Since(start).Seconds()
	for i, r := range snap {
		id := int64(i + 1)
		checkRecord(t, i, r, want{op: "r", key: id, after: wl.rows[id].payload(false)})
		src := r.Value["source"].(map[string]any)
		wantFlag := "true"
		if i == len(snap)-1 {
			wantFlag = "last"
		}
		if src["snapshot"] != wantFlag || src["connector"] != "mysql" || src["db"] != "shop" || src["table"] != "items" || src["file"] == "" {
			t.Fatalf("snapshot record %d: source %v", i, src)
		}
	}

	c := myConn(t, my, "shop")
	const changes = 10000
	wl.alterAt = changes * 7 / 10
	var expected []myWant
	for wl.changes < changes {
		w, err := wl.txn(c, changes-wl.changes)
		must(t, err)
		expected = append(expected, w...)
	}
	if !wl.withNote {
		t.Fatal("test bug: the ALTER TABLE never ran")
	}
	var wantItems, wantOrders []want
	for _, w := range expected {
		if w.topic == "shop.shop.items" {
			wantItems = append(wantItems, w.want())
		} else {
			wantOrders = append(wantOrders, w.want())
		}
	}
	start = time.Now()
	got := items.next(len(wantItems), 3*time.Minute)
	streamSecs := time.Since(start).Seconds()
	for i, r := range got {
		checkRecord(t, i, r, wantItems[i])
		if r.Value != nil {
			src := r.Value["source"].(map[string]any)
			if src["snapshot"] != "false" || src["gtid"] == nil || src["file"] == "" || src["server_id"] == nil {
				t.Fatalf("record %d: source %v", i, src)
			}
		}
	}
	gotOrders := orders.next(len(wantOrders), time.Minute)
	for i, r := range gotOrders {
		checkRecord(t, i, r, wantOrders[i])
	}
	items.none(time.Second)

	sc := newConsumer(t, d.Brokers(), "shop")
	evs := sc.next(1, 30*time.Second)
	if ddl := fmt.Sprint(evs[0].Value); !containsAll(ddl, "note", "ALTER", "ADD COLUMN") {
		t.Errorf("schema change event does not describe the new column: %.800v", evs[0].Value)
	}
	t.Logf("snapshot: %d rows in %.2fs (%.0f rows/s, incl. startup); stream: %d item + %d order records for %d changes (%.0f records/s consumed after the writer finished)",
		initial, snapSecs, float64(initial)/snapSecs, len(wantItems), len(wantOrders), changes, float64(len(wantItems))/streamSecs)
}

func nullBytes(b []byte) any {
	if b == nil {
		return nil
	}
	return b
}
