package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/internal/harness"
	"github.com/sluice-cdc/sluice/offsets"
)

// TestMySQLRestartMidTransaction stops sluice while it streams a backlog
// of large transactions (each split over several Kafka transactions) and
// starts it again: the topics hold every change exactly once, in order.
func TestMySQLRestartMidTransaction(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: -short")
	}
	t.Run("sluice restarted", func(t *testing.T) { testMySQLInterrupt(t, false) })
	t.Run("sluice restarted, file/pos without GTIDs", func(t *testing.T) { testMySQLInterrupt(t, false, "gtid: off") })
	// The binlog connection is killed on the server: the connector fails,
	// the supervisor restarts it, and it resumes from the transaction start.
	t.Run("binlog connection killed", func(t *testing.T) { testMySQLInterrupt(t, true) })
}

func testMySQLInterrupt(t *testing.T, kill bool, extra ...string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	my := harness.StartMariaDB(t)
	const initial = 100
	must(t, createShop(ctx, my, initial))
	wl := newMyWorkload(7, initial)
	broker := sharedBroker(t)
	yaml := "kafka: {brokers: [" + broker + "]}\n" + mySourceYAML("shop", my.DSN(""),
		append([]string{"tables: [shop.items, shop.orders]", "max_batch_size: 1"}, extra...)...)
	_, stop := stoppableDaemon(t, yaml)
	items := newConsumer(t, []string{broker}, "shop.shop.items")
	orders := newConsumer(t, []string{broker}, "shop.shop.orders")
	items.next(initial, time.Minute)

	c := myConn(t, my, "shop")
	const changes = 3000
	var expected []myWant
	bigAt := -1
	for wl.changes < changes {
		w, err := wl.txn(c, changes-wl.changes)
		must(t, err)
		expected = append(expected, w...)
	}
	// One large transaction last, so that the stop below lands inside it.
	bigAt = len(expected)
	w, err := wl.bigInsert(c, 40000)
	must(t, err)
	expected = append(expected, w...)
	var wantItems, wantOrders []want
	for _, w := range expected {
		if w.topic == "shop.shop.items" {
			wantItems = append(wantItems, w.want())
		} else {
			wantOrders = append(wantOrders, w.want())
		}
	}
	// Stop while the large transaction is being written: once the stored
	// offset says part of a transaction was written.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(5 * time.Millisecond) {
		all, err := offsets.ReadAll(ctx, []kgo.Opt{kgo.SeedBrokers(broker)}, offsets.DefaultTopic)
		must(t, err)
		if o, err := offsets.UnmarshalMySQL(all["shop"]); err == nil && o.Rows > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the stored offset never pointed into a transaction")
		}
	}
	_ = bigAt
	if kill {
		rows, err := my.Query(ctx, "SELECT ID FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%'")
		must(t, err)
		if len(rows) != 1 {
			t.Fatalf("binlog dump threads: %v", rows)
		}
		must(t, my.Exec(ctx, "KILL "+rows[0][0]))
		rest := items.next(len(wantItems), 2*time.Minute)
		for i, r := range rest {
			checkRecord(t, i, r, wantItems[i])
		}
		for i, r := range orders.next(len(wantOrders), time.Minute) {
			checkRecord(t, i, r, wantOrders[i])
		}
		items.none(time.Second)
		return
	}
	stop()
	off := readMySQLOffset(t, broker, "shop")
	t.Logf("stored offset at the stop: %+v", off)
	if off.Rows == 0 {
		t.Log("the stop landed between transactions this time")
	}
	first := items.next(1, time.Minute)

	stoppableDaemon(t, yaml)
	rest := items.next(len(wantItems)-len(first), 2*time.Minute)
	got := append(first, rest...)
	for i, r := range got {
		checkRecord(t, i, r, wantItems[i])
	}
	for i, r := range orders.next(len(wantOrders), time.Minute) {
		checkRecord(t, i, r, wantOrders[i])
	}
	items.none(time.Second)
	orders.none(100 * time.Millisecond)
}

func readMySQLOffset(t *testing.T, broker, name string) *offsets.MySQL {
	t.Helper()
	all, err := offsets.ReadAll(context.Background(), []kgo.Opt{kgo.SeedBrokers(broker)}, offsets.DefaultTopic)
	must(t, err)
	o, err := offsets.UnmarshalMySQL(all[name])
	must(t, err)
	return o
}

// bigInsert inserts n rows in one transaction, 1000 per statement.
func (w *myWorkload) bigInsert(c *client.Conn, n int) ([]myWant, error) {
	if err := c.Begin(); err != nil {
		return nil, err
	}
	var wants []myWant
	var sb strings.Builder
	for i := 0; i < n; i++ {
		id := w.nextID
		w.nextID++
		it := &myItem{ID: id, Name: "bulk", Qty: int64(i), Cents: int64(i)}
		if sb.Len() == 0 {
			sb.WriteString("INSERT INTO items (id, name, qty, price) VALUES ")
		} else {
			sb.WriteString(", ")
		}
		fmt.Fprintf(&sb, "(%d, 'bulk', %d, %s)", id, it.Qty, price(it.Cents))
		if (i+1)%1000 == 0 || i == n-1 {
			if _, err := c.Execute(sb.String()); err != nil {
				return nil, err
			}
			sb.Reset()
		}
		w.rows[id] = it
		wants = append(wants, myWant{topic: "shop.shop.items", op: "c", key: id, after: it.payload(w.withNote)})
	}
	return wants, c.Commit()
}
