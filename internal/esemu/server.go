package esemu

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Flavor selects whose responses the emulator gives.
type Flavor int

// Flavors.
const (
	Elasticsearch Flavor = iota
	OpenSearch
)

// Options configure a Server.
type Options struct {
	Flavor Flavor
	// Version is the version number reported by GET /; it also decides
	// whether items carry "_type": "_doc" (Elasticsearch 7, OpenSearch 1).
	// Default 8.15.0 (Elasticsearch) or 2.17.0 (OpenSearch).
	Version string
	// GCDeletes is how long a deleted document's version is kept
	// (index.gc_deletes); default 60s.
	GCDeletes time.Duration
	// Username and Password, when set, are required as basic auth; APIKey,
	// when set, is accepted as "Authorization: ApiKey <APIKey>".
	Username, Password, APIKey string
	// RefreshInterval is how often searches (_count) see new writes
	// without an explicit _refresh; default 1s, negative never.
	RefreshInterval time.Duration
	// TLS serves https with a self-signed certificate (see CACertPEM).
	TLS bool
}

// Faults are injected into _bulk requests, each with its probability.
type Faults struct {
	Seed uint64
	// Status429 refuses a request with 429 and a Retry-After header.
	Status429  float64
	RetryAfter string // default "1"
	// Status503 refuses a request with 503.
	Status503 float64
	// Item429 rejects a single item with es_rejected_execution_exception.
	Item429 float64
	// DropBefore closes the connection before applying the request,
	// DropAfter after applying it (the client never sees the response).
	DropBefore, DropAfter float64
	// Delay is added to every _bulk request.
	Delay time.Duration
}

// Write is one applied write in the log.
type Write struct {
	Index, ID string
	Op        string // "index" or "delete"
	Version   int64
	// Prev is the version the document (or its tombstone) had before;
	// -1 when there was none.
	Prev     int64
	External bool
	At       time.Time
}

// Stats counts what the server saw.
type Stats struct {
	Requests, BulkRequests, Items                    int64
	Injected429, Injected503, InjectedItem429        int64
	DroppedBefore, DroppedAfter, VersionConflicts    int64
	MappingErrors, DocsIndexed, DocsDeleted, Refresh int64
}

// Server is a running emulator.
type Server struct {
	// URL is the base URL, http://127.0.0.1:<port>.
	URL string

	ts   *httptest.Server
	opts Options

	mu        sync.Mutex
	indices   map[string]*index
	templates map[string]*template
	faults    Faults
	rng       *mrand.Rand
	writes    []Write
	stats     Stats
}

type index struct {
	name, uuid  string
	mapping     *field // object field holding the properties
	docs        map[string]*doc
	seqNo       int64
	refreshed   int // live documents at the last refresh
	lastRefresh time.Time
}

type doc struct {
	version   int64
	seqNo     int64
	source    json.RawMessage
	deleted   bool
	deletedAt time.Time
}

type template struct {
	name     string
	patterns []string
	priority int
	mapping  *field
}

// New starts an emulator on a free loopback port.
func New(opts Options) *Server {
	if opts.Version == "" {
		opts.Version = "8.15.0"
		if opts.Flavor == OpenSearch {
			opts.Version = "2.17.0"
		}
	}
	if opts.GCDeletes == 0 {
		opts.GCDeletes = 60 * time.Second
	}
	if opts.RefreshInterval == 0 {
		opts.RefreshInterval = time.Second
	}
	s := &Server{opts: opts, indices: map[string]*index{}, templates: map[string]*template{}, rng: mrand.New(mrand.NewPCG(1, 2))}
	s.ts = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	// Clients that refuse the test certificate are what TLS tests check;
	// the server need not log them.
	s.ts.Config.ErrorLog = log.New(io.Discard, "", 0)
	if opts.TLS {
		s.ts.StartTLS()
	} else {
		s.ts.Start()
	}
	s.URL = s.ts.URL
	return s
}

// CACertPEM returns the PEM of the certificate a TLS server presents (to
// be trusted as a CA), or nil for a plain http server.
func (s *Server) CACertPEM() []byte {
	c := s.ts.Certificate()
	if c == nil {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

// Close stops the server.
func (s *Server) Close() { s.ts.Close() }

// SetFaults replaces the fault injection settings.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.RetryAfter == "" {
		f.RetryAfter = "1"
	}
	s.faults = f
	s.rng = mrand.New(mrand.NewPCG(f.Seed, f.Seed^0x9e3779b97f4a7c15))
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Writes returns a copy of the write log.
func (s *Server) Writes() []Write {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Write(nil), s.writes...)
}

