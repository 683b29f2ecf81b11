package harness

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Debian packages that provide the MariaDB server (mariadbd,
// mariadb-install-db, the mysql OS user) and the client binary.
const (
	MariaDBServerAptPackage = "mariadb-server"
	MariaDBClientAptPackage = "mariadb-client"
)

// MariaDBConfig configures a throwaway MariaDB server. The zero value is
// ready to use.
type MariaDBConfig struct {
	// ServerID is --server-id. Zero picks one unique within this process
	// (1, 2, 3, ...).
	ServerID uint32
	// Port to listen on at 127.0.0.1. Zero picks a free port.
	Port int
	// Args are extra mariadbd options, appended after the defaults so they
	// override them (e.g. "--binlog-annotate-row-events=OFF").
	Args []string
	// OSUser the server runs as when the caller is root. Empty: "mysql".
	OSUser string
	// Server, InstallDB and Client are the paths of mariadbd,
	// mariadb-install-db and the mariadb client. Empty: found on $PATH or
	// in /usr/sbin, /usr/bin.
	Server, InstallDB, Client string
	// StartTimeout bounds each start until the server accepts connections.
	// Zero: 90s.
	StartTimeout time.Duration

	pickPort func() (int, error) // tests: replaces freePort
}

// MariaDBOption adjusts a MariaDBConfig for StartMariaDB.
type MariaDBOption func(*MariaDBConfig)

// WithMariaDBServerID sets --server-id.
func WithMariaDBServerID(id uint32) MariaDBOption {
	return func(c *MariaDBConfig) { c.ServerID = id }
}

// WithMariaDBArgs adds mariadbd options that override the defaults.
func WithMariaDBArgs(args ...string) MariaDBOption {
	return func(c *MariaDBConfig) { c.Args = append(c.Args, args...) }
}

// WithMariaDBPort makes the server listen on a fixed port instead of a free one.
func WithMariaDBPort(port int) MariaDBOption {
	return func(c *MariaDBConfig) { c.Port = port }
}

var lastServerID atomic.Uint32

// MariaDB is a throwaway MariaDB server in its own temporary directory.
// Its methods are safe for concurrent use.
type MariaDB struct {
	server // its dir holds data/, tmp/, mysqld.sock and server.log
	cfg    MariaDBConfig
	socket string
}

// StartMariaDB starts a throwaway MariaDB server (binlog on, ROW format, GTID
// strict mode) for the test and stops it and removes its files when the test
// ends. Missing binaries or OS users fail the test. On test failure the
// server log tail is logged.
func StartMariaDB(t testing.TB, opts ...MariaDBOption) *MariaDB {
	t.Helper()
	var cfg MariaDBConfig
	for _, o := range opts {
		o(&cfg)
	}
	return startForTest(t, "mariadb", cfg.StartTimeout, func(ctx context.Context) (*MariaDB, error) {
		return NewMariaDB(ctx, cfg)
	})
}

// NewMariaDB initialises a fresh data directory and starts a server on it.
// The caller must Close it.
func NewMariaDB(ctx context.Context, cfg MariaDBConfig) (*MariaDB, error) {
	if cfg.Server == "" {
		cfg.Server = lookBin([]string{"mariadbd"}, "/usr/sbin/mariadbd", "/usr/sbin/mysqld")
	}
	if cfg.InstallDB == "" {
		cfg.InstallDB = lookBin([]string{"mariadb-install-db", "mysql_install_db"}, "/usr/bin/mariadb-install-db")
	}
	if cfg.Client == "" {
		cfg.Client = lookBin([]string{"mariadb", "mysql"}, "/usr/bin/mariadb")
	}
	if !isExecutable(cfg.Server) || !isExecutable(cfg.InstallDB) {
		return nil, fmt.Errorf("harness: MariaDB server binaries (mariadbd, mariadb-install-db) not found on $PATH or in /usr/sbin, /usr/bin: "+
			"install them with: apt-get install -y %s (or run scripts/install-deps.sh)", MariaDBServerAptPackage)
	}
	if !isExecutable(cfg.Client) {
		return nil, fmt.Errorf("harness: MariaDB client binary (mariadb) not found on $PATH or in /usr/bin: "+
			"install it with: apt-get install -y %s (or run scripts/install-deps.sh)", MariaDBClientAptPackage)
	}
	if cfg.ServerID == 0 {
		cfg.ServerID = lastServerID.Add(1)
	}
	if cfg.OSUser == "" {
		cfg.OSUser = "mysql"
	}
	ra, err := lookupRunAs(cfg.OSUser, MariaDBServerAptPackage)
	if err != nil {
		return nil, err
	}
	dir, err := makeServerDir("mariadb", ra)
	if err != nil {
		return nil, err
	}
	m := &MariaDB{cfg: cfg, socket: filepath.Join(dir, "mysqld.sock")}
	m.server = server{
		kind:         "mariadb",
		binary:       "mariadbd",
		runAs:        ra,
		dir:          dir,
		dataDir:      filepath.Join(dir, "data"),
		logPath:      filepath.Join(dir, "server.log"),
		startTimeout: cfg.StartTimeout,
		command:      func() *exec.Cmd { return exec.Command(m.cfg.Server, m.serverArgs()...) },
		ready:        m.ready,
		pollEvery:    100 * time.Millisecond,
		bindErrors:   []string{"Address already in use", "Bind on TCP/IP port"},
		stopSignal:   syscall.SIGTERM, // clean shutdown
	}
	if err := m.setUp(ctx, m.init, m.firstStart); err != nil {
		return nil, err
	}
	return m, nil
}

// mariadbRootSQL runs after the first start: root without password from any
// host, in addition to root@localhost/127.0.0.1/::1 made by install-db.
const mariadbRootSQL = `CREATE USER IF NOT EXISTS 'root'@'%' IDENTIFIED BY '';
GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION;
`

func (m *MariaDB) init(ctx context.Context) error {
	tmp := filepath.Join(m.dir, "tmp")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		return fmt.Errorf("harness: create tmp dir: %w", err)
	}
	if err := m.runAs.chown(tmp); err != nil {
		return err
	}
	env := append(childEnv(m.dir), "TMPDIR="+tmp)
	cmd := m.runAs.command(ctx, m.dir, env, m.cfg.InstallDB,
		"--no-defaults",
		"--datadir="+m.dataDir,
		"--auth-root-authentication-method=normal",
		"--skip-test-db",
		"--skip-name-resolve",
		// Passed through to the bootstrap mariadbd:
		"--tmpdir="+tmp,
		"--innodb-use-native-aio=OFF",
	)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("harness: mariadb-install-db %s as %s: %w\n%s", m.dataDir, m.runAs.name, err, out)
	}
	return nil
}

