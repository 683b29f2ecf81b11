package daemon

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/sluice-cdc/sluice/internal/api"
	"github.com/sluice-cdc/sluice/internal/metrics"
	"github.com/sluice-cdc/sluice/internal/runtime"
	"github.com/sluice-cdc/sluice/sources"
	"github.com/sluice-cdc/sluice/sources/mysql"
	"github.com/sluice-cdc/sluice/sources/postgres"
)

// The daemon is the REST API's backend.
var _ api.Backend = (*Daemon)(nil)

func (d *Daemon) conn(name string) (*connector, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	c, ok := d.conns[name]
	if !ok {
		return nil, fmt.Errorf("connector %s: %w", name, runtime.ErrNotFound)
	}
	return c, nil
}

// Connectors returns the connectors' names, sorted.
func (d *Daemon) Connectors() []string { return d.sup.Names() }

// ConnectorInfo returns a connector's configuration with secrets redacted.
func (d *Daemon) ConnectorInfo(name string) (api.ConnectorInfo, error) {
	c, err := d.conn(name)
	if err != nil {
		return api.ConnectorInfo{}, err
	}
	in := api.ConnectorInfo{Name: name, Tasks: []api.Task{{Connector: name, Task: 0}}}
	if c.source != nil {
		in.Type, in.Config = "source", *c.source // Source's MarshalJSON redacts
	} else {
		in.Type, in.Config = "sink", *c.sink
	}
	return in, nil
}

// Snapshot queues an ad-hoc snapshot of tables (schema.table or
// db.table) on a source connector; it runs at the connector's next
// transaction boundary.
func (d *Daemon) Snapshot(name string, tables []string) error {
	c, err := d.conn(name)
	if err != nil {
		return err
	}
	if c.snapshot == nil {
		return &api.Error{ErrorCode: http.StatusBadRequest, Message: "connector " + name + " is a sink: only source connectors take snapshots"}
	}
	if err := c.snapshot(tables); err != nil {
		code := http.StatusBadRequest
		if errors.Is(err, sources.ErrSnapshotPending) {
			code = http.StatusConflict
		}
		return &api.Error{ErrorCode: code, Message: "connector " + name + ": " + err.Error()}
	}
	d.log.Info("ad-hoc snapshot requested", "connector", name, "tables", tables)
	return nil
}

// Pause pauses a connector.
func (d *Daemon) Pause(name string) error { return d.sup.Pause(name) }

// Resume resumes a paused connector.
func (d *Daemon) Resume(name string) error { return d.sup.Resume(name) }

// Restart restarts a connector at once.
func (d *Daemon) Restart(name string) error { return d.sup.Restart(name) }

// Ready reports whether every connector is RUNNING, PAUSED or FINISHED and
// the Kafka broker answers.
func (d *Daemon) Ready(ctx context.Context) error {
	var bad []string
	for _, st := range d.sup.Statuses() {
		switch st.State {
		case runtime.StateRunning, runtime.StatePaused, runtime.StateFinished:
		default:
			bad = append(bad, st.Name+" is "+st.State)
		}
	}
	if len(bad) > 0 {
		return errors.New("connectors not running: " + strings.Join(bad, ", "))
	}
	if d.env.Admin == nil {
		return errors.New("kafka client closed")
	}
	if err := d.env.Admin.Ping(ctx); err != nil {
		return fmt.Errorf("kafka broker unreachable: %w", err)
	}
	return nil
}

