package harness

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// PGAptPackage is the Debian package that provides the PostgreSQL server
// binaries (initdb, postgres, pg_recvlogical, pgbench) and the postgres OS user.
const PGAptPackage = "postgresql"

// PGConfig configures a throwaway PostgreSQL server. The zero value is ready
// to use.
type PGConfig struct {
	// BinDir holds initdb and postgres. Empty: $SLUICE_PG_BINDIR, else the
	// newest /usr/lib/postgresql/*/bin, else the directory of initdb on $PATH.
	BinDir string
	// Port to listen on at 127.0.0.1. Zero picks a free port.
	Port int
	// Settings are extra postgresql.conf settings; they override the
	// defaults (wal_level=logical, fsync=off, ...). Values are written quoted.
	Settings map[string]string
	// HBA lines are put in pg_hba.conf before the default trust lines, so
	// they take precedence (first match wins).
	HBA []string
	// OSUser the server runs as when the caller is root. Empty: "postgres".
	OSUser string
	// StartTimeout bounds each start until the server accepts connections.
	// Zero: 90s.
	StartTimeout time.Duration

	pickPort func() (int, error) // tests: replaces freePort
}

// PGOption adjusts a PGConfig for StartPostgres.
type PGOption func(*PGConfig)

// WithPGSetting sets a postgresql.conf setting, e.g. ("wal_level", "replica").
func WithPGSetting(name, value string) PGOption {
	return func(c *PGConfig) {
		if c.Settings == nil {
			c.Settings = map[string]string{}
		}
		c.Settings[name] = value
	}
}

// WithPGHBA adds pg_hba.conf lines ahead of the default trust lines, e.g.
// "host all sluice_pw 127.0.0.1/32 scram-sha-256".
func WithPGHBA(lines ...string) PGOption {
	return func(c *PGConfig) { c.HBA = append(c.HBA, lines...) }
}

// WithPGPort makes the server listen on a fixed port instead of a free one.
func WithPGPort(port int) PGOption {
	return func(c *PGConfig) { c.Port = port }
}

// pgDefaultSettings are written to postgresql.conf in this order.
var pgDefaultSettings = [][2]string{
	{"listen_addresses", "127.0.0.1"},
	{"wal_level", "logical"},
	{"max_wal_senders", "20"},
	{"max_replication_slots", "20"},
	{"fsync", "off"},
	{"synchronous_commit", "on"}, // see Kill
	{"full_page_writes", "off"},
	{"shared_buffers", "128MB"},
	{"max_connections", "100"},
}

// Postgres is a throwaway PostgreSQL server in its own temporary directory.
// Its methods are safe for concurrent use.
type Postgres struct {
	server  // its dir holds data/, sock/ and server.log
	cfg     PGConfig
	binDir  string
	sockDir string
}

// StartPostgres starts a throwaway PostgreSQL server for the test and stops
// it and removes its files when the test ends. Missing binaries or OS users
// fail the test. On test failure the server log tail is logged.
func StartPostgres(t testing.TB, opts ...PGOption) *Postgres {
	t.Helper()
	var cfg PGConfig
	for _, o := range opts {
		o(&cfg)
	}
	return startForTest(t, "postgres", cfg.StartTimeout, func(ctx context.Context) (*Postgres, error) {
		return NewPostgres(ctx, cfg)
	})
}

// NewPostgres initialises a fresh data directory and starts a server on it.
// The caller must Close it.
func NewPostgres(ctx context.Context, cfg PGConfig) (*Postgres, error) {
	binDir, err := findPGBinDir(cfg.BinDir)
	if err != nil {
		return nil, err
	}
	if cfg.OSUser == "" {
		cfg.OSUser = "postgres"
	}
	ra, err := lookupRunAs(cfg.OSUser, PGAptPackage)
	if err != nil {
		return nil, err
	}
	dir, err := makeServerDir("pg", ra)
	if err != nil {
		return nil, err
	}
	p := &Postgres{cfg: cfg, binDir: binDir, sockDir: filepath.Join(dir, "sock")}
	p.server = server{
		kind:         "postgres",
		binary:       "postgres",
		runAs:        ra,
		dir:          dir,
		dataDir:      filepath.Join(dir, "data"),
		logPath:      filepath.Join(dir, "server.log"),
		startTimeout: cfg.StartTimeout,
		command:      p.serverCommand,
		ready:        p.ready,
		pollEvery:    50 * time.Millisecond,
		bindErrors:   []string{"Address already in use", "could not bind"},
		stopSignal:   syscall.SIGINT, // fast shutdown, see Stop
		nudgeAfter:   walSenderGrace,
		nudge:        terminateWalSenders,
	}
	if err := p.setUp(ctx, p.init, p.firstStart); err != nil {
		return nil, err
	}
	return p, nil
}

