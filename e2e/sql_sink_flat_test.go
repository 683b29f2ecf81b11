package e2e

import (
	"context"
	stdsql "database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestSQLSinkFlattenedRecords feeds the sink records that are rows rather
// than envelopes (what an unwrap transform writes), with and without the
// schema block, and tombstones: rows are upserted into the table named
// after the topic and deleted by key.
func TestSQLSinkFlattenedRecords(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	path := filepath.Join(t.TempDir(), "flat.db")
	d := runDaemon(t, fmt.Sprintf(`sinks:
  - {name: flat, type: sql, topics: ["flat\\..*"], dsn: "sqlite://%s"}
`, path))
	cl, err := kgo.NewClient(kgo.SeedBrokers(d.Brokers()...))
	must(t, err)
	defer cl.Close()
	_, err = kadm.NewClient(cl).CreateTopic(ctx, 1, 1, nil, "flat.items")
	must(t, err)
	keySchema := `{"type":"struct","fields":[{"field":"id","type":"int32"}],"optional":false}`
	valSchema := `{"type":"struct","fields":[{"field":"id","type":"int32"},{"field":"name","type":"string","optional":true},` +
		`{"field":"price","type":"bytes","name":"org.apache.kafka.connect.data.Decimal","parameters":{"scale":"2"},"optional":true}],"optional":true}`
	key := func(id int) []byte { return []byte(fmt.Sprintf(`{"schema":%s,"payload":{"id":%d}}`, keySchema, id)) }
	val := func(id int, name, price string) []byte {
		return []byte(fmt.Sprintf(`{"schema":%s,"payload":{"id":%d,"name":%q,"price":%q}}`, valSchema, id, name, price))
	}
	recs := []*kgo.Record{
		{Topic: "flat.items", Key: key(1), Value: val(1, "one", "AJY=")},  // 1.50
		{Topic: "flat.items", Key: key(2), Value: val(2, "two", "AQQ=")},  // 2.60
		{Topic: "flat.items", Key: key(1), Value: val(1, "one+", "AMg=")}, // 2.00
		{Topic: "flat.items", Key: key(2)},                                // tombstone: delete 2
		{Topic: "flat.items", Key: []byte(`{"id":3}`), Value: []byte(`{"id":3,"name":"schemaless","price":null}`)},
	}
	for _, r := range recs {
		must(t, cl.ProduceSync(ctx, r).FirstErr())
	}
	db, err := stdsql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	must(t, err)
	defer db.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var got stdsql.NullString
		err := db.QueryRowContext(ctx, `SELECT group_concat(id || '=' || name || '/' || COALESCE(price, 'NULL'), ',') FROM (SELECT * FROM flat_items ORDER BY id)`).Scan(&got)
		if err == nil && got.String == "1=one+/2.00,3=schemaless/NULL" {
			return
		}
		if time.Now().After(deadline) {
			st, _ := d.Supervisor().Status("flat")
			t.Fatalf("flat_items = %q (%v); status %+v", got.String, err, st)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
