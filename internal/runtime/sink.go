package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/change"
)

// SinkRecord is a consumed record and its decoded event. Event is nil for
// a record that could not be decoded and was tolerated (sent to the
// dead-letter topic): the writer must still count its offset as consumed.
type SinkRecord struct {
	Record *kgo.Record
	Event  *change.Event
}

// SinkWriter is what a sink connector implements.
type SinkWriter interface {
	// Positions returns the next offset to consume per topic and
	// partition, as committed in the target; absent partitions start at
	// the beginning.
	Positions(ctx context.Context) (map[string]map[int32]int64, error)
	// Write applies a batch and makes it durable together with the
	// batch's offsets. It calls reject with the index of a record that
	// cannot be applied; a non-nil return from reject must abort the
	// batch and be returned.
	Write(ctx context.Context, recs []SinkRecord, reject func(i int, err error) error) error
	Close() error
}

// SinkOptions configure a sink task.
type SinkOptions struct {
	Name string
	// Topics are topic names or regexes anchored on the whole name.
	Topics []string
	// BatchSize is the most records per Write.
	BatchSize int
	// ErrorsTolerance is "none" (a record that cannot be applied stops the
	// connector) or "all" (it goes to DeadLetterTopic, if set, and the
	// sink goes on).
	ErrorsTolerance string
	DeadLetterTopic string
	Logger          *slog.Logger
}

// SinkStatus is a sink's progress for the status API.
type SinkStatus struct {
	Records  atomic.Int64 // records consumed and committed
	Batches  atomic.Int64
	Rejected atomic.Int64 // records tolerated (dead-lettered or skipped)
}

// Snapshot returns the status as a JSON-friendly map.
func (s *SinkStatus) Snapshot() any {
	return map[string]int64{"records": s.Records.Load(), "batches": s.Batches.Load(), "rejected": s.Rejected.Load()}
}

// permanentError stops the connector without restarts.
type permanentError struct{ err error }

func (e permanentError) Error() string   { return e.err.Error() }
func (e permanentError) Unwrap() error   { return e.err }
func (e permanentError) Permanent() bool { return true }

// Dead-letter headers, as Kafka Connect names them.
const (
	HeaderErrorTopic     = "__connect.errors.topic"
	HeaderErrorPartition = "__connect.errors.partition"
	HeaderErrorOffset    = "__connect.errors.offset"
	HeaderErrorConnector = "__connect.errors.connector.name"
	HeaderErrorMessage   = "__connect.errors.exception.message"
	HeaderErrorClass     = "__connect.errors.exception.class.name"
)

