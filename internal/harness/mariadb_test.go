package harness

import (
	"context"
	"strings"
	"testing"
	"time"
)

func mariaRow(ctx context.Context, t *testing.T, m *MariaDB, sql string) []string {
	t.Helper()
	rows, err := m.Query(ctx, sql)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 {
		t.Fatalf("%s: got %d rows %v, want 1", sql, len(rows), rows)
	}
	return rows[0]
}

func TestMariaDBLifecycle(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	m := StartMariaDB(t)

	got := mariaRow(ctx, t, m, "SELECT @@log_bin, @@binlog_format, @@binlog_row_image, @@gtid_strict_mode, @@log_slave_updates, @@binlog_annotate_row_events, @@server_id, @@character_set_server")
	want := []string{"1", "ROW", "FULL", "1", "1", "1", "", "utf8mb4"}
	for i := range want {
		if i == 6 {
			continue
		}
		if got[i] != want[i] {
			t.Errorf("variable %d = %q, want %q (all: %v)", i, got[i], want[i], got)
		}
	}
	if got[6] != itoa(int(m.ServerID())) {
		t.Errorf("server_id = %s, want %d", got[6], m.ServerID())
	}
	if r := mariaRow(ctx, t, m, "SHOW VARIABLES LIKE 'log_bin'"); r[1] != "ON" {
		t.Errorf("log_bin = %v", r)
	}
	if r := mariaRow(ctx, t, m, "SELECT count(*) FROM mysql.user WHERE user='root' AND host='%'"); r[0] != "1" {
		t.Errorf("root@'%%' missing")
	}
	assertRunsAs(t, m.PID(), "mysql")
	if m.DSN("inv") != "mysql://root@"+m.Addr()+"/inv" || m.GoSQLDSN("inv") != "root@tcp("+m.Addr()+")/inv" {
		t.Errorf("DSNs: %q %q", m.DSN("inv"), m.GoSQLDSN("inv"))
	}

	if err := m.CreateDatabase(ctx, "inventory"); err != nil {
		t.Fatal(err)
	}
	if err := m.Exec(ctx, "USE inventory; CREATE TABLE t (id int PRIMARY KEY, v varchar(10)); INSERT INTO t VALUES (1, 'a\tb')"); err != nil {
		t.Fatal(err)
	}
	if r := mariaRow(ctx, t, m, "SELECT v, NULL FROM inventory.t"); r[0] != "a\tb" || r[1] != "NULL" {
		t.Errorf("row = %q", r)
	}
	if r := mariaRow(ctx, t, m, "SELECT @@gtid_binlog_pos"); !strings.HasPrefix(r[0], "0-"+itoa(int(m.ServerID()))+"-") {
		t.Errorf("gtid_binlog_pos = %q", r[0])
	}

	port, pid := m.Port(), m.PID()
	if err := m.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if len(groupMembers(pid)) != 0 || m.PID() != 0 {
		t.Errorf("processes left after Stop: %v", groupMembers(pid))
	}
	if err := m.Exec(ctx, "SELECT 1"); err == nil {
		t.Error("Exec succeeded on a stopped server")
	}
	if err := m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if m.Port() != port {
		t.Errorf("port changed on restart: %d -> %d", port, m.Port())
	}
	if r := mariaRow(ctx, t, m, "SELECT count(*) FROM inventory.t"); r[0] != "1" {
		t.Errorf("rows after restart = %v", r)
	}

	if err := m.Exec(ctx, "INSERT INTO inventory.t VALUES (2, 'b')"); err != nil {
		t.Fatal(err)
	}
	m.Kill()
	if err := m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if r := mariaRow(ctx, t, m, "SELECT count(*) FROM inventory.t"); r[0] != "2" {
		t.Errorf("rows after crash recovery = %v", r)
	}
	if !strings.Contains(m.Log(), "ready for connections") {
		t.Errorf("server log lacks the ready line:\n%s", m.Log())
	}
}

func TestMariaDBOptionsAndClose(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	m, err := NewMariaDB(ctx, MariaDBConfig{ServerID: 4242, Args: []string{"--binlog-annotate-row-events=OFF"}})
	if err != nil {
		t.Fatal(err)
	}
	if r := mariaRow(ctx, t, m, "SELECT @@server_id, @@binlog_annotate_row_events"); r[0] != "4242" || r[1] != "0" {
		t.Errorf("server_id, annotate = %v, want [4242 0]", r)
	}
	dir, pid := m.Dir(), m.PID()
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	assertGone(t, dir, pid)
	if err := m.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestMariaDBMissingBinaries(t *testing.T) {
	t.Parallel()
	_, err := NewMariaDB(context.Background(), MariaDBConfig{Server: "/nonexistent/mariadbd"})
	if err == nil || !strings.Contains(err.Error(), "apt-get install -y mariadb-server") {
		t.Fatalf("err = %v, want one naming the apt package", err)
	}
	_, err = NewMariaDB(context.Background(), MariaDBConfig{Client: "/nonexistent/mariadb"})
	if err == nil || !strings.Contains(err.Error(), "apt-get install -y mariadb-client") {
		t.Fatalf("err = %v, want one naming the apt package", err)
	}
}

func TestMariaDBPortCollision(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	taken := occupiedPort(t)
	m, err := NewMariaDB(ctx, MariaDBConfig{pickPort: pickFirst(taken)})
	if err != nil {
		t.Fatalf("no retry on a taken port: %v", err)
	}
	defer m.Close()
	if m.Port() == taken {
		t.Errorf("listening on the taken port %d?", taken)
	}
	if err := m.Exec(ctx, "SELECT 1"); err != nil {
		t.Error(err)
	}
}
