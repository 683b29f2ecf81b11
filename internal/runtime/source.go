package runtime

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-cdc/sluice/change"
	"github.com/sluice-cdc/sluice/internal/kafka"
	"github.com/sluice-cdc/sluice/internal/metrics"
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
	// Metrics, when set, is updated by the sink task (per batch).
	Metrics *metrics.Metrics
}

// SourceRun is a source connector's body: it resumes after stored (nil for
// a first start) and writes through w.
type SourceRun func(ctx context.Context, stored []byte, w *pipeline.SourceWriter) error

// SourceTask returns the Run function of a source connector: it fences any
// older instance of the connector, reads its last committed offset, and
// runs the source with a transactional writer.
func SourceTask(env KafkaEnv, name string, json change.JSONOptions, run SourceRun, opts ...SourceOpt) func(context.Context) error {
	var o sourceOpts
	for _, opt := range opts {
		opt(&o)
	}
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
		entry, err := readOffsetEntry(ctx, env, name)
		if err != nil {
			return err
		}
		// Fence the previous run first: that aborts a transaction it left
		// open, so that what follows sees its outcome (and the offsets
		// topic's last stable offset is not held back by it).
		if err := Fence(ctx, env.Admin, kafka.TransactionalID(name, entry.Generation)); err != nil {
			return err
		}
		if entry, err = readOffsetEntry(ctx, env, name); err != nil {
			return err
		}
		plan, err := planResume(ctx, env, entry)
		if err != nil {
			return fmt.Errorf("kafka: %w", err)
		}
		if len(plan.filter) > 0 {
			log.Warn("the last transaction reached only some partitions (the broker crashed while committing it): replaying it from the offset before it and leaving out what is already committed",
				"offset", string(plan.resume), "filter", plan.filter)
		}
		log.Debug("stored offset read", "offset", string(plan.resume), "generation", entry.Generation+1)
		tw, err := kafka.NewTxnWriter(kafka.TxnWriterOptions{
			ClientOpts:   env.ClientOpts,
			Connector:    name,
			OffsetsTopic: env.OffsetsTopic,
			Topics:       env.Topics,
			Generation:   entry.Generation + 1,
			Prev:         plan.resume,
			Filter:       plan.filter,
			AtLeastOnce:  o.atLeastOnce,
		})
		if err != nil {
			return err
		}
		defer tw.Close()
		// Claim the generation before writing anything: a run that dies
		// before its first commit must not leave its successor the same
		// transactional id, whose producer id may have records the
		// crashed broker never finished (kfake would count them as
		// committed once that producer id commits again there).
		if err := tw.Commit(ctx, plan.resume); err != nil {
			return fmt.Errorf("kafka: store generation %d: %w", entry.Generation+1, err)
		}
		return run(ctx, plan.resume, pipeline.NewSourceWriter(tw, json))
	}
}

// SourceOpt is an option of SourceTask.
type SourceOpt func(*sourceOpts)

type sourceOpts struct{ atLeastOnce bool }

// AtLeastOnce writes without Kafka transactions (exactly_once: false): see
// kafka.TxnWriterOptions.AtLeastOnce.
func AtLeastOnce(on bool) SourceOpt { return func(o *sourceOpts) { o.atLeastOnce = on } }

func readOffsetEntry(ctx context.Context, env KafkaEnv, name string) (offsets.Entry, error) {
	all, err := offsets.ReadLog(ctx, env.ClientOpts, env.OffsetsTopic)
	if err != nil {
		return offsets.Entry{}, fmt.Errorf("kafka: %w", err)
	}
	return all[name], nil
}

// resumePlan is where a source restarts and what it leaves out.
type resumePlan struct {
	resume []byte
	filter []offsets.Window
}

