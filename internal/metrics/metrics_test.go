package metrics

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestSourceMeterCountsCommittedBatches(t *testing.T) {
	m := New()
	s := m.Source("pg")
	s.Emitted("pg.public.a", "public.a", 3, time.Now().Add(-2*time.Second).UnixMicro())
	if !s.Known("pg.public.a") || s.Known("pg.public.b") {
		t.Fatal("Known")
	}
	s.Emitted("pg.public.b", "public.b", 1, 0)
	s.Emitted("pg.public.a", "", 2, 0)
	read := func(table string) float64 { return testutil.ToFloat64(m.sourceRead.WithLabelValues("pg", table)) }
	written := func(table string) float64 { return testutil.ToFloat64(m.sourceWritten.WithLabelValues("pg", table)) }
	if read("public.a") != 5 || read("public.b") != 1 || written("public.a") != 0 {
		t.Fatalf("before commit: read a %v b %v, written a %v", read("public.a"), read("public.b"), written("public.a"))
	}
	s.Committed(nil, time.Millisecond)
	if written("public.a") != 5 || written("public.b") != 1 {
		t.Fatalf("after commit: written a %v b %v", written("public.a"), written("public.b"))
	}
	if lag := testutil.ToFloat64(m.sourceLag.WithLabelValues("pg")); lag < 1.5 || lag > 60 {
		t.Errorf("lag %v", lag)
	}
	// A failed commit drops what was pending: those events are read again.
	s.Emitted("pg.public.a", "", 4, 0)
	s.Committed(errors.New("kafka down"), 0)
	s.Committed(nil, 0)
	if written("public.a") != 5 || read("public.a") != 9 {
		t.Errorf("after a failed commit: written %v, read %v", written("public.a"), read("public.a"))
	}
	m.Forget("pg")
	if n := testutil.CollectAndCount(m.sourceRead); n != 0 {
		t.Errorf("%d series left after Forget", n)
	}
}

func TestSinkMeterAndHooks(t *testing.T) {
	m := New()
	s := m.Sink("copy")
	recs := []*kgo.Record{{Topic: "a"}, {Topic: "a"}, {Topic: "b"}, {Topic: "a"}}
	s.Batch(recs, false, 0)
	s.Batch(recs, true, time.Millisecond)
	s.Rejected(2, true)
	s.FetchError()
	if v := testutil.ToFloat64(m.sinkWritten.WithLabelValues("copy", "a")); v != 3 {
		t.Errorf("written a = %v", v)
	}
	if v := testutil.ToFloat64(m.deadLetter.WithLabelValues("copy")); v != 2 {
		t.Errorf("dlq = %v", v)
	}
	h := m.KafkaHooks("copy").(*kafkaHooks)
	h.OnProduceBatchWritten(kgo.BrokerMetadata{}, "a", 0, kgo.ProduceBatchMetrics{UncompressedBytes: 100})
	h.OnProduceRecordUnbuffered(&kgo.Record{}, errors.New("NOT_LEADER"))
	h.OnProduceRecordUnbuffered(&kgo.Record{}, kgo.ErrAborting)
	if v := testutil.ToFloat64(m.producerErrs.WithLabelValues("copy")); v != 1 {
		t.Errorf("producer errors = %v", v)
	}
	var nilM *Metrics
	if nilM.Sink("x") != nil || nilM.Source("x") != nil || nilM.KafkaHooks("x") != nil {
		t.Error("nil metrics must give nil meters")
	}
	nilM.Sink("x").Batch(recs, true, 0) // no-op, no panic
}

func TestStatusCollector(t *testing.T) {
	m := New()
	lag, retained := int64(10), int64(20)
	m.CollectStatus(func() []ConnectorSample {
		return []ConnectorSample{{Name: "pg", Kind: "source", Type: "postgres", State: "RUNNING", Restarts: 2,
			Snapshot: []TableProgress{{Table: "public.a", Rows: 5, Estimated: 9}}, LagBytes: &lag, RetainedWALBytes: &retained}}
	})
	want := `
# HELP sluice_connector_restarts_total Restarts after a failure (retries).
# TYPE sluice_connector_restarts_total counter
sluice_connector_restarts_total{connector="pg"} 2
# HELP sluice_snapshot_rows_estimated The database's estimate of a table's rows (Postgres: when its snapshot started; MySQL: information_schema now).
# TYPE sluice_snapshot_rows_estimated gauge
sluice_snapshot_rows_estimated{connector="pg",table="public.a"} 9
# HELP sluice_postgres_replication_slot_retained_wal_bytes WAL the replication slot makes the server retain (pg_current_wal_lsn() - restart_lsn).
# TYPE sluice_postgres_replication_slot_retained_wal_bytes gauge
sluice_postgres_replication_slot_retained_wal_bytes{connector="pg"} 20
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want),
		"sluice_connector_restarts_total", "sluice_snapshot_rows_estimated", "sluice_postgres_replication_slot_retained_wal_bytes"); err != nil {
		t.Error(err)
	}
	if n, err := testutil.GatherAndCount(m.Registry(), "sluice_connector_state"); err != nil || n != len(States) {
		t.Errorf("state series %d, %v", n, err)
	}
	// The registry is Prometheus-lint clean for sluice's own metrics.
	probs, err := testutil.GatherAndLint(m.Registry())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range probs {
		if strings.HasPrefix(p.Metric, "sluice_") {
			t.Errorf("lint: %s: %s", p.Metric, p.Text)
		}
	}
}
