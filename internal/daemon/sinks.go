package daemon

import (
	"context"
	"fmt"

	"github.com/sluice-cdc/sluice/configs"
	"github.com/sluice-cdc/sluice/internal/runtime"
	sqlsink "github.com/sluice-cdc/sluice/sinks/sql"
)

// sinkConnector builds a sink connector from its configuration.
func (d *Daemon) sinkConnector(sc *configs.Sink) (runtime.Connector, error) {
	switch sc.Type {
	case configs.SinkSQL:
		if len(sc.Transforms) > 0 {
			return runtime.Connector{}, fmt.Errorf("sink %s: transforms are not available in this build yet", sc.Name)
		}
		log := d.log.With("connector", sc.Name)
		opts := SQLSinkOptions(sc)
		opts.Logger = log
		if err := opts.Validate(); err != nil {
			return runtime.Connector{}, fmt.Errorf("sink %s: %w", sc.Name, err)
		}
		status := &runtime.SinkStatus{}
		open := func(ctx context.Context) (runtime.SinkWriter, error) {
			s, err := sqlsink.Open(ctx, opts)
			if err != nil {
				return nil, err
			}
			return sqlWriter{s}, nil
		}
		return runtime.Connector{
			Name: sc.Name,
			Kind: "sink",
			Type: sc.Type,
			Run: runtime.SinkTask(d.env, runtime.SinkOptions{
				Name:            sc.Name,
				Topics:          sc.Topics,
				BatchSize:       sc.BatchSize,
				ErrorsTolerance: sc.ErrorsTolerance,
				DeadLetterTopic: sc.ErrorsDeadLetterQueueTopicName,
				Logger:          log,
			}, status, open),
			Details: status.Snapshot,
		}, nil
	}
	return runtime.Connector{}, fmt.Errorf("sink %s: sinks of type %q are not available in this build yet", sc.Name, sc.Type)
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
		out[i] = sqlsink.Record{Topic: r.Record.Topic, Partition: r.Record.Partition, Offset: r.Record.Offset, Event: r.Event}
	}
	return w.s.Write(ctx, out, reject)
}

func (w sqlWriter) Close() error { return w.s.Close() }
