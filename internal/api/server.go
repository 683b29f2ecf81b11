package api

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/sluice-cdc/sluice/internal/runtime"
)

// Backend is what the API serves: the daemon.
type Backend interface {
	// Connectors returns the connectors' names, sorted.
	Connectors() []string
	// ConnectorStatus returns a connector's status; the error wraps
	// runtime.ErrNotFound for an unknown name. ctx bounds lag probes.
	ConnectorStatus(ctx context.Context, name string) (ConnectorStatus, error)
	// ConnectorInfo returns a connector's configuration, redacted.
	ConnectorInfo(name string) (ConnectorInfo, error)
	Pause(name string) error
	Resume(name string) error
	Restart(name string) error
	// Snapshot queues an ad-hoc snapshot of a source's tables.
	Snapshot(name string, tables []string) error
	// Ready returns nil when every connector is RUNNING, PAUSED or
	// FINISHED and the Kafka broker answers.
	Ready(ctx context.Context) error
}

// Options configure the API.
type Options struct {
	Backend Backend
	// Metrics serves GET /metrics; nil answers 404.
	Metrics http.Handler
	// Token, when not empty, must be sent as "Authorization: Bearer
	// TOKEN" to every endpoint but /healthz and /readyz (which probes call
	// and which reveal nothing).
	Token string
	// Version is reported by GET /, as Kafka Connect's root does.
	Version string
	Log     *slog.Logger
}

// ReadToken reads a bearer token file; surrounding white space is dropped.
func ReadToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("api: token file: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("api: token file %s is empty", path)
	}
	return tok, nil
}

// Handler returns the API's handler.
func Handler(o Options) http.Handler {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	h := &handler{o: o}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", h.method("GET", h.healthz))
	mux.HandleFunc("/readyz", h.method("GET", h.readyz))
	mux.HandleFunc("/metrics", h.auth(h.method("GET", h.metrics)))
	mux.HandleFunc("/connectors", h.auth(h.method("GET", h.list)))
	mux.HandleFunc("/connectors/{name}", h.auth(h.method("GET", h.info)))
	mux.HandleFunc("/connectors/{name}/status", h.auth(h.method("GET", h.status)))
	// Kafka Connect pauses and resumes with PUT; DESIGN.md says POST: both.
	mux.HandleFunc("/connectors/{name}/pause", h.auth(h.methods(h.control(o.Backend.Pause), "POST", "PUT")))
	mux.HandleFunc("/connectors/{name}/resume", h.auth(h.methods(h.control(o.Backend.Resume), "POST", "PUT")))
	mux.HandleFunc("/connectors/{name}/restart", h.auth(h.method("POST", h.control(o.Backend.Restart))))
	// Kafka Connect's task endpoints: sluice runs one task (0) per connector.
	mux.HandleFunc("/connectors/{name}/config", h.auth(h.method("GET", h.config)))
	mux.HandleFunc("/connectors/{name}/tasks", h.auth(h.method("GET", h.tasks)))
	mux.HandleFunc("/connectors/{name}/tasks/{task}/status", h.auth(h.method("GET", h.taskStatus)))
	mux.HandleFunc("/connectors/{name}/tasks/{task}/restart", h.auth(h.method("POST", h.taskRestart)))
	mux.HandleFunc("/connectors/{name}/snapshot", h.auth(h.method("POST", h.snapshot)))
	mux.HandleFunc("/", h.auth(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" && (r.Method == "GET" || r.Method == "HEAD") {
			writeJSON(w, http.StatusOK, map[string]string{"version": o.Version, "commit": "", "kafka_cluster_id": ""})
			return
		}
		writeError(w, http.StatusNotFound, "no endpoint "+r.URL.Path)
	}))
	return mux
}

type handler struct{ o Options }

func (h *handler) method(m string, f http.HandlerFunc) http.HandlerFunc {
	return h.methods(f, m)
}

// methods serves f for the methods ms (GET includes HEAD) and answers 405
// otherwise.
func (h *handler) methods(f http.HandlerFunc, ms ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for _, m := range ms {
			if r.Method == m || (m == "GET" && r.Method == "HEAD") {
				f(w, r)
				return
			}
		}
		w.Header().Set("Allow", strings.Join(ms, ", "))
		writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed on %s; use %s", r.Method, r.URL.Path, strings.Join(ms, " or ")))
	}
}

