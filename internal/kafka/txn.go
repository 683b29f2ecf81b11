package kafka

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/offsets"
)

// TxnWriter writes change records and an offset record in one Kafka
// transaction. It is the only producer of one source connector: its
// transactional.id is derived from the connector name, so a second instance
// of the same connector fences the first.
//
// A TxnWriter is used by one goroutine.
type TxnWriter struct {
	cl           *kgo.Client
	topics       *Topics
	offsetsTopic string
	offsetKey    []byte

	txn     bool   // exactly-once: Kafka transactions
	txnID   string // their transactional.id
	inTxn   bool
	records int

	gen  int64
	prev []byte // the last committed offset
	// counted is the number of change records the open transaction
	// covered (written or filtered out).
	counted int64
	// filter drops records a partly committed transaction already wrote;
	// txnFilter is its state when the open transaction began.
	filter    []window
	txnFilter []offsets.Window

	mu       sync.Mutex
	firstErr error
	parts    map[offsets.TopicPartition]*offsets.Part
	promise  func(*kgo.Record, error)
	counting func(*kgo.Record, error)
	// delivered is called for every record once the producer is done
	// with it (see OnDelivered).
	delivered func(*kgo.Record)
}

// OnDelivered makes the writer call fn for each record written once the
// producer no longer holds it: delivered, failed, or left out by the
// filter. fn runs on the producer's goroutines, must be quick, and may
// reuse the record's key and value. Set it before the first Write.
func (w *TxnWriter) OnDelivered(fn func(*kgo.Record)) { w.delivered = fn }

// window is an offsets.Window being applied: the next remaining counted
// records are dropped if they go to a partition in committed.
type window struct {
	remaining int64
	committed map[offsets.TopicPartition]bool
}

// TxnWriterOptions configures a TxnWriter.
type TxnWriterOptions struct {
	// ClientOpts reach the cluster (see Options.ClientOpts).
	ClientOpts []kgo.Opt
	// Connector is the source connector's name: the offset record's key and
	// the base of the transactional.id.
	Connector    string
	OffsetsTopic string
	Topics       *Topics
	// DeliveryTimeout bounds how long a record may wait for the broker
	// before the transaction fails (default 2 minutes).
	DeliveryTimeout time.Duration
	// Generation numbers this run of the connector: it picks the
	// transactional id (TransactionalID) and is stored with every offset.
	Generation int64
	// Prev is the offset the source resumes from (nil at a first start).
	Prev []byte
	// Filter lists, counted from Prev, the change records that are already
	// committed in some partitions: the writer leaves them out there.
	Filter []offsets.Window
	// AtLeastOnce turns transactions off: records are written by an
	// idempotent producer and the offset record after them, so a crash
	// between the two writes the records again after the restart, and a
	// second instance is not fenced. For measuring what transactions cost,
	// and for brokers without transaction support.
	AtLeastOnce bool
}

// TransactionalID returns the transactional.id of a connector's run of the
// given generation. Each run takes a fresh one (and the broker a fresh
// producer id), fencing the previous generation's first (see
// runtime.SourceTask): a producer id that a crashed broker left with an
// unfinished transaction is never used again.
func TransactionalID(connector string, generation int64) string {
	if generation == 0 {
		return "sluice-" + connector
	}
	return "sluice-" + connector + "@" + strconv.FormatInt(generation, 10)
}

