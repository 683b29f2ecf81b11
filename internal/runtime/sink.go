package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	goruntime "runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"

	"github.com/sluice-cdc/sluice/change"
)

// SinkRecord is a consumed record and its decoded event. Event is nil for
// a record that could not be decoded or transformed and was tolerated
// (sent to the dead-letter topic), or that a transform dropped: the writer
// must still count its offset as consumed.
type SinkRecord struct {
	Record *kgo.Record
	Event  *change.Event
	// Prepared is what the writer's Prepare made of Event (SinkPreparer).
	Prepared any
}

// SinkPreparer is a SinkWriter that converts an event for Write ahead of
// time: the task calls Prepare on its decoding goroutine, after the
// transform, concurrently with Write, and passes the result in the
// record's Prepared, so that work comes off the writer's path.
type SinkPreparer interface {
	Prepare(e *change.Event) any
}

// SinkWriter is what a sink connector implements.
type SinkWriter interface {
	// Positions returns the next offset to consume per topic and
	// partition, as committed in the target; absent partitions start at
	// the beginning. A nil map (not an empty one) means the target keeps
	// no offsets: the task then starts at the offsets committed to the
	// consumer group sluice-<name> and commits each batch's offsets there
	// synchronously after Write, failing the task if that commit fails.
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
	// Linger is how long a batch may wait to fill up to BatchSize once its
	// first record arrived; 0 writes whatever one poll returned.
	Linger time.Duration
	// ErrorsTolerance is "none" (a record that cannot be applied stops the
	// connector) or "all" (it goes to DeadLetterTopic, if set, and the
	// sink goes on).
	ErrorsTolerance string
	DeadLetterTopic string
	// Transform, when set, is applied to each decoded event before the
	// writer sees it: false drops the record (its offset still counts as
	// consumed); an error is handled as ErrorsTolerance says.
	Transform func(e *change.Event) (keep bool, err error)
	Logger    *slog.Logger
}

// SinkStatus is a sink's progress for the status API.
type SinkStatus struct {
	Records  atomic.Int64 // records consumed and committed
	Batches  atomic.Int64
	Rejected atomic.Int64 // records tolerated (dead-lettered or skipped)
	pos      atomic.Pointer[positions]
}

// SinkStatusSnapshot is what the status API shows of a sink.
type SinkStatusSnapshot struct {
	Records  int64 `json:"records"`
	Batches  int64 `json:"batches"`
	Rejected int64 `json:"rejected"`
	// Positions are the next offsets per topic and partition committed in
	// the target.
	Positions map[string]map[int32]int64 `json:"positions,omitempty"`
}