func (h *handler) auth(f http.HandlerFunc) http.HandlerFunc {
	if h.o.Token == "" {
		return f
	}
	want := []byte("Bearer " + h.o.Token)
	return func(w http.ResponseWriter, r *http.Request) {
		got := []byte(r.Header.Get("Authorization"))
		if subtle.ConstantTimeCompare(got, want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="sluice"`)
			writeError(w, http.StatusUnauthorized, "missing or wrong bearer token")
			return
		}
		f(w, r)
	}
}

func (h *handler) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (h *handler) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	if err := h.o.Backend.Ready(ctx); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready", "reason": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func (h *handler) metrics(w http.ResponseWriter, r *http.Request) {
	if h.o.Metrics == nil {
		writeError(w, http.StatusNotFound, "metrics are disabled")
		return
	}
	h.o.Metrics.ServeHTTP(w, r)
}

func (h *handler) list(w http.ResponseWriter, r *http.Request) {
	names := h.o.Backend.Connectors()
	expand := r.URL.Query()["expand"]
	if len(expand) == 0 {
		writeJSON(w, http.StatusOK, names)
		return
	}
	// Kafka Connect's ?expand=status&expand=info.
	out := map[string]map[string]any{}
	for _, n := range names {
		m := map[string]any{}
		for _, e := range expand {
			switch e {
			case "status":
				if st, err := h.o.Backend.ConnectorStatus(r.Context(), n); err == nil {
					m["status"] = st
				}
			case "info":
				if in, err := h.o.Backend.ConnectorInfo(n); err == nil {
					m["info"] = in
				}
			default:
				writeError(w, http.StatusBadRequest, fmt.Sprintf("expand=%s: want status or info", e))
				return
			}
		}
		out[n] = m
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *handler) info(w http.ResponseWriter, r *http.Request) {
	in, err := h.o.Backend.ConnectorInfo(r.PathValue("name"))
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, in)
}

func (h *handler) status(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	st, err := h.o.Backend.ConnectorStatus(ctx, r.PathValue("name"))
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (h *handler) config(w http.ResponseWriter, r *http.Request) {
	in, err := h.o.Backend.ConnectorInfo(r.PathValue("name"))
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, in.Config)
}

func (h *handler) tasks(w http.ResponseWriter, r *http.Request) {
	in, err := h.o.Backend.ConnectorInfo(r.PathValue("name"))
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, []map[string]any{{"id": Task{Connector: in.Name, Task: 0}, "config": in.Config}})
}

// task checks the {task} path value: sluice has task 0 only.
func (h *handler) task(w http.ResponseWriter, r *http.Request) bool {
	if t := r.PathValue("task"); t != "0" {
		writeError(w, http.StatusNotFound, fmt.Sprintf("connector %s has no task %s (sluice runs one task, 0)", r.PathValue("name"), t))
		return false
	}
	return true
}

func (h *handler) taskStatus(w http.ResponseWriter, r *http.Request) {
	if !h.task(w, r) {
		return
	}
	st, err := h.o.Backend.ConnectorStatus(r.Context(), r.PathValue("name"))
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, st.Tasks[0])
}

func (h *handler) taskRestart(w http.ResponseWriter, r *http.Request) {
	if !h.task(w, r) {
		return
	}
	h.control(h.o.Backend.Restart)(w, r)
}

// control answers 202 Accepted, as Kafka Connect does: the connector
// changes state asynchronously (it commits its in-flight batch first).
func (h *handler) control(f func(string) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		if err := f(name); err != nil {
			h.fail(w, err)
			return
		}
		h.o.Log.Info("connector control request", "connector", name, "action", r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:], "remote", r.RemoteAddr)
		w.WriteHeader(http.StatusAccepted)
	}
}

// snapshot queues an ad-hoc (blocking) snapshot of some of a source's
// tables. The body names them as Debezium's execute-snapshot signal does,
// {"data-collections": ["public.orders"]}, or {"tables": [...]}; the
// answer is 202 once queued (the snapshot runs at the connector's next
// transaction boundary: its progress shows in the status).
func (h *handler) snapshot(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	var body struct {
		DataCollections []string `json:"data-collections"`
		Tables          []string `json:"tables"`
		Type            string   `json:"type"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, `body: want {"data-collections": ["schema.table", ...]}: `+err.Error())
		return
	}
	if body.Type != "" && !strings.EqualFold(body.Type, "blocking") {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("snapshot type %q: only blocking snapshots are supported", body.Type))
		return
	}
	tables := append(body.DataCollections, body.Tables...)
	if err := h.o.Backend.Snapshot(name, tables); err != nil {
		h.fail(w, err)
		return
	}
	h.o.Log.Info("ad-hoc snapshot queued", "connector", name, "tables", tables, "remote", r.RemoteAddr)
	writeJSON(w, http.StatusAccepted, map[string]any{"connector": name, "snapshot": "queued", "data-collections": tables})
}

func (h *handler) fail(w http.ResponseWriter, err error) {
	var ae *Error
	switch {
	case errors.As(err, &ae):
		writeError(w, ae.ErrorCode, ae.Message)
	case errors.Is(err, runtime.ErrNotFound):
		writeError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, runtime.ErrStopped):
		writeError(w, http.StatusServiceUnavailable, err.Error())
	default:
		h.o.Log.Error("api request failed", "err", err)
		writeError(w, http.StatusInternalServerError, err.Error())
	}
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, Error{ErrorCode: code, Message: msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// Server serves the API on a listener, over TLS when a certificate is set.
type Server struct {
	srv *http.Server
	ln  net.Listener
	tls bool
}

// Listen opens the API's listener. With certFile and keyFile it serves
// HTTPS; the pair is loaded here, so that a bad certificate fails the start
// instead of leaving sluice without its API.
func Listen(addr string, h http.Handler, certFile, keyFile string) (*Server, error) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute}
	if certFile != "" || keyFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("api: tls certificate %s / key %s: %w", certFile, keyFile, err)
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("api: listen on %s: %w", addr, err)
	}
	return &Server{srv: srv, ln: ln, tls: srv.TLSConfig != nil}, nil
}

// Addr returns the listener's address.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// TLS reports whether the server speaks HTTPS.
func (s *Server) TLS() bool { return s.tls }

// Serve serves until Shutdown; it returns nil after Shutdown.
func (s *Server) Serve() error {
	var err error
	if s.tls {
		err = s.srv.ServeTLS(s.ln, "", "")
	} else {
		err = s.srv.Serve(s.ln)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops the server, waiting for requests in flight until ctx is
// done. Idempotent.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	s.ln.Close()
	return err
}
