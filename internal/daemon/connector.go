package daemon

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluice-cdc/sluice/change"
	"github.com/sluice-cdc/sluice/configs"
	"github.com/sluice-cdc/sluice/internal/api"
	"github.com/sluice-cdc/sluice/internal/metrics"
	"github.com/sluice-cdc/sluice/internal/pipeline"
	"github.com/sluice-cdc/sluice/internal/runtime"
)

// connector is a supervised connector and what the daemon knows of it
// besides the supervisor: its configuration, lag probe and counters.
type connector struct {
	name   string
	c      runtime.Connector
	source *configs.Source // one of source and sink is set
	sink   *configs.Sink
	lag    func(ctx context.Context) (api.Lag, error) // sources only
	stats  *sourceStats                               // sources only
	// snapshot queues an ad-hoc snapshot of tables; sources only.
	snapshot func(tables []string) error

	mu        sync.Mutex       // guards estimates and rate
	estimates map[string]int64 // snapshot row estimates (MySQL)
	rate      rateWindow

	probeMu sync.Mutex // held by the one lag probe in flight
	cacheMu sync.Mutex // guards the last measurement
	lagAt   time.Time  // when lagVal was measured
	lagVal  api.Lag
	lagErr  error
}

// sourceStats are a source's counters, updated per committed batch.
type sourceStats struct {
	events      atomic.Int64 // events committed to Kafka
	lastEventUs atomic.Int64 // source commit time of the last committed event
	lagMs       atomic.Int64 // commit-to-Kafka minus source commit, last batch
	measured    atomic.Bool  // lagMs holds a measurement
}

func (c *connector) setEstimates(m map[string]int64) {
	c.mu.Lock()
	c.estimates = m
	c.mu.Unlock()
}

// probeLag returns the lag, measured at most once every 2s (every 0.5s
// while measuring fails: the slot may be about to be created). One probe
// runs at a time, detached from ctx and bounded by its own timeout; a
// caller that finds one in flight, or whose ctx ends first, gets the last
// measurement.
func (c *connector) probeLag(ctx context.Context) (api.Lag, error) {
	if c.lag == nil {
		return api.Lag{}, nil
	}
	cached := func() (api.Lag, error, bool) {
		c.cacheMu.Lock()
		defer c.cacheMu.Unlock()
		ttl := 2 * time.Second
		if c.lagErr != nil {
			ttl = 500 * time.Millisecond
		}
		if c.lagAt.IsZero() {
			return api.Lag{}, errors.New("lag not measured yet"), false
		}
		return c.lagVal, c.lagErr, time.Since(c.lagAt) < ttl
	}
	val, err, fresh := cached()
	if fresh || !c.probeMu.TryLock() {
		return val, err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer c.probeMu.Unlock()
		pctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		v, err := c.lag(pctx)
		c.cacheMu.Lock()
		c.lagVal, c.lagErr, c.lagAt = v, err, time.Now()
		c.cacheMu.Unlock()
	}()
	select {
	case <-done:
		val, err, _ = cached()
	case <-ctx.Done():
	}
	return val, err
}

// meter wraps a source's writer so that each batch updates the metrics and
// the connector's counters. It adds no work per event beyond comparing
// topics: counts are taken per run of events of one topic.
func (c *connector) meter(m *metrics.Metrics, w *pipeline.SourceWriter) *meteredWriter {
	return &meteredWriter{w: w, m: m.Source(c.name), st: c.stats}
}

// meteredWriter is a sources.Emitter (and raw writer) in front of a
// pipeline.SourceWriter.
type meteredWriter struct {
	w       *pipeline.SourceWriter
	m       *metrics.SourceMeter
	st      *sourceStats
	pending int64
	lastTs  int64
}

func (mw *meteredWriter) Emit(ctx context.Context, evs []change.Event) error {
	if err := mw.w.Emit(ctx, evs); err != nil {
		return err
	}
	for i := 0; i < len(evs); {
		j := i + 1
		for j < len(evs) && evs[j].Topic == evs[i].Topic {
			j++
		}
		var table string
		if !mw.m.Known(evs[i].Topic) {
			table = tableLabel(&evs[i])
		}
		ts := evs[j-1].Source.TsUs
		mw.m.Emitted(evs[i].Topic, table, j-i, ts)
		if ts > mw.lastTs {
			mw.lastTs = ts
		}
		i = j
	}
	mw.pending += int64(len(evs))
	return nil
}

// tableLabel names an event's table for metrics: schema.table or
// db.table, or the topic for events of no table.
func tableLabel(e *change.Event) string {
	switch {
	case e.Source.Table == "":
		return e.Topic
	case e.Source.Schema != "":
		return e.Source.Schema + "." + e.Source.Table
	case e.Source.DB != "":
		return e.Source.DB + "." + e.Source.Table
	}
	return e.Source.Table
}

// SetTransform sets the writer's transform (see pipeline.SourceWriter).
func (mw *meteredWriter) SetTransform(tf pipeline.Transform) { mw.w.SetTransform(tf) }

func (mw *meteredWriter) Heartbeat(ctx context.Context, serverName string, tsMs int64) error {
	return mw.w.Heartbeat(ctx, serverName, tsMs)
}

func (mw *meteredWriter) WriteRaw(ctx context.Context, topic string, key, value []byte) error {
	return mw.w.WriteRaw(ctx, topic, key, value)
}

func (mw *meteredWriter) Commit(ctx context.Context, offset []byte) error {
	start := time.Now()
	err := mw.w.Commit(ctx, offset)
	mw.m.Committed(err, time.Since(start))
	if err == nil {
		mw.st.events.Add(mw.pending)
		if mw.lastTs > 0 {
			mw.st.lastEventUs.Store(mw.lastTs)
			if mw.pending > 0 {
				mw.st.lagMs.Store(max(0, time.Since(time.UnixMicro(mw.lastTs)).Milliseconds()))
				mw.st.measured.Store(true)
			}
		}
	}
	mw.pending = 0
	return err
}

// rateWindow keeps a few counter samples to compute a per-second rate
// over the last ~10 seconds.
type rateWindow struct {
	samples [6]rateSample
	n, next int
}

type rateSample struct {
	at    time.Time
	count int64
}

func (r *rateWindow) add(at time.Time, count int64) {
	r.samples[r.next] = rateSample{at, count}
	r.next = (r.next + 1) % len(r.samples)
	if r.n < len(r.samples) {
		r.n++
	}
}

// perSecond is the rate between the oldest and newest samples.
func (r *rateWindow) perSecond() float64 {
	if r.n < 2 {
		return 0
	}
	newest := r.samples[(r.next-1+len(r.samples))%len(r.samples)]
	oldest := r.samples[(r.next-r.n+len(r.samples))%len(r.samples)]
	dt := newest.at.Sub(oldest.at).Seconds()
	if dt <= 0 || newest.count < oldest.count {
		return 0
	}
	return float64(newest.count-oldest.count) / dt
}