// CheckVersions verifies the write log: for every document, each applied
// write carries a version greater than every version written before it
// (with external versioning; internal writes count up by one). It returns
// the first violation.
func (s *Server) CheckVersions() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	type key struct{ index, id string }
	maxSeen := map[key]int64{}
	for i, w := range s.writes {
		k := key{w.Index, w.ID}
		m, ok := maxSeen[k]
		if ok && w.Version <= m {
			return fmt.Errorf("write %d: %s %s/%s at version %d after version %d had been written", i, w.Op, w.Index, w.ID, w.Version, m)
		}
		maxSeen[k] = w.Version
	}
	return nil
}

// Doc returns a live document's source and version.
func (s *Server) Doc(indexName, id string) (source json.RawMessage, version int64, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ix := s.indices[indexName]
	if ix == nil {
		return nil, 0, false
	}
	d := ix.docs[id]
	if d == nil || d.deleted {
		return nil, 0, false
	}
	return d.source, d.version, true
}

// Docs returns the live documents of an index by id.
func (s *Server) Docs(indexName string) map[string]json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]json.RawMessage{}
	if ix := s.indices[indexName]; ix != nil {
		for id, d := range ix.docs {
			if !d.deleted {
				out[id] = d.source
			}
		}
	}
	return out
}

// Indices returns the names of the existing indices, sorted.
func (s *Server) Indices() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for n := range s.indices {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Mapping returns an index's mapping as GET /<index>/_mapping shows it
// under "mappings", or nil.
func (s *Server) Mapping(indexName string) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	ix := s.indices[indexName]
	if ix == nil {
		return nil
	}
	return ix.mapping.objectJSON()
}

func (s *Server) newerMajor() bool {
	major, _, _ := strings.Cut(s.opts.Version, ".")
	n, _ := strconv.Atoi(major)
	if s.opts.Flavor == OpenSearch {
		return n >= 2
	}
	return n >= 8
}

// documentParsing reports whether document parsing failures are named
// document_parsing_exception (Elasticsearch 8.8 and later).
func (s *Server) documentParsing() bool {
	if s.opts.Flavor == OpenSearch {
		return false
	}
	major, rest, _ := strings.Cut(s.opts.Version, ".")
	minor, _, _ := strings.Cut(rest, ".")
	ma, _ := strconv.Atoi(major)
	mi, _ := strconv.Atoi(minor)
	return ma > 8 || (ma == 8 && mi >= 8)
}

func randomUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// esError is an error object as Elasticsearch writes it.
type esError struct {
	status  int
	typ     string
	reason  string
	index   string
	uuid    string
	causeTy string
	cause   string
	shard   bool // a document-level failure names its shard
}

func (e *esError) object() map[string]any {
	m := map[string]any{"type": e.typ, "reason": e.reason}
	if e.index != "" {
		m["index"] = e.index
		m["index_uuid"] = e.uuid
		if e.shard {
			m["shard"] = "0"
		}
	}
	if e.causeTy != "" {
		m["caused_by"] = map[string]any{"type": e.causeTy, "reason": e.cause}
	}
	return m
}

func (s *Server) writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	b, _ := json.Marshal(v)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func (s *Server) writeError(w http.ResponseWriter, e *esError) {
	root := e.object()
	delete(root, "caused_by")
	body := e.object()
	body["root_cause"] = []any{root}
	s.writeJSON(w, e.status, map[string]any{"error": body, "status": e.status})
}