func (m *MariaDB) firstStart(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.firstStartLocked(ctx, m.cfg.Port, m.cfg.pickPort); err != nil {
		return err
	}
	if _, err := m.client(ctx, m.Port(), mariadbRootSQL); err != nil {
		return fmt.Errorf("harness: grant root@'%%': %w", err)
	}
	return nil
}

// serverArgs are mariadbd's options; cfg.Args come last and win.
func (m *MariaDB) serverArgs() []string {
	args := []string{
		"--no-defaults",
		"--datadir=" + m.dataDir,
		"--tmpdir=" + filepath.Join(m.dir, "tmp"),
		"--socket=" + m.socket,
		"--pid-file=" + filepath.Join(m.dir, "mysqld.pid"),
		"--port=" + strconv.Itoa(m.Port()),
		"--bind-address=127.0.0.1",
		"--skip-name-resolve",
		"--log-bin=mysql-bin",
		"--binlog-format=ROW",
		"--binlog-row-image=FULL",
		"--binlog-annotate-row-events=ON",
		"--server-id=" + strconv.FormatUint(uint64(m.cfg.ServerID), 10),
		"--log-slave-updates",
		"--gtid-strict-mode=ON",
		"--innodb-flush-log-at-trx-commit=2",
		"--innodb-buffer-pool-size=64M",
		"--innodb-use-native-aio=OFF", // many servers at once would exhaust fs.aio-max-nr
		"--performance-schema=OFF",
		"--character-set-server=utf8mb4",
		"--max-connections=200",
		"--max-allowed-packet=64M",
	}
	return append(args, m.cfg.Args...)
}

// ready reports nil once the server accepts a TCP connection and a query.
func (m *MariaDB) ready(ctx context.Context) error {
	var d net.Dialer
	dctx, dcancel := context.WithTimeout(ctx, time.Second)
	c, err := d.DialContext(dctx, "tcp", m.Addr())
	dcancel()
	if err != nil {
		return err
	}
	_ = c.Close()
	_, err = m.client(ctx, m.Port(), "SELECT 1", "--connect-timeout=2")
	return err
}

