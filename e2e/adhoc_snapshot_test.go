package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/internal/harness"
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