// planResume decides where a connector resumes from its offset entry.
//
// Normally that is the last committed offset. But a broker that crashes
// while it writes a transaction's commit markers (kfake, the embedded
// broker, writes them partition by partition) can leave the last
// transaction committed in some partitions and not in others, and its
// offset record on either side. The offset record lists the partitions the
// transaction wrote and the offset before it: the connector then resumes
// from that earlier offset, and the writer leaves out the replayed records
// that land in partitions where the transaction did commit.
func planResume(ctx context.Context, env KafkaEnv, e offsets.Entry) (resumePlan, error) {
	committed := e.Committed
	if committed != nil && committed.Value == nil {
		committed = nil // a tombstone: offsets reset to "no offset"
	}
	continueAfter := func(r *kgo.Record) (resumePlan, error) {
		if r == nil {
			return resumePlan{}, nil
		}
		m, hasPrev, err := offsets.ParseMeta(r)
		if err != nil || !hasPrev {
			return resumePlan{resume: r.Value}, err
		}
		return resumePlan{resume: r.Value, filter: rebase(m.Filter, m.Records)}, nil
	}
	// The last transaction: one whose offset record did not commit (it
	// may have committed elsewhere), or else the last committed one.
	last, inDoubt := e.Uncommitted, true
	if last == nil || last.Value == nil {
		last, inDoubt = committed, false
	}
	if last == nil {
		return resumePlan{}, nil
	}
	m, hasPrev, err := offsets.ParseMeta(last)
	if err != nil {
		return resumePlan{}, err
	}
	if !hasPrev {
		if inDoubt {
			return continueAfter(committed)
		}
		return resumePlan{resume: last.Value}, nil
	}
	done, err := committedParts(ctx, env, last, m.Parts)
	if err != nil {
		return resumePlan{}, err
	}
	switch {
	case inDoubt && len(done) == 0:
		return continueAfter(committed) // the transaction committed nowhere
	case !inDoubt && len(done) == len(m.Parts):
		return continueAfter(last) // committed everywhere
	}
	if !offsets.Replayable(m.Prev) {
		// A snapshot batch: resuming before it starts the snapshot over,
		// which writes its rows again anyway (as Debezium does).
		return resumePlan{resume: m.Prev}, nil
	}
	w := offsets.Window{Records: m.Records}
	for _, p := range done {
		w.Committed = append(w.Committed, offsets.TopicPartition{Topic: p.Topic, Partition: p.Partition})
	}
	return resumePlan{resume: m.Prev, filter: append(append([]offsets.Window(nil), m.Filter...), w)}, nil
}

// rebase moves filter windows counted from an offset past n records.
func rebase(ws []offsets.Window, n int64) []offsets.Window {
	var out []offsets.Window
	for _, w := range ws {
		if w.Records > n {
			w.Records -= n
			out = append(out, w)
		}
	}
	return out
}

// committedParts returns the parts of rec's transaction that carry its
// commit marker. It reads each part from just after the transaction's
// records there to the transaction's marker (or the end of the partition,
// for a transaction a crashed broker left without one). The transaction's
// Count records sit at distinct offsets from First on, so its marker is at
// First+Count or later (later when other producers' records are
// interleaved): a restart reads a few records, not the whole transaction,
// which for a snapshot can hold 50,000 events.
func committedParts(ctx context.Context, env KafkaEnv, rec *kgo.Record, parts []offsets.Part) ([]offsets.Part, error) {
	if len(parts) == 0 {
		return nil, nil
	}
	topics := map[string]bool{}
	start := map[string]map[int32]kgo.Offset{}
	for _, p := range parts {
		topics[p.Topic] = true
		if start[p.Topic] == nil {
			start[p.Topic] = map[int32]kgo.Offset{}
		}
		start[p.Topic][p.Partition] = kgo.NewOffset().At(markerFrom(p))
	}
	ends, err := kadm.NewClient(env.Admin).ListEndOffsets(ctx, slices.Collect(maps.Keys(topics))...)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("check the last transaction's partitions: %w", err)
	}
	type tp struct {
		t string
		p int32
	}
	pending := map[tp]offsets.Part{}
	for _, p := range parts {
		if end, ok := ends.Lookup(p.Topic, p.Partition); ok && end.Offset > markerFrom(p) {
			pending[tp{p.Topic, p.Partition}] = p
		}
	}
	var done []offsets.Part
	if len(pending) == 0 {
		return done, nil
	}
	opts := append(append([]kgo.Opt(nil), env.ClientOpts...),
		kgo.ConsumePartitions(start),
		kgo.FetchIsolationLevel(kgo.ReadUncommitted()),
		kgo.KeepControlRecords(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("check the last transaction's partitions: %w", err)
	}
	defer cl.Close()
	for len(pending) > 0 {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var ferr error
		fs.EachError(func(t string, p int32, err error) {
			ferr = fmt.Errorf("check the last transaction's partitions: %s[%d]: %w", t, p, err)
		})
		if ferr != nil {
			return nil, ferr
		}
		fs.EachRecord(func(r *kgo.Record) {
			k := tp{r.Topic, r.Partition}
			p, ok := pending[k]
			if !ok {
				return
			}
			if r.Attrs.IsControl() && r.ProducerID == rec.ProducerID && r.ProducerEpoch == rec.ProducerEpoch {
				// Key: version int16, type int16 (0 abort, 1 commit).
				if len(r.Key) >= 4 && binary.BigEndian.Uint16(r.Key[2:4]) == 1 {
					done = append(done, p)
				}
				delete(pending, k)
				return
			}
			if end, _ := ends.Lookup(r.Topic, r.Partition); r.Offset+1 >= end.Offset {
				delete(pending, k) // no marker up to the end: never committed
			}
		})
	}
	return done, nil
}

// markerFrom is the first offset that can hold the commit marker of a
// transaction that wrote part p.
func markerFrom(p offsets.Part) int64 { return p.First + max(p.Count, 0) }

// Fence initialises the connector's transactional id, which aborts any
// transaction an earlier producer with the same id left open.
func Fence(ctx context.Context, cl *kgo.Client, txnID string) error {
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
