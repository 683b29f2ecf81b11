package e2e

import (
	"context"
	"encoding/base64"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluice-cdc/sluice/internal/harness"
)

// item is the model of a row of public.items.
type item struct {
	ID    int64
	Name  string
	Qty   int64
	Cents int64 // price numeric(10,2) in cents
	Note  *string
}

// payload is the row as Debezium's JSON converter writes it.
func (it item) payload(withNote bool) map[string]any {
	m := map[string]any{
		"id":    it.ID,
		"name":  it.Name,
		"qty":   it.Qty,
		"price": decimalBase64(it.Cents),
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

// decimalBase64 is how org.apache.kafka.connect.data.Decimal encodes an
// unscaled value in JSON: base64 of its big-endian two's complement bytes.
func decimalBase64(unscaled int64) string {
	b := twosComplement(big.NewInt(unscaled))
	return base64.StdEncoding.EncodeToString(b)
}

func twosComplement(v *big.Int) []byte {
	if v.Sign() >= 0 {
		b := v.Bytes()
		if len(b) == 0 || b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return b
	}
	// -v = ~(v-1): compute 2^(8n) + v for the smallest n that fits.
	n := (v.BitLen() + 8) / 8
	mod := new(big.Int).Lsh(big.NewInt(1), uint(8*n))
	b := new(big.Int).Add(mod, v).Bytes()
	for len(b) < n {
		b = append([]byte{0xff}, b...)
	}
	return b
}

// want is one expected record on the items topic.
type want struct {
	op            string // c u d r t tombstone
	key           int64
	before, after map[string]any
}

func (w want) String() string {
	return fmt.Sprintf("%s key=%d before=%v after=%v", w.op, w.key, w.before, w.after)
}

// TestPostgresSnapshotThenStream snapshots 10,000 rows, streams 10,000 mixed
// changes (inserts, updates, deletes, primary-key changes, rolled-back
// transactions, a truncate and an ALTER TABLE mid-stream) and compares the
// topic with what was written, record by record and in order.
func TestPostgresSnapshotThenStream(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	pg := harness.StartPostgres(t)
	must(t, pg.CreateDatabase(ctx, "shop"))
	must(t, createItems(ctx, pg, "shop", 10000))

	wl := newItemWorkload(1, 10000)

	d := runDaemon(t, fmt.Sprintf(`
sources:
  - name: shop
    type: postgres
    dsn: %s
    tables: [public.items]
    topic_prefix: shop
    max_batch_wait: 20ms
    snapshot.fetch.size: 1000
`, pg.DSN("shop")))
	c := newConsumer(t, d.Brokers(), "shop.public.items")

	// The snapshot: every row once, in primary-key order, the last one
	// marked snapshot=last.
	snap := c.next(10000, 2*time.Minute)
	for i, r := range snap {
		id := int64(i + 1)
		w := want{op: "r", key: id, after: wl.rows[id].payload(false)}
		checkRecord(t, i, r, w)
		flag := r.Value["source"].(map[string]any)["snapshot"]
		wantFlag := "true"
		if i == len(snap)-1 {
			wantFlag = "last"
		}
		if flag != wantFlag {
			t.Fatalf("snapshot record %d: source.snapshot = %v, want %s", i, flag, wantFlag)
		}
	}

	// The stream.
	conn, err := pgx.Connect(ctx, pg.DSN("shop"))
	must(t, err)
	defer conn.Close(context.Background())
	const changes = 10000
	wl.truncateAt, wl.alterAt = changes/2, changes*7/10
	var expected []want
	for wl.changes < changes {
		w, err := wl.txn(ctx, conn, changes-wl.changes)
		must(t, err)
		expected = append(expected, w...)
	}
	if !wl.withNote {
		t.Fatal("test bug: the ALTER TABLE never ran")
	}

	got := c.next(len(expected), 3*time.Minute)
	for i, r := range got {
		checkRecord(t, i, r, expected[i])
	}
	c.none(time.Second)

	// The ALTER TABLE produced a schema change event on the prefix topic.
	sc := newConsumer(t, d.Brokers(), "shop")
	evs := sc.next(1, 30*time.Second)
	if ddl := fmt.Sprint(evs[0].Value["tableChanges"]); !containsAll(ddl, "note", "ALTER") {
		t.Errorf("schema change event does not describe the new column: %.500v", evs[0].Value)
	}
	t.Logf("snapshot: 10000 rows; stream: %d records for %d changes", len(expected), changes)
}

// checkRecord compares one consumed record with the expectation.
func checkRecord(t *testing.T, i int, r record, w want) {
	t.Helper()
	if r.op() != w.op {
		t.Fatalf("record %d (offset %d): op %s, want %s", i, r.Offset, r.op(), w)
	}
	if w.op == "t" {
		if r.Key != nil || r.Value["before"] != nil || r.Value["after"] != nil {
			t.Fatalf("record %d: truncate with key/before/after: %v %v", i, r.Key, r.Value)
		}
		return
	}
	if !jsonEq(r.Key, map[string]any{"id": w.key}) {
		t.Fatalf("record %d: key %v, want id=%d (%s)", i, r.Key, w.key, w)
	}
	if w.op == "tombstone" {
		return
	}
	if !jsonEq(r.Value["before"], nilIfEmpty(w.before)) {
		t.Fatalf("record %d (%s key %d): before\n got %v\nwant %v", i, w.op, w.key, normalize(r.Value["before"]), normalize(w.before))
	}
	if !jsonEq(r.Value["after"], nilIfEmpty(w.after)) {
		t.Fatalf("record %d (%s key %d): after\n got %v\nwant %v", i, w.op, w.key, normalize(r.Value["after"]), normalize(w.after))
	}
}

func nilIfEmpty(m map[string]any) any {
	if m == nil {
		return nil
	}
	return m
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