func (s *Server) authorized(r *http.Request) bool {
	if s.opts.Username == "" && s.opts.APIKey == "" {
		return true
	}
	h := r.Header.Get("Authorization")
	if s.opts.APIKey != "" && h == "ApiKey "+s.opts.APIKey {
		return true
	}
	if u, p, ok := r.BasicAuth(); ok && s.opts.Username != "" && u == s.opts.Username && p == s.opts.Password {
		return true
	}
	return false
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if s.opts.Flavor == Elasticsearch {
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
	}
	s.mu.Lock()
	s.stats.Requests++
	s.mu.Unlock()
	if !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="security" charset="UTF-8"`)
		s.writeError(w, &esError{status: 401, typ: "security_exception", reason: "missing authentication credentials for REST request [" + r.URL.Path + "]"})
		return
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if parts[0] == "" {
		parts = nil
	}
	m := r.Method
	switch {
	case len(parts) == 0 && (m == http.MethodGet || m == http.MethodHead):
		s.root(w)
	case len(parts) == 1 && parts[0] == "_bulk" && (m == http.MethodPost || m == http.MethodPut):
		s.bulk(w, r, "")
	case len(parts) == 2 && parts[1] == "_bulk" && (m == http.MethodPost || m == http.MethodPut):
		s.bulk(w, r, parts[0])
	case len(parts) == 1 && parts[0] == "_refresh":
		s.refresh(w, "")
	case len(parts) == 2 && parts[0] == "_index_template" && m == http.MethodPut:
		s.putTemplate(w, r, parts[1])
	case len(parts) == 2 && parts[0] == "_index_template" && m == http.MethodGet:
		s.getTemplate(w, parts[1])
	case len(parts) == 1 && strings.HasPrefix(parts[0], "_"):
		s.writeError(w, &esError{status: 400, typ: "illegal_argument_exception", reason: "unsupported endpoint [" + r.URL.Path + "]"})
	case len(parts) == 1 && m == http.MethodPut:
		s.createIndex(w, r, parts[0])
	case len(parts) == 1 && m == http.MethodHead:
		s.mu.Lock()
		_, ok := s.indices[parts[0]]
		s.mu.Unlock()
		if ok {
			w.WriteHeader(http.StatusOK)
		} else {
			w.WriteHeader(http.StatusNotFound)
		}
	case len(parts) == 1 && m == http.MethodDelete:
		s.deleteIndex(w, parts[0])
	case len(parts) == 2 && parts[1] == "_refresh":
		s.refresh(w, parts[0])
	case len(parts) == 2 && parts[1] == "_count":
		s.count(w, parts[0])
	case len(parts) == 2 && parts[1] == "_mapping" && m == http.MethodGet:
		s.getMapping(w, parts[0])
	case len(parts) == 2 && parts[1] == "_mapping" && (m == http.MethodPut || m == http.MethodPost):
		s.putMapping(w, r, parts[0])
	case len(parts) == 3 && parts[1] == "_doc" && m == http.MethodGet:
		s.getDoc(w, parts[0], parts[2])
	case len(parts) == 3 && parts[1] == "_doc" && (m == http.MethodPut || m == http.MethodPost || m == http.MethodDelete):
		s.singleDoc(w, r, parts[0], parts[2])
	default:
		s.writeError(w, &esError{status: 405, typ: "illegal_argument_exception", reason: fmt.Sprintf("Incorrect HTTP method for uri [%s] and method [%s]", r.URL.Path, m)})
	}
}

func (s *Server) root(w http.ResponseWriter) {
	v := map[string]any{
		"number":                              s.opts.Version,
		"build_type":                          "docker",
		"build_hash":                          "0000000000000000000000000000000000000000",
		"build_date":                          "2024-01-01T00:00:00.000000000Z",
		"build_snapshot":                      false,
		"lucene_version":                      "9.11.1",
		"minimum_wire_compatibility_version":  "7.17.0",
		"minimum_index_compatibility_version": "7.0.0",
	}
	tagline := "You Know, for Search"
	if s.opts.Flavor == OpenSearch {
		v["distribution"] = "opensearch"
		v["build_type"] = "tar"
		v["minimum_wire_compatibility_version"] = "7.10.0"
		tagline = "The OpenSearch Project: https://opensearch.org/"
	} else {
		v["build_flavor"] = "default"
	}
	s.writeJSON(w, 200, map[string]any{
		"name": "esemu", "cluster_name": "esemu", "cluster_uuid": "esemu-cluster-uuid-000000",
		"version": v, "tagline": tagline,
	})
}

// validIndexName checks the documented index name rules.
func validIndexName(name string) *esError {
	bad := func(why string) *esError {
		return &esError{status: 400, typ: "invalid_index_name_exception", reason: "Invalid index name [" + name + "], " + why, index: name, uuid: "_na_"}
	}
	switch {
	case name == "." || name == "..":
		return bad("must not be '.' or '..'")
	case strings.ToLower(name) != name:
		return bad("must be lowercase")
	case strings.ContainsAny(name, `\/*?"<>| ,#:`):
		return bad(`must not contain the following characters [ , ", *, \, <, |, ,, >, /, ?]`)
	case strings.HasPrefix(name, "-") || strings.HasPrefix(name, "_") || strings.HasPrefix(name, "+"):
		return bad("must not start with '_', '-', or '+'")
	case len(name) > 255:
		return bad("index name is too long, (" + strconv.Itoa(len(name)) + " > 255)")
	}
	return nil
}

// newIndex creates an index (s.mu held), applying the matching template
// with the highest priority and then the request's mapping.
func (s *Server) newIndex(name string, explicit *field) *index {
	ix := &index{name: name, uuid: randomUUID(), mapping: newObject(), docs: map[string]*doc{}, seqNo: -1, lastRefresh: time.Now()}
	var best *template
	for _, t := range s.templates {
		for _, p := range t.patterns {
			if globMatch(p, name) && (best == nil || t.priority > best.priority) {
				best = t
			}
		}
	}
	if best != nil && best.mapping != nil {
		ix.mapping.merge(best.mapping)
	}
	if explicit != nil {
		ix.mapping.merge(explicit)
	}
	s.indices[name] = ix
	return ix
}

func globMatch(pattern, name string) bool {
	if !strings.Contains(pattern, "*") {
		return pattern == name
	}
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(name, parts[0]) {
		return false
	}
	rest := name[len(parts[0]):]
	for i, p := range parts[1:] {
		if i == len(parts)-2 {
			return strings.HasSuffix(rest, p)
		}
		j := strings.Index(rest, p)
		if j < 0 {
			return false
		}
		rest = rest[j+len(p):]
	}
	return true
}

func readBody(r *http.Request) (map[string]any, error) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return map[string]any{}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	return m, nil
}

func parseError(err error) *esError {
	return &esError{status: 400, typ: "x_content_parse_exception", reason: "failed to parse request body: " + err.Error()}
}

func (s *Server) createIndex(w http.ResponseWriter, r *http.Request, name string) {
	if e := validIndexName(name); e != nil {
		s.writeError(w, e)
		return
	}
	body, err := readBody(r)
	if err != nil {
		s.writeError(w, parseError(err))
		return
	}
	var explicit *field
	if mm, ok := body["mappings"].(map[string]any); ok {
		if explicit, err = parseObjectMapping(mm); err != nil {
			s.writeError(w, &esError{status: 400, typ: "mapper_parsing_exception", reason: "Failed to parse mapping: " + err.Error()})
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if ix, ok := s.indices[name]; ok {
		s.writeError(w, &esError{status: 400, typ: "resource_already_exists_exception", reason: "index [" + name + "/" + ix.uuid + "] already exists", index: name, uuid: ix.uuid})
		return
	}
	s.newIndex(name, explicit)
	s.writeJSON(w, 200, map[string]any{"acknowledged": true, "shards_acknowledged": true, "index": name})
}

func (s *Server) deleteIndex(w http.ResponseWriter, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.indices[name]; !ok {
		s.writeError(w, indexNotFound(name))
		return
	}
	delete(s.indices, name)
	s.writeJSON(w, 200, map[string]any{"acknowledged": true})
}

func indexNotFound(name string) *esError {
	return &esError{status: 404, typ: "index_not_found_exception", reason: "no such index [" + name + "]", index: name, uuid: "_na_"}
}

func (s *Server) putTemplate(w http.ResponseWriter, r *http.Request, name string) {
	body, err := readBody(r)
	if err != nil {
		s.writeError(w, parseError(err))
		return
	}
	t := &template{name: name}
	switch p := body["index_patterns"].(type) {
	case string:
		t.patterns = []string{p}
	case []any:
		for _, x := range p {
			if str, ok := x.(string); ok {
				t.patterns = append(t.patterns, str)
			}
		}
	}
	if len(t.patterns) == 0 {
		s.writeError(w, &esError{status: 400, typ: "action_request_validation_exception", reason: "Validation Failed: 1: index patterns are missing;"})
		return
	}
	if n, ok := body["priority"].(json.Number); ok {
		p, _ := n.Int64()
		t.priority = int(p)
	}
	if tm, ok := body["template"].(map[string]any); ok {
		if mm, ok := tm["mappings"].(map[string]any); ok {
			if t.mapping, err = parseObjectMapping(mm); err != nil {
				s.writeError(w, &esError{status: 400, typ: "mapper_parsing_exception", reason: "Failed to parse mapping: " + err.Error()})
				return
			}
		}
	}
	s.mu.Lock()
	s.templates[name] = t
	s.mu.Unlock()
	s.writeJSON(w, 200, map[string]any{"acknowledged": true})
}

func (s *Server) getTemplate(w http.ResponseWriter, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.templates[name]
	if t == nil {
		s.writeError(w, &esError{status: 404, typ: "resource_not_found_exception", reason: "index template matching [" + name + "] not found"})
		return
	}
	tm := map[string]any{}
	if t.mapping != nil {
		tm["mappings"] = t.mapping.objectJSON()
	}
	s.writeJSON(w, 200, map[string]any{"index_templates": []any{map[string]any{
		"name": name, "index_template": map[string]any{"index_patterns": t.patterns, "priority": t.priority, "template": tm},
	}}})
}

func (s *Server) getMapping(w http.ResponseWriter, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ix := s.indices[name]
	if ix == nil {
		s.writeError(w, indexNotFound(name))
		return
	}
	s.writeJSON(w, 200, map[string]any{name: map[string]any{"mappings": ix.mapping.objectJSON()}})
}

func (s *Server) putMapping(w http.ResponseWriter, r *http.Request, name string) {
	body, err := readBody(r)
	if err != nil {
		s.writeError(w, parseError(err))
		return
	}
	add, err := parseObjectMapping(body)
	if err != nil {
		s.writeError(w, &esError{status: 400, typ: "mapper_parsing_exception", reason: "Failed to parse mapping: " + err.Error()})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ix := s.indices[name]
	if ix == nil {
		s.writeError(w, indexNotFound(name))
		return
	}
	if err := ix.mapping.compatible(add, ""); err != nil {
		s.writeError(w, &esError{status: 400, typ: "illegal_argument_exception", reason: err.Error()})
		return
	}
	ix.mapping.merge(add)
	s.writeJSON(w, 200, map[string]any{"acknowledged": true})
}

// maybeRefresh makes writes visible to _count (s.mu held).
func (s *Server) maybeRefresh(ix *index, force bool) {
	if force || (s.opts.RefreshInterval > 0 && time.Since(ix.lastRefresh) >= s.opts.RefreshInterval) {
		n := 0
		for _, d := range ix.docs {
			if !d.deleted {
				n++
			}
		}
		ix.refreshed = n
		ix.lastRefresh = time.Now()
	}
}

func shards() map[string]any { return map[string]any{"total": 2, "successful": 1, "failed": 0} }

func (s *Server) refresh(w http.ResponseWriter, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.Refresh++
	if name == "" {
		for _, ix := range s.indices {
			s.maybeRefresh(ix, true)
		}
	} else {
		ix := s.indices[name]
		if ix == nil {
			s.writeError(w, indexNotFound(name))
			return
		}
		s.maybeRefresh(ix, true)
	}
	s.writeJSON(w, 200, map[string]any{"_shards": shards()})
}

func (s *Server) count(w http.ResponseWriter, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ix := s.indices[name]
	if ix == nil {
		s.writeError(w, indexNotFound(name))
		return
	}
	s.maybeRefresh(ix, false)
	s.writeJSON(w, 200, map[string]any{"count": ix.refreshed, "_shards": map[string]any{"total": 1, "successful": 1, "skipped": 0, "failed": 0}})
}

func (s *Server) getDoc(w http.ResponseWriter, name, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ix := s.indices[name]
	if ix == nil {
		s.writeError(w, indexNotFound(name))
		return
	}
	d := ix.docs[id]
	out := map[string]any{"_index": name, "_id": id}
	if !s.newerMajor() {
		out["_type"] = "_doc"
	}
	if d == nil || d.deleted {
		out["found"] = false
		s.writeJSON(w, 404, out)
		return
	}
	out["_version"] = d.version
	out["_seq_no"] = d.seqNo
	out["_primary_term"] = 1
	out["found"] = true
	out["_source"] = d.source
	s.writeJSON(w, 200, out)
}

// op is one document operation of a bulk or single-document request.
type op struct {
	action      string // index, create, delete, update
	index, id   string
	version     int64
	hasVersion  bool
	versionType string // internal, external, external_gte
	source      []byte
	doc         map[string]any // source, parsed
	docErr      *esError       // why source does not parse
}

// result is an operation's outcome, rendered as a bulk item or a
// single-document response.
type result struct {
	status  int
	result  string
	version int64
	seqNo   int64
	err     *esError
}

func (s *Server) item(o *op, r result) map[string]any {
	m := map[string]any{"_index": o.index, "_id": o.id, "status": r.status}
	if !s.newerMajor() {
		m["_type"] = "_doc"
	}
	if r.err != nil {
		m["error"] = r.err.object()
		return m
	}
	m["_version"] = r.version
	m["result"] = r.result
	m["_shards"] = shards()
	m["_seq_no"] = r.seqNo
	m["_primary_term"] = 1
	return m
}

// apply runs one operation (s.mu held) and logs it if it changed data.
func (s *Server) apply(o *op) result {
	if e := validIndexName(o.index); e != nil {
		return result{status: 400, err: e}
	}
	external := o.versionType == "external" || o.versionType == "external_gte"
	ix := s.indices[o.index]
	if ix == nil {
		if o.action == "delete" {
			return result{status: 404, err: indexNotFound(o.index)}
		}
		ix = s.newIndex(o.index, nil)
	}
	if o.id == "" {
		if o.action != "index" && o.action != "create" {
			return result{status: 400, err: &esError{status: 400, typ: "action_request_validation_exception", reason: "Validation Failed: 1: id is missing;"}}
		}
		var b [10]byte
		_, _ = rand.Read(b[:])
		o.id = hex.EncodeToString(b[:])
	}
	if len(o.id) > 512 {
		return result{status: 400, err: &esError{status: 400, typ: "illegal_argument_exception", reason: fmt.Sprintf("id [%s] is too long, must be no longer than 512 bytes but was: %d", o.id, len(o.id))}}
	}
	now := time.Now()
	d := ix.docs[o.id]
	if d != nil && d.deleted && now.Sub(d.deletedAt) >= s.opts.GCDeletes {
		delete(ix.docs, o.id) // the tombstone was garbage-collected
		d = nil
	}
	exists := d != nil && !d.deleted
	cur := int64(-1)
	if d != nil {
		cur = d.version
	}
	conflict := func() result {
		s.stats.VersionConflicts++
		reason := fmt.Sprintf("[%s]: version conflict, current version [%d] is higher or equal to the one provided [%d]", o.id, cur, o.version)
		if o.versionType == "external_gte" {
			reason = fmt.Sprintf("[%s]: version conflict, current version [%d] is higher than the one provided [%d]", o.id, cur, o.version)
		}
		if o.action == "create" && exists {
			reason = fmt.Sprintf("[%s]: version conflict, document already exists (current version [%d])", o.id, cur)
		}
		return result{status: 409, err: &esError{status: 409, typ: "version_conflict_engine_exception", reason: reason, index: ix.name, uuid: ix.uuid, shard: true}}
	}
	if external && o.action == "create" {
		return result{status: 400, err: &esError{status: 400, typ: "action_request_validation_exception", reason: "Validation Failed: 1: create operations only support internal versioning. use index instead;"}}
	}
	if external {
		if !o.hasVersion || o.version < 0 {
			return result{status: 400, err: &esError{status: 400, typ: "action_request_validation_exception", reason: "Validation Failed: 1: illegal version value [" + strconv.FormatInt(o.version, 10) + "] for version type [" + o.versionType + "];"}}
		}
		if d != nil && (cur > o.version || (cur == o.version && o.versionType == "external")) {
			return conflict()
		}
	}
	if o.action == "create" && exists {
		return conflict()
	}
	switch o.action {
	case "index", "create":
		if o.doc == nil && o.docErr == nil {
			o.doc, o.docErr = parseSource(o.source)
		}
		err := o.docErr
		if err == nil {
			err = ix.mapping.indexDoc(o.id, o.doc)
		}
		if err != nil {
			s.stats.MappingErrors++
			if err.typ == "mapper_parsing_exception" && s.documentParsing() {
				// Elasticsearch 8.8 renamed the document-level failure.
				err.typ = "document_parsing_exception"
			}
			err.index, err.uuid, err.shard = ix.name, ix.uuid, true
			return result{status: err.status, err: err}
		}
		v := o.version
		if !external {
			v = max(cur, 0) + 1
		}
		ix.seqNo++
		ix.docs[o.id] = &doc{version: v, seqNo: ix.seqNo, source: append(json.RawMessage(nil), o.source...)}
		s.writes = append(s.writes, Write{Index: ix.name, ID: o.id, Op: "index", Version: v, Prev: cur, External: external, At: now})
		s.stats.DocsIndexed++
		if exists {
			return result{status: 200, result: "updated", version: v, seqNo: ix.seqNo}
		}
		return result{status: 201, result: "created", version: v, seqNo: ix.seqNo}
	case "delete":
		v := o.version
		if !external {
			if !exists {
				ix.seqNo++ // a not_found delete takes a sequence number too
				return result{status: 404, result: "not_found", version: 1, seqNo: ix.seqNo}
			}
			v = cur + 1
		}
		ix.seqNo++
		// Deleting a missing document with an external version still
		// records the version, so that an older write cannot come after.
		ix.docs[o.id] = &doc{version: v, seqNo: ix.seqNo, deleted: true, deletedAt: now}
		s.writes = append(s.writes, Write{Index: ix.name, ID: o.id, Op: "delete", Version: v, Prev: cur, External: external, At: now})
		if !exists {
			return result{status: 404, result: "not_found", version: v, seqNo: ix.seqNo}
		}
		s.stats.DocsDeleted++
		return result{status: 200, result: "deleted", version: v, seqNo: ix.seqNo}
	}
	return result{status: 400, err: &esError{status: 400, typ: "illegal_argument_exception", reason: "the emulator does not support the [" + o.action + "] action"}}
}

func parseVersionParams(o *op, get func(string) (string, bool)) *esError {
	if v, ok := get("version"); ok {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return &esError{status: 400, typ: "illegal_argument_exception", reason: "failed to parse version [" + v + "]"}
		}
		o.version, o.hasVersion = n, true
	}
	o.versionType = "internal"
	if v, ok := get("version_type"); ok {
		switch v {
		case "internal", "external", "external_gte":
			o.versionType = v
		default:
			return &esError{status: 400, typ: "illegal_argument_exception", reason: "No version type match [" + v + "]"}
		}
	}
	if o.hasVersion && o.versionType == "internal" {
		return &esError{status: 400, typ: "action_request_validation_exception", reason: "Validation Failed: 1: internal versioning can not be used for optimistic concurrency control. Please use `if_seq_no` and `if_primary_term` instead;"}
	}
	return nil
}

func (s *Server) singleDoc(w http.ResponseWriter, r *http.Request, name, id string) {
	o := &op{index: name, id: id, action: "index"}
	if r.Method == http.MethodDelete {
		o.action = "delete"
	} else if r.URL.Query().Get("op_type") == "create" {
		o.action = "create"
	}
	q := r.URL.Query()
	if e := parseVersionParams(o, func(k string) (string, bool) { return q.Get(k), q.Has(k) }); e != nil {
		s.writeError(w, e)
		return
	}
	if o.action != "delete" {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			s.writeError(w, parseError(err))
			return
		}
		o.source = bytes.TrimSpace(b)
	}
	s.mu.Lock()
	res := s.apply(o)
	s.mu.Unlock()
	if res.err != nil {
		s.writeError(w, res.err)
		return
	}
	out := s.item(o, res)
	delete(out, "status")
	s.writeJSON(w, res.status, out)
}

// bulk implements POST /_bulk and /<index>/_bulk.
func (s *Server) bulk(w http.ResponseWriter, r *http.Request, defaultIndex string) {
	start := time.Now()
	s.mu.Lock()
	s.stats.BulkRequests++
	f := s.faults
	roll := func(p float64) bool { return p > 0 && s.rng.Float64() < p }
	drop429, drop503 := roll(f.Status429), roll(f.Status503)
	dropBefore, dropAfter := roll(f.DropBefore), roll(f.DropAfter)
	s.mu.Unlock()
	if f.Delay > 0 {
		time.Sleep(f.Delay)
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	switch {
	case dropBefore:
		s.count1(func(st *Stats) { st.DroppedBefore++ })
		hijackClose(w)
		return
	case drop429:
		s.count1(func(st *Stats) { st.Injected429++ })
		w.Header().Set("Retry-After", f.RetryAfter)
		s.writeError(w, &esError{status: 429, typ: "es_rejected_execution_exception", reason: "rejected execution of coordinating operation [coordinating_and_primary_bytes=0, replica_bytes=0, all_bytes=0, coordinating_operation_bytes=" + strconv.Itoa(len(body)) + ", max_coordinating_and_primary_bytes=0]"})
		return
	case drop503:
		s.count1(func(st *Stats) { st.Injected503++ })
		s.writeError(w, &esError{status: 503, typ: "unavailable_shards_exception", reason: "[esemu][0] primary shard is not active Timeout: [1m]"})
		return
	}
	ops, perr := parseBulk(body, defaultIndex)
	if perr != nil {
		s.writeError(w, perr)
		return
	}
	// Sources are parsed before the lock is taken, so that concurrent
	// bulk requests parse in parallel as on a real cluster.
	for _, o := range ops {
		if o.action != "delete" && o.source != nil {
			o.doc, o.docErr = parseSource(o.source)
		}
	}
	items := make([]any, len(ops))
	errorsSeen := false
	s.mu.Lock()
	for i, o := range ops {
		s.stats.Items++
		var res result
		if o.parseErr != nil {
			res = result{status: o.parseErr.status, err: o.parseErr}
		} else if roll(f.Item429) {
			s.stats.InjectedItem429++
			res = result{status: 429, err: &esError{status: 429, typ: "es_rejected_execution_exception", reason: "rejected execution of primary operation [shard_detail=[" + o.index + "][0][esemu]]"}}
		} else {
			res = s.apply(&o.op)
		}
		if res.err != nil {
			errorsSeen = true
		}
		items[i] = map[string]any{o.action: s.item(&o.op, res)}
	}
	if q := r.URL.Query().Get("refresh"); q == "true" || q == "wait_for" || (r.URL.Query().Has("refresh") && q == "") {
		for _, ix := range s.indices {
			s.maybeRefresh(ix, true)
		}
	}
	s.mu.Unlock()
	if dropAfter {
		s.count1(func(st *Stats) { st.DroppedAfter++ })
		hijackClose(w)
		return
	}
	s.writeJSON(w, 200, map[string]any{"took": time.Since(start).Milliseconds(), "errors": errorsSeen, "items": items})
}

func (s *Server) count1(fn func(*Stats)) {
	s.mu.Lock()
	fn(&s.stats)
	s.mu.Unlock()
}

func hijackClose(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if c, _, err := hj.Hijack(); err == nil {
			_ = c.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

type bulkOp struct {
	op
	parseErr *esError
}

// parseBulk reads the NDJSON body of a bulk request. A malformed action
// line fails the whole request, as in Elasticsearch; a malformed source
// fails its item when it is applied.
func parseBulk(body []byte, defaultIndex string) ([]*bulkOp, *esError) {
	var ops []*bulkOp
	lines := bytes.Split(body, []byte{'\n'})
	if len(lines) > 0 && len(bytes.TrimSpace(lines[len(lines)-1])) != 0 {
		return nil, &esError{status: 400, typ: "illegal_argument_exception", reason: "The bulk request must be terminated by a newline [\\n]"}
	}
	for i := 0; i < len(lines); i++ {
		line := bytes.TrimSpace(lines[i])
		if len(line) == 0 {
			continue
		}
		var action map[string]map[string]any
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.UseNumber()
		if err := dec.Decode(&action); err != nil || len(action) != 1 {
			return nil, &esError{status: 400, typ: "illegal_argument_exception", reason: fmt.Sprintf("Malformed action/metadata line [%d], expected START_OBJECT or END_OBJECT but found [VALUE_STRING]", i+1)}
		}
		o := &bulkOp{}
		for k, meta := range action {
			o.action = k
			switch k {
			case "index", "create", "delete", "update":
			default:
				return nil, &esError{status: 400, typ: "illegal_argument_exception", reason: fmt.Sprintf("Malformed action/metadata line [%d], expected field [create], [delete], [index] or [update] but found [%s]", i+1, k)}
			}
			o.index = defaultIndex
			if v, ok := meta["_index"].(string); ok {
				o.index = v
			}
			if v, ok := meta["_id"]; ok {
				o.id = fmt.Sprint(v)
			}
			if e := parseVersionParams(&o.op, func(key string) (string, bool) {
				v, ok := meta[key]
				if !ok {
					return "", false
				}
				return fmt.Sprint(v), true
			}); e != nil {
				o.parseErr = e
			}
			if o.index == "" {
				o.parseErr = &esError{status: 400, typ: "action_request_validation_exception", reason: "Validation Failed: 1: index is missing;"}
			}
		}
		if o.action != "delete" {
			i++
			if i >= len(lines) || len(bytes.TrimSpace(lines[i])) == 0 {
				return nil, &esError{status: 400, typ: "action_request_validation_exception", reason: "Validation Failed: 1: no requests added;"}
			}
			o.source = bytes.TrimSpace(lines[i])
		}
		ops = append(ops, o)
	}
	if len(ops) == 0 {
		return nil, &esError{status: 400, typ: "action_request_validation_exception", reason: "Validation Failed: 1: no requests added;"}
	}
	return ops, nil
}
