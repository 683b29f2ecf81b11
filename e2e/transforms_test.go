package e2e

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	stdsql "database/sql"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/internal/harness"
	"github.com/sluice-cdc/sluice/internal/runtime"
)

// pollRecords reads n records of topic from the start (read_committed),
// headers included.
func pollRecords(t *testing.T, brokers []string, topic string, n int, timeout time.Duration) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.FetchMaxWait(200*time.Millisecond))
	must(t, err)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollRecords(ctx, n-len(out))
		if ctx.Err() != nil {
			t.Fatalf("%s: got %d of %d records within %s", topic, len(out), n, timeout)
		}
		fs.EachRecord(func(r *kgo.Record) { out = append(out, r) })
	}
	return out
}

func header(r *kgo.Record, key string) (string, bool) {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value), true
		}
	}
	return "", false
}

// TestOutboxRouter: a service writes an order and an outbox row in one
// PostgreSQL transaction (and deletes the outbox row right away, as outbox
// users do). The order lands on its table topic; the outbox row becomes
// one event on topic "order" (its aggregatetype, through the topic
// template), keyed by the aggregate id, with the payload as value and the
// event id and type as headers. A malformed outbox row then stops the
// source with the transform, the event's position and the cause.
func TestOutboxRouter(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pg := harness.StartPostgres(t)
	must(t, pg.CreateDatabase(ctx, "shop"))
	must(t, pg.Exec(ctx, "shop", `
		CREATE TABLE orders (id bigint PRIMARY KEY, customer text NOT NULL, total numeric(10,2) NOT NULL);
		CREATE TABLE outbox (id uuid PRIMARY KEY, aggregatetype varchar(255), aggregateid varchar(255) NOT NULL,
			type varchar(255) NOT NULL, payload jsonb);`))
	d := runDaemon(t, pgSourceYAML("shop", pg.DSN("shop"), `tables: [public.orders, public.outbox]`, `transforms:
      - type: outbox
        route_topic_replacement: "$${routedByValue}" # $$: not an environment variable
        predicate: {type: topic_matches, pattern: "shop\\.public\\.outbox"}`))
	waitStatus(t, d, "shop", time.Minute, streaming)

	must(t, pg.Exec(ctx, "shop", `BEGIN;
		INSERT INTO orders VALUES (1001, 'ann', 99.50);
		INSERT INTO outbox VALUES ('7d4b0c1e-2f6a-4a8e-9c51-0d2e3f4a5b6c', 'order', '1001', 'OrderCreated',
			'{"id": 1001, "customer": "ann", "total": 99.50}');
		DELETE FROM outbox WHERE id = '7d4b0c1e-2f6a-4a8e-9c51-0d2e3f4a5b6c';
		COMMIT;`))

	orders := pollRecords(t, d.Brokers(), "shop.public.orders", 1, 30*time.Second)
	if v := payload(t, orders[0].Value); v["op"] != "c" {
		t.Errorf("order event: %s", orders[0].Value)
	}
	evs := pollRecords(t, d.Brokers(), "order", 1, 30*time.Second)
	r := evs[0]
	if got, want := string(r.Key), `{"schema":{"type":"string","optional":false},"payload":"1001"}`; got != want {
		t.Errorf("key:\n got %s\nwant %s", got, want)
	}
	if got, want := string(r.Value), `{"schema":{"type":"string","optional":true,"name":"io.debezium.data.Json","version":1},"payload":"{\"id\": 1001, \"total\": 99.50, \"customer\": \"ann\"}"}`; got != want {
		t.Errorf("value:\n got %s\nwant %s", got, want)
	}
	if id, _ := header(r, "id"); id != "7d4b0c1e-2f6a-4a8e-9c51-0d2e3f4a5b6c" {
		t.Errorf("id header = %q (headers %v)", id, r.Headers)
	}
	if typ, _ := header(r, "type"); typ != "OrderCreated" {
		t.Errorf("type header = %q", typ)
	}
	// The delete of the outbox row produced nothing: no other event topic
	// and nothing more on "order".
	c := newConsumer(t, d.Brokers(), "order", "shop.public.outbox")
	c.next(1, 10*time.Second)
	c.none(time.Second)

	// A row without aggregatetype cannot be routed: the source stops
	// (permanently: a restart would fail on the same row) and says where.
	must(t, pg.Exec(ctx, "shop", `INSERT INTO outbox VALUES ('8d4b0c1e-2f6a-4a8e-9c51-0d2e3f4a5b6c', NULL, '1002', 'OrderCreated', '{}')`))
	st := waitStatus(t, d, "shop", 30*time.Second, func(st runtime.Status) bool { return st.State == runtime.StateFailed })
	for _, want := range []string{"transform sources[0].transforms[0] (outbox) on an event of shop.public.outbox at lsn ", "outbox row has a null aggregatetype"} {
		if !strings.Contains(st.Error, want) {
			t.Errorf("status error %q does not contain %q", st.Error, want)
		}
	}
}

