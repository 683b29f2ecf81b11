package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/sluice-cdc/sluice/internal/api"
	"github.com/sluice-cdc/sluice/internal/daemon"
	"github.com/sluice-cdc/sluice/internal/esemu"
	"github.com/sluice-cdc/sluice/internal/harness"
	"github.com/sluice-cdc/sluice/internal/runtime"
)

const apiToken = "t0ken-for-tests"

// apiClient calls a daemon's REST API in tests.
type apiClient struct {
	t     *testing.T
	base  string
	token string
}

func newAPIClient(t *testing.T, d *daemon.Daemon, token string) *apiClient {
	t.Helper()
	if d.APIAddr() == "" {
		t.Fatal("the API is disabled")
	}
	return &apiClient{t: t, base: "http://" + d.APIAddr(), token: token}
}

// do sends a request and returns the status code and body. Every body is
// checked for the DSN password the tests configure.
func (c *apiClient) do(method, path string) (int, []byte) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, nil)
	must(c.t, err)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	must(c.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	must(c.t, err)
	if strings.Contains(string(b), "hunter2") {
		c.t.Errorf("%s %s leaks the password: %s", method, path, b)
	}
	if ct := resp.Header.Get("Content-Type"); path != "/metrics" && !strings.HasPrefix(ct, "application/json") && resp.StatusCode != http.StatusAccepted {
		c.t.Errorf("%s %s: content type %q", method, path, ct)
	}
	return resp.StatusCode, b
}

// want sends a request and fails unless it answers code; it decodes a
// JSON body into out when out is not nil.
func (c *apiClient) want(code int, method, path string, out any) {
	c.t.Helper()
	got, b := c.do(method, path)
	if got != code {
		c.t.Fatalf("%s %s: %d, want %d: %s", method, path, got, code, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: decode %s: %v", method, path, b, err)
		}
	}
}

func (c *apiClient) status(name string) api.ConnectorStatus {
	c.t.Helper()
	var st api.ConnectorStatus
	c.want(http.StatusOK, "GET", "/connectors/"+name+"/status", &st)
	return st
}

