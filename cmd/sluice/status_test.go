package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStatusCommand(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error_code": 401, "message": "missing or wrong bearer token"}`))
			return
		}
		if r.URL.Path != "/connectors" || r.URL.Query().Get("expand") != "status" {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		_, _ = w.Write([]byte(`{"inventory": {"status": {"name": "inventory", "type": "source", "connector_type": "postgres",
			"connector": {"state": "RUNNING", "worker_id": "h:8083"}, "tasks": [{"id": 0, "state": "RUNNING", "worker_id": "h:8083"}],
			"phase": "streaming", "position": {"commit_lsn": "0/16B3748"}, "events": 12, "events_per_second": 1.5,
			"lag": {"ms": 40, "bytes": 2048}}}}`))
	}))
	defer srv.Close()
	tok := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tok, []byte("tok\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := run([]string{"status", "-api", srv.URL, "-token-file", tok}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, want := range []string{"NAME", "inventory", "source/postgres", "RUNNING", "streaming", "0/16B3748", "40ms 2.0KiB"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	errb.Reset()
	if code := run([]string{"status", "--api", srv.URL}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "missing or wrong bearer token") {
		t.Errorf("without token: exit %d, %s", code, errb.String())
	}
}

func TestClientAddr(t *testing.T) {
	for in, want := range map[string]string{"0.0.0.0:8083": "127.0.0.1:8083", ":8083": "127.0.0.1:8083", "[::]:1": "127.0.0.1:1", "10.0.0.1:9": "10.0.0.1:9"} {
		if got := clientAddr(in); got != want {
			t.Errorf("clientAddr(%q) = %q, want %q", in, got, want)
		}
	}
}
