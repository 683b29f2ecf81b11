package daemon

import (
	"encoding/json"
	"net/http"
)

// handler serves the REST API's read-only endpoints.
func (d *Daemon) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /connectors", func(w http.ResponseWriter, _ *http.Request) {
		names := []string{}
		for _, s := range d.sup.Statuses() {
			names = append(names, s.Name)
		}
		writeJSON(w, http.StatusOK, names)
	})
	mux.HandleFunc("GET /connectors/{name}/status", func(w http.ResponseWriter, r *http.Request) {
		st, ok := d.sup.Status(r.PathValue("name"))
		if !ok {
			writeJSON(w, http.StatusNotFound, map[string]any{"error_code": 404, "message": "connector " + r.PathValue("name") + " not found"})
			return
		}
		writeJSON(w, http.StatusOK, st)
	})
	return mux
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