// SinkTask returns the Run function of a sink connector: a read_committed
// consumer in group sluice-<name> that starts every assigned partition at
// the position stored in the target (open's writer), hands batches to the
// writer, and commits the group's offsets afterwards, for monitoring only.
func SinkTask(env KafkaEnv, o SinkOptions, status *SinkStatus, open func(ctx context.Context) (SinkWriter, error)) func(context.Context) error {
	if o.BatchSize <= 0 {
		o.BatchSize = 1000
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return func(ctx context.Context) error {
		w, err := open(ctx)
		if err != nil {
			return err
		}
		defer w.Close()
		if o.DeadLetterTopic != "" {
			if err := env.Topics.Ensure(ctx, nil, o.DeadLetterTopic); err != nil {
				return fmt.Errorf("kafka: dead-letter topic %s: %w", o.DeadLetterTopic, err)
			}
		}
		stored, err := w.Positions(ctx)
		if err != nil {
			return err
		}
		if stored == nil {
			stored = map[string]map[int32]int64{}
		}
		pos := &positions{m: stored}
		patterns := make([]string, len(o.Topics))
		for i, t := range o.Topics {
			patterns[i] = "^(?:" + t + ")$"
		}
		opts := append([]kgo.Opt{}, env.ClientOpts...)
		opts = append(opts,
			kgo.ConsumerGroup("sluice-"+o.Name),
			kgo.ConsumeTopics(patterns...),
			kgo.ConsumeRegex(),
			kgo.FetchIsolationLevel(kgo.ReadCommitted()),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
			kgo.DisableAutoCommit(),
			kgo.BlockRebalanceOnPoll(),
			kgo.FetchMaxWait(250*time.Millisecond),
			kgo.MetadataMinAge(500*time.Millisecond),
			kgo.MetadataMaxAge(2*time.Second), // notice new topics matching the regexes soon
			kgo.AdjustFetchOffsetsFn(func(_ context.Context, m map[string]map[int32]kgo.Offset) (map[string]map[int32]kgo.Offset, error) {
				for topic, ps := range m {
					for p := range ps {
						if next, ok := pos.get(topic, p); ok {
							ps[p] = kgo.NewOffset().At(next).WithEpoch(-1)
						} else {
							ps[p] = kgo.NewOffset().AtStart()
						}
					}
				}
				return m, nil
			}),
		)
		cl, err := kgo.NewClient(opts...)
		if err != nil {
			return fmt.Errorf("kafka consumer: %w", err)
		}
		defer cl.CloseAllowingRebalance()

		for {
			fs := cl.PollRecords(ctx, o.BatchSize)
			if ctx.Err() != nil {
				return nil
			}
			if fs.IsClientClosed() {
				return errors.New("kafka consumer closed")
			}
			var ferr error
			fs.EachError(func(t string, p int32, err error) {
				if ferr == nil && !errors.Is(err, context.Canceled) {
					ferr = fmt.Errorf("kafka: fetch %s/%d: %w", t, p, err)
				}
			})
			if ferr != nil {
				return ferr
			}
			krecs := fs.Records()
			if len(krecs) == 0 {
				cl.AllowRebalance()
				continue
			}
			batch := make([]SinkRecord, len(krecs))
			var rejected int64
			reject := func(i int, err error) error {
				r := krecs[i]
				if o.ErrorsTolerance != "all" {
					return permanentError{fmt.Errorf("sink %s: record %s/%d@%d cannot be applied: %w", o.Name, r.Topic, r.Partition, r.Offset, err)}
				}
				if o.DeadLetterTopic != "" {
					if err := deadLetter(ctx, cl, o, r, err); err != nil {
						return err
					}
				}
				rejected++
				log.Warn("record skipped", "topic", r.Topic, "partition", r.Partition, "offset", r.Offset, "err", err, "dead_letter_topic", o.DeadLetterTopic)
				return nil
			}
			for i, r := range krecs {
				batch[i].Record = r
				e, err := decodeRecord(r)
				if err != nil {
					if err := reject(i, err); err != nil {
						return err
					}
					continue
				}
				batch[i].Event = e
			}
			if err := w.Write(ctx, batch, reject); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
			pos.advance(krecs)
			status.Records.Add(int64(len(krecs)))
			status.Batches.Add(1)
			status.Rejected.Add(rejected)
			// For monitoring only: the target's offsets table is the truth.
			if err := cl.CommitRecords(ctx, krecs...); err != nil && ctx.Err() == nil {
				log.Debug("commit group offsets", "err", err)
			}
			cl.AllowRebalance()
		}
	}
}

// decodeRecord decodes a Debezium envelope, or a row flattened by an unwrap
// transform (Op empty, After the row).
func decodeRecord(r *kgo.Record) (*change.Event, error) {
	e, err := change.DecodeJSON(r.Topic, r.Key, r.Value)
	if !errors.Is(err, change.ErrNotEnvelope) {
		return e, err
	}
	row, sc, err := change.DecodeJSONValue(r.Value)
	if err != nil {
		return nil, err
	}
	key, _, err := change.DecodeJSONValue(r.Key)
	if err != nil {
		return nil, fmt.Errorf("key: %w", err)
	}
	return &change.Event{Topic: r.Topic, Key: key, After: row, RowSchema: sc}, nil
}

func deadLetter(ctx context.Context, cl *kgo.Client, o SinkOptions, r *kgo.Record, cause error) error {
	hs := append([]kgo.RecordHeader{}, r.Headers...)
	hs = append(hs,
		kgo.RecordHeader{Key: HeaderErrorTopic, Value: []byte(r.Topic)},
		kgo.RecordHeader{Key: HeaderErrorPartition, Value: []byte(strconv.Itoa(int(r.Partition)))},
		kgo.RecordHeader{Key: HeaderErrorOffset, Value: []byte(strconv.FormatInt(r.Offset, 10))},
		kgo.RecordHeader{Key: HeaderErrorConnector, Value: []byte(o.Name)},
		kgo.RecordHeader{Key: HeaderErrorClass, Value: []byte(errClass(cause))},
		kgo.RecordHeader{Key: HeaderErrorMessage, Value: []byte(cause.Error())},
	)
	dl := &kgo.Record{Topic: o.DeadLetterTopic, Key: r.Key, Value: r.Value, Headers: hs}
	if err := cl.ProduceSync(ctx, dl).FirstErr(); err != nil {
		return fmt.Errorf("kafka: write to dead-letter topic %s: %w", o.DeadLetterTopic, err)
	}
	return nil
}

func errClass(err error) string {
	t := fmt.Sprintf("%T", errors.Unwrap(err))
	if t == "<nil>" {
		t = fmt.Sprintf("%T", err)
	}
	return strings.TrimPrefix(t, "*")
}

// positions are the next offsets per partition, as committed in the target.
type positions struct {
	mu sync.Mutex
	m  map[string]map[int32]int64
}

func (p *positions) get(topic string, partition int32) (int64, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n, ok := p.m[topic][partition]
	return n, ok
}

func (p *positions) advance(recs []*kgo.Record) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range recs {
		if p.m[r.Topic] == nil {
			p.m[r.Topic] = map[int32]int64{}
		}
		if r.Offset+1 > p.m[r.Topic][r.Partition] {
			p.m[r.Topic][r.Partition] = r.Offset + 1
		}
	}
}