// TestTransformsUnwrapMaskIntoSQLSink replicates a Postgres table into
// SQLite through sink-side unwrap + mask (hashed e-mail, replaced phone):
// the target holds flat rows with masked PII, deletes arrive as tombstones
// (drop_tombstones: false). A second sink casts a column that not every row
// can be cast: with errors.tolerance all the bad row goes to the
// dead-letter topic with Kafka Connect's error headers; a third with the
// default tolerance stops with the record's topic/partition@offset.
func TestTransformsUnwrapMaskIntoSQLSink(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pg := harness.StartPostgres(t)
	must(t, pg.CreateDatabase(ctx, "crm"))
	must(t, pg.Exec(ctx, "crm", `
		CREATE TABLE customers (id int PRIMARY KEY, email text NOT NULL, phone text, zip text);
		INSERT INTO customers VALUES (1, 'ann@example.com', '+49 30 1234', '10115'), (2, 'bob@example.com', NULL, 'n/a');`))
	dir := t.TempDir()
	masked, casted := filepath.Join(dir, "masked.db"), filepath.Join(dir, "casted.db")
	yaml := pgSourceYAML("crm", pg.DSN("crm"), "tables: [public.customers]") + fmt.Sprintf(`sinks:
  - name: masked
    type: sql
    topics: ["crm\\.public\\.customers"]
    dsn: sqlite://%s
    table: "${source.table}"
    transforms:
      - {type: unwrap, drop_tombstones: false}
      - {type: mask, fields: [email], hash: true, salt: pepper}
      - {type: mask, fields: [phone], replacement: "***"}
  - name: casted
    type: sql
    topics: ["crm\\.public\\.customers"]
    dsn: sqlite://%s
    table: "${source.table}"
    errors.tolerance: all
    errors.deadletterqueue.topic.name: crm.dlq
    transforms:
      - {type: unwrap}
      - {type: cast, spec: "zip:int32"}
  - name: strict
    type: sql
    topics: ["crm\\.public\\.customers"]
    dsn: sqlite://%s
    transforms:
      - {type: unwrap}
      - {type: cast, spec: "zip:int32"}
`, masked, casted, filepath.Join(dir, "strict.db"))
	d := runDaemon(t, yaml)
	waitStatus(t, d, "crm", time.Minute, streaming)
	must(t, pg.Exec(ctx, "crm", `UPDATE customers SET phone = '+49 40 999' WHERE id = 2;
		INSERT INTO customers VALUES (3, 'cy@example.com', '555', '20095');
		DELETE FROM customers WHERE id = 1;`))

	hash := func(s string) string {
		m := hmac.New(sha256.New, []byte("pepper"))
		m.Write([]byte(s))
		return hex.EncodeToString(m.Sum(nil))
	}
	want := fmt.Sprintf("2|%s|***|n/a\n3|%s|***|20095", hash("bob@example.com"), hash("cy@example.com"))
	waitRows(t, ctx, masked, `SELECT id || '|' || email || '|' || COALESCE(phone, '<null>') || '|' || zip FROM customers ORDER BY id`, want)
	// Row 2's zip "n/a" is not an int32: dead-lettered (its snapshot read
	// and its update), the others written; unwrap drops the delete of row
	// 1 and its tombstone here (the defaults), so row 1 stays.
	waitRows(t, ctx, casted, `SELECT id || '|' || zip || '|' || typeof(zip) FROM customers ORDER BY id`, "1|10115|integer\n3|20095|integer")
	dl := pollRecords(t, d.Brokers(), "crm.dlq", 2, 30*time.Second)
	for _, r := range dl {
		if topic, _ := header(r, runtime.HeaderErrorTopic); topic != "crm.public.customers" {
			t.Errorf("dead letter topic header = %q", topic)
		}
		msg, _ := header(r, runtime.HeaderErrorMessage)
		if !strings.Contains(msg, `transform sinks[1].transforms[1] (cast)`) || !strings.Contains(msg, `"n/a" is not an int32`) {
			t.Errorf("dead letter message = %q", msg)
		}
	}
	st := waitStatus(t, d, "strict", 30*time.Second, func(st runtime.Status) bool { return st.State == runtime.StateFailed })
	if !strings.Contains(st.Error, "record crm.public.customers/0@") || !strings.Contains(st.Error, `"n/a" is not an int32`) {
		t.Errorf("strict sink error: %s", st.Error)
	}
}