func (c *apiClient) waitStatus(name string, timeout time.Duration, cond func(api.ConnectorStatus) bool) api.ConnectorStatus {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	var st api.ConnectorStatus
	for time.Now().Before(deadline) {
		// 404 while a reload has not added the connector yet.
		if code, body := c.do("GET", "/connectors/"+name+"/status"); code == http.StatusOK {
			st = api.ConnectorStatus{}
			must(c.t, json.Unmarshal(body, &st))
			if cond(st) {
				return st
			}
		} else if code != http.StatusNotFound {
			c.t.Fatalf("status of %s: %d %s", name, code, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	b, _ := json.MarshalIndent(st, "", "  ")
	c.t.Fatalf("connector %s: condition not met within %s; last status:\n%s", name, timeout, b)
	return st
}

func apiStreaming(st api.ConnectorStatus) bool {
	return st.Connector.State == runtime.StateRunning && st.Phase == "streaming"
}

func writeToken(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "token")
	must(t, os.WriteFile(p, []byte(apiToken+"\n"), 0o600))
	return p
}

// slotActive reports whether a walsender reads the slot.
func slotActive(ctx context.Context, t *testing.T, pg *harness.Postgres, slot string) bool {
	t.Helper()
	conn, err := pgx.Connect(ctx, pg.DSN("postgres"))
	must(t, err)
	defer conn.Close(ctx)
	var active bool
	must(t, conn.QueryRow(ctx, "SELECT active FROM pg_replication_slots WHERE slot_name = $1", slot).Scan(&active))
	return active
}

// TestAPIConnectorLifecycle drives a Postgres source through the REST API:
// token auth, status while streaming, pause (the slot is released, no
// events), resume, restart, the database going away (task FAILED with its
// cause, not ready) and coming back (RUNNING after a restart), error
// shapes, redaction and the 400 of an ad-hoc snapshot without tables.
func TestAPIConnectorLifecycle(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	pg := harness.StartPostgres(t)
	must(t, pg.CreateDatabase(ctx, "app"))
	must(t, pg.Exec(ctx, "app", `CREATE TABLE items (id int PRIMARY KEY, name text)`))
	dsn := fmt.Sprintf("postgres://postgres:hunter2@%s/app?sslmode=disable", pg.Addr())
	d := runDaemon(t, fmt.Sprintf("api: {listen: \"127.0.0.1:0\", token_file: %q}\n", writeToken(t))+
		pgSourceYAML("items", dsn, "tables: [public.items]"))
	c := newAPIClient(t, d, apiToken)
	cons := newConsumer(t, d.Brokers(), "items.public.items")
	insert := func(from, to int) {
		t.Helper()
		for i := from; i <= to; i++ {
			must(t, pg.Exec(ctx, "app", fmt.Sprintf("INSERT INTO items VALUES (%d, 'n%d')", i, i)))
		}
	}

	t.Run("token", func(t *testing.T) {
		for _, tok := range []string{"", "wrong", apiToken + "x"} {
			code, body := (&apiClient{t: t, base: c.base, token: tok}).do("GET", "/connectors")
			var e api.Error
			if code != http.StatusUnauthorized || json.Unmarshal(body, &e) != nil || e.ErrorCode != 401 {
				t.Errorf("token %q: %d %s", tok, code, body)
			}
		}
		// Probes need no token.
		(&apiClient{t: t, base: c.base}).want(http.StatusOK, "GET", "/healthz", nil)
		var names []string
		c.want(http.StatusOK, "GET", "/connectors", &names)
		if len(names) != 1 || names[0] != "items" {
			t.Errorf("connectors %v", names)
		}
	})

	st := c.waitStatus("items", time.Minute, apiStreaming)
	if st.Type != "source" || st.ConnectorType != "postgres" || len(st.Tasks) != 1 || st.Tasks[0].State != runtime.StateRunning || st.Connector.WorkerID == "" {
		t.Errorf("status shape: %+v", st)
	}
	c.want(http.StatusOK, "GET", "/readyz", nil)
	insert(1, 3)
	cons.next(3, time.Minute)
	// The slot lag is measured at most every 0.5s while it fails (before
	// the slot existed), so it may lag behind the rest for a moment.
	st = c.waitStatus("items", 30*time.Second, func(st api.ConnectorStatus) bool {
		return st.Events == 3 && st.Position["commit_lsn"] != nil && st.Lag != nil && st.Lag.Bytes != nil
	})
	if st.Lag.Ms == nil || st.Lag.RetainedWALBytes == nil || st.LastEventTime == nil {
		t.Errorf("lag and last event time missing: %+v", st.Lag)
	}

	t.Run("info is redacted", func(t *testing.T) {
		var in api.ConnectorInfo
		c.want(http.StatusOK, "GET", "/connectors/items", &in)
		cfg, _ := in.Config.(map[string]any)
		if in.Type != "source" || !strings.Contains(fmt.Sprint(cfg["dsn"]), "postgres:*****@") {
			t.Errorf("info: %+v", in)
		}
	})

	t.Run("pause stops reading, resume starts again", func(t *testing.T) {
		c.want(http.StatusAccepted, "POST", "/connectors/items/pause", nil)
		c.waitStatus("items", 10*time.Second, func(st api.ConnectorStatus) bool { return st.Connector.State == runtime.StatePaused })
		deadline := time.Now().Add(30 * time.Second)
		for slotActive(ctx, t, pg, "sluice_items") {
			if time.Now().After(deadline) {
				t.Fatal("the slot is still read 30s after the pause")
			}
			time.Sleep(50 * time.Millisecond)
		}
		c.want(http.StatusOK, "GET", "/readyz", nil) // PAUSED is ready
		insert(4, 4)
		cons.none(1500 * time.Millisecond)
		c.want(http.StatusAccepted, "POST", "/connectors/items/resume", nil)
		c.waitStatus("items", time.Minute, apiStreaming)
		if r := cons.next(1, time.Minute); !jsonEq(r[0].Key, map[string]any{"id": 4}) {
			t.Errorf("after resume: %v", r[0].Key)
		}
	})

	t.Run("restart", func(t *testing.T) {
		before := c.status("items")
		c.want(http.StatusAccepted, "POST", "/connectors/items/restart", nil)
		st := c.waitStatus("items", time.Minute, func(st api.ConnectorStatus) bool { return apiStreaming(st) && st.Since.After(before.Since) })
		if st.Restarts != before.Restarts {
			t.Errorf("a requested restart counted as a failure: %d -> %d", before.Restarts, st.Restarts)
		}
		insert(5, 5)
		cons.next(1, time.Minute)
	})

	t.Run("database down: FAILED task with cause, then RUNNING after restart", func(t *testing.T) {
		must(t, pg.Stop(ctx))
		st := c.waitStatus("items", time.Minute, func(st api.ConnectorStatus) bool {
			return st.Tasks[0].State == runtime.StateFailed && st.Tasks[0].Trace != ""
		})
		if st.Connector.State != runtime.StateRestarting || st.NextRetry.IsZero() || st.Restarts < 1 {
			t.Errorf("connector while the database is down: %+v", st)
		}
		if !strings.Contains(st.Tasks[0].Trace, "Caused by:") {
			t.Errorf("trace has no cause chain: %q", st.Tasks[0].Trace)
		}
		t.Logf("trace while the database is down:\n%s", st.Tasks[0].Trace)
		code, body := c.do("GET", "/readyz")
		if code != http.StatusServiceUnavailable || !strings.Contains(string(body), "items is RESTARTING") {
			t.Errorf("readyz while failing: %d %s", code, body)
		}
		must(t, pg.Start(ctx))
		c.want(http.StatusAccepted, "POST", "/connectors/items/restart", nil)
		st = c.waitStatus("items", time.Minute, apiStreaming)
		if st.LastError == "" || st.Tasks[0].Trace != "" {
			t.Errorf("after recovery: last error %q, trace %q", st.LastError, st.Tasks[0].Trace)
		}
		insert(6, 6)
		if r := cons.next(1, time.Minute); !jsonEq(r[0].Key, map[string]any{"id": 6}) {
			t.Errorf("after recovery: %v", r[0].Key)
		}
	})

	t.Run("errors", func(t *testing.T) {
		for _, r := range []struct {
			method, path string
			code         int
		}{
			{"GET", "/connectors/nope/status", 404},
			{"GET", "/connectors/nope", 404},
			{"POST", "/connectors/nope/pause", 404},
			{"GET", "/connectors/items/pause", 405},
			{"GET", "/nothing/here", 404},
			{"POST", "/connectors/items/snapshot", 400}, // no tables named
		} {
			code, body := c.do(r.method, r.path)
			var e api.Error
			if code != r.code || json.Unmarshal(body, &e) != nil || e.ErrorCode != r.code || e.Message == "" {
				t.Errorf("%s %s: %d %s; want a JSON error %d", r.method, r.path, code, body, r.code)
			}
		}
	})
}

// TestMetrics scrapes /metrics, parses it with the Prometheus text parser
// and checks that the counters move when events flow.
func TestMetrics(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	pg := harness.StartPostgres(t)
	must(t, pg.Exec(ctx, "postgres", `CREATE TABLE m (id int PRIMARY KEY); INSERT INTO m SELECT generate_series(1, 10);`))
	es := esemu.New(esemu.Options{})
	defer es.Close()
	d := runDaemon(t, "api: {listen: \"127.0.0.1:0\"}\n"+pgSourceYAML("met", pg.DSN("postgres"), "tables: [public.m]")+`
sinks:
  - name: met-copy
    type: sql
    topics: ["met\\.public\\.m"]
    dsn: sqlite://`+filepath.Join(t.TempDir(), "copy.db")+`
  - name: met-search
    type: elasticsearch
    topics: ["met\\.public\\.m"]
    urls: [`+es.URL+`]
    bulk.flush_interval: 20ms
`)
	c := newAPIClient(t, d, "")
	c.waitStatus("met", time.Minute, apiStreaming)

	scrape := func() map[string]float64 {
		t.Helper()
		code, body := c.do("GET", "/metrics")
		if code != 200 {
			t.Fatalf("metrics: %d", code)
		}
		p := expfmt.NewTextParser(model.UTF8Validation)
		fams, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
		if err != nil {
			t.Fatalf("parse metrics: %v", err)
		}
		out := map[string]float64{}
		for name, f := range fams {
			for _, m := range f.GetMetric() {
				key := name
				for _, l := range m.GetLabel() {
					key += fmt.Sprintf(",%s=%s", l.GetName(), l.GetValue())
				}
				switch {
				case m.Counter != nil:
					out[key] = m.Counter.GetValue()
				case m.Gauge != nil:
					out[key] = m.Gauge.GetValue()
				case m.Histogram != nil:
					out[key+",count"] = float64(m.Histogram.GetSampleCount())
				}
			}
		}
		return out
	}
	waitMetric := func(key string, cond func(float64) bool) map[string]float64 {
		t.Helper()
		deadline := time.Now().Add(time.Minute)
		for {
			m := scrape()
			if v, ok := m[key]; ok && cond(v) {
				return m
			}
			if time.Now().After(deadline) {
				t.Fatalf("metric %s: %v (present: %v)", key, m[key], func() bool { _, ok := m[key]; return ok }())
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	written := "sluice_source_events_written_total,connector=met,table=public.m"
	waitMetric(written, func(v float64) bool { return v == 10 })
	// The slot lag is re-measured every 0.5s while it fails (before the
	// slot existed).
	m := waitMetric("sluice_source_lag_bytes,connector=met", func(float64) bool { return true })
	for _, k := range []string{
		"sluice_source_events_read_total,connector=met,table=public.m",
		"sluice_connector_state,connector=met,kind=source,state=RUNNING,type=postgres",
		"sluice_source_batch_events,connector=met,count",
		"sluice_snapshot_rows,connector=met,table=public.m",
		"sluice_source_lag_bytes,connector=met",
		"sluice_postgres_replication_slot_retained_wal_bytes,connector=met",
		"sluice_connector_restarts_total,connector=met",
		"go_goroutines",
		"process_resident_memory_bytes",
	} {
		if _, ok := m[k]; !ok {
			t.Errorf("metric %s missing", k)
		}
	}
	if m["sluice_snapshot_rows,connector=met,table=public.m"] != 10 {
		t.Errorf("snapshot rows %v", m["sluice_snapshot_rows,connector=met,table=public.m"])
	}
	before := m["sluice_kafka_produced_bytes_total,connector=met"]
	must(t, pg.Exec(ctx, "postgres", `INSERT INTO m SELECT generate_series(11, 15); DELETE FROM m WHERE id = 1;`))
	// 5 creates, a delete and its tombstone.
	m = waitMetric(written, func(v float64) bool { return v == 17 })
	if m["sluice_kafka_produced_bytes_total,connector=met"] <= before {
		t.Errorf("produced bytes did not move: %v -> %v", before, m["sluice_kafka_produced_bytes_total,connector=met"])
	}
	if m["sluice_source_lag_seconds,connector=met"] <= 0 {
		t.Errorf("lag seconds %v", m["sluice_source_lag_seconds,connector=met"])
	}
	waitMetric("sluice_sink_records_written_total,connector=met-copy,topic=met.public.m", func(v float64) bool { return v == 17 })
	waitMetric("sluice_sink_records_written_total,connector=met-search,topic=met.public.m", func(v float64) bool { return v == 17 })
	// The Elasticsearch sink's status carries its index counters.
	st := c.waitStatus("met-search", time.Minute, func(st api.ConnectorStatus) bool { return st.Events == 17 })
	if det, _ := st.Details.(map[string]any); det == nil || st.ConnectorType != "elasticsearch" || st.Position == nil {
		t.Errorf("elasticsearch sink status: %+v", st)
	}
}

// TestAPIMySQLStatus checks a MariaDB source's status through the API: its
// binlog position, its lag in bytes behind the server's binlog end,
// snapshot progress with the server's row estimate, and the binlog lag
// metric.
func TestAPIMySQLStatus(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	my := harness.StartMariaDB(t)
	must(t, my.CreateDatabase(ctx, "shop"))
	must(t, my.Exec(ctx, "CREATE TABLE shop.items (id int PRIMARY KEY, name varchar(20)); INSERT INTO shop.items VALUES (1, 'a'), (2, 'b'), (3, 'c'); ANALYZE TABLE shop.items;"))
	d := runDaemon(t, "api: {listen: \"127.0.0.1:0\"}\n"+mySourceYAML("myshop", my.DSN(""), "tables: [shop.items]"))
	c := newAPIClient(t, d, "")
	c.waitStatus("myshop", time.Minute, apiStreaming)
	must(t, my.Exec(ctx, "INSERT INTO shop.items VALUES (4, 'd')"))
	st := c.waitStatus("myshop", time.Minute, func(st api.ConnectorStatus) bool {
		return st.Events == 4 && st.Lag != nil && st.Lag.Bytes != nil && st.Position["file"] != nil && st.Snapshot["shop.items"].Estimated > 0
	})
	if st.ConnectorType != "mysql" || st.Lag.ServerPosition == "" || *st.Lag.Bytes < 0 {
		t.Errorf("status: %+v lag %+v", st, st.Lag)
	}
	if p := st.Snapshot["shop.items"]; p.Rows != 3 || p.Estimated < 3 || !p.Done {
		t.Errorf("snapshot progress %+v", st.Snapshot)
	}
	code, body := c.do("GET", "/metrics")
	if code != 200 || !strings.Contains(string(body), `sluice_mysql_binlog_lag_bytes{connector="myshop"}`) {
		t.Errorf("metrics lack the binlog lag: %d", code)
	}
	b, _ := json.MarshalIndent(st, "", "  ")
	t.Logf("status:\n%s", b)
}
