package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/internal/daemon"
	"github.com/sluice-cdc/sluice/internal/esemu"
	"github.com/sluice-cdc/sluice/internal/harness"
	"github.com/sluice-cdc/sluice/internal/runtime"
	essink "github.com/sluice-cdc/sluice/sinks/elasticsearch"
)

// esItemsSQL reads public.items as the lines esItemLines makes of the
// index.
// (note is read through to_jsonb so that the table may not have it).
const esItemsSQL = `SELECT id::text || '|' || name || '|' || qty::text || '|' || price::text || '|' || COALESCE(to_jsonb(items)->>'note', '<null>') FROM items ORDER BY id`

func sourceItemLines(ctx context.Context, pg *harness.Postgres, db string) ([]string, error) {
	conn, err := pgx.Connect(ctx, pg.DSN(db))
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, esItemsSQL)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// esItemLines renders the index's documents like esItemsSQL renders the
// rows, and checks that each _id is the document's id.
func esItemLines(srv *esemu.Server, index string) ([]string, error) {
	type line struct {
		id   int64
		text string
	}
	var out []line
	for id, raw := range srv.Docs(index) {
		var d map[string]any
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&d); err != nil {
			return nil, err
		}
		if fmt.Sprint(d["id"]) != id {
			return nil, fmt.Errorf("document %s holds id %v", id, d["id"])
		}
		n, _ := strconv.ParseInt(id, 10, 64)
		note := "<null>"
		if d["note"] != nil {
			note = fmt.Sprint(d["note"])
		}
		out = append(out, line{n, fmt.Sprintf("%v|%v|%v|%v|%s", d["id"], d["name"], d["qty"], d["price"], note)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	lines := make([]string, len(out))
	for i, l := range out {
		lines[i] = l.text
	}
	return lines, nil
}

// waitIndexEqualsSource polls until the index holds exactly the source
// table, document for row.
func waitIndexEqualsSource(t *testing.T, ctx context.Context, pg *harness.Postgres, db string, srv *esemu.Server, index string, timeout time.Duration, status func() string) int {
	t.Helper()
	want, err := sourceItemLines(ctx, pg, db)
	must(t, err)
	deadline := time.Now().Add(timeout)
	for {
		got, err := esItemLines(srv, index)
		must(t, err)
		if strings.Join(got, "\n") == strings.Join(want, "\n") {
			return len(got)
		}
		if time.Now().After(deadline) {
			t.Fatalf("index %s differs from the source table after %s (%s):\n%s", index, timeout, status(), firstDiff(want, got))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestESSinkReplicates streams a snapshot and 50,000 mixed changes
// (inserts, updates, deletes with tombstones, primary-key changes,
// rolled-back transactions, an ALTER TABLE ADD COLUMN) from PostgreSQL
// through a three-partition topic into the emulator, and checks that the index then
// holds exactly the source table: every document equal to its row, no
// deleted ones, and no write ever replaced a newer version.
func TestESSinkReplicates(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: -short")
	}
	changes := 50_000
	if n, err := strconv.Atoi(os.Getenv("SLUICE_ES_SINK_CHANGES")); err == nil && n > 0 {
		changes = n
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute+time.Duration(changes)*2*time.Millisecond)
	defer cancel()
	pg := harness.StartPostgres(t)
	must(t, pg.CreateDatabase(ctx, "shop"))
	must(t, createItems(ctx, pg, "shop", 2000))
	srv := esemu.New(esemu.Options{})
	defer srv.Close()

	d := runDaemon(t, "kafka: {listen: 127.0.0.1:0, topic: {partitions: 3}}\n"+pgSourceYAML("shop", pg.DSN("shop"), "tables: [public.items]")+fmt.Sprintf(`sinks:
  - name: items-search
    type: elasticsearch
    topics: [shop.public.items]
    urls: [%s]
    index: items
    bulk.max_actions: 1000
    bulk.flush_interval: 50ms
    concurrency: 2
`, srv.URL))

	conn, err := pgx.Connect(ctx, pg.DSN("shop"))
	must(t, err)
	defer conn.Close(context.Background())
	wl := newItemWorkload(11, 2000)
	wl.alterAt = changes / 2
	start := time.Now()
	for wl.changes < changes {
		_, err := wl.txn(ctx, conn, changes-wl.changes)
		must(t, err)
	}
	written := time.Since(start)
	status := func() string { st, _ := d.Supervisor().Status("items-search"); return fmt.Sprintf("%+v", st) }
	n := waitIndexEqualsSource(t, ctx, pg, "shop", srv, "items", time.Minute, status)
	if err := srv.CheckVersions(); err != nil {
		t.Error(err)
	}
	st := srv.Stats()
	t.Logf("%d documents equal the source %s after the last of %d changes (written in %s); emulator %+v", n, time.Since(start)-written, changes, written, st)
	sst, _ := d.Supervisor().Status("items-search")
	if det, ok := sst.Details.(daemon.ESSinkStatus); !ok || det.Index.Indexed == 0 || det.Records == 0 {
		t.Errorf("status details = %#v", sst.Details)
	} else {
		t.Logf("sink status: %+v", det)
	}
	props, _ := srv.Mapping("items")["properties"].(map[string]any)
	if fmt.Sprint(props["price"]) != "map[scaling_factor:100 type:scaled_float]" || fmt.Sprint(props["id"]) != "map[type:long]" {
		t.Errorf("derived mapping = %v", props)
	}
}

// TestESSinkBacklogThroughput measures the sink alone: a backlog of
// 100,000 inserts is in the topic before the sink starts, and the test
// reports how fast it reaches the emulator with the default bulk settings
// (bulk.max_actions 1000, concurrency 1) and with concurrency 4. It makes
// no timing assertion.
func TestESSinkBacklogThroughput(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: -short")
	}
	rows := 100_000
	if n, err := strconv.Atoi(os.Getenv("SLUICE_ES_BACKLOG")); err == nil && n > 0 {
		rows = n
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pg := harness.StartPostgres(t)
	must(t, pg.CreateDatabase(ctx, "shop"))
	must(t, createItems(ctx, pg, "shop", rows))
	src := runDaemon(t, pgSourceYAML("shop", pg.DSN("shop"), "tables: [public.items]"))
	waitStatus(t, src, "shop", time.Minute, streaming)
	// The snapshot is in the topic once the source streams.
	for _, conc := range []int{1, 4} {
		srv := esemu.New(esemu.Options{})
		d, stop := startSluice(t, fmt.Sprintf(`state_dir: %s
kafka: {brokers: [%s]}
api: {listen: ""}
sinks:
  - name: backlog-%d
    type: elasticsearch
    topics: [shop.public.items]
    urls: [%s]
    index: items
    concurrency: %d
`, t.TempDir(), src.Brokers()[0], conc, srv.URL, conc))
		start := time.Now()
		deadline := start.Add(time.Minute)
		for {
			if srv.Stats().DocsIndexed >= int64(rows) {
				break
			}
			if time.Now().After(deadline) {
				st, _ := d.Supervisor().Status(fmt.Sprintf("backlog-%d", conc))
				t.Fatalf("concurrency %d: %d of %d documents within a minute; %+v", conc, srv.Stats().DocsIndexed, rows, st)
			}
			time.Sleep(20 * time.Millisecond)
		}
		el := time.Since(start)
		t.Logf("concurrency %d: %d documents in %s = %.0f docs/s (bulk.max_actions 1000, %d bulk requests)", conc, rows, el.Round(time.Millisecond), float64(rows)/el.Seconds(), srv.Stats().BulkRequests)
		stop()
		srv.Close()
	}
}

// TestESSinkDeadLetter: a document the index refuses (a mapping conflict:
// text into a long field) goes to the dead-letter topic with the
// server's error type and reason in headers, and the sink goes on with
// the next records; with errors.tolerance none the same record stops the
// sink, naming topic, partition, offset and reason. The emulator answers
// as OpenSearch here.
func TestESSinkDeadLetter(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pg := harness.StartPostgres(t)
	must(t, pg.CreateDatabase(ctx, "src"))
	must(t, pg.Exec(ctx, "src", `CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, '10'), (2, 'abc'), (3, '30')`))
	srv := esemu.New(esemu.Options{Flavor: esemu.OpenSearch})
	defer srv.Close()
	for _, index := range []string{"lenient", "strict"} {
		req, _ := http.NewRequest(http.MethodPut, srv.URL+"/"+index, strings.NewReader(`{"mappings":{"properties":{"v":{"type":"long"}}}}`))
		resp, err := http.DefaultClient.Do(req)
		must(t, err)
		resp.Body.Close()
	}
	d := runDaemon(t, pgSourceYAML("src", pg.DSN("src"), "tables: [public.t]")+fmt.Sprintf(`sinks:
  - name: lenient
    type: elasticsearch
    topics: [src.public.t]
    urls: [%[1]s]
    index: lenient
    bulk.flush_interval: 10ms
    errors.tolerance: all
    errors.deadletterqueue.topic.name: lenient.dlq
  - name: strict
    type: elasticsearch
    topics: [src.public.t]
    urls: [%[1]s]
    index: strict
`, srv.URL))
	st := waitStatus(t, d, "strict", time.Minute, func(st runtime.Status) bool { return st.State == runtime.StateFailed })
	if !strings.Contains(st.Error, "record src.public.t/0@1") || !strings.Contains(st.Error, "mapper_parsing_exception") ||
		!strings.Contains(st.Error, "failed to parse field [v] of type [long]") {
		t.Errorf("strict sink error = %q, want the record's position and the mapping error", st.Error)
	}

	cl := newConsumer(t, d.Brokers(), "lenient.dlq")
	fs := cl.cl.PollRecords(ctx, 1)
	var dl *kgo.Record
	fs.EachRecord(func(r *kgo.Record) { dl = r })
	if dl == nil {
		t.Fatal("no dead-letter record")
	}
	headers := map[string]string{}
	for _, h := range dl.Headers {
		headers[h.Key] = string(h.Value)
	}
	if headers[runtime.HeaderErrorTopic] != "src.public.t" || headers[runtime.HeaderErrorOffset] != "1" ||
		headers[essink.HeaderErrorType] != "mapper_parsing_exception" || headers[essink.HeaderErrorStatus] != "400" ||
		!strings.Contains(headers[essink.HeaderErrorReason], "failed to parse field [v] of type [long]") ||
		!strings.Contains(headers[runtime.HeaderErrorMessage], "mapper_parsing_exception") {
		t.Errorf("dead-letter headers = %v", headers)
	}
	if k := payload(t, dl.Key); fmt.Sprint(k["id"]) != "2" {
		t.Errorf("dead-lettered key = %v, want id 2", k)
	}
	// The sink goes on.
	must(t, pg.Exec(ctx, "src", `INSERT INTO t VALUES (4, '40'); UPDATE t SET v = '11' WHERE id = 1`))
	deadline := time.Now().Add(30 * time.Second)
	for {
		docs := srv.Docs("lenient")
		_, has2 := docs["2"]
		if len(docs) == 3 && !has2 && strings.Contains(string(docs["1"]), `"11"`) && docs["4"] != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("lenient index = %s", fmt.Sprint(docs))
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The strict sink's batch held all three rows: 1 and 3 may be written
	// before it stopped (its offsets are not committed), never row 2.
	if _, ok := srv.Docs("strict")["2"]; ok {
		t.Errorf("strict index holds the refused document")
	}
}

// TestESSinkKill9 kills the real binary running the sink with SIGKILL 20
// times at random moments (seeded; the seed is printed) while a workload
// of mixed changes streams through a source running in the test process,
// and while the emulator (also in the test process) throttles with 429 +
// Retry-After, rejects single items with 429, answers 503 and drops
// connections before and after applying requests. Afterwards the index
// holds exactly the source table and the emulator's write log shows that
// no older version ever replaced a newer one.
func TestESSinkKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: -short")
	}
	bin := buildSluice(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("SLUICE_KILL_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (rerun with SLUICE_KILL_SEED=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 11))

	pg := harness.StartPostgres(t)
	must(t, pg.CreateDatabase(ctx, "shop"))
	must(t, createItems(ctx, pg, "shop", 500))
	srv := esemu.New(esemu.Options{})
	defer srv.Close()
	srv.SetFaults(esemu.Faults{Seed: seed, Status429: 0.03, RetryAfter: "1", Status503: 0.03, Item429: 0.02, DropBefore: 0.03, DropAfter: 0.05})

	// Three partitions: a document's changes stay in one (the key's), and
	// its versions are that partition's offsets.
	src := runDaemon(t, "kafka: {listen: 127.0.0.1:0, topic: {partitions: 3}}\n"+pgSourceYAML("shop", pg.DSN("shop"), "tables: [public.items]"))
	waitStatus(t, src, "shop", time.Minute, streaming)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "sink.yaml")
	must(t, os.WriteFile(cfg, []byte(fmt.Sprintf(`state_dir: %s
kafka: {brokers: [%s]}
api: {listen: ""}
sinks:
  - name: items-search
    type: elasticsearch
    topics: [shop.public.items]
    urls: [%s]
    index: items
    bulk.max_actions: 200
    bulk.flush_interval: 20ms
    concurrency: 2
`, filepath.Join(dir, "state"), src.Brokers()[0], srv.URL)), 0o644))

	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("seed %d", seed)
		}
	})

	var werr error
	stopWork, workDone := make(chan struct{}), make(chan struct{})
	wl := newItemWorkload(seed, 500)
	go func() {
		defer close(workDone)
		conn, err := pgx.Connect(ctx, pg.DSN("shop"))
		if err != nil {
			werr = err
			return
		}
		defer conn.Close(context.Background())
		for {
			select {
			case <-stopWork:
				return
			default:
			}
			if _, err := wl.txn(ctx, conn, 20); err != nil {
				werr = err
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()

	const kills = 20
	sink := runBinary(t, bin, cfg)
	sink.killRestart(rng, kills, 200*time.Millisecond, 600*time.Millisecond)
	close(stopWork)
	<-workDone
	must(t, werr)
	// The last run without faults, so that the end is not a matter of
	// luck with Retry-After.
	srv.SetFaults(esemu.Faults{})
	n := waitIndexEqualsSource(t, ctx, pg, "shop", srv, "items", time.Minute, func() string { return tailLines(sink.output(), 10) })
	adm, err := kgo.NewClient(kgo.SeedBrokers(src.Brokers()...))
	must(t, err)
	defer adm.Close()
	td, err := kadm.NewClient(adm).ListTopics(ctx, "shop.public.items")
	must(t, err)
	if p := len(td["shop.public.items"].Partitions); p != 3 {
		t.Errorf("shop.public.items has %d partitions, want 3", p)
	}
	if err := srv.CheckVersions(); err != nil {
		t.Error(err)
	}
	st := srv.Stats()
	if st.VersionConflicts == 0 || st.Injected429 == 0 || st.DroppedAfter == 0 {
		t.Errorf("the kills and faults did not cause replays: %+v", st)
	}
	t.Logf("%d documents equal the source after %d kills and %d changes; emulator %+v", n, kills, wl.changes, st)

	// A clean stop still works after all that.
	if err := sink.stop(); err != nil {
		t.Errorf("exit after SIGTERM: %v", err)
	}
}

// TestESSinkFlattenedRecords feeds the sink rows already flattened by an
// unwrap transform (ExtractNewRecordState): the value is the row itself,
// with the JSON converter's schema block (the mapping is derived from it)
// or without (the server's dynamic mapping decides); a null value deletes.
func TestESSinkFlattenedRecords(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv := esemu.New(esemu.Options{Flavor: esemu.OpenSearch, Version: "1.3.19"})
	defer srv.Close()
	d := runDaemon(t, fmt.Sprintf(`sinks:
  - name: flat
    type: elasticsearch
    topics: ["flat\\..*"]
    urls: [%s]
    bulk.flush_interval: 10ms
`, srv.URL))
	cl, err := kgo.NewClient(kgo.SeedBrokers(d.Brokers()...))
	must(t, err)
	defer cl.Close()
	_, err = kadm.NewClient(cl).CreateTopics(ctx, 1, -1, nil, "flat.typed", "flat.plain")
	must(t, err)
	const keySchema = `{"type":"struct","fields":[{"field":"id","type":"int64"}],"optional":false}`
	const rowSchema = `{"type":"struct","fields":[{"field":"id","type":"int64"},{"field":"price","type":"bytes","name":"org.apache.kafka.connect.data.Decimal","parameters":{"scale":"2","connect.decimal.precision":"8"},"optional":true}],"optional":true}`
	rec := func(topic, key, value string) *kgo.Record {
		r := &kgo.Record{Topic: topic, Key: []byte(key)}
		if value != "" {
			r.Value = []byte(value)
		}
		return r
	}
	withSchema := func(schema, payload string) string { return `{"schema":` + schema + `,"payload":` + payload + `}` }
	must(t, cl.ProduceSync(ctx,
		rec("flat.typed", withSchema(keySchema, `{"id":1}`), withSchema(rowSchema, `{"id":1,"price":"MDk="}`)), // 123.45
		rec("flat.typed", withSchema(keySchema, `{"id":2}`), withSchema(rowSchema, `{"id":2,"price":null}`)),
		rec("flat.plain", `{"id":7}`, `{"id":7,"name":"seven","price":1.5}`),
	).FirstErr())
	deadline := time.Now().Add(30 * time.Second)
	for len(srv.Docs("flat.typed")) != 2 {
		if time.Now().After(deadline) {
			t.Fatalf("typed docs %v", srv.Docs("flat.typed"))
		}
		time.Sleep(50 * time.Millisecond)
	}
	must(t, cl.ProduceSync(ctx, rec("flat.typed", withSchema(keySchema, `{"id":2}`), "")).FirstErr()) // a tombstone
	for {
		typed, plain := srv.Docs("flat.typed"), srv.Docs("flat.plain")
		if len(typed) == 1 && len(plain) == 1 && srv.Stats().DocsDeleted == 1 {
			if got := string(typed["1"]); got != `{"id":1,"price":123.45}` {
				t.Errorf("typed doc = %s", got)
			}
			if got := string(plain["7"]); got != `{"id":7,"name":"seven","price":1.5}` {
				t.Errorf("plain doc = %s", got)
			}
			break
		}
		if time.Now().After(deadline) {
			st, _ := d.Supervisor().Status("flat")
			t.Fatalf("typed %v, plain %v, stats %+v; status %+v", typed, plain, srv.Stats(), st)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if p := fmt.Sprint(srv.Mapping("flat.typed")["properties"].(map[string]any)["price"]); p != "map[scaling_factor:100 type:scaled_float]" {
		t.Errorf("typed price mapping = %s", p)
	}
	// Without a schema block the server's dynamic mapping decides.
	if p := fmt.Sprint(srv.Mapping("flat.plain")["properties"].(map[string]any)["price"]); p != "map[type:float]" {
		t.Errorf("plain price mapping = %s", p)
	}
}
