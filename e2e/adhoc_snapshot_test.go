package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/internal/harness"
	"github.com/sluice-cdc/sluice/offsets"
)

// TestAdHocSnapshot asks running PostgreSQL and MariaDB sources for a
// blocking snapshot of one table through POST /connectors/{name}/snapshot:
// the table's rows arrive again as op r events (the last one
// snapshot=last), and changes made around the request still arrive, none
// lost. Bad requests get a clear 4xx.
func TestAdHocSnapshot(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	pg := harness.StartPostgres(t)
	must(t, pg.Exec(ctx, "postgres", `CREATE TABLE a (id int PRIMARY KEY, v text); CREATE TABLE b (id int PRIMARY KEY);
		INSERT INTO a SELECT g, 'a' || g FROM generate_series(1, 30) g; INSERT INTO b VALUES (1);`))
	my := harness.StartMariaDB(t)
	must(t, my.Exec(ctx, `CREATE DATABASE app; USE app; CREATE TABLE app.a (id INT PRIMARY KEY, v VARCHAR(10)); CREATE TABLE app.b (id INT PRIMARY KEY);
		INSERT INTO app.a SELECT seq, CONCAT('a', seq) FROM seq_1_to_30; INSERT INTO app.b VALUES (1);`))
	apiAddr := freeAddr(t)
	d := runDaemon(t, "api: {listen: "+apiAddr+"}\n"+
		pgSourceYAML("pg", pg.DSN("postgres"), "tables: [public.a, public.b]", "snapshot.fetch.size: 7")+
		strings.TrimPrefix(mySourceYAML("my", my.DSN(""), "tables: [app.a, app.b]", "snapshot.fetch.size: 7"), "\nsources:\n"))
	waitStatus(t, d, "pg", time.Minute, streaming)
	waitStatus(t, d, "my", time.Minute, myStreaming)

	post := func(name, body string) (int, string) {
		t.Helper()
		resp, err := http.Post("http://"+apiAddr+"/connectors/"+name+"/snapshot", "application/json", strings.NewReader(body))
		must(t, err)
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String()
	}
	for _, tc := range []struct {
		name, topicA, table string
		exec                func(string) error
	}{
		{"pg", "pg.public.a", "public.a", func(q string) error { return pg.Exec(ctx, "postgres", q) }},
		{"my", "my.app.a", "app.a", func(q string) error { return my.Exec(ctx, "USE app; "+q) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newConsumer(t, d.Brokers(), tc.topicA)
			c.next(30, time.Minute) // the initial snapshot
			must(t, tc.exec("UPDATE a SET v = 'before' WHERE id = 1"))
			if code, body := post(tc.name, `{"data-collections": ["`+tc.table+`"]}`); code != http.StatusAccepted {
				t.Fatalf("snapshot request: %d %s", code, body)
			}
			must(t, tc.exec("UPDATE a SET v = 'after' WHERE id = 2"))
			recs := c.next(32, time.Minute) // the update, 30 rows again, the update
			var reads []record
			var updates []string
			for _, r := range recs {
				switch r.op() {
				case "r":
					reads = append(reads, r)
				case "u":
					updates = append(updates, fmt.Sprint(r.Value["after"].(map[string]any)["v"]))
				default:
					t.Fatalf("unexpected %s record %v", r.op(), r.Key)
				}
			}
			if len(reads) != 30 || strings.Join(updates, ",") != "before,after" {
				t.Fatalf("got %d snapshot rows and updates %v; want 30 rows and before,after", len(reads), updates)
			}
			for i, r := range reads {
				snap := r.Value["source"].(map[string]any)["snapshot"]
				want := "true"
				if i == len(reads)-1 {
					want = "last"
				}
				if snap != want || !jsonEq(r.Key, map[string]any{"id": i + 1}) {
					t.Fatalf("snapshot row %d: key %v, source.snapshot %v; want id %d, %s", i, r.Key, snap, i+1, want)
				}
			}
			c.none(time.Second)
			// Streaming goes on after it.
			must(t, tc.exec("INSERT INTO a VALUES (31, 'new')"))
			if r := c.next(1, time.Minute)[0]; r.op() != "c" {
				t.Fatalf("after the snapshot: %s", r.op())
			}
		})
	}

	for _, bad := range []struct {
		name, body string
		code       int
	}{
		{"pg", `{"data-collections": ["public.nope"]}`, 400},
		{"pg", `{"data-collections": []}`, 400},
		{"pg", `{"data-collections": ["public.a"], "type": "incremental"}`, 400},
		{"nope", `{"data-collections": ["public.a"]}`, 404},
	} {
		if code, body := post(bad.name, bad.body); code != bad.code || !strings.Contains(body, `"error_code"`) {
			t.Errorf("%s %s: %d %s; want %d", bad.name, bad.body, code, body, bad.code)
		}
	}
}

// TestAdHocSnapshotResumesAfterRestart: a connector that stops while an
// ad-hoc snapshot is under way (its stored offset names the tables) takes
// the snapshot again when it starts, then streams on from where it was.
func TestAdHocSnapshotResumesAfterRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pg := harness.StartPostgres(t)
	must(t, pg.Exec(ctx, "postgres", `CREATE TABLE a (id int PRIMARY KEY); INSERT INTO a SELECT generate_series(1, 10);`))
	broker := sharedBroker(t)
	yaml := "kafka: {brokers: [" + broker + "]}\n" + pgSourceYAML("pg", pg.DSN("postgres"), "tables: [public.a]")
	d, stop := stoppableDaemon(t, yaml)
	waitStatus(t, d, "pg", time.Minute, streaming)
	c := newConsumer(t, []string{broker}, "pg.public.a")
	c.next(10, time.Minute)
	stop()

	// What the offset holds while an ad-hoc snapshot runs (the crash).
	stored, err := offsets.ReadAll(ctx, []kgo.Opt{kgo.SeedBrokers(broker)}, offsets.DefaultTopic)
	must(t, err)
	off, err := offsets.UnmarshalPostgres(stored["pg"])
	must(t, err)
	off.AdHoc = []string{"public.a"}
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker))
	must(t, err)
	defer cl.Close()
	must(t, cl.ProduceSync(ctx, &kgo.Record{Topic: offsets.DefaultTopic, Key: []byte("pg"), Value: off.Marshal()}).FirstErr())
	must(t, pg.Exec(ctx, "postgres", `INSERT INTO a VALUES (11)`))

	d, _ = stoppableDaemon(t, yaml)
	waitStatus(t, d, "pg", time.Minute, streaming)
	// The snapshot reads the table as it is now (id 11 included); the
	// insert of 11 streams after it, from the stored position.
	recs := c.next(12, time.Minute)
	for i, r := range recs[:11] {
		if r.op() != "r" || !jsonEq(r.Key, map[string]any{"id": i + 1}) {
			t.Fatalf("record %d: %s %v; want the snapshot row of id %d", i, r.op(), r.Key, i+1)
		}
	}
	if r := recs[11]; r.op() != "c" || !jsonEq(r.Key, map[string]any{"id": 11}) {
		t.Fatalf("after the snapshot: %s %v; want the insert of id 11", r.op(), r.Key)
	}
	c.none(time.Second)
	stored, err = offsets.ReadAll(ctx, []kgo.Opt{kgo.SeedBrokers(broker)}, offsets.DefaultTopic)
	must(t, err)
	if off, err = offsets.UnmarshalPostgres(stored["pg"]); err != nil || len(off.AdHoc) != 0 {
		t.Fatalf("stored offset after the snapshot: %+v (%v); want no ad-hoc tables", off, err)
	}
}