func findPGBinDir(dir string) (string, error) {
	var tried []string
	if dir == "" {
		dir = os.Getenv("SLUICE_PG_BINDIR")
	}
	if dir != "" {
		tried = append(tried, dir)
	} else {
		cands, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
		// Newest major version first.
		sort.Slice(cands, func(i, j int) bool { return pgMajor(cands[i]) > pgMajor(cands[j]) })
		for _, c := range cands {
			if isExecutable(filepath.Join(c, "initdb")) && isExecutable(filepath.Join(c, "postgres")) {
				return c, nil
			}
		}
		tried = append(tried, "/usr/lib/postgresql/*/bin")
		if p, err := exec.LookPath("initdb"); err == nil {
			dir = filepath.Dir(p)
		}
		tried = append(tried, "$PATH")
	}
	if dir != "" && isExecutable(filepath.Join(dir, "initdb")) && isExecutable(filepath.Join(dir, "postgres")) {
		return dir, nil
	}
	return "", fmt.Errorf("harness: PostgreSQL server binaries (initdb, postgres) not found in %s: "+
		"install them with: apt-get install -y %s (or run scripts/install-deps.sh)",
		strings.Join(tried, ", "), PGAptPackage)
}

func pgMajor(binDir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	return v
}

func (p *Postgres) init(ctx context.Context) error {
	if err := os.Mkdir(p.sockDir, 0o700); err != nil {
		return fmt.Errorf("harness: create socket dir: %w", err)
	}
	if err := p.runAs.chown(p.sockDir); err != nil {
		return err
	}
	cmd := p.runAs.command(ctx, p.dir, childEnv(p.dir), filepath.Join(p.binDir, "initdb"),
		"-D", p.dataDir, "-U", "postgres", "-E", "UTF8", "--no-locale", "--auth=trust", "--no-sync")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("harness: initdb %s as %s: %w\n%s", p.dataDir, p.runAs.name, err, out)
	}

	// Settings: defaults in order, overridden by cfg.Settings, then the rest
	// of cfg.Settings sorted by name.
	var b strings.Builder
	b.WriteString("\n# sluice test harness\n")
	seen := map[string]bool{}
	write := func(k, v string) {
		fmt.Fprintf(&b, "%s = '%s'\n", k, strings.ReplaceAll(v, "'", "''"))
	}
	write("unix_socket_directories", p.sockDir)
	for _, kv := range pgDefaultSettings {
		v := kv[1]
		if o, ok := p.cfg.Settings[kv[0]]; ok {
			v = o
		}
		seen[kv[0]] = true
		write(kv[0], v)
	}
	var extra []string
	for k := range p.cfg.Settings {
		if !seen[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	for _, k := range extra {
		write(k, p.cfg.Settings[k])
	}
	if err := appendFile(filepath.Join(p.dataDir, "postgresql.conf"), b.String()); err != nil {
		return err
	}

	hba := strings.Join(p.cfg.HBA, "\n") + `
local   all          all                    trust
host    all          all    127.0.0.1/32    trust
host    all          all    ::1/128         trust
local   replication  all                    trust
host    replication  all    127.0.0.1/32    trust
host    replication  all    ::1/128         trust
`
	if err := os.WriteFile(filepath.Join(p.dataDir, "pg_hba.conf"), []byte(hba), 0o600); err != nil {
		return fmt.Errorf("harness: write pg_hba.conf: %w", err)
	}
	return p.runAs.chown(filepath.Join(p.dataDir, "pg_hba.conf"))
}

func appendFile(path, s string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("harness: open %s: %w", path, err)
	}
	_, err = f.WriteString(s)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("harness: write %s: %w", path, err)
	}
	return nil
}

// firstStart starts the server, moving to another free port if the chosen
// one was taken in the meantime.
func (p *Postgres) firstStart(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.firstStartLocked(ctx, p.cfg.Port, p.cfg.pickPort)
}

// serverCommand is the postgres command line.
func (p *Postgres) serverCommand() *exec.Cmd {
	return exec.Command(filepath.Join(p.binDir, "postgres"), "-D", p.dataDir, "-p", strconv.Itoa(p.Port()))
}

