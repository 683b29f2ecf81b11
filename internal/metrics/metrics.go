package metrics

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Metrics holds sluice's metrics and their registry.
type Metrics struct {
	reg *prometheus.Registry

	sourceRead    *prometheus.CounterVec
	sourceWritten *prometheus.CounterVec
	sourceBatch   *prometheus.HistogramVec
	sourceCommit  *prometheus.HistogramVec
	sourceLag     *prometheus.GaugeVec
	lastEvent     *prometheus.GaugeVec
	sinkRead      *prometheus.CounterVec
	sinkWritten   *prometheus.CounterVec
	sinkBatch     *prometheus.HistogramVec
	sinkWrite     *prometheus.HistogramVec
	sinkRejected  *prometheus.CounterVec
	deadLetter    *prometheus.CounterVec
	producedBytes *prometheus.CounterVec
	fetchedBytes  *prometheus.CounterVec
	producerErrs  *prometheus.CounterVec
	consumerErrs  *prometheus.CounterVec

	vecs []interface {
		DeletePartialMatch(prometheus.Labels) int
	}
}

// batchBuckets suit batches of 1 to tens of thousands of events.
var batchBuckets = prometheus.ExponentialBuckets(1, 4, 9)

// New returns metrics registered on a new registry together with the Go
// runtime and process collectors.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{reg: reg}
	cv := func(name, help string, labels ...string) *prometheus.CounterVec {
		v := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
		reg.MustRegister(v)
		m.vecs = append(m.vecs, v)
		return v
	}
	gv := func(name, help string, labels ...string) *prometheus.GaugeVec {
		v := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
		reg.MustRegister(v)
		m.vecs = append(m.vecs, v)
		return v
	}
	hv := func(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
		v := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labels)
		reg.MustRegister(v)
		m.vecs = append(m.vecs, v)
		return v
	}
	m.sourceRead = cv("sluice_source_events_read_total", "Change events read from the source database (counted before transforms).", "connector", "table")
	m.sourceWritten = cv("sluice_source_events_written_total", "Change events read from the source whose Kafka transaction committed (counted before transforms, which may drop some).", "connector", "table")
	m.sourceBatch = hv("sluice_source_batch_events", "Events per committed Kafka transaction of a source.", batchBuckets, "connector")
	m.sourceCommit = hv("sluice_source_commit_duration_seconds", "Time to commit a source's Kafka transaction.", prometheus.DefBuckets, "connector")
	m.sourceLag = gv("sluice_source_lag_seconds", "Time between the source database's commit of the last committed event and its commit to Kafka.", "connector")
	m.lastEvent = gv("sluice_source_last_event_timestamp_seconds", "Source commit time of the last event committed to Kafka, as a Unix timestamp.", "connector")
	m.sinkRead = cv("sluice_sink_records_read_total", "Records a sink consumed from Kafka.", "connector", "topic")
	m.sinkWritten = cv("sluice_sink_records_written_total", "Records a sink made durable in its target (with their offsets).", "connector", "topic")
	m.sinkBatch = hv("sluice_sink_batch_records", "Records per sink write batch.", batchBuckets, "connector")
	m.sinkWrite = hv("sluice_sink_write_duration_seconds", "Time to write and commit one sink batch.", prometheus.DefBuckets, "connector")
	m.sinkRejected = cv("sluice_sink_records_rejected_total", "Records a sink could not apply and skipped (errors.tolerance: all).", "connector")
	m.deadLetter = cv("sluice_sink_dead_letter_records_total", "Records written to a sink's dead-letter topic.", "connector")
	m.producedBytes = cv("sluice_kafka_produced_bytes_total", "Uncompressed record bytes written to Kafka.", "connector")
	m.fetchedBytes = cv("sluice_kafka_fetched_bytes_total", "Uncompressed record bytes read from Kafka.", "connector")
	m.producerErrs = cv("sluice_kafka_producer_errors_total", "Records Kafka did not accept (produce failures).", "connector")
	m.consumerErrs = cv("sluice_kafka_consumer_errors_total", "Kafka fetch failures of a sink.", "connector")
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry returns the registry, for tests and extra collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus text (or OpenMetrics)
// format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Forget drops every series of a connector (it was removed).
func (m *Metrics) Forget(connector string) {
	for _, v := range m.vecs {
		v.DeletePartialMatch(prometheus.Labels{"connector": connector})
	}
}

// SourceMeter counts one source connector's batches. It is used by the
// source's goroutine only.
type SourceMeter struct {
	m         *Metrics
	connector string
	read      map[string]*tableCounters // by topic
	pending   []pendingCount
	batch     prometheus.Observer
	commit    prometheus.Observer
	lag       prometheus.Gauge
	last      prometheus.Gauge
	lastTsUs  int64
}

type tableCounters struct {
	read, written prometheus.Counter
}

type pendingCount struct {
	c *tableCounters
	n int
}

// Source returns a meter for a source connector; nil when m is nil.
func (m *Metrics) Source(connector string) *SourceMeter {
	if m == nil {
		return nil
	}
	return &SourceMeter{
		m: m, connector: connector, read: map[string]*tableCounters{},
		batch:  m.sourceBatch.WithLabelValues(connector),
		commit: m.sourceCommit.WithLabelValues(connector),
		lag:    m.sourceLag.WithLabelValues(connector),
		last:   m.lastEvent.WithLabelValues(connector),
	}
}

