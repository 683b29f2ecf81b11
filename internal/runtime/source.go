package runtime

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-cdc/sluice/change"
	"github.com/sluice-cdc/sluice/internal/kafka"
	"github.com/sluice-cdc/sluice/internal/pipeline"
	"github.com/sluice-cdc/sluice/offsets"
)

// KafkaEnv is what connectors share to reach Kafka.
type KafkaEnv struct {
	ClientOpts   []kgo.Opt
	Topics       *kafka.Topics
	OffsetsTopic string
	// Admin is a plain client for requests outside a connector's producer.
	Admin *kgo.Client
	// Log receives the tasks' logs.
	Log *slog.Logger
}

// SourceRun is a source connector's body: it resumes after stored (nil for
// a first start) and writes through w.
type SourceRun func(ctx context.Context, stored []byte, w *pipeline.SourceWriter) error

// SourceTask returns the Run function of a source connector: it fences any
// older instance of the connector, reads its last committed offset, and
// runs the source with a transactional writer.
func SourceTask(env KafkaEnv, name string, json change.JSONOptions, run SourceRun) func(context.Context) error {
	log := env.Log
	if log == nil {
		log = slog.Default()
	}
	log = log.With("connector", name)
	return func(ctx context.Context) error {
		log.Debug("source task starting: fencing earlier instances and reading the stored offset")
		if err := env.Topics.Ensure(ctx, offsets.TopicConfigs, env.OffsetsTopic); err != nil {
			return fmt.Errorf("kafka: %w", err)
		}
		// Fence a previous instance first: that aborts a transaction it
		// left open (after a crash), so the offsets topic's last stable
		// offset is not held back by it.
		if err := fence(ctx, env.Admin, kafka.TransactionalID(name)); err != nil {
			return err
		}
		stored, err := offsets.ReadAll(ctx, env.ClientOpts, env.OffsetsTopic)
		if err != nil {
			return fmt.Errorf("kafka: %w", err)
		}
		log.Debug("stored offset read", "offset", string(stored[name]))
		tw, err := kafka.NewTxnWriter(kafka.TxnWriterOptions{
			ClientOpts:   env.ClientOpts,
			Connector:    name,
			OffsetsTopic: env.OffsetsTopic,
			Topics:       env.Topics,
		})
		if err != nil {
			return err
		}
		defer tw.Close()
		return run(ctx, stored[name], pipeline.NewSourceWriter(tw, json))
	}
}

// fence initialises the connector's transactional id, which aborts any
// transaction an earlier producer with the same id left open.
func fence(ctx context.Context, cl *kgo.Client, txnID string) error {
	req := kmsg.NewPtrInitProducerIDRequest()
	req.TransactionalID = &txnID
	req.TransactionTimeoutMillis = int32(time.Minute / time.Millisecond)
	req.ProducerID = -1
	req.ProducerEpoch = -1
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return fmt.Errorf("kafka: fence transactional id %s: %w", txnID, err)
	}
	if err := kerrFor(resp.ErrorCode); err != nil {
		return fmt.Errorf("kafka: fence transactional id %s: %w", txnID, err)
	}
	return nil
}