// ConnectorStatus returns a connector's status in the API's shape.
func (d *Daemon) ConnectorStatus(ctx context.Context, name string) (api.ConnectorStatus, error) {
	st, ok := d.sup.Status(name)
	if !ok {
		return api.ConnectorStatus{}, fmt.Errorf("connector %s: %w", name, runtime.ErrNotFound)
	}
	c, err := d.conn(name)
	if err != nil {
		return api.ConnectorStatus{}, err
	}
	out := api.ConnectorStatus{
		Name:          name,
		Connector:     api.ConnectorState{State: st.State, WorkerID: d.workerID},
		Type:          st.Kind,
		ConnectorType: st.Type,
		Since:         st.Since,
		Restarts:      st.Restarts,
		NextRetry:     st.NextRetry,
		LastError:     st.LastError,
		LastErrorTime: st.LastErrorTime,
	}
	task := api.TaskState{ID: 0, State: st.State, WorkerID: d.workerID, Trace: st.Error}
	if st.State == runtime.StateRestarting && st.Error != "" {
		// The task failed; the connector waits to restart it.
		task.State = runtime.StateFailed
	}
	if st.State == runtime.StateFailed {
		out.Connector.Trace = st.Error
	}
	out.Tasks = []api.TaskState{task}

	// Probe first: the MySQL probe also refreshes the snapshot estimates.
	var (
		probe    api.Lag
		probeErr error
		probed   bool
	)
	if c.lag != nil && (st.State == runtime.StateRunning || st.State == runtime.StatePaused) {
		probe, probeErr = c.probeLag(ctx)
		probed = true
	}

	switch det := st.Details.(type) {
	case postgres.StatusSnapshot:
		out.Phase = det.State
		out.Position = map[string]any{}
		if det.CommitLSN != "" {
			out.Position["commit_lsn"] = det.CommitLSN
		}
		if det.ConfirmedLSN != "" {
			out.Position["confirmed_flush_lsn"] = det.ConfirmedLSN
		}
		if len(det.Snapshot) > 0 {
			out.Snapshot = map[string]api.TableProgress{}
			for t, p := range det.Snapshot {
				out.Snapshot[t] = api.TableProgress{Rows: p.Rows, Estimated: p.Estimated, Done: p.Done}
			}
		}
	case mysql.StatusSnapshot:
		out.Phase = det.State
		out.Position = map[string]any{}
		if det.File != "" {
			out.Position["file"] = det.File
			out.Position["pos"] = det.Pos
		}
		if det.GTIDs != "" {
			out.Position["gtids"] = det.GTIDs
		}
		if len(det.Snapshot) > 0 {
			c.mu.Lock()
			est := c.estimates
			c.mu.Unlock()
			out.Snapshot = map[string]api.TableProgress{}
			for t, n := range det.Snapshot {
				out.Snapshot[t] = api.TableProgress{Rows: n, Estimated: est[t], Done: det.State == "streaming" || det.State == "finished"}
			}
		}
	case runtime.SinkStatusSnapshot:
		sinkStatus(&out, det)
	case ESSinkStatus:
		sinkStatus(&out, det.SinkStatusSnapshot)
		out.Details = det.Index
	}
	if len(out.Position) == 0 {
		out.Position = nil
	}
	if st.State != runtime.StateRunning && st.State != runtime.StateFinished {
		// The source's phase is where it was when it stopped: not current.
		out.Phase = ""
	}
	if c.stats != nil {
		out.Events = c.stats.events.Load()
		if us := c.stats.lastEventUs.Load(); us > 0 {
			t := time.UnixMicro(us).UTC()
			out.LastEventTime = &t
		}
		lag := &api.Lag{}
		if c.stats.measured.Load() {
			ms := c.stats.lagMs.Load()
			lag.Ms = &ms
		}
		if probed {
			if probeErr != nil {
				lag.Error = probeErr.Error()
			} else {
				lag.Bytes, lag.RetainedWALBytes, lag.ServerPosition = probe.Bytes, probe.RetainedWALBytes, probe.ServerPosition
			}
		}
		out.Lag = lag
	}
	c.mu.Lock()
	out.EventsPerSecond = c.rate.perSecond()
	c.mu.Unlock()
	return out, nil
}

// sinkStatus fills a sink's records and positions.
func sinkStatus(out *api.ConnectorStatus, det runtime.SinkStatusSnapshot) {
	out.Events = det.Records
	if len(det.Positions) > 0 {
		out.Position = map[string]any{"offsets": det.Positions}
	}
}

// events returns a connector's committed event (sink: record) count.
func (d *Daemon) events(c *connector) int64 {
	if c.stats != nil {
		return c.stats.events.Load()
	}
	if c.c.Details != nil {
		switch det := c.c.Details().(type) {
		case runtime.SinkStatusSnapshot:
			return det.Records
		case ESSinkStatus:
			return det.Records
		}
	}
	return 0
}

// sampleRates samples every connector's event count every 2s for the
// events_per_second of the status.
func (d *Daemon) sampleRates(ctx context.Context) {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		d.mu.Lock()
		conns := make([]*connector, 0, len(d.conns))
		for _, c := range d.conns {
			conns = append(conns, c)
		}
		d.mu.Unlock()
		now := time.Now()
		for _, c := range conns {
			n := d.events(c)
			c.mu.Lock()
			c.rate.add(now, n)
			c.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// samples is what the metrics' status collector reports at each scrape.
func (d *Daemon) samples() []metrics.ConnectorSample {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var out []metrics.ConnectorSample
	for _, name := range d.sup.Names() {
		st, err := d.ConnectorStatus(ctx, name)
		if err != nil {
			continue
		}
		s := metrics.ConnectorSample{Name: name, Kind: st.Type, Type: st.ConnectorType, State: st.Connector.State, Restarts: st.Restarts}
		tables := make([]string, 0, len(st.Snapshot))
		for t := range st.Snapshot {
			tables = append(tables, t)
		}
		sort.Strings(tables)
		for _, t := range tables {
			p := st.Snapshot[t]
			s.Snapshot = append(s.Snapshot, metrics.TableProgress{Table: t, Rows: p.Rows, Estimated: p.Estimated})
		}
		if st.Lag != nil {
			s.LagBytes, s.RetainedWALBytes = st.Lag.Bytes, st.Lag.RetainedWALBytes
		}
		out = append(out, s)
	}
	return out
}