// Snapshot returns the status (a SinkStatusSnapshot).
func (s *SinkStatus) Snapshot() any {
	out := SinkStatusSnapshot{Records: s.Records.Load(), Batches: s.Batches.Load(), Rejected: s.Rejected.Load()}
	if p := s.pos.Load(); p != nil {
		out.Positions = p.copy()
	}
	return out
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

// DeadLetterHeaders is implemented by a rejection error that adds its own
// headers (beyond Kafka Connect's __connect.errors.*) to the dead-letter
// record; they are written sorted by name.
type DeadLetterHeaders interface {
	DeadLetterHeaders() map[string]string
}

// SinkTask returns the Run function of a sink connector: a read_committed
// consumer of every partition of the matching topics (new topics are picked
// up within seconds) that starts each partition at the position stored in
// the target (open's writer), hands batches to the writer, and commits the
// offsets to group sluice-<name> afterwards: for monitoring only when the
// target stores offsets, as the source of truth when Positions returns nil.
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
		res := make([]*regexp.Regexp, len(o.Topics))
		for i, t := range o.Topics {
			re, err := regexp.Compile("^(?:" + t + ")$")
			if err != nil {
				return permanentError{fmt.Errorf("sink %s: topic pattern %q: %w", o.Name, t, err)}
			}
			res[i] = re
		}
		// Partitions are assigned directly, not through a consumer group:
		// the target's offsets table says where to start, and a restarted
		// (or kill -9ed) sink starts at once instead of waiting for a dead
		// group member's session to expire.
		meter := env.Metrics.Sink(o.Name)
		opts := append([]kgo.Opt{}, env.ClientOpts...)
		if h := env.Metrics.KafkaHooks(o.Name); h != nil {
			opts = append(opts, kgo.WithHooks(h))
		}
		opts = append(opts,
			kgo.FetchIsolationLevel(kgo.ReadCommitted()),
			kgo.FetchMaxWait(250*time.Millisecond),
			kgo.MetadataMinAge(250*time.Millisecond), // start on newly found partitions at once
		)
		// A fetch is bounded so that it decompresses to a few MB whatever
		// the codec: the sink's memory stays flat however large the
		// backlog.
		sizer := newFetchSizer()
		opts = append(opts, sizer.opts()...)
		cl, err := kgo.NewClient(opts...)
		if err != nil {
			return fmt.Errorf("kafka consumer: %w", err)
		}
		defer cl.Close()
		adm := kadm.NewClient(cl)
		group := "sluice-" + o.Name
		groupOffsets := stored == nil
		if groupOffsets {
			if stored, err = fetchGroup(ctx, adm, group); err != nil {
				return err
			}
		}
		// With the target holding the offsets, the group only mirrors
		// them, in the background.
		var mirror *groupMirror
		if !groupOffsets {
			mirror = startGroupMirror(adm, group, log)
			defer mirror.stop()
		}
		pos := &positions{m: stored}
		status.pos.Store(pos)
		assigned := map[string]map[int32]bool{}
		var lastDiscover time.Time
		discover := func(ctx context.Context) error {
			lastDiscover = time.Now()
			md, err := adm.Metadata(ctx)
			if err != nil {
				return fmt.Errorf("kafka: list topics: %w", err)
			}
			add := map[string]map[int32]kgo.Offset{}
			for _, td := range md.Topics.Sorted() {
				if td.Err != nil || !matchAny(res, td.Topic) {
					continue
				}
				for _, pd := range td.Partitions.Sorted() {
					if assigned[td.Topic][pd.Partition] {
						continue
					}
					if assigned[td.Topic] == nil {
						assigned[td.Topic] = map[int32]bool{}
					}
					assigned[td.Topic][pd.Partition] = true
					if add[td.Topic] == nil {
						add[td.Topic] = map[int32]kgo.Offset{}
					}
					if next, ok := pos.get(td.Topic, pd.Partition); ok {
						add[td.Topic][pd.Partition] = kgo.NewOffset().At(next)
					} else {
						add[td.Topic][pd.Partition] = kgo.NewOffset().AtStart()
					}
				}
			}
			if len(add) > 0 {
				log.Debug("consuming partitions", "partitions", fmt.Sprint(add))
				cl.AddConsumePartitions(add)
			}
			return nil
		}

		// Fetching and decoding run ahead of the writer: the poller
		// fetches and decodes while the target applies the current
		// batch (on every core when the writer is waiting for it), and
		// the merger joins what the poller decoded into the next batch,
		// up to BatchSize records, until the writer takes it. A writer
		// that keeps up gets each poll at once; one that is busy gets
		// larger batches, so a backlog is written in fewer, larger
		// transactions. At most three decoded batches are held: the one
		// being written, the one being merged and one polled.
		prep, _ := w.(SinkPreparer)
		chunks := make(chan fetched)
		batches := make(chan fetched)
		// writerWaits: the writer is waiting for a batch, so decoding is
		// what holds the sink back and may take every core; otherwise the
		// target is, and a database on this machine needs the CPU more.
		var writerWaits atomic.Bool
		fctx, stop := context.WithCancel(ctx)
		g, gctx := errgroup.WithContext(fctx)
		g.Go(func() error {
			defer close(chunks)
			for {
				// Look for new topics and partitions every 2s, every
				// 250ms while none matched yet.
				every := 2 * time.Second
				if len(assigned) == 0 {
					every = 250 * time.Millisecond
				}
				var b fetched
				if time.Since(lastDiscover) >= every {
					b.err = discover(gctx)
				}
				if b.err == nil {
					b.krecs, b.err = poll(gctx, cl, every, o.BatchSize, o.Linger)
					if b.err != nil {
						b.fetchErr = true
					}
					if sizer.adjust(cl) {
						log.Debug("fetch bound", "bytes", sizer.bound)
					}
				}
				if gctx.Err() != nil {
					return nil
				}
				if b.err == nil && len(b.krecs) == 0 {
					continue
				}
				if b.err == nil {
					b.decode(o, writerWaits.Load(), prep)
				}
				select {
				case chunks <- b:
				case <-gctx.Done():
					return nil
				}
				if b.err != nil {
					return nil
				}
			}
		})
		g.Go(func() error {
			defer close(batches)
			return mergeBatches(gctx, chunks, batches, o.BatchSize)
		})
		defer func() {
			stop()
			_ = g.Wait()
		}()

		for {
			var b fetched
			var ok bool
			writerWaits.Store(true)
			select {
			case b, ok = <-batches:
			case <-ctx.Done():
				return nil
			}
			writerWaits.Store(false)
			if !ok {
				return nil // stopped
			}
			if b.err != nil {
				if ctx.Err() != nil {
					return nil
				}
				if b.fetchErr {
					meter.FetchError()
				}
				return b.err
			}
			krecs, batch := b.krecs, b.recs
			meter.Batch(krecs, false, 0)
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
			for _, f := range b.failed {
				if err := reject(f.i, f.err); err != nil {
					return err
				}
			}
			started := time.Now()
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
			meter.Batch(krecs, true, time.Since(started))
			meter.Rejected(int(rejected), o.DeadLetterTopic != "")
			if groupOffsets {
				// The group's offsets are the sink's position: a batch
				// counts as done only once they are committed, which
				// happens even when the task is being stopped (SIGTERM),
				// within a bounded time.
				cctx, ccancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
				err := commitGroup(cctx, adm, group, krecs)
				ccancel()
				if err != nil {
					return fmt.Errorf("sink %s: %w", o.Name, err)
				}
			} else {
				mirror.add(krecs)
			}
		}
	}
}

