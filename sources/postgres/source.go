package postgres

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/sluice-cdc/sluice/offsets"
	"github.com/sluice-cdc/sluice/sources"
)

// Snapshot modes.
const (
	SnapshotInitial     = "initial"
	SnapshotNever       = "never"
	SnapshotInitialOnly = "initial_only"
	SnapshotWhenNeeded  = "when_needed"
)

// Publication auto-create modes.
const (
	PublicationFiltered  = "filtered"
	PublicationAllTables = "all_tables"
	PublicationDisabled  = "disabled"
)

// Options configures a PostgreSQL source connector.
type Options struct {
	// Name is the connector name: the offset key and the base of the
	// Kafka transactional.id.
	Name string
	DSN  string
	// Include and Exclude are regexes matched against "schema.table"; an
	// empty Include selects every table.
	Include, Exclude []string
	SlotName         string
	Publication      string
	PublicationMode  string // filtered | all_tables | disabled
	SnapshotMode     string // initial | never | initial_only | when_needed
	// SnapshotFetchSize is the number of rows fetched per snapshot chunk.
	SnapshotFetchSize int
	// HeartbeatInterval > 0 writes a heartbeat record and advances the slot
	// that often when the captured tables are idle.
	HeartbeatInterval time.Duration
	HeartbeatQuery    string
	// MaxBatchSize is the number of events after which the open Kafka
	// transaction is committed at the next source transaction boundary;
	// MaxBatchWait bounds how long events wait for a commit.
	MaxBatchSize int
	MaxBatchWait time.Duration
	// StatusInterval is how often the slot's position is reported to the
	// server (default 10s).
	StatusInterval time.Duration
	Decoder        DecoderOptions
	Logger         *slog.Logger
}

// Emitter is where the source writes its events (see sources.Emitter).
type Emitter = sources.Emitter

// Shared with the other sources.
var (
	compileAll = sources.CompilePatterns
	permanent  = sources.Permanent
)

// Source is a PostgreSQL source connector: an initial snapshot consistent
// with a logical replication slot, then pgoutput streaming.
type Source struct {
	o       Options
	log     *slog.Logger
	include []*regexp.Regexp
	exclude []*regexp.Regexp
	status  *Status
	adhoc   *sources.AdHoc
}

// RequestSnapshot queues an ad-hoc (blocking) snapshot of captured tables,
// named schema.table; see sources.AdHoc.
func (s *Source) RequestSnapshot(tables []string) error { return s.adhoc.Request(tables) }

// New validates o and returns a Source.
func New(o Options) (*Source, error) {
	if o.Name == "" {
		return nil, errors.New("postgres source: name is required")
	}
	if o.SlotName == "" {
		o.SlotName = DefaultSlotName(o.Name)
	}
	if o.Publication == "" {
		o.Publication = o.SlotName
	}
	if o.PublicationMode == "" {
		o.PublicationMode = PublicationFiltered
	}
	if o.SnapshotMode == "" {
		o.SnapshotMode = SnapshotInitial
	}
	if o.SnapshotFetchSize <= 0 {
		o.SnapshotFetchSize = 10_000
	}
	if o.MaxBatchSize <= 0 {
		o.MaxBatchSize = 2048
	}
	if o.MaxBatchWait <= 0 {
		o.MaxBatchWait = 50 * time.Millisecond
	}
	if o.StatusInterval <= 0 {
		o.StatusInterval = 10 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Decoder.TopicPrefix == "" {
		o.Decoder.TopicPrefix = o.Name
	}
	s := &Source{o: o, log: o.Logger, status: &Status{}, adhoc: sources.NewAdHoc()}
	var err error
	if s.include, err = compileAll(o.Include); err != nil {
		return nil, fmt.Errorf("postgres source %s: tables: %w", o.Name, err)
	}
	if s.exclude, err = compileAll(o.Exclude); err != nil {
		return nil, fmt.Errorf("postgres source %s: exclude_tables: %w", o.Name, err)
	}
	return s, nil
}

// DefaultSlotName derives a valid replication slot name from a connector name.
func DefaultSlotName(name string) string {
	var b strings.Builder
	b.WriteString("sluice_")
	for _, r := range strings.ToLower(name) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// Status returns the connector's live status.
func (s *Source) Status() *Status { return s.status }

// Run captures changes until ctx is cancelled or an error occurs. stored is
// the connector's last committed offset (nil if none). Run returns nil after
// a clean shutdown or when an initial_only snapshot is complete.
func (s *Source) Run(ctx context.Context, stored []byte, em Emitter) error {
	var off *offsets.Postgres
	if stored != nil {
		var err error
		if off, err = offsets.UnmarshalPostgres(stored); err != nil {
			return permanent("postgres source %s: %w", s.o.Name, err)
		}
	}
	s.status.setState("starting")
	conn, err := s.connect(ctx, false)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))

	if err := s.checkServer(ctx, conn); err != nil {
		return err
	}
	tables, err := s.selectTables(ctx, conn)
	if err != nil {
		return err
	}
	if err := s.ensurePublication(ctx, conn, tables); err != nil {
		return err
	}
	slot, err := s.slotInfo(ctx, conn)
	if err != nil {
		return err
	}

	snapDone := off != nil && off.Snapshot != offsets.SnapshotRunning
	needSnapshot := false
	switch s.o.SnapshotMode {
	case SnapshotInitial, SnapshotInitialOnly:
		needSnapshot = !snapDone
	case SnapshotWhenNeeded:
		needSnapshot = !snapDone || slot == nil
	case SnapshotNever:
	default:
		return permanent("postgres source %s: unknown snapshot mode %q", s.o.Name, s.o.SnapshotMode)
	}
	if !needSnapshot && slot == nil && off != nil && off.CommitLSN+off.EndLSN+off.SnapshotLSN > 0 && s.o.SnapshotMode != SnapshotInitialOnly {
		return permanent("postgres source %s: replication slot %q does not exist, but the stored position (LSN %s) needs it: "+
			"the changes since then are lost. Use snapshot: when_needed to take a new snapshot, or `sluice offsets reset`",
			s.o.Name, s.o.SlotName, fmtLSN(max(off.EndLSN, off.SnapshotLSN)))
	}

	repl, err := s.connect(ctx, true)
	if err != nil {
		return err
	}
	defer func() { repl.Close(context.WithoutCancel(ctx)) }()
	names := make([]string, len(tables))
	for i, t := range tables {
		names[i] = t.String()
	}
	s.adhoc.SetCaptured(names)

	dopts := s.o.Decoder
	if dopts.Database == "" {
		dopts.Database = conn.Config().Database
	}
	dec := NewDecoder(dopts)
	cat := newCatalog(conn)

	if needSnapshot {
		if slot != nil {
			// A slot without a completed snapshot is left over from an
			// interrupted first start: its exported snapshot is gone, so
			// start over with a new one.
			s.log.Info("dropping replication slot to take a new snapshot", "slot", s.o.SlotName)
			if err := dropSlot(ctx, conn, s.o.SlotName); err != nil {
				return err
			}
		}
		if off, err = s.snapshot(ctx, conn, repl, dec, cat, tables, em); err != nil {
			return err
		}
		if s.o.SnapshotMode == SnapshotInitialOnly {
			s.log.Info("initial_only snapshot complete; dropping the replication slot", "slot", s.o.SlotName)
			repl.Close(ctx)
			if err := dropSlot(ctx, conn, s.o.SlotName); err != nil {
				return err
			}
			s.status.setState("finished")
			return nil
		}
	} else {
		if s.o.SnapshotMode == SnapshotInitialOnly {
			s.status.setState("finished")
			return nil
		}
		if slot == nil {
			if err := createSlot(ctx, repl, s.o.SlotName, false); err != nil {
				return err
			}
		}
	}
	for {
		if off != nil && len(off.AdHoc) > 0 {
			if off, err = s.adhocSnapshot(ctx, conn, dec, cat, tables, *off, em); err != nil {
				return err
			}
		}
		err := s.stream(ctx, conn, repl, dec, cat, off, em)
		var stop *sources.AdHocStop[offsets.Postgres]
		if !errors.As(err, &stop) {
			return err
		}
		o := stop.Offset
		o.AdHoc = stop.Tables
		off = &o
		// The replication connection is in COPY mode: a new one streams
		// on once the snapshot is done.
		repl.Close(ctx)
		if repl, err = s.connect(ctx, true); err != nil {
			return err
		}
	}
}