// Stop shuts the server down (SIGTERM: clean shutdown) and waits for it to
// exit; if ctx ends first the server is killed. Stopping a stopped server is
// a no-op.
func (m *MariaDB) Stop(ctx context.Context) error { return m.stop(ctx) }

// Kill SIGKILLs the server (a crash) and waits for it to be gone. Start
// recovers it.
func (m *MariaDB) Kill() { m.kill() }

// User is the superuser, "root", with no password (from any host).
func (m *MariaDB) User() string { return "root" }

// ServerID is the server's --server-id.
func (m *MariaDB) ServerID() uint32 { return m.cfg.ServerID }

// DSN is a URL for database db (may be empty) as root:
// mysql://root@127.0.0.1:PORT/db.
func (m *MariaDB) DSN(db string) string {
	return fmt.Sprintf("mysql://root@127.0.0.1:%d/%s", m.Port(), db)
}

// GoSQLDSN is a github.com/go-sql-driver/mysql DSN for database db as root:
// root@tcp(127.0.0.1:PORT)/db, without parameters so callers can append
// "?parseTime=true" and the like.
func (m *MariaDB) GoSQLDSN(db string) string {
	return fmt.Sprintf("root@tcp(127.0.0.1:%d)/%s", m.Port(), db)
}

// Dir is the server's temporary directory (data/, tmp/, mysqld.sock, server.log).
func (m *MariaDB) Dir() string { return m.dir }

// DataDir is the data directory (binlogs are mysql-bin.* in it).
func (m *MariaDB) DataDir() string { return m.dataDir }

// Socket is the path of the server's unix socket.
func (m *MariaDB) Socket() string { return m.socket }

// PID is mariadbd's process ID, 0 while stopped.
func (m *MariaDB) PID() int { return m.pid() }

// Log returns the tail of the server's error log (across restarts).
func (m *MariaDB) Log() string { return m.log() }

// CreateDatabase creates database name (backquoted) if it does not exist.
func (m *MariaDB) CreateDatabase(ctx context.Context, name string) error {
	if err := m.Exec(ctx, "CREATE DATABASE IF NOT EXISTS "+quoteMySQLIdent(name)); err != nil {
		return fmt.Errorf("harness: create database %q: %w", name, err)
	}
	return nil
}

// Exec runs sql (one or more ';'-separated statements) as root through the
// mariadb client binary. Use "USE db;" or qualified names to pick a database.
func (m *MariaDB) Exec(ctx context.Context, sql string) error {
	_, err := m.client(ctx, m.Port(), sql)
	return err
}

// Query runs sql as root through the mariadb client binary and returns the
// rows of its last result set as strings (NULL reads "NULL"), without the
// header row.
func (m *MariaDB) Query(ctx context.Context, sql string) ([][]string, error) {
	out, err := m.client(ctx, m.Port(), sql, "--skip-column-names")
	if err != nil {
		return nil, err
	}
	var rows [][]string
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if line == "" {
			continue
		}
		fields := strings.Split(line, "\t")
		for i, f := range fields {
			fields[i] = unescapeBatch(f)
		}
		rows = append(rows, fields)
	}
	return rows, nil
}

// client runs the mariadb client against port with sql on stdin in batch mode.
func (m *MariaDB) client(ctx context.Context, port int, sql string, extra ...string) (string, error) {
	args := append([]string{
		"--no-defaults", "--protocol=TCP", "-h127.0.0.1", "-P" + strconv.Itoa(port), "-uroot", "--batch",
		// Without it the client talks latin1 and stores UTF-8 text double-encoded.
		"--default-character-set=utf8mb4",
	}, extra...)
	cmd := exec.CommandContext(ctx, m.cfg.Client, args...)
	cmd.Env = childEnv(os.TempDir())
	cmd.Stdin = strings.NewReader(sql)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("harness: mariadb client on port %d: %w: %s", port, err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// unescapeBatch undoes the mariadb client's batch-mode escaping.
func unescapeBatch(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case '0':
			b.WriteByte(0)
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

func quoteMySQLIdent(s string) string {
	return "`" + strings.ReplaceAll(s, "`", "``") + "`"
}
