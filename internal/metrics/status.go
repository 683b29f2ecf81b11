package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// ConnectorSample is what the status collector reports of one connector at
// scrape time.
type ConnectorSample struct {
	Name, Kind, Type, State string
	Restarts                int
	// Snapshot is the snapshot progress per table.
	Snapshot []TableProgress
	// LagBytes is how far the source is behind the database's log end:
	// Postgres pg_current_wal_lsn() - confirmed_flush_lsn, MySQL the
	// binlog end minus the connector's position. Nil when unknown.
	LagBytes *int64
	// RetainedWALBytes is what the Postgres slot makes the server keep
	// (pg_current_wal_lsn() - restart_lsn). Nil for other sources.
	RetainedWALBytes *int64
}

// TableProgress is one table's snapshot progress.
type TableProgress struct {
	Table     string
	Rows      int64
	Estimated int64 // 0 when unknown
}

// States are the states reported by sluice_connector_state.
var States = []string{"UNASSIGNED", "RUNNING", "PAUSED", "FAILED", "RESTARTING", "FINISHED"}

var (
	stateDesc     = prometheus.NewDesc("sluice_connector_state", "1 for the connector's current state, 0 for the others.", []string{"connector", "kind", "type", "state"}, nil)
	restartsDesc  = prometheus.NewDesc("sluice_connector_restarts_total", "Restarts after a failure (retries).", []string{"connector"}, nil)
	snapRowsDesc  = prometheus.NewDesc("sluice_snapshot_rows", "Rows read by the snapshot so far.", []string{"connector", "table"}, nil)
	snapEstDesc   = prometheus.NewDesc("sluice_snapshot_rows_estimated", "The database's estimate of a table's rows (Postgres: when its snapshot started; MySQL: information_schema now).", []string{"connector", "table"}, nil)
	lagBytesDesc  = prometheus.NewDesc("sluice_source_lag_bytes", "Bytes of the database's log (WAL or binlog) not yet committed by the source.", []string{"connector"}, nil)
	retainedDesc  = prometheus.NewDesc("sluice_postgres_replication_slot_retained_wal_bytes", "WAL the replication slot makes the server retain (pg_current_wal_lsn() - restart_lsn).", []string{"connector"}, nil)
	binlogLagDesc = prometheus.NewDesc("sluice_mysql_binlog_lag_bytes", "Binlog bytes between the server's current position and the connector's.", []string{"connector"}, nil)
)

// statusCollector calls a function at scrape time.
type statusCollector struct {
	samples func() []ConnectorSample
}

// CollectStatus registers a collector that reports the samples returned
// by f at each scrape. f may do I/O (it runs once per scrape); it should
// bound its own time.
func (m *Metrics) CollectStatus(f func() []ConnectorSample) {
	m.reg.MustRegister(statusCollector{samples: f})
}

func (c statusCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{stateDesc, restartsDesc, snapRowsDesc, snapEstDesc, lagBytesDesc, retainedDesc, binlogLagDesc} {
		ch <- d
	}
}

func (c statusCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.samples() {
		for _, st := range States {
			v := 0.0
			if st == s.State {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(stateDesc, prometheus.GaugeValue, v, s.Name, s.Kind, s.Type, st)
		}
		ch <- prometheus.MustNewConstMetric(restartsDesc, prometheus.CounterValue, float64(s.Restarts), s.Name)
		for _, t := range s.Snapshot {
			ch <- prometheus.MustNewConstMetric(snapRowsDesc, prometheus.GaugeValue, float64(t.Rows), s.Name, t.Table)
			if t.Estimated > 0 {
				ch <- prometheus.MustNewConstMetric(snapEstDesc, prometheus.GaugeValue, float64(t.Estimated), s.Name, t.Table)
			}
		}
		if s.LagBytes != nil {
			ch <- prometheus.MustNewConstMetric(lagBytesDesc, prometheus.GaugeValue, float64(*s.LagBytes), s.Name)
			if s.Type == "mysql" {
				ch <- prometheus.MustNewConstMetric(binlogLagDesc, prometheus.GaugeValue, float64(*s.LagBytes), s.Name)
			}
		}
		if s.RetainedWALBytes != nil {
			ch <- prometheus.MustNewConstMetric(retainedDesc, prometheus.GaugeValue, float64(*s.RetainedWALBytes), s.Name)
		}
	}
}
