package elasticsearch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluice-cdc/sluice/change"
)

// Null-value behaviours (behavior.on.null.values).
const (
	NullDelete = "delete"
	NullIgnore = "ignore"
	NullFail   = "fail"
)

// Dead-letter headers added to a record rejected by the index, besides
// Kafka Connect's __connect.errors.*.
const (
	HeaderErrorType   = "sluice.es.error.type"
	HeaderErrorReason = "sluice.es.error.reason"
	HeaderErrorStatus = "sluice.es.error.status"
	HeaderIndex       = "sluice.es.index"
	HeaderID          = "sluice.es.id"
)

// TLSOptions configure TLS towards https URLs.
type TLSOptions struct {
	CAFile, CertFile, KeyFile string
	InsecureSkipVerify        bool
}

// Options configure an Elasticsearch sink.
type Options struct {
	// Name is the sink's name; the index template is installed as
	// sluice-<Name>.
	Name string
	// URLs of the nodes, http or https, used round-robin. A URL may carry
	// user:password.
	URLs []string
	// Index is the index name template: ${topic}, ${source.table},
	// ${source.schema}, ${source.db}; the result is lower-cased. Empty
	// means ${topic}.
	Index string
	// Username and Password for basic authentication, or APIKey (the
	// encoded key, sent as "Authorization: ApiKey <key>").
	Username, Password, APIKey string
	TLS                        TLSOptions
	// BulkMaxActions and BulkMaxBytes bound one bulk request.
	BulkMaxActions int
	BulkMaxBytes   int64
	// Concurrency is the number of bulk requests in flight; documents are
	// spread over them by a hash of index and id, so that the writes of
	// one document stay in order.
	Concurrency int
	// BehaviorOnNullValues is what a tombstone (null value) does: delete
	// (default), ignore or fail.
	BehaviorOnNullValues string
	// AutoCreate creates a missing index before its first write, with a
	// mapping derived from the record schema (or the index template's).
	AutoCreate bool
	// IndexTemplateFile is a JSON file holding a composable index template
	// ({"index_patterns": [...], "template": {...}, "priority": n}),
	// installed as _index_template/sluice-<Name> when the sink starts.
	// Indices the sink creates then take their settings and mappings from
	// it instead of the derived mapping.
	IndexTemplateFile string
	// RetryBackoff and RetryBackoffMax bound the exponential backoff
	// between retries of throttled or failed requests; RetryTimeout is how
	// long one bulk request is retried before the sink fails (and is
	// restarted by the supervisor). Defaults 100ms, 10s, 5m.
	RetryBackoff, RetryBackoffMax, RetryTimeout time.Duration
	// RequestTimeout bounds the wait for a response's headers; default 60s.
	RequestTimeout time.Duration
	// Counters, if set, are counted into (else the Sink has its own).
	Counters *Counters
	Logger   *slog.Logger
}

var templateVars = strings.NewReplacer("${topic}", "", "${source.table}", "", "${source.schema}", "", "${source.db}", "")

// Validate checks the options that do not need the server.
func (o *Options) Validate() error {
	if len(o.URLs) == 0 {
		return errors.New("elasticsearch sink: urls: at least one URL is required")
	}
	for _, raw := range o.URLs {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("elasticsearch sink: urls: %q is not an http(s) URL", redactURL(raw))
		}
	}
	if rest := templateVars.Replace(o.Index); strings.Contains(rest, "${") {
		return fmt.Errorf("elasticsearch sink: index template %q: unknown variable; use ${topic}, ${source.table}, ${source.schema} or ${source.db}", o.Index)
	}
	switch o.BehaviorOnNullValues {
	case "", NullDelete, NullIgnore, NullFail:
	default:
		return fmt.Errorf("elasticsearch sink: behavior.on.null.values %q: want delete, ignore or fail", o.BehaviorOnNullValues)
	}
	if o.APIKey != "" && o.Username != "" {
		return errors.New("elasticsearch sink: api_key: use either api_key or username and password, not both")
	}
	if o.BulkMaxActions < 0 || o.BulkMaxBytes < 0 || o.Concurrency < 0 {
		return errors.New("elasticsearch sink: bulk.max_actions, bulk.max_bytes and concurrency must not be negative")
	}
	if o.IndexTemplateFile != "" {
		b, err := os.ReadFile(o.IndexTemplateFile)
		if err != nil {
			return fmt.Errorf("elasticsearch sink: index_template: %w", err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			return fmt.Errorf("elasticsearch sink: index_template %s: %w", o.IndexTemplateFile, err)
		}
		if m["index_patterns"] == nil {
			return fmt.Errorf("elasticsearch sink: index_template %s: index_patterns is missing", o.IndexTemplateFile)
		}
	}
	return nil
}