// ready reports nil once the server accepts a connection.
func (p *Postgres) ready(ctx context.Context) error {
	conn, err := pgconn.Connect(ctx, p.DSN("postgres")+"&connect_timeout=2")
	if err != nil {
		return err
	}
	return conn.Close(ctx)
}

// Stop shuts the server down (fast shutdown: SIGINT) and waits for it to
// exit; if ctx ends first the server is killed. Walsenders still waiting for
// their clients after a second are terminated. Stopping a stopped server is
// a no-op.
func (p *Postgres) Stop(ctx context.Context) error { return p.stop(ctx) }

// walSenderGrace is how long a fast shutdown may wait for walsenders.
const walSenderGrace = time.Second

// terminateWalSenders is the shutdown nudge. A fast shutdown (SIGINT) waits
// for every walsender to send the WAL up to the shutdown checkpoint and for
// its client to confirm it, which a logical replication client that confirms
// only what it processed (sluice) never does: the shutdown would hang until
// wal_sender_timeout. So after walSenderGrace the walsenders are terminated
// (SIGTERM), as pg_terminate_backend would.
func terminateWalSenders(pr *proc) {
	for _, q := range procsUnder(pr.dir) {
		if q != pr.pid() && strings.Contains(cmdline(q), "walsender") {
			_ = syscall.Kill(q, syscall.SIGTERM)
		}
	}
}

// Kill SIGKILLs the server and all its backends (a crash) and waits for them
// to be gone. Start recovers it. Every transaction whose COMMIT returned
// before Kill survives it: synchronous_commit is on by default (with fsync off
// a commit is one write(2), no flush). With WithPGSetting("synchronous_commit",
// "off") the last ~200ms of commits are lost, as in a real crash.
func (p *Postgres) Kill() { p.kill() }

// Bin is the path of program name (psql, pg_recvlogical, pgbench) in the
// directory of the server's initdb and postgres: the client of the same
// version, started directly rather than through Debian's pg_wrapper on
// $PATH, a Perl script that picks a version at every start.
func (p *Postgres) Bin(name string) string { return filepath.Join(p.binDir, name) }

// User is the database superuser, "postgres" (trust auth, no password).
func (p *Postgres) User() string { return "postgres" }

// DSN is a URL for database db as the superuser:
// postgres://postgres@127.0.0.1:PORT/db?sslmode=disable.
func (p *Postgres) DSN(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", p.Port(), url.PathEscape(db))
}

// ReplicationDSN is DSN(db) for a logical replication connection
// (replication=database).
func (p *Postgres) ReplicationDSN(db string) string {
	return p.DSN(db) + "&replication=database"
}

// Dir is the server's temporary directory (data/, sock/, server.log).
func (p *Postgres) Dir() string { return p.dir }

// DataDir is the data directory (PGDATA).
func (p *Postgres) DataDir() string { return p.dataDir }

// SocketDir is the directory of the server's unix socket.
func (p *Postgres) SocketDir() string { return p.sockDir }

// PID is the postmaster's process ID, 0 while stopped.
func (p *Postgres) PID() int { return p.pid() }

// Log returns the tail of the server log (across restarts).
func (p *Postgres) Log() string { return p.log() }

// CreateDatabase creates database name (quoted as an identifier).
func (p *Postgres) CreateDatabase(ctx context.Context, name string) error {
	if err := p.Exec(ctx, "postgres", "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return fmt.Errorf("harness: create database %q: %w", name, err)
	}
	return nil
}

// Exec connects to database db as the superuser and runs sql. Without args
// it uses the simple protocol, so sql may hold several statements.
func (p *Postgres) Exec(ctx context.Context, db, sql string, args ...any) error {
	conn, err := pgx.Connect(ctx, p.DSN(db))
	if err != nil {
		return fmt.Errorf("harness: connect to postgres db %q: %w", db, err)
	}
	_, err = conn.Exec(ctx, sql, args...)
	cerr := conn.Close(context.WithoutCancel(ctx))
	if err != nil {
		return fmt.Errorf("harness: exec on postgres db %q: %w", db, err)
	}
	return cerr
}

// fileSize is the size of the file at path, 0 if it does not exist.
func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// fileTailFrom returns what was written to path after offset from, at most
// the last 16 KiB of it.
func fileTailFrom(path string, from int64) string {
	n := fileSize(path) - from
	if n > 16<<10 {
		n = 16 << 10
	}
	if n <= 0 {
		return ""
	}
	return fileTail(path, n)
}

// tail returns the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