// mergeBatches hands the chunks to the writer on out, joining those that
// arrive while the writer is busy into batches of at most max records
// (the last chunk split where the batch is full). A
// chunk holding an error is handed over on its own, after what came
// before it.
func mergeBatches(ctx context.Context, in <-chan fetched, out chan<- fetched, max int) error {
	var cur, pending *fetched
	for {
		if pending != nil {
			switch {
			case cur == nil:
				cur, pending = pending, nil
			case cur.err == nil && pending.err == nil && len(cur.krecs) < max:
				// Fill the batch, splitting the chunk if it does not
				// fit: a poll's remainder left on its own made a backlog
				// go in batches of ~60% of max on average.
				if room := max - len(cur.krecs); len(pending.krecs) > room {
					head := pending.cut(room)
					cur.merge(&head)
				} else {
					cur.merge(pending)
					pending = nil
				}
			}
		}
		recv, send := in, out
		if pending != nil || (cur != nil && (cur.err != nil || len(cur.krecs) >= max)) {
			recv = nil
		}
		if cur == nil {
			send = nil
		}
		if recv == nil && send == nil {
			return nil // in closed, everything handed over
		}
		var next fetched
		if cur != nil {
			next = *cur
		}
		select {
		case c, ok := <-recv:
			if !ok {
				in = nil
				continue
			}
			pending = &c
		case send <- next:
			cur = nil
		case <-ctx.Done():
			return nil
		}
	}
}

// merge appends c's records to b.
func (b *fetched) merge(c *fetched) {
	n := len(b.krecs)
	b.krecs = append(b.krecs, c.krecs...)
	b.recs = append(b.recs, c.recs...)
	for _, f := range c.failed {
		b.failed = append(b.failed, failedRecord{n + f.i, f.err})
	}
}

// cut removes b's first n records and returns them as a chunk of their
// own.
func (b *fetched) cut(n int) fetched {
	head := fetched{krecs: b.krecs[:n:n], recs: b.recs[:n:n]}
	b.krecs, b.recs = b.krecs[n:], b.recs[n:]
	var rest []failedRecord
	for _, f := range b.failed {
		if f.i < n {
			head.failed = append(head.failed, f)
		} else {
			rest = append(rest, failedRecord{f.i - n, f.err})
		}
	}
	b.failed = rest
	return head
}

// fetched is a polled batch, decoded (and transformed) ahead of the writer.
type fetched struct {
	krecs  []*kgo.Record
	recs   []SinkRecord
	failed []failedRecord // records that could not be decoded or transformed, in order
	err    error          // the poll or the topic discovery failed
	// fetchErr marks err as the poll's.
	fetchErr bool
}

type failedRecord struct {
	i   int
	err error
}

// decode decodes and transforms the batch's records; the writer rejects
// the failed ones before it writes the batch. With parallel, records are
// decoded on up to GOMAXPROCS goroutines, in runs of at least decodeRun
// records; the transform runs on each in order, on this goroutine.
func (b *fetched) decode(o SinkOptions, parallel bool, prep SinkPreparer) {
	b.recs = make([]SinkRecord, len(b.krecs))
	errs := make([]error, len(b.krecs))
	dec := func(lo, hi int) {
		for i := lo; i < hi; i++ {
			b.recs[i].Record = b.krecs[i]
			b.recs[i].Event, errs[i] = decodeRecord(b.krecs[i])
		}
	}
	workers := 1
	if parallel {
		workers = min(goruntime.GOMAXPROCS(0), len(b.krecs)/decodeRun)
	}
	if workers <= 1 {
		dec(0, len(b.krecs))
	} else {
		var wg sync.WaitGroup
		per := (len(b.krecs) + workers - 1) / workers
		for lo := 0; lo < len(b.krecs); lo += per {
			wg.Add(1)
			go func(lo, hi int) {
				defer wg.Done()
				dec(lo, hi)
			}(lo, min(len(b.krecs), lo+per))
		}
		wg.Wait()
	}
	for i, r := range b.krecs {
		if errs[i] != nil {
			b.recs[i].Event = nil
			b.failed = append(b.failed, failedRecord{i, errs[i]})
			continue
		}
		e := b.recs[i].Event
		if o.Transform != nil {
			e.Headers = recordHeaders(r)
			keep, err := o.Transform(e)
			if err != nil {
				b.recs[i].Event = nil
				b.failed = append(b.failed, failedRecord{i, err})
				continue
			}
			if !keep {
				b.recs[i].Event = nil
				continue
			}
		}
		if prep != nil {
			b.recs[i].Prepared = prep.Prepare(e)
		}
	}
}