func (o *Options) defaults() {
	if o.Index == "" {
		o.Index = "${topic}"
	}
	if o.BulkMaxActions == 0 {
		o.BulkMaxActions = 1000
	}
	if o.BulkMaxBytes == 0 {
		o.BulkMaxBytes = 5 << 20
	}
	if o.Concurrency == 0 {
		o.Concurrency = 1
	}
	if o.BehaviorOnNullValues == "" {
		o.BehaviorOnNullValues = NullDelete
	}
	if o.RetryBackoff == 0 {
		o.RetryBackoff = 100 * time.Millisecond
	}
	if o.RetryBackoffMax == 0 {
		o.RetryBackoffMax = 10 * time.Second
	}
	if o.RetryTimeout == 0 {
		o.RetryTimeout = 5 * time.Minute
	}
	if o.RequestTimeout == 0 {
		o.RequestTimeout = 60 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Counters == nil {
		o.Counters = &Counters{}
	}
}

// Record is one consumed Kafka record and its decoded event. A nil Event
// is not applied (it was rejected before) but counts as consumed.
type Record struct {
	Topic     string
	Partition int32
	Offset    int64
	Event     *change.Event
	// Schemaless marks a record written without the JSON converter's
	// schema block: its inferred schema does not say enough to derive a
	// mapping, so the server's dynamic mapping decides.
	Schemaless bool
}

// Reject is called with the index of a record that cannot be applied and
// the reason. It returns nil to go on without the record (it was sent to a
// dead-letter topic) or the error that stops the sink.
type Reject func(i int, err error) error

// ItemError is a bulk item the server refused for good (a mapping
// conflict, a malformed document, an invalid index name, ...).
type ItemError struct {
	Action, Index, ID string
	Status            int
	Type, Reason      string
	CausedBy          string // "type: reason" of the cause, if any
}

func (e *ItemError) Error() string {
	msg := fmt.Sprintf("elasticsearch: %s %s/%s refused with %d %s: %s", e.Action, e.Index, e.ID, e.Status, e.Type, e.Reason)
	if e.CausedBy != "" {
		msg += " (caused by " + e.CausedBy + ")"
	}
	return msg
}

// DeadLetterHeaders names the server's error in the dead-letter record.
func (e *ItemError) DeadLetterHeaders() map[string]string {
	reason := e.Reason
	if e.CausedBy != "" {
		reason += " (caused by " + e.CausedBy + ")"
	}
	return map[string]string{
		HeaderErrorType: e.Type, HeaderErrorReason: reason, HeaderErrorStatus: strconv.Itoa(e.Status),
		HeaderIndex: e.Index, HeaderID: e.ID,
	}
}

// Sink writes batches of records into Elasticsearch or OpenSearch indices.
type Sink struct {
	o      Options
	c      *client
	log    *slog.Logger
	known  map[string]*indexState   // indices that exist
	topics map[string]change.Source // last source block per topic (for tombstones)
	names  map[indexKey]string      // index names made from the template

	*Counters
}

// Counters count a sink's outcomes; they may outlive one Sink (the
// connector's restarts) through Options.Counters.
type Counters struct {
	Indexed   atomic.Int64 // documents written
	Deleted   atomic.Int64 // deletes applied (404s included)
	Conflicts atomic.Int64 // writes superseded by a newer version (replays)
	Retries   atomic.Int64 // requests or items sent again
}

// CountersSnapshot is what the status API shows of the counters.
type CountersSnapshot struct {
	Indexed   int64 `json:"indexed"`
	Deleted   int64 `json:"deleted"`
	Conflicts int64 `json:"version_conflicts"`
	Retries   int64 `json:"retries"`
}

// Snapshot reads the counters.
func (c *Counters) Snapshot() CountersSnapshot {
	return CountersSnapshot{Indexed: c.Indexed.Load(), Deleted: c.Deleted.Load(), Conflicts: c.Conflicts.Load(), Retries: c.Retries.Load()}
}

// Open checks the options, connects to the cluster (GET /) and installs
// the index template, if any.
func Open(ctx context.Context, o Options) (*Sink, error) {
	o.defaults()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	c, err := newClient(&o, o.Logger)
	if err != nil {
		return nil, err
	}
	s := &Sink{o: o, c: c, log: o.Logger, known: map[string]*indexState{}, topics: map[string]change.Source{}, Counters: o.Counters}
	info, err := s.request(ctx, http.MethodGet, "/", nil, "")
	if err != nil {
		c.close()
		return nil, fmt.Errorf("elasticsearch sink %s: connect: %w", o.Name, err)
	}
	if info.status != http.StatusOK {
		c.close()
		return nil, fmt.Errorf("elasticsearch sink %s: connect to %s: %s", o.Name, info.node, info.describe())
	}
	var root struct {
		Version struct {
			Number       string `json:"number"`
			Distribution string `json:"distribution"`
		} `json:"version"`
	}
	_ = json.Unmarshal(info.body, &root)
	dist := root.Version.Distribution
	if dist == "" {
		dist = "elasticsearch"
	}
	s.log.Info("elasticsearch sink connected", "node", info.node, "distribution", dist, "version", root.Version.Number)
	if o.IndexTemplateFile != "" {
		body, err := os.ReadFile(o.IndexTemplateFile)
		if err != nil {
			c.close()
			return nil, fmt.Errorf("elasticsearch sink %s: read index template: %w", o.Name, err)
		}
		resp, err := s.request(ctx, http.MethodPut, "/_index_template/sluice-"+url.PathEscape(o.Name), body, "application/json")
		if err == nil && resp.status/100 != 2 {
			err = errors.New(resp.describe())
		}
		if err != nil {
			c.close()
			return nil, fmt.Errorf("elasticsearch sink %s: install index template sluice-%s: %w", o.Name, o.Name, err)
		}
	}
	return s, nil
}

// Close releases idle connections. It is idempotent.
func (s *Sink) Close() error {
	s.c.close()
	return nil
}

// request sends a request, retrying transport failures, 429 and 5xx with
// backoff until RetryTimeout.
func (s *Sink) request(ctx context.Context, method, path string, body []byte, ct string) (*response, error) {
	bo := &backoff{base: s.o.RetryBackoff, max: s.o.RetryBackoffMax}
	deadline := time.Now().Add(s.o.RetryTimeout)
	for {
		resp, err := s.c.do(ctx, method, path, body, ct)
		if err == nil && !transient(resp.status) {
			return resp, nil
		}
		if permanentTransport(err) {
			return nil, err
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var retryAfter time.Duration
		why := ""
		if err != nil {
			why = err.Error()
		} else {
			retryAfter, why = resp.retryAfter, resp.describe()
		}
		d := bo.next(retryAfter)
		if time.Now().Add(d).After(deadline) {
			if err != nil {
				return nil, fmt.Errorf("gave up after %s: %w", s.o.RetryTimeout, err)
			}
			return nil, fmt.Errorf("gave up after %s: %s", s.o.RetryTimeout, why)
		}
		s.Retries.Add(1)
		s.log.Warn("elasticsearch request failed, retrying", "method", method, "path", path, "err", why, "in", d)
		if err := sleep(ctx, d); err != nil {
			return nil, err
		}
	}
}

// action is one bulk action built from a record.
type action struct {
	rec    int // index into the batch
	op     string
	index  string
	id     string
	line   []byte // action line and source, newline-terminated
	schema *change.Schema
	err    *ItemError
}

// Positions returns nil: the index holds no consumer offsets, the
// consumer group does (see runtime.SinkWriter).
func (s *Sink) Positions(context.Context) (map[string]map[int32]int64, error) { return nil, nil }

// Write applies a batch: every record becomes a bulk action versioned with
// its offset (version_type=external), the last action per document wins
// within the batch, and Write returns only when every action is durable
// (or a version conflict, i.e. already superseded) or was handed to
// reject.
func (s *Sink) Write(ctx context.Context, recs []Record, reject Reject) error {
	byDoc := map[string]int{} // index + "\x00" + id -> position in acts
	var acts []*action
	for i := range recs {
		a, err := s.build(i, &recs[i])
		if err != nil {
			if err := reject(i, err); err != nil {
				return err
			}
			continue
		}
		if a == nil {
			continue
		}
		k := a.index + "\x00" + a.id
		if j, ok := byDoc[k]; ok {
			if a.schema == nil {
				a.schema = acts[j].schema
			}
			acts[j] = nil // superseded by a later offset
		}
		byDoc[k] = len(acts)
		acts = append(acts, a)
	}
	live := acts[:0]
	for _, a := range acts {
		if a != nil {
			live = append(live, a)
		}
	}
	if len(live) == 0 {
		return nil
	}
	if err := s.ensureIndices(ctx, live); err != nil {
		return err
	}
	lanes := make([][]*action, s.o.Concurrency)
	for _, a := range live {
		n := 0
		if len(lanes) > 1 {
			h := fnv.New32a()
			h.Write([]byte(a.index))
			h.Write([]byte{0})
			h.Write([]byte(a.id))
			n = int(h.Sum32() % uint32(len(lanes)))
		}
		lanes[n] = append(lanes[n], a)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, len(lanes))
	for n, lane := range lanes {
		if len(lane) == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.writeLane(ctx, lane); err != nil {
				errs[n] = err
				cancel()
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return fmt.Errorf("elasticsearch sink %s: %w", s.o.Name, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for _, a := range live {
		if a.err != nil {
			if err := reject(a.rec, a.err); err != nil {
				return err
			}
		}
	}
	return nil
}

// build turns a record into an action; nil means there is nothing to do.
func (s *Sink) build(i int, r *Record) (*action, error) {
	e := r.Event
	if e == nil || e.SchemaChange != nil {
		return nil, nil
	}
	if e.Op != "" && e.Op != change.OpTruncate {
		s.topics[r.Topic] = e.Source
	}
	a := &action{rec: i}
	switch {
	case e.Tombstone:
		switch s.o.BehaviorOnNullValues {
		case NullIgnore:
			return nil, nil
		case NullFail:
			return nil, errors.New("elasticsearch sink: record has a null value and behavior.on.null.values is fail")
		}
		a.op = "delete"
	case e.Op == change.OpDelete:
		a.op = "delete"
	case e.Op == change.OpTruncate:
		return nil, errors.New("elasticsearch sink: a truncate cannot be applied to an index idempotently (its documents carry no versions to compare with); truncate the index by hand")
	case e.After != nil && (e.Op == "" || e.Op == change.OpCreate || e.Op == change.OpUpdate || e.Op == change.OpRead):
		a.op = "index"
		if !r.Schemaless {
			a.schema = e.After.Schema
			if e.RowSchema != nil {
				a.schema = e.RowSchema
			}
		}
	default:
		return nil, fmt.Errorf("elasticsearch sink: record is not a row change (op %q, no after image)", e.Op)
	}
	src := e.Source
	if e.Tombstone || e.Op == "" {
		src = s.topics[r.Topic]
	}
	a.index = s.indexName(r.Topic, &src)
	if err := checkIndexName(a.index); err != nil {
		return nil, err
	}
	if e.Key != nil {
		id, err := DocumentID(e.Key)
		if err != nil {
			return nil, fmt.Errorf("elasticsearch sink: document id: %w", err)
		}
		a.id = id
	} else if a.op == "index" {
		// No key: the record's coordinates, as Kafka Connect's sink does
		// with key.ignore; a replay writes the same document.
		a.id = fmt.Sprintf("%s+%d+%d", r.Topic, r.Partition, r.Offset)
	} else {
		return nil, errors.New("elasticsearch sink: a delete without a record key cannot name a document")
	}
	if a.id == "" {
		return nil, errors.New("elasticsearch sink: document id is empty")
	}
	if len(a.id) > maxIDBytes {
		return nil, fmt.Errorf("elasticsearch sink: document id is %d bytes, more than %d", len(a.id), maxIDBytes)
	}
	b := make([]byte, 0, 128)
	b = append(b, `{"`...)
	b = append(b, a.op...)
	b = append(b, `":{"_index":`...)
	b = change.AppendJSONString(b, a.index)
	b = append(b, `,"_id":`...)
	b = change.AppendJSONString(b, a.id)
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, r.Offset, 10)
	b = append(b, `,"version_type":"external"}}`+"\n"...)
	if a.op == "index" {
		var err error
		if b, err = appendDocument(b, e.After); err != nil {
			return nil, fmt.Errorf("elasticsearch sink: document: %w", err)
		}
		b = append(b, '\n')
	}
	a.line = b
	return a, nil
}

// indexKey is what an index name depends on.
type indexKey struct{ topic, db, schema, table string }

func (s *Sink) indexName(topic string, src *change.Source) string {
	k := indexKey{topic: topic}
	if strings.Contains(s.o.Index, "${source.") {
		k.db, k.schema, k.table = src.DB, src.Schema, src.Table
	}
	if name, ok := s.names[k]; ok {
		return name
	}
	name := strings.ToLower(strings.NewReplacer(
		"${topic}", topic, "${source.table}", src.Table, "${source.schema}", src.Schema, "${source.db}", src.DB,
	).Replace(s.o.Index))
	if s.names == nil || len(s.names) >= 4096 {
		s.names = map[indexKey]string{}
	}
	s.names[k] = name
	return name
}

// checkIndexName applies the documented index name rules (lower case is
// already applied), so that a bad name rejects its record instead of
// failing requests.
func checkIndexName(name string) error {
	switch {
	case name == "", name == ".", name == "..":
		return fmt.Errorf("elasticsearch sink: index name %q is not allowed", name)
	case strings.ContainsAny(name, `\/*?"<>| ,#:`):
		return fmt.Errorf("elasticsearch sink: index name %q contains one of \\ / * ? \" < > | space , # :", name)
	case strings.HasPrefix(name, "-"), strings.HasPrefix(name, "_"), strings.HasPrefix(name, "+"):
		return fmt.Errorf("elasticsearch sink: index name %q must not start with -, _ or +", name)
	case len(name) > 255:
		return fmt.Errorf("elasticsearch sink: index name %q is longer than 255 bytes", name)
	}
	return nil
}

// indexState is what the sink knows of an index's mapping.
type indexState struct {
	fields  map[string]bool         // top-level fields mapped (or left to the server)
	checked map[*change.Schema]bool // schemas whose fields are all in fields
}

// ensureIndices prepares the batch's indices (auto_create): an unknown
// index is created with the mapping derived from the first schema seen for
// it, or with none when an index template is installed; an index that
// exists is left as it is. Then fields that the batch's schemas carry and
// the mapping lacks (new columns) are added with their derived mapping
// before any document holds them; existing fields are never changed.
func (s *Sink) ensureIndices(ctx context.Context, acts []*action) error {
	if !s.o.AutoCreate {
		return nil
	}
	schemas := map[string]*change.Schema{}
	var order []string
	for _, a := range acts {
		if _, ok := schemas[a.index]; !ok {
			order = append(order, a.index)
			schemas[a.index] = nil
		}
		if schemas[a.index] == nil && a.schema != nil {
			schemas[a.index] = a.schema
		}
	}
	for _, name := range order {
		if s.known[name] == nil {
			if schemas[name] == nil && s.o.IndexTemplateFile == "" {
				// Deletes only: wait for a record with a schema before
				// creating the index; deleting from a missing index is a
				// 404, which counts as done.
				continue
			}
			st, err := s.createIndex(ctx, name, schemas[name])
			if err != nil {
				return fmt.Errorf("elasticsearch sink %s: %w", s.o.Name, err)
			}
			s.known[name] = st
		}
	}
	if s.o.IndexTemplateFile != "" {
		return nil
	}
	for _, a := range acts {
		st := s.known[a.index]
		if st == nil || a.schema == nil || st.checked[a.schema] {
			continue
		}
		props := map[string]any{}
		for _, f := range a.schema.Fields {
			if !st.fields[f.Name] {
				if m := fieldMapping(f.Schema); m != nil {
					props[f.Name] = m
				}
			}
		}
		if len(props) > 0 {
			body, err := json.Marshal(map[string]any{"properties": props})
			if err != nil {
				return fmt.Errorf("elasticsearch sink %s: mapping of new fields of index %s: %w", s.o.Name, a.index, err)
			}
			resp, err := s.request(ctx, http.MethodPut, "/"+url.PathEscape(a.index)+"/_mapping", body, "application/json")
			if err != nil {
				return fmt.Errorf("elasticsearch sink %s: add fields to the mapping of index %s: %w", s.o.Name, a.index, err)
			}
			if resp.status/100 == 2 {
				s.log.Info("mapping extended", "index", a.index, "fields", len(props))
			} else {
				// The server keeps its mapping; documents that do not fit
				// it are refused item by item.
				s.log.Warn("mapping update refused; the index's mapping decides", "index", a.index, "err", resp.describe())
			}
		}
		for _, f := range a.schema.Fields {
			st.fields[f.Name] = true
		}
		if len(st.checked) >= 1024 {
			clear(st.checked) // decoded schemas are shared, but not forever
		}
		st.checked[a.schema] = true
	}
	return nil
}

// createIndex creates an index unless it exists, and returns what its
// mapping holds.
func (s *Sink) createIndex(ctx context.Context, name string, sc *change.Schema) (*indexState, error) {
	path := "/" + url.PathEscape(name)
	resp, err := s.request(ctx, http.MethodHead, path, nil, "")
	if err != nil {
		return nil, fmt.Errorf("check index %s: %w", name, err)
	}
	switch resp.status {
	case http.StatusOK:
		return s.readMapping(ctx, name)
	case http.StatusNotFound:
	default:
		return nil, fmt.Errorf("check index %s: %s", name, resp.describe())
	}
	body := []byte("{}")
	st := &indexState{fields: map[string]bool{}, checked: map[*change.Schema]bool{}}
	if s.o.IndexTemplateFile == "" && sc != nil {
		if body, err = json.Marshal(map[string]any{"mappings": Mapping(sc)}); err != nil {
			return nil, fmt.Errorf("mapping of index %s: %w", name, err)
		}
		for _, f := range sc.Fields {
			st.fields[f.Name] = true
		}
		st.checked[sc] = true
	}
	resp, err = s.request(ctx, http.MethodPut, path, body, "application/json")
	if err != nil {
		return nil, fmt.Errorf("create index %s: %w", name, err)
	}
	if resp.status/100 != 2 {
		if bytes.Contains(resp.body, []byte("resource_already_exists_exception")) {
			return s.readMapping(ctx, name) // created meanwhile by someone else
		}
		return nil, fmt.Errorf("create index %s: %s", name, resp.describe())
	}
	s.log.Info("index created", "index", name)
	return st, nil
}

// readMapping reads the top-level fields of an existing index's mapping.
func (s *Sink) readMapping(ctx context.Context, name string) (*indexState, error) {
	resp, err := s.request(ctx, http.MethodGet, "/"+url.PathEscape(name)+"/_mapping", nil, "")
	if err == nil && resp.status/100 != 2 {
		err = errors.New(resp.describe())
	}
	if err != nil {
		return nil, fmt.Errorf("read the mapping of index %s: %w", name, err)
	}
	var m map[string]struct {
		Mappings struct {
			Properties map[string]json.RawMessage `json:"properties"`
		} `json:"mappings"`
	}
	if err := json.Unmarshal(resp.body, &m); err != nil {
		return nil, fmt.Errorf("read the mapping of index %s: %w", name, err)
	}
	st := &indexState{fields: map[string]bool{}, checked: map[*change.Schema]bool{}}
	for _, im := range m { // one entry: the index (an alias's target)
		for f := range im.Mappings.Properties {
			st.fields[f] = true
		}
	}
	return st, nil
}

// writeLane sends a lane's actions in bulk requests of at most
// BulkMaxActions actions and BulkMaxBytes bytes, one after the other.
func (s *Sink) writeLane(ctx context.Context, acts []*action) error {
	for len(acts) > 0 {
		n, size := 0, int64(0)
		for n < len(acts) && n < s.o.BulkMaxActions {
			l := int64(len(acts[n].line))
			if n > 0 && size+l > s.o.BulkMaxBytes {
				break
			}
			size += l
			n++
		}
		if err := s.bulk(ctx, acts[:n]); err != nil {
			return err
		}
		acts = acts[n:]
	}
	return nil
}

// bulkResponse is the part of a _bulk response the sink reads.
type bulkResponse struct {
	Errors bool                  `json:"errors"`
	Items  []map[string]bulkItem `json:"items"` // action name -> result
}

type bulkItem struct {
	Status int    `json:"status"`
	Result string `json:"result"`
	Error  *struct {
		Type     string `json:"type"`
		Reason   string `json:"reason"`
		CausedBy *struct {
			Type   string `json:"type"`
			Reason string `json:"reason"`
		} `json:"caused_by"`
	} `json:"error"`
}

// bulk sends actions until each has an outcome: done, superseded (version
// conflict), or refused (a.err). Throttled and failed requests are resent
// whole; throttled or failed items are resent, in their order, before the
// lane moves on.
func (s *Sink) bulk(ctx context.Context, acts []*action) error {
	bo := &backoff{base: s.o.RetryBackoff, max: s.o.RetryBackoffMax}
	deadline := time.Now().Add(s.o.RetryTimeout)
	pending := acts
	for len(pending) > 0 {
		// A new buffer per attempt: the transport may still read the
		// previous request's body after a failed round trip returned.
		size := 0
		for _, a := range pending {
			size += len(a.line)
		}
		body := make([]byte, 0, size)
		for _, a := range pending {
			body = append(body, a.line...)
		}
		resp, err := s.c.do(ctx, http.MethodPost, "/_bulk", body, "application/x-ndjson")
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var retryAfter time.Duration
		why := ""
		switch {
		case permanentTransport(err):
			return fmt.Errorf("bulk request of %d actions: %w", len(pending), err)
		case err != nil:
			why = err.Error()
		case transient(resp.status):
			why, retryAfter = resp.describe(), resp.retryAfter
		case resp.status/100 != 2:
			return fmt.Errorf("bulk request of %d actions refused: %s", len(pending), resp.describe())
		default:
			var br bulkResponse
			if err := json.Unmarshal(resp.body, &br); err != nil {
				return fmt.Errorf("bulk request of %d actions: read response: %w", len(pending), err)
			}
			if len(br.Items) != len(pending) {
				return fmt.Errorf("bulk request of %d actions: response has %d items", len(pending), len(br.Items))
			}
			var again []*action
			for i, a := range pending {
				var it bulkItem
				for _, v := range br.Items[i] {
					it = v
				}
				switch {
				case it.Status/100 == 2:
					if a.op == "delete" {
						s.Deleted.Add(1)
					} else {
						s.Indexed.Add(1)
					}
				case it.Status == http.StatusConflict && it.Error != nil && it.Error.Type == "version_conflict_engine_exception":
					// A newer version is already there: this write was
					// applied before (a replay) or superseded.
					s.Conflicts.Add(1)
				case it.Status == http.StatusNotFound && a.op == "delete":
					// Nothing to delete (a missing document or index).
					s.Deleted.Add(1)
				case transient(it.Status):
					again = append(again, a)
					if why == "" && it.Error != nil {
						why = fmt.Sprintf("%d %s: %s", it.Status, it.Error.Type, it.Error.Reason)
					}
				default:
					ie := &ItemError{Action: a.op, Index: a.index, ID: a.id, Status: it.Status}
					if it.Error != nil {
						ie.Type, ie.Reason = it.Error.Type, it.Error.Reason
						if c := it.Error.CausedBy; c != nil {
							ie.CausedBy = c.Type + ": " + c.Reason
						}
					}
					a.err = ie
				}
			}
			if len(again) == 0 {
				return nil
			}
			why = fmt.Sprintf("%d of %d items: %s", len(again), len(pending), why)
			pending = again
		}
		d := bo.next(retryAfter)
		if time.Now().Add(d).After(deadline) {
			return fmt.Errorf("bulk request of %d actions: gave up after %s: %s", len(pending), s.o.RetryTimeout, why)
		}
		s.Retries.Add(1)
		s.log.Warn("bulk request failed, retrying", "actions", len(pending), "err", why, "in", d)
		if err := sleep(ctx, d); err != nil {
			return err
		}
	}
	return nil
}
