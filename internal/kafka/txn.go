package kafka

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

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

	inTxn   bool
	records int

	mu       sync.Mutex
	firstErr error
	promise  func(*kgo.Record, error)
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
}

// TransactionalID returns the transactional.id used for a connector.
func TransactionalID(connector string) string { return "sluice-" + connector }

// NewTxnWriter creates the transactional producer of a connector.
func NewTxnWriter(o TxnWriterOptions) (*TxnWriter, error) {
	if o.DeliveryTimeout <= 0 {
		o.DeliveryTimeout = 2 * time.Minute
	}
	opts := append(append([]kgo.Opt(nil), o.ClientOpts...),
		kgo.TransactionalID(TransactionalID(o.Connector)),
		kgo.TransactionTimeout(time.Minute),
		kgo.RecordDeliveryTimeout(o.DeliveryTimeout),
		kgo.ProducerLinger(0),
		kgo.MaxBufferedRecords(100_000),
	)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("transactional producer for %s: %w", o.Connector, err)
	}
	w := &TxnWriter{cl: cl, topics: o.Topics, offsetsTopic: o.OffsetsTopic, offsetKey: []byte(o.Connector)}
	w.promise = func(r *kgo.Record, err error) {
		if err != nil {
			w.mu.Lock()
			if w.firstErr == nil {
				w.firstErr = fmt.Errorf("produce to %s: %w", r.Topic, err)
			}
			w.mu.Unlock()
		}
	}
	return w, nil
}

// Client returns the underlying client.
func (w *TxnWriter) Client() *kgo.Client { return w.cl }

// Write adds records to the open transaction, opening one if needed. The
// records' topics are created first if they do not exist. Records are sent
// asynchronously; Commit reports any failure.
func (w *TxnWriter) Write(ctx context.Context, recs ...*kgo.Record) error {
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

func (w *TxnWriter) begin() error {
	if w.inTxn {
		return nil
	}
	if err := w.cl.BeginTransaction(); err != nil {
		return fencedOr(fmt.Errorf("begin kafka transaction: %w", err))
	}
	w.inTxn = true
	w.records = 0
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
	w.cl.Produce(ctx, &kgo.Record{Topic: w.offsetsTopic, Key: w.offsetKey, Value: offset}, w.promise)
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
	err := w.cl.EndTransaction(ctx, kgo.TryCommit)
	w.inTxn = false
	w.records = 0
	if err != nil {
		return fencedOr(fmt.Errorf("commit kafka transaction: %w", err))
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
	_ = w.cl.EndTransaction(actx, kgo.TryAbort)
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