// decodeRun is the fewest records worth a decoding goroutine of their own.
const decodeRun = 128

func matchAny(res []*regexp.Regexp, topic string) bool {
	for _, re := range res {
		if re.MatchString(topic) {
			return true
		}
	}
	return false
}

// poll returns the next records: at most max, waiting up to wait for the
// first one and then up to linger for the batch to fill.
func poll(ctx context.Context, cl *kgo.Client, wait time.Duration, max int, linger time.Duration) ([]*kgo.Record, error) {
	var out []*kgo.Record
	var deadline time.Time
	for {
		d := wait
		if len(out) > 0 {
			d = time.Until(deadline)
			if d <= 0 {
				return out, nil
			}
		}
		pctx, cancel := context.WithTimeout(ctx, d)
		fs := cl.PollRecords(pctx, max-len(out))
		cancel()
		if ctx.Err() != nil {
			return out, nil
		}
		if fs.IsClientClosed() {
			return nil, errors.New("kafka consumer closed")
		}
		var ferr error
		fs.EachError(func(t string, p int32, err error) {
			if ferr == nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
				ferr = fmt.Errorf("kafka: fetch %s/%d: %w", t, p, err)
			}
		})
		if ferr != nil {
			return nil, ferr
		}
		if len(out) == 0 {
			deadline = time.Now().Add(linger)
		}
		out = append(out, fs.Records()...)
		if len(out) == 0 || len(out) >= max || linger <= 0 {
			return out, nil
		}
	}
}

// fetchGroup reads the offsets committed to the group: the next offset per
// topic and partition.
func fetchGroup(ctx context.Context, adm *kadm.Client, group string) (map[string]map[int32]int64, error) {
	out := map[string]map[int32]int64{}
	resp, err := adm.FetchOffsets(ctx, group)
	if err == nil {
		err = resp.Error()
	}
	if errors.Is(err, kerr.GroupIDNotFound) {
		return out, nil // nothing committed yet
	}
	if err != nil {
		return nil, fmt.Errorf("kafka: fetch committed offsets of group %s: %w", group, err)
	}
	resp.Each(func(o kadm.OffsetResponse) {
		if o.At < 0 {
			return
		}
		if out[o.Topic] == nil {
			out[o.Topic] = map[int32]int64{}
		}
		out[o.Topic][o.Partition] = o.At
	})
	return out, nil
}

// commitGroup commits the batch's offsets (the next offset to read) to the
// group.
func commitGroup(ctx context.Context, adm *kadm.Client, group string, recs []*kgo.Record) error {
	return commitOffsets(ctx, adm, group, addNextOffsets(kadm.Offsets{}, recs))
}

// addNextOffsets raises os to the next offset of each of recs' partitions.
func addNextOffsets(os kadm.Offsets, recs []*kgo.Record) kadm.Offsets {
	for _, r := range recs {
		if cur, ok := os.Lookup(r.Topic, r.Partition); ok && cur.At > r.Offset+1 {
			continue
		}
		os.Add(kadm.Offset{Topic: r.Topic, Partition: r.Partition, At: r.Offset + 1, LeaderEpoch: -1})
	}
	return os
}

// commitOffsets commits os to the consumer group.
func commitOffsets(ctx context.Context, adm *kadm.Client, group string, os kadm.Offsets) error {
	resp, err := adm.CommitOffsets(ctx, group, os)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		return fmt.Errorf("kafka: commit offsets to group %s: %w", group, err)
	}
	return nil
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

// recordHeaders are r's headers as the event model holds them.
func recordHeaders(r *kgo.Record) []change.Header {
	if len(r.Headers) == 0 {
		return nil
	}
	hs := make([]change.Header, len(r.Headers))
	for i, h := range r.Headers {
		hs[i] = change.Header{Key: h.Key, Value: h.Value}
	}
	return hs
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
	var extra DeadLetterHeaders
	if errors.As(cause, &extra) {
		m := extra.DeadLetterHeaders()
		names := make([]string, 0, len(m))
		for k := range m {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			hs = append(hs, kgo.RecordHeader{Key: k, Value: []byte(m[k])})
		}
	}
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

func (p *positions) copy() map[string]map[int32]int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]map[int32]int64, len(p.m))
	for t, ps := range p.m {
		out[t] = make(map[int32]int64, len(ps))
		for k, v := range ps {
			out[t][k] = v
		}
	}
	return out
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
