package harness

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

func pgShow(t *testing.T, p *Postgres, name string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, p.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var v string
	if err := conn.QueryRow(ctx, "SELECT current_setting($1)", name).Scan(&v); err != nil {
		t.Fatalf("current_setting(%s): %v", name, err)
	}
	return v
}

func pgCount(ctx context.Context, t *testing.T, p *Postgres, db, table string) int {
	t.Helper()
	conn, err := pgx.Connect(ctx, p.DSN(db))
	if err != nil {
		t.Fatalf("connect after restart: %v", err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPostgresLifecycle(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	p := StartPostgres(t)

	for name, want := range map[string]string{
		"wal_level":             "logical",
		"max_wal_senders":       "20",
		"max_replication_slots": "20",
		"fsync":                 "off",
		"synchronous_commit":    "on",
		"full_page_writes":      "off",
		"shared_buffers":        "128MB",
		"max_connections":       "100",
		"listen_addresses":      "127.0.0.1",
		"server_encoding":       "UTF8",
	} {
		if got := pgShow(t, p, name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if got := pgShow(t, p, "unix_socket_directories"); got != p.SocketDir() {
		t.Errorf("unix_socket_directories = %q, want %q", got, p.SocketDir())
	}
	if !strings.HasPrefix(p.DSN("x"), "postgres://postgres@127.0.0.1:") || !strings.HasSuffix(p.DSN("x"), "/x?sslmode=disable") {
		t.Errorf("DSN = %q", p.DSN("x"))
	}
	assertRunsAs(t, p.PID(), "postgres")

	if err := p.CreateDatabase(ctx, "inventory"); err != nil {
		t.Fatal(err)
	}
	if err := p.Exec(ctx, "inventory", `CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'a')`); err != nil {
		t.Fatal(err)
	}
	if err := p.Exec(ctx, "inventory", `INSERT INTO t VALUES ($1, $2)`, 2, "b"); err != nil {
		t.Fatal(err)
	}

	// Logical replication connections are allowed (pg_hba) and work.
	rconn, err := pgconn.Connect(ctx, p.ReplicationDSN("inventory"))
	if err != nil {
		t.Fatalf("replication connection: %v", err)
	}
	if _, err := rconn.Exec(ctx, "IDENTIFY_SYSTEM").ReadAll(); err != nil {
		t.Errorf("IDENTIFY_SYSTEM: %v", err)
	}
	if _, err := rconn.Exec(ctx, "CREATE_REPLICATION_SLOT s1 LOGICAL pgoutput").ReadAll(); err != nil {
		t.Errorf("create logical slot: %v", err)
	}
	_ = rconn.Close(ctx)

	port := p.Port()
	if err := p.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if p.PID() != 0 {
		t.Error("PID after Stop != 0")
	}
	if left := procsUnder(p.DataDir()); len(left) != 0 {
		t.Errorf("processes left after Stop: %v", left)
	}
	if err := p.Exec(ctx, "inventory", "SELECT 1"); err == nil {
		t.Error("Exec succeeded on a stopped server")
	}
	if err := p.Stop(ctx); err != nil {
		t.Errorf("second Stop: %v", err)
	}

	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if p.Port() != port {
		t.Errorf("port changed on restart: %d -> %d", port, p.Port())
	}
	if err := p.Start(ctx); err == nil {
		t.Error("Start of a running server succeeded")
	}
	if n := pgCount(ctx, t, p, "inventory", "t"); n != 2 {
		t.Errorf("rows after restart = %d, want 2", n)
	}

	// Crash: kill -9, then recovery on Start.
	if err := p.Exec(ctx, "inventory", `INSERT INTO t VALUES (3, 'c')`); err != nil {
		t.Fatal(err)
	}
	if n := len(procsUnder(p.DataDir())); n < 3 {
		t.Errorf("expected postmaster and backends in %s, got %d", p.DataDir(), n)
	}
	// Keep a backend busy so Kill has a live session to kill.
	busy := make(chan error, 1)
	go func() { busy <- p.Exec(ctx, "inventory", "SELECT pg_sleep(60)") }()
	time.Sleep(200 * time.Millisecond)
	p.Kill()
	if left := procsUnder(p.DataDir()); len(left) != 0 {
		t.Errorf("processes left after Kill: %v", left)
	}
	if err := <-busy; err == nil {
		t.Error("query survived Kill")
	}
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if n := pgCount(ctx, t, p, "inventory", "t"); n != 3 {
		t.Errorf("rows after crash recovery = %d, want 3", n)
	}
	if !strings.Contains(p.Log(), "database system is ready to accept connections") {
		t.Errorf("server log lacks the ready line:\n%s", p.Log())
	}
}

func TestPostgresOptionsAndClose(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	p, err := NewPostgres(ctx, PGConfig{Settings: map[string]string{"wal_level": "replica", "work_mem": "7MB"}})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"wal_level": "replica", "work_mem": "7MB", "fsync": "off"} {
		if got := pgShow(t, p, name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	// A role without REPLICATION is just SQL.
	if err := p.Exec(ctx, "postgres", "CREATE ROLE norepl LOGIN"); err != nil {
		t.Fatal(err)
	}
	dsn := strings.Replace(p.ReplicationDSN("postgres"), "postgres@", "norepl@", 1)
	if c, err := pgconn.Connect(ctx, dsn); err == nil {
		_ = c.Close(ctx)
		t.Error("replication connection as a role without REPLICATION succeeded")
	}

	dir, pid := p.Dir(), p.PID()
	if n := len(procsUnder(p.DataDir())); n < 3 {
		t.Errorf("expected postmaster and auxiliary processes in %s, got %d", p.DataDir(), n)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	assertGone(t, dir, pid)
	if err := p.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := p.Start(ctx); err == nil {
		t.Error("Start after Close succeeded")
	}
}

func TestPostgresMissingBinaries(t *testing.T) {
	t.Parallel()
	_, err := NewPostgres(context.Background(), PGConfig{BinDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "apt-get install -y postgresql") {
		t.Fatalf("err = %v, want one naming the apt package", err)
	}
}

func TestPostgresMissingOSUser(t *testing.T) {
	t.Parallel()
	p, err := NewPostgres(context.Background(), PGConfig{OSUser: "no-such-user-sluice"})
	if p != nil {
		defer p.Close()
	}
	if isRoot() {
		if err == nil || !strings.Contains(err.Error(), "apt-get install -y postgresql") {
			t.Fatalf("err = %v, want one naming the apt package", err)
		}
	} else if err != nil {
		t.Fatal(err) // not root: runs as the current user, OSUser unused
	}
}

// occupiedPort listens on a free port for the duration of the test.
func occupiedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l.Addr().(*net.TCPAddr).Port
}

// pickFirst returns port on the first call, then free ports.
func pickFirst(port int) func() (int, error) {
	first := true
	return func() (int, error) {
		if first {
			first = false
			return port, nil
		}
		return freePort()
	}
}

func TestPostgresPortCollision(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	taken := occupiedPort(t)

	p, err := NewPostgres(ctx, PGConfig{pickPort: pickFirst(taken)})
	if err != nil {
		t.Fatalf("no retry on a taken port: %v", err)
	}
	defer p.Close()
	if p.Port() == taken {
		t.Errorf("listening on the taken port %d?", taken)
	}
	if err := p.Exec(ctx, "postgres", "SELECT 1"); err != nil {
		t.Error(err)
	}

	_, err = NewPostgres(ctx, PGConfig{Port: taken})
	if err == nil || !errors.Is(err, errPortInUse) {
		t.Errorf("fixed taken port: err = %v, want port in use", err)
	}
}

// TestPostgresStopWithStalledReplicationClient: a logical replication client
// that never confirms must not make Stop wait for wal_sender_timeout.
func TestPostgresStopWithStalledReplicationClient(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	p := StartPostgres(t)
	if err := p.Exec(ctx, "postgres", "CREATE TABLE t (id int PRIMARY KEY); CREATE PUBLICATION pub FOR ALL TABLES"); err != nil {
		t.Fatal(err)
	}
	c, err := pgconn.Connect(ctx, p.ReplicationDSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	if _, err := pglogrepl.CreateReplicationSlot(ctx, c, "s", "pgoutput", pglogrepl.CreateReplicationSlotOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := pglogrepl.StartReplication(ctx, c, "s", 0, pglogrepl.StartReplicationOptions{
		PluginArgs: []string{"proto_version '1'", "publication_names 'pub'"},
	}); err != nil {
		t.Fatal(err)
	}
	if err := p.Exec(ctx, "postgres", "INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := p.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("Stop took %v with a stalled replication client", d)
	}
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
}
