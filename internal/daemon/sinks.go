package daemon

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/sluice-cdc/sluice/change"
	"github.com/sluice-cdc/sluice/configs"
	"github.com/sluice-cdc/sluice/internal/runtime"
	essink "github.com/sluice-cdc/sluice/sinks/elasticsearch"
	sqlsink "github.com/sluice-cdc/sluice/sinks/sql"
	"github.com/sluice-cdc/sluice/transforms"
)

// sinkConnector builds a sink connector from its configuration.
func (d *Daemon) sinkConnector(sc *configs.Sink) (runtime.Connector, error) {
	chain, err := transforms.Compile(sc.Transforms)
	if err != nil {
		return runtime.Connector{}, fmt.Errorf("sink %s: %w", sc.Name, err)
	}
	log := d.log.With("connector", sc.Name)
	// What every sink task shares; the cases add their own.
	task := runtime.SinkOptions{
		Name:            sc.Name,
		Topics:          sc.Topics,
		ErrorsTolerance: sc.ErrorsTolerance,
		DeadLetterTopic: sc.ErrorsDeadLetterQueueTopicName,
		Transform:       sinkTransform(chain),
		Logger:          log,
	}
	status := &runtime.SinkStatus{}
	var (
		open    func(ctx context.Context) (runtime.SinkWriter, error)
		details = status.Snapshot
	)
	switch sc.Type {
	case configs.SinkSQL:
		opts := SQLSinkOptions(sc)
		opts.Logger = log
		if err := opts.Validate(); err != nil {
			return runtime.Connector{}, fmt.Errorf("sink %s: %w", sc.Name, err)
		}
		task.BatchSize = sc.BatchSize
		open = func(ctx context.Context) (runtime.SinkWriter, error) {
			s, err := sqlsink.Open(ctx, opts)
			if err != nil {
				return nil, err
			}
			return sqlWriter{s}, nil
		}
	case configs.SinkElasticsearch:
		opts := ElasticsearchSinkOptions(sc)
		opts.Logger = log
		opts.Counters = &essink.Counters{}
		if err := opts.Validate(); err != nil {
			return runtime.Connector{}, fmt.Errorf("sink %s: %w", sc.Name, err)
		}
		task.BatchSize = max(sc.BulkMaxActions, 1) * max(sc.Concurrency, 1)
		task.Linger = time.Duration(sc.BulkFlushInterval)
		details = func() any {
			return ESSinkStatus{SinkStatusSnapshot: status.Snapshot().(runtime.SinkStatusSnapshot), Index: opts.Counters.Snapshot()}
		}
		open = func(ctx context.Context) (runtime.SinkWriter, error) {
			s, err := essink.Open(ctx, opts)
			if err != nil {
				return nil, err
			}
			return esWriter{s}, nil
		}
	default:
		return runtime.Connector{}, fmt.Errorf("sink %s: unknown sink type %q", sc.Name, sc.Type)
	}
	return runtime.Connector{
		Name:    sc.Name,
		Kind:    "sink",
		Type:    sc.Type,
		Run:     runtime.SinkTask(d.env, task, status, open),
		Details: details,
	}, nil
}

// ElasticsearchSinkOptions maps an elasticsearch sink's configuration onto
// the sink's options.
func ElasticsearchSinkOptions(sc *configs.Sink) essink.Options {
	return essink.Options{
		Name:     sc.Name,
		URLs:     sc.URLs,
		Index:    sc.Index,
		Username: sc.Username,
		Password: sc.Password,
		APIKey:   sc.APIKey,
		TLS: essink.TLSOptions{
			CAFile: sc.TLS.CAFile, CertFile: sc.TLS.CertFile, KeyFile: sc.TLS.KeyFile,
			InsecureSkipVerify: sc.TLS.InsecureSkipVerify,
		},
		BulkMaxActions:       sc.BulkMaxActions,
		BulkMaxBytes:         sc.BulkMaxBytes,
		Concurrency:          sc.Concurrency,
		BehaviorOnNullValues: sc.BehaviorOnNullValues,
		AutoCreate:           sc.AutoCreate,
		IndexTemplateFile:    sc.IndexTemplate,
	}
}

// ESSinkStatus is what the status API shows of an elasticsearch sink: the
// sink task's progress and the index's answers.
type ESSinkStatus struct {
	runtime.SinkStatusSnapshot
	Index essink.CountersSnapshot `json:"index"`
}

// esWriter adapts the Elasticsearch sink to the runtime's sink task.
type esWriter struct{ s *essink.Sink }

func (w esWriter) Positions(ctx context.Context) (map[string]map[int32]int64, error) {
	return w.s.Positions(ctx)
}

func (w esWriter) Write(ctx context.Context, recs []runtime.SinkRecord, reject func(int, error) error) error {
	out := make([]essink.Record, len(recs))
	for i, r := range recs {
		out[i] = essink.Record{
			Topic: r.Record.Topic, Partition: r.Record.Partition, Offset: r.Record.Offset, Event: r.Event,
			Schemaless: !hasSchemaBlock(r.Record.Value),
		}
	}
	return w.s.Write(ctx, out, reject)
}

func (w esWriter) Close() error { return w.s.Close() }

// hasSchemaBlock reports whether a JSON converter value starts with its
// schema block ({"schema": ...}), as sluice writes it with schemas: true.
func hasSchemaBlock(v []byte) bool {
	v = bytes.TrimLeft(v, " \t\r\n")
	if len(v) == 0 || v[0] != '{' {
		return false
	}
	v = bytes.TrimLeft(v[1:], " \t\r\n")
	return bytes.HasPrefix(v, []byte(`"schema"`))
}

// sinkTransform is the chain's Apply, or nil for an empty chain.
func sinkTransform(c *transforms.Chain) func(*change.Event) (bool, error) {
	if c.Len() == 0 {
		return nil
	}
	return c.Apply
}

// SQLSinkOptions maps a sql sink's configuration onto the sink's options.
func SQLSinkOptions(sc *configs.Sink) sqlsink.Options {
	return sqlsink.Options{
		Name:             sc.Name,
		DSN:              sc.DSN,
		Table:            sc.Table,
		Schema:           sc.Schema,
		InsertMode:       sc.InsertMode,
		DeleteEnabled:    sc.DeleteEnabled,
		PrimaryKeyMode:   sc.PrimaryKeyMode,
		PrimaryKeyFields: sc.PrimaryKeyFields,
		AutoCreate:       sc.AutoCreate,
		AutoEvolve:       sc.AutoEvolve,
	}
}

// sqlWriter adapts the SQL sink to the runtime's sink task.
type sqlWriter struct{ s *sqlsink.Sink }

func (w sqlWriter) Positions(ctx context.Context) (map[string]map[int32]int64, error) {
	return w.s.Positions(ctx)
}

func (w sqlWriter) Write(ctx context.Context, recs []runtime.SinkRecord, reject func(int, error) error) error {
	out := make([]sqlsink.Record, len(recs))
	for i, r := range recs {
		out[i] = sqlsink.Record{Topic: r.Record.Topic, Partition: r.Record.Partition, Offset: r.Record.Offset, Event: r.Event, Prepared: r.Prepared}
	}
	return w.s.Write(ctx, out, reject)
}

// Prepare binds a row's values ahead of Write (runtime.SinkPreparer).
func (w sqlWriter) Prepare(e *change.Event) any { return w.s.Prepare(e) }

func (w sqlWriter) Close() error { return w.s.Close() }
