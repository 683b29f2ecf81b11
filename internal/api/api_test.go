package api_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sluice-cdc/sluice/configs"
	"github.com/sluice-cdc/sluice/internal/api"
	"github.com/sluice-cdc/sluice/internal/daemon"
	"github.com/sluice-cdc/sluice/internal/runtime"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// selfSigned writes a certificate and key for 127.0.0.1 and returns their
// paths and a pool trusting the certificate.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "sluice-test"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	must(t, err)
	kb, err := x509.MarshalECPrivateKey(key)
	must(t, err)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	must(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	must(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600))
	cert, err := x509.ParseCertificate(der)
	must(t, err)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// startDaemon runs a daemon with the embedded broker and a SQL sink into
// SQLite (a real connector that needs no database server).
func startDaemon(t *testing.T, apiSection string) *daemon.Daemon {
	t.Helper()
	dir := t.TempDir()
	y := fmt.Sprintf(`
state_dir: %s
kafka: {listen: 127.0.0.1:0}
%s
sinks:
  - name: copy
    type: sql
    topics: ["app\\..*"]
    dsn: sqlite://%s
`, dir, apiSection, filepath.Join(dir, "copy.db"))
	cfg, err := configs.Parse("test.yaml", []byte(y))
	must(t, err)
	d, err := daemon.New(cfg, slog.New(slog.DiscardHandler))
	must(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = d.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		d.Close()
	})
	return d
}

func TestTokenTLSAndControl(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	tokenFile := filepath.Join(t.TempDir(), "token")
	must(t, os.WriteFile(tokenFile, []byte("  s3cret-token\n"), 0o600))
	d := startDaemon(t, fmt.Sprintf("api: {listen: 127.0.0.1:0, token_file: %s, tls: {cert_file: %s, key_file: %s}}", tokenFile, certFile, keyFile))
	base := "https://" + d.APIAddr()
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}

	get := func(path, token string) (int, string) {
		t.Helper()
		req, err := http.NewRequest("GET", base+path, nil)
		must(t, err)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := hc.Do(req)
		must(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/connectors", ""); code != 401 || !strings.Contains(body, `"error_code": 401`) {
		t.Errorf("no token: %d %s", code, body)
	}
	if code, _ := get("/metrics", "s3cret-tokenx"); code != 401 {
		t.Errorf("wrong token on /metrics: %d", code)
	}
	if code, _ := get("/healthz", ""); code != 200 {
		t.Errorf("healthz: %d", code)
	}
	if code, body := get("/connectors/copy", "s3cret-token"); code != 200 || !strings.Contains(body, `"type": "sink"`) {
		t.Errorf("info: %d %s", code, body)
	}
	// Plain HTTP to the TLS port fails.
	if resp, err := http.Get("http://" + d.APIAddr() + "/healthz"); err == nil {
		if resp.StatusCode == 200 {
			t.Error("plain HTTP served")
		}
		resp.Body.Close()
	}

	cl := &api.Client{BaseURL: base, Token: "s3cret-token", HTTP: hc}
	ctx := context.Background()
	wait := func(state string) api.ConnectorStatus {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			st, err := cl.Status(ctx, "copy")
			must(t, err)
			if st.Connector.State == state {
				return st
			}
			if time.Now().After(deadline) {
				t.Fatalf("state %s not reached: %+v", state, st)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	wait(runtime.StateRunning)
	must(t, cl.Control(ctx, "copy", "pause"))
	wait(runtime.StatePaused)
	must(t, cl.Control(ctx, "copy", "resume"))
	st := wait(runtime.StateRunning)
	if st.Type != "sink" || st.ConnectorType != "sql" || st.Tasks[0].WorkerID == "" {
		t.Errorf("status: %+v", st)
	}
	var ae *api.Error
	if err := cl.Control(ctx, "nope", "restart"); !errors.As(err, &ae) || ae.ErrorCode != 404 {
		t.Errorf("restart of unknown connector: %v", err)
	}
	if err := cl.Control(ctx, "copy", "snapshot"); !errors.As(err, &ae) || ae.ErrorCode != 400 {
		t.Errorf("snapshot: %v", err)
	}

	sts, err := cl.Statuses(ctx)
	must(t, err)
	var buf bytes.Buffer
	must(t, api.WriteTable(&buf, sts, time.Now()))
	if !strings.Contains(buf.String(), "copy") || !strings.Contains(buf.String(), "sink/sql") || !strings.HasPrefix(buf.String(), "NAME") {
		t.Errorf("table:\n%s", buf.String())
	}
}

func TestBadCertificateFailsTheStart(t *testing.T) {
	dir := t.TempDir()
	cfg, err := configs.Parse("test.yaml", []byte(fmt.Sprintf("state_dir: %s\nkafka: {listen: 127.0.0.1:0}\napi: {listen: 127.0.0.1:0, tls: {cert_file: %s/nope.pem, key_file: %s/nope.key}}\n", dir, dir, dir)))
	must(t, err)
	d, err := daemon.New(cfg, slog.New(slog.DiscardHandler))
	if err == nil {
		d.Close()
		t.Fatal("a missing certificate was accepted")
	}
	if !strings.Contains(err.Error(), "api: tls certificate") {
		t.Errorf("error: %v", err)
	}
}

func TestReadyz(t *testing.T) {
	d := startDaemon(t, "api: {listen: 127.0.0.1:0}")
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + d.APIAddr() + "/readyz")
		must(t, err)
		resp.Body.Close()
		if resp.StatusCode == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz: %d", resp.StatusCode)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A paused connector is ready (the e2e tests cover a failing one).
	must(t, d.Pause("copy"))
	resp, err := http.Get("http://" + d.APIAddr() + "/readyz")
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("readyz while paused: %d", resp.StatusCode)
	}
}