// NewTxnWriter creates the transactional producer of a connector.
func NewTxnWriter(o TxnWriterOptions) (*TxnWriter, error) {
	if o.DeliveryTimeout <= 0 {
		o.DeliveryTimeout = 2 * time.Minute
	}
	opts := append(append([]kgo.Opt(nil), o.ClientOpts...),
		kgo.RecordPartitioner(partitioner),
		kgo.TransactionTimeout(time.Minute),
		kgo.RecordDeliveryTimeout(o.DeliveryTimeout),
		// Larger produce batches: fewer requests (and, on the embedded
		// broker, fewer fsyncs) while a snapshot or a backlog streams.
		// Commit flushes at once, so a batch never waits for the linger.
		kgo.ProducerLinger(5*time.Millisecond),
		kgo.MaxBufferedRecords(100_000),
		// Produce blocks beyond this: memory stays flat however large a
		// source transaction or a backlog is.
		kgo.MaxBufferedBytes(16<<20),
	)
	if !o.AtLeastOnce {
		opts = append(opts, kgo.TransactionalID(TransactionalID(o.Connector, o.Generation)))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("transactional producer for %s: %w", o.Connector, err)
	}
	w := &TxnWriter{
		cl: cl, topics: o.Topics, offsetsTopic: o.OffsetsTopic, offsetKey: []byte(o.Connector),
		gen: o.Generation, prev: o.Prev, txn: !o.AtLeastOnce, txnID: TransactionalID(o.Connector, o.Generation),
		parts: map[offsets.TopicPartition]*offsets.Part{},
	}
	for _, f := range o.Filter {
		if f.Records <= 0 || len(f.Committed) == 0 {
			continue
		}
		win := window{remaining: f.Records, committed: map[offsets.TopicPartition]bool{}}
		for _, tp := range f.Committed {
			win.committed[tp] = true
		}
		w.filter = append(w.filter, win)
	}
	w.promise = func(r *kgo.Record, err error) {
		if err != nil {
			w.mu.Lock()
			if w.firstErr == nil {
				w.firstErr = fmt.Errorf("produce to %s: %w", r.Topic, err)
			}
			w.mu.Unlock()
		}
		if w.delivered != nil {
			w.delivered(r)
		}
	}
	w.counting = func(r *kgo.Record, err error) {
		if err == nil {
			tp := offsets.TopicPartition{Topic: r.Topic, Partition: r.Partition}
			w.mu.Lock()
			if p := w.parts[tp]; p != nil {
				p.Count++
			} else {
				w.parts[tp] = &offsets.Part{Topic: r.Topic, Partition: r.Partition, First: r.Offset, Count: 1}
			}
			w.mu.Unlock()
		}
		w.promise(r, err)
	}
	return w, nil
}

// Client returns the underlying client.
func (w *TxnWriter) Client() *kgo.Client { return w.cl }

// Write adds change records to the open transaction, opening one if
// needed. The records' topics are created first if they do not exist.
// Records are sent asynchronously; Commit reports any failure.
//
// Change records are counted: a source restarted at the same offset must
// write the same records in the same order (see Options.Filter).
func (w *TxnWriter) Write(ctx context.Context, recs ...*kgo.Record) error {
	if err := w.begin(); err != nil {
		return err
	}
	for _, r := range recs {
		if err := w.topics.Ensure(ctx, nil, r.Topic); err != nil {
			return err
		}
		w.counted++
		if len(w.filter) > 0 {
			drop, err := w.filtered(ctx, r)
			if err != nil {
				return err
			}
			if drop {
				if w.delivered != nil {
					w.delivered(r)
				}
				continue
			}
		}
		w.cl.Produce(ctx, r, w.counting)
		w.records++
	}
	return nil
}

// WriteUncounted adds records that a replay would not reproduce
// (heartbeats) to the open transaction.
func (w *TxnWriter) WriteUncounted(ctx context.Context, recs ...*kgo.Record) error {
	if err := w.begin(); err != nil {
		return err
	}
	for _, r := range recs {
		if err := w.topics.Ensure(ctx, nil, r.Topic); err != nil {
			return err
		}
		w.cl.Produce(ctx, r, w.promise)
	}
	w.records += len(recs)
	return nil
}

// filtered advances the filter by one record and reports whether the
// record is already committed where it goes.
func (w *TxnWriter) filtered(ctx context.Context, r *kgo.Record) (bool, error) {
	drop := false
	for i := range w.filter {
		f := &w.filter[i]
		if f.remaining <= 0 {
			continue
		}
		f.remaining--
		if drop {
			continue
		}
		n, err := w.topics.PartitionCount(ctx, r.Topic)
		if err != nil {
			return false, err
		}
		if f.committed[offsets.TopicPartition{Topic: r.Topic, Partition: int32(Partition(r.Key, r.Value, n))}] {
			drop = true
		}
	}
	// Windows are counted from the same offset but may differ in length.
	w.filter = slices.DeleteFunc(w.filter, func(f window) bool { return f.remaining <= 0 })
	return drop, nil
}

func (w *TxnWriter) begin() error {
	if w.inTxn {
		return nil
	}
	if w.txn {
		if err := w.cl.BeginTransaction(); err != nil {
			return fencedOr(fmt.Errorf("begin kafka transaction: %w", err))
		}
	}
	w.inTxn = true
	w.records = 0
	w.counted = 0
	w.txnFilter = w.txnFilter[:0]
	for _, f := range w.filter {
		wf := offsets.Window{Records: f.remaining}
		for tp := range f.committed {
			wf.Committed = append(wf.Committed, tp)
		}
		w.txnFilter = append(w.txnFilter, wf)
	}
	w.mu.Lock()
	clear(w.parts)
	w.mu.Unlock()
	return nil
}

// Pending is the number of records written in the open transaction.
func (w *TxnWriter) Pending() int { return w.records }