// Emitted counts n events of a topic added to the open transaction;
// table names the table for the label (computed by the caller only the
// first time a topic is seen: see Known). tsUs is the source commit time
// of the last of them (0 if unknown).
func (s *SourceMeter) Emitted(topic, table string, n int, tsUs int64) {
	if s == nil {
		return
	}
	c := s.read[topic]
	if c == nil {
		c = &tableCounters{read: s.m.sourceRead.WithLabelValues(s.connector, table), written: s.m.sourceWritten.WithLabelValues(s.connector, table)}
		s.read[topic] = c
	}
	c.read.Add(float64(n))
	if k := len(s.pending); k > 0 && s.pending[k-1].c == c {
		s.pending[k-1].n += n
	} else {
		s.pending = append(s.pending, pendingCount{c, n})
	}
	if tsUs > s.lastTsUs {
		s.lastTsUs = tsUs
	}
}

// Known reports whether a topic has been seen, so that the caller can
// skip computing its table label.
func (s *SourceMeter) Known(topic string) bool {
	if s == nil {
		return true
	}
	_, ok := s.read[topic]
	return ok
}

// Committed records a committed transaction (or a failed commit, which
// drops the pending counts: the events will be read again).
func (s *SourceMeter) Committed(err error, took time.Duration) {
	if s == nil {
		return
	}
	if err != nil {
		s.pending = s.pending[:0]
		return
	}
	total := 0
	for _, p := range s.pending {
		p.c.written.Add(float64(p.n))
		total += p.n
	}
	s.pending = s.pending[:0]
	s.commit.Observe(took.Seconds())
	if total > 0 {
		s.batch.Observe(float64(total))
	}
	if s.lastTsUs > 0 {
		now := time.Now()
		s.lag.Set(max(0, now.Sub(time.UnixMicro(s.lastTsUs)).Seconds()))
		s.last.Set(float64(s.lastTsUs) / 1e6)
	}
}

// SinkMeter counts one sink connector's batches; used by the sink's
// goroutine only.
type SinkMeter struct {
	m         *Metrics
	connector string
	topics    map[string]*tableCounters
	batch     prometheus.Observer
	write     prometheus.Observer
	rejected  prometheus.Counter
	dlq       prometheus.Counter
	errs      prometheus.Counter
}

// Sink returns a meter for a sink connector; nil when m is nil.
func (m *Metrics) Sink(connector string) *SinkMeter {
	if m == nil {
		return nil
	}
	return &SinkMeter{
		m: m, connector: connector, topics: map[string]*tableCounters{},
		batch:    m.sinkBatch.WithLabelValues(connector),
		write:    m.sinkWrite.WithLabelValues(connector),
		rejected: m.sinkRejected.WithLabelValues(connector),
		dlq:      m.deadLetter.WithLabelValues(connector),
		errs:     m.consumerErrs.WithLabelValues(connector),
	}
}

func (s *SinkMeter) topic(t string) *tableCounters {
	c := s.topics[t]
	if c == nil {
		c = &tableCounters{read: s.m.sinkRead.WithLabelValues(s.connector, t), written: s.m.sinkWritten.WithLabelValues(s.connector, t)}
		s.topics[t] = c
	}
	return c
}

// Batch records a batch of records consumed (written false) or made
// durable (written true), counted per topic run.
func (s *SinkMeter) Batch(recs []*kgo.Record, written bool, took time.Duration) {
	if s == nil || len(recs) == 0 {
		return
	}
	start := 0
	for i := 1; i <= len(recs); i++ {
		if i < len(recs) && recs[i].Topic == recs[start].Topic {
			continue
		}
		c := s.topic(recs[start].Topic)
		if written {
			c.written.Add(float64(i - start))
		} else {
			c.read.Add(float64(i - start))
		}
		start = i
	}
	if written {
		s.batch.Observe(float64(len(recs)))
		s.write.Observe(took.Seconds())
	}
}

// Rejected counts records skipped under errors.tolerance: all; dlq says
// they went to the dead-letter topic.
func (s *SinkMeter) Rejected(n int, dlq bool) {
	if s == nil || n == 0 {
		return
	}
	s.rejected.Add(float64(n))
	if dlq {
		s.dlq.Add(float64(n))
	}
}

// FetchError counts a failed fetch.
func (s *SinkMeter) FetchError() {
	if s != nil {
		s.errs.Inc()
	}
}

// KafkaHooks returns franz-go hooks that count a connector's bytes and
// produce failures; nil when m is nil.
func (m *Metrics) KafkaHooks(connector string) kgo.Hook {
	if m == nil {
		return nil
	}
	return &kafkaHooks{
		produced: m.producedBytes.WithLabelValues(connector),
		fetched:  m.fetchedBytes.WithLabelValues(connector),
		errs:     m.producerErrs.WithLabelValues(connector),
	}
}

type kafkaHooks struct {
	produced, fetched, errs prometheus.Counter
}

var (
	_ kgo.HookProduceBatchWritten     = (*kafkaHooks)(nil)
	_ kgo.HookFetchBatchRead          = (*kafkaHooks)(nil)
	_ kgo.HookProduceRecordUnbuffered = (*kafkaHooks)(nil)
)

func (h *kafkaHooks) OnProduceBatchWritten(_ kgo.BrokerMetadata, _ string, _ int32, bm kgo.ProduceBatchMetrics) {
	h.produced.Add(float64(bm.UncompressedBytes))
}

func (h *kafkaHooks) OnFetchBatchRead(_ kgo.BrokerMetadata, _ string, _ int32, bm kgo.FetchBatchMetrics) {
	h.fetched.Add(float64(bm.UncompressedBytes))
}

func (h *kafkaHooks) OnProduceRecordUnbuffered(_ *kgo.Record, err error) {
	if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, kgo.ErrAborting) {
		h.errs.Inc()
	}
}
