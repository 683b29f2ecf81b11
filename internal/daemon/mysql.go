package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/sluice-cdc/sluice/configs"
	"github.com/sluice-cdc/sluice/internal/api"
	"github.com/sluice-cdc/sluice/internal/pipeline"
	"github.com/sluice-cdc/sluice/offsets"
	"github.com/sluice-cdc/sluice/sources/mysql"
)

// mysqlSourceConnector builds a MySQL/MariaDB source connector.
func (d *Daemon) mysqlSourceConnector(sc *configs.Source) (*connector, error) {
	o := MySQLOptions(sc, d.log)
	historyTopic := o.SchemaHistoryTopic
	o.LoadSchemaHistory = func(ctx context.Context) ([]byte, error) {
		all, err := offsets.ReadAll(ctx, d.env.ClientOpts, historyTopic)
		if err != nil {
			return nil, err
		}
		return all[sc.Name], nil
	}
	src, err := mysql.New(o)
	if err != nil {
		return nil, err
	}
	c := &connector{name: sc.Name, source: sc, stats: &sourceStats{}}
	run := func(ctx context.Context, stored []byte, w *pipeline.SourceWriter) error {
		// The schema history is compacted: the last record per connector
		// is the schema at the connector's offset.
		if err := d.env.Topics.Ensure(ctx, offsets.TopicConfigs, historyTopic); err != nil {
			return fmt.Errorf("kafka: %w", err)
		}
		return src.Run(ctx, stored, c.meter(d.metrics, w))
	}
	c.c = d.sourceTask(sc, run, func() any { return src.Status().Snapshot() })
	c.snapshot = src.RequestSnapshot
	c.lag = func(ctx context.Context) (api.Lag, error) {
		l, err := src.Lag(ctx)
		if err != nil {
			return api.Lag{}, err
		}
		c.setEstimates(l.Estimated)
		out := api.Lag{ServerPosition: fmt.Sprintf("%s:%d", l.ServerFile, l.ServerPos)}
		if l.Bytes >= 0 {
			out.Bytes = &l.Bytes
		}
		return out, nil
	}
	return c, nil
}

// MySQLOptions maps a source's configuration onto the MySQL source's options.
func MySQLOptions(sc *configs.Source, log *slog.Logger) mysql.Options {
	prefix := sc.TopicPrefix
	if prefix == "" {
		prefix = sc.Name
	}
	// Empty: the MySQL decoder's default, Debezium's
	// adaptive_time_microseconds (TIME -> MicroTime).
	timeMode := sc.TimePrecisionMode
	return mysql.Options{
		Name:                sc.Name,
		DSN:                 sc.DSN,
		ServerID:            sc.ServerID,
		GTID:                sc.GTID,
		Include:             sc.Tables,
		Exclude:             sc.ExcludeTables,
		SnapshotMode:        sc.Snapshot,
		SnapshotLockingMode: sc.SnapshotLockingMode,
		SnapshotFetchSize:   sc.SnapshotFetchSize,
		HeartbeatInterval:   time.Duration(sc.HeartbeatInterval),
		HeartbeatQuery:      sc.HeartbeatActionQuery,
		MaxBatchSize:        sc.MaxBatchSize,
		MaxBatchWait:        time.Duration(sc.MaxBatchWait),
		Logger:              log.With("connector", sc.Name),
		SchemaHistoryTopic:  mysql.DefaultSchemaHistoryTopic,
		SkipUnparsableDDL:   sc.SkipUnparseableDDL,
		IncludeQuery:        sc.IncludeQuery,
		Decoder: mysql.DecoderOptions{
			TopicPrefix:         prefix,
			Version:             Version,
			DecimalMode:         sc.DecimalHandlingMode,
			TimePrecisionMode:   timeMode,
			BinaryMode:          sc.BinaryHandlingMode,
			BigIntUnsignedMode:  sc.BigIntUnsignedHandlingMode,
			TinyInt1AsBoolean:   sc.TinyInt1AsBoolean,
			Tombstones:          sc.TombstonesOnDelete,
			TransactionMetadata: sc.ProvideTransactionMetadata,
			MessageKeyColumns:   sc.MessageKeyColumns,
		},
	}
}