// connect opens a regular or a replication connection with the session
// settings the text decoders expect.
func (s *Source) connect(ctx context.Context, replication bool) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(s.o.DSN)
	if err != nil {
		return nil, permanent("postgres source %s: parse dsn: %w", s.o.Name, err)
	}
	for k, v := range sessionSettings {
		cfg.RuntimeParams[k] = v
	}
	cfg.RuntimeParams["application_name"] = "sluice-" + s.o.Name
	if replication {
		cfg.RuntimeParams["replication"] = "database"
		// Replication connections speak the simple query protocol only.
		cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	} else {
		// Snapshot rows arrive a few hundred bytes each: read them from
		// the socket in large chunks (pgproto3 reads 8 KB at a time, a
		// system call per 40 rows).
		cfg.BuildFrontend = func(r io.Reader, w io.Writer) *pgproto3.Frontend {
			return pgproto3.NewFrontend(bufio.NewReaderSize(r, snapshotReadBuffer), w)
		}
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "28000" && replication {
			return nil, permanent("postgres source %s: replication connection refused (the role needs the REPLICATION attribute and pg_hba.conf a replication entry): %w", s.o.Name, err)
		}
		return nil, fmt.Errorf("postgres source %s: connect: %w", s.o.Name, err)
	}
	return conn, nil
}

// snapshotReadBuffer is the read buffer of a source's (non-replication)
// connection.
const snapshotReadBuffer = 256 << 10

// sessionSettings fix the text output formats the decoders parse, for the
// snapshot and the walsender alike.
var sessionSettings = map[string]string{
	"DateStyle":          "ISO, YMD",
	"IntervalStyle":      "postgres",
	"extra_float_digits": "3",
	"TimeZone":           "UTC",
	"bytea_output":       "hex",
	"client_encoding":    "UTF8",
}

func (s *Source) checkServer(ctx context.Context, conn *pgx.Conn) error {
	var walLevel string
	var super, repl bool
	err := conn.QueryRow(ctx, `SELECT current_setting('wal_level'), r.rolsuper, r.rolreplication
		FROM pg_roles r WHERE r.rolname = current_user`).Scan(&walLevel, &super, &repl)
	if err != nil {
		return fmt.Errorf("postgres source %s: check server settings: %w", s.o.Name, err)
	}
	if walLevel != "logical" {
		return permanent("postgres source %s: the server runs with wal_level=%s; logical decoding needs wal_level=logical (set it in postgresql.conf and restart the server)", s.o.Name, walLevel)
	}
	if !super && !repl {
		return permanent("postgres source %s: the role %q has neither REPLICATION nor SUPERUSER; grant it with ALTER ROLE ... WITH REPLICATION", s.o.Name, conn.Config().User)
	}
	return nil
}