func TestWriteTable(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ms, b := int64(1500), int64(3<<20)
	last := now.Add(-7 * time.Second)
	sts := []api.ConnectorStatus{
		{Name: "pg", Type: "source", ConnectorType: "postgres", Connector: api.ConnectorState{State: "RUNNING"}, Phase: "snapshot",
			Events: 42, EventsPerSecond: 2.5, Lag: &api.Lag{Ms: &ms, Bytes: &b}, Position: map[string]any{"commit_lsn": "0/16B3748"},
			Snapshot: map[string]api.TableProgress{"public.a": {Rows: 50, Estimated: 100}, "public.b": {Rows: 10, Done: true}}, LastEventTime: &last},
		{Name: "my", Type: "source", ConnectorType: "mysql", Connector: api.ConnectorState{State: "RESTARTING"}, Restarts: 2, NextRetry: now.Add(4 * time.Second),
			Tasks: []api.TaskState{{State: "FAILED", Trace: "mysql source my: connect: dial\nCaused by: connection refused"}}},
	}
	var buf bytes.Buffer
	must(t, api.WriteTable(&buf, sts, now))
	out := buf.String()
	for _, want := range []string{"1.5s 3.0MiB", "0/16B3748", "1/2 tables 55%", "7s ago", "my RESTARTING (next retry in 4s):", "  Caused by: connection refused"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

// TestKafkaConnectEndpoints covers the endpoints and methods that Kafka
// Connect tooling uses: PUT pause/resume, config, tasks, task status and
// restart, and the root's version.
func TestKafkaConnectEndpoints(t *testing.T) {
	d := startDaemon(t, "api: {listen: 127.0.0.1:0}")
	base := "http://" + d.APIAddr()
	call := func(method, path string, want int) string {
		t.Helper()
		req, err := http.NewRequest(method, base+path, nil)
		must(t, err)
		resp, err := http.DefaultClient.Do(req)
		must(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != want {
			t.Errorf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, b)
		}
		return string(b)
	}
	if body := call("GET", "/", 200); !strings.Contains(body, `"version"`) {
		t.Errorf("root: %s", body)
	}
	if body := call("GET", "/connectors/copy/config", 200); !strings.Contains(body, `"type": "sql"`) {
		t.Errorf("config: %s", body)
	}
	if body := call("GET", "/connectors/copy/tasks", 200); !strings.Contains(body, `"connector": "copy"`) {
		t.Errorf("tasks: %s", body)
	}
	call("GET", "/connectors/copy/tasks/1/status", 404)
	call("PUT", "/connectors/copy/pause", 202)
	if body := call("GET", "/connectors/copy/tasks/0/status", 200); !strings.Contains(body, `"state": "PAUSED"`) {
		t.Errorf("task status after PUT pause: %s", body)
	}
	call("PUT", "/connectors/copy/resume", 202)
	call("POST", "/connectors/copy/tasks/0/restart", 202)
	call("DELETE", "/connectors/copy/restart", 405)
}