// Commit writes the offset record and commits the transaction. When it
// returns nil, the records and the offset are durable and visible to
// read_committed consumers; on error the transaction is aborted and nothing
// of it is visible.
func (w *TxnWriter) Commit(ctx context.Context, offset []byte) error {
	if err := w.begin(); err != nil {
		return err
	}
	if err := w.topics.Ensure(ctx, offsets.TopicConfigs, w.offsetsTopic); err != nil {
		w.abort(ctx)
		return err
	}
	// The change records first: the offset record lists where they went.
	if err := w.flush(ctx); err != nil {
		return err
	}
	meta := offsets.Meta{Generation: w.gen, Prev: w.prev, Records: w.counted, Filter: w.txnFilter}
	w.mu.Lock()
	for _, p := range w.parts {
		if w.txn { // without markers there is nothing to check at a restart
			meta.Parts = append(meta.Parts, *p)
		}
	}
	w.mu.Unlock()
	slices.SortFunc(meta.Parts, func(a, b offsets.Part) int {
		return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
	})
	w.cl.Produce(ctx, &kgo.Record{Topic: w.offsetsTopic, Key: w.offsetKey, Value: offset, Headers: meta.Headers()}, w.promise)
	if err := w.flush(ctx); err != nil {
		return err
	}
	var err error
	if w.txn {
		err = w.endTxn(ctx)
	}
	w.inTxn = false
	w.records = 0
	if err != nil {
		return fencedOr(fmt.Errorf("commit kafka transaction: %w", err))
	}
	w.prev = append(w.prev[:0:0], offset...)
	return nil
}

// flush waits for every record of the open transaction to be written,
// aborting the transaction if one failed.
func (w *TxnWriter) flush(ctx context.Context) error {
	if err := w.cl.Flush(ctx); err != nil {
		w.abort(ctx)
		return fencedOr(fmt.Errorf("flush kafka transaction: %w", err))
	}
	w.mu.Lock()
	perr := w.firstErr
	w.mu.Unlock()
	if perr != nil {
		w.abort(ctx)
		return fencedOr(perr)
	}
	return nil
}

// FencedError reports that another instance of the connector took over its
// transactional id: this one must stop, not retry (a retry would fence the
// other and the two would take turns).
type FencedError struct{ Err error }

func (e *FencedError) Error() string {
	return "another sluice instance runs this connector (its transactional id was fenced): " + e.Err.Error()
}
func (e *FencedError) Unwrap() error   { return e.Err }
func (e *FencedError) Permanent() bool { return true }

// endTxn commits the open transaction: a FencedError when the commit is
// refused because another instance took the transactional id over (see
// superseded).
func (w *TxnWriter) endTxn(ctx context.Context) error {
	id, epoch, perr := w.cl.ProducerID(ctx)
	err := w.cl.EndTransaction(ctx, kgo.TryCommit)
	if err != nil && perr == nil && errors.Is(err, kerr.InvalidTxnState) && w.superseded(ctx, id, epoch) {
		return &FencedError{Err: err}
	}
	return err
}

// superseded reports whether the transaction coordinator holds another
// producer id or a later epoch for this writer's transactional id than
// the ones its last transaction ran with (id, epoch): a second instance
// initialised it, aborting that transaction. A broker may answer the
// fenced producer's commit with INVALID_TXN_STATE rather than
// PRODUCER_FENCED (the embedded broker does when the commit arrives
// between the other instance's init and its first transaction: KIP-890's
// retry check sees an epoch one ahead and an abort); retrying would fence
// the other instance in turn. Unknown (the coordinator does not answer)
// is false: the commit error is then retried as any other.
func (w *TxnWriter) superseded(ctx context.Context, id int64, epoch int16) bool {
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ds, err := kadm.NewClient(w.cl).DescribeTransactions(dctx, w.txnID)
	if err != nil {
		return false
	}
	d, ok := ds[w.txnID]
	if !ok || d.Err != nil {
		return false
	}
	return d.ProducerID != id || d.ProducerEpoch > epoch
}

func fencedOr(err error) error {
	if errors.Is(err, kerr.ProducerFenced) || errors.Is(err, kerr.InvalidProducerEpoch) {
		return &FencedError{Err: err}
	}
	return err
}

func (w *TxnWriter) abort(ctx context.Context) {
	if !w.inTxn {
		return
	}
	w.inTxn = false
	w.records = 0
	// The records are being thrown away; the caller fails the connector,
	// which restarts from the last committed offset.
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_ = w.cl.AbortBufferedRecords(actx)
	if w.txn {
		_ = w.cl.EndTransaction(actx, kgo.TryAbort)
	}
}

// Close aborts an open transaction and closes the client. Idempotent.
func (w *TxnWriter) Close() {
	if w.cl == nil {
		return
	}
	w.abort(context.Background())
	w.cl.Close()
	w.cl = nil
}