// waitRows polls a SQLite file until q's rows (one string column), joined
// by newlines, equal want.
func waitRows(t *testing.T, ctx context.Context, path, q, want string) {
	t.Helper()
	db, err := stdsql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	must(t, err)
	defer db.Close()
	deadline := time.Now().Add(30 * time.Second)
	var got []string
	for {
		got = got[:0]
		rows, err := db.QueryContext(ctx, q)
		if err == nil {
			for rows.Next() {
				var s string
				if err = rows.Scan(&s); err != nil {
					break
				}
				got = append(got, s)
			}
			rows.Close()
		}
		if err == nil && strings.Join(got, "\n") == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: got\n%s\n(err %v), want\n%s", filepath.Base(path), strings.Join(got, "\n"), err, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestTransformsSourceSide runs unwrap + mask + route in the source: the
// topic crm.customers holds flat rows with hashed e-mails and the unwrap
// headers, and a SQL sink replicates it (deletes through the tombstones
// unwrap keeps) without transforms of its own.
func TestTransformsSourceSide(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pg := harness.StartPostgres(t)
	must(t, pg.CreateDatabase(ctx, "crm"))
	must(t, pg.Exec(ctx, "crm", `
		CREATE TABLE customers (id int PRIMARY KEY, email text NOT NULL, name text);
		INSERT INTO customers VALUES (1, 'ann@example.com', 'Ann'), (2, 'bob@example.com', 'Bob');`))
	target := filepath.Join(t.TempDir(), "target.db")
	yaml := pgSourceYAML("crm", pg.DSN("crm"), "tables: [public.customers]", `transforms:
      - {type: unwrap, drop_tombstones: false, add_headers: [op, table]}
      - {type: mask, fields: [email], hash: true, salt: pepper}
      - {type: route, regex: 'crm\.public\.(.*)', replacement: 'crm.$1'}`) + fmt.Sprintf(`sinks:
  - name: replica
    type: sql
    topics: [crm.customers]
    dsn: sqlite://%s
`, target)
	d := runDaemon(t, yaml)
	waitStatus(t, d, "crm", time.Minute, streaming)
	must(t, pg.Exec(ctx, "crm", `UPDATE customers SET name = 'Bobby' WHERE id = 2; DELETE FROM customers WHERE id = 1;`))

	hash := func(s string) string {
		m := hmac.New(sha256.New, []byte("pepper"))
		m.Write([]byte(s))
		return hex.EncodeToString(m.Sum(nil))
	}
	waitRows(t, ctx, target, `SELECT id || '|' || email || '|' || name FROM crm_customers ORDER BY id`, "2|"+hash("bob@example.com")+"|Bobby")
	recs := pollRecords(t, d.Brokers(), "crm.customers", 4, 30*time.Second) // 2 reads, 1 update, 1 tombstone
	first := recs[0]
	if got, want := string(first.Value), `{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"},{"type":"string","optional":false,"field":"email"},{"type":"string","optional":true,"field":"name"}],"optional":true,"name":"crm.customers.Value"},"payload":{"id":1,"email":"`+hash("ann@example.com")+`","name":"Ann"}}`; got != want {
		t.Errorf("flat value:\n got %s\nwant %s", got, want)
	}
	if op, _ := header(first, "__op"); op != "r" {
		t.Errorf("__op header = %q", op)
	}
	if tb, _ := header(first, "__table"); tb != "customers" {
		t.Errorf("__table header = %q", tb)
	}
	if last := recs[3]; last.Value != nil || !strings.Contains(string(last.Key), `"id":1`) {
		t.Errorf("want the tombstone of id 1 last, got key %s value %s", last.Key, last.Value)
	}
}

// TestTransformsRouteMergesShards merges two MariaDB shards holding the
// same primary keys into one topic with a source-side route
// (ByLogicalTableRouter): keys carry the physical table, so a SQL sink
// keeps one row per shard and key, and updates and deletes hit the right
// one.
func TestTransformsRouteMergesShards(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	my := harness.StartMariaDB(t)
	must(t, my.Exec(ctx, `CREATE DATABASE shop; USE shop;
		CREATE TABLE orders_1 (id INT PRIMARY KEY, customer VARCHAR(50), qty INT);
		CREATE TABLE orders_2 (id INT PRIMARY KEY, customer VARCHAR(50), qty INT);
		INSERT INTO orders_1 VALUES (1, 'bob', 3), (2, 'cy', 1); INSERT INTO orders_2 VALUES (1, 'eve', 5);`))
	target := filepath.Join(t.TempDir(), "orders.db")
	yaml := mySourceYAML("shop", my.DSN(""), `tables: ["shop\\.orders_.*"]`, "snapshot.locking.mode: none", `transforms:
      - {type: route, regex: 'shop\.shop\.orders_\d+', replacement: shop.orders, key_enforce_uniqueness: true}`) + fmt.Sprintf(`sinks:
  - name: orders
    type: sql
    topics: [shop.orders]
    dsn: sqlite://%s
    table: orders
`, target)
	d := runDaemon(t, yaml)
	waitStatus(t, d, "shop", time.Minute, myStreaming)
	must(t, my.Exec(ctx, `USE shop; UPDATE orders_2 SET qty = 6 WHERE id = 1; DELETE FROM orders_1 WHERE id = 2;`))
	waitRows(t, ctx, target, `SELECT id || '|' || __dbz__physicalTableIdentifier || '|' || customer || '|' || qty FROM orders ORDER BY __dbz__physicalTableIdentifier, id`,
		"1|shop.shop.orders_1|bob|3\n1|shop.shop.orders_2|eve|6")
	recs := pollRecords(t, d.Brokers(), "shop.orders", 3, 30*time.Second)
	for _, r := range recs {
		if !strings.Contains(string(r.Key), `"name":"shop.orders.Key"`) || !strings.Contains(string(r.Value), `"name":"shop.orders.Envelope"`) {
			t.Errorf("schemas not renamed after the merged topic: key %.300s value %.200s", r.Key, r.Value)
		}
	}
}
