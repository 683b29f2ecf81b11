package mysql

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"time"

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

// Options configures a MySQL/MariaDB source connector.
type Options struct {
	// Name is the connector name: the offset key and the base of the
	// Kafka transactional.id.
	Name string
	// DSN is mysql://user:password@host:port[/db].
	DSN string
	// ServerID is the replica server id the connector registers with.
	ServerID uint32
	// GTID is auto (default), on or off.
	GTID string
	// Include and Exclude are regexes matched against "db.table"; an
	// empty Include selects every table.
	Include, Exclude []string
	SnapshotMode     string // initial | never | initial_only | when_needed
	// SnapshotLockingMode is minimal (default: FLUSH TABLES WITH READ LOCK
	// only while the position is read) or none (MariaDB: the position of
	// the consistent snapshot without any lock).
	SnapshotLockingMode string
	// SnapshotFetchSize is the number of rows per snapshot chunk (one
	// Kafka transaction each).
	SnapshotFetchSize int
	// HeartbeatInterval > 0 writes a heartbeat record (and the current
	// position) that often when the captured tables are idle.
	HeartbeatInterval time.Duration
	HeartbeatQuery    string
	// MaxBatchSize and MaxBatchWait bound the events per Kafka
	// transaction and how long they wait for a commit.
	MaxBatchSize int
	MaxBatchWait time.Duration
	// IncludeQuery is include.query: streamed row events carry the SQL
	// statement that produced them in source.query, from the ROWS_QUERY
	// event (MySQL, binlog_rows_query_log_events=ON) or ANNOTATE_ROWS event
	// (MariaDB, binlog_annotate_row_events=ON) before the rows events;
	// without those events (or in a snapshot) query stays null.
	IncludeQuery bool
	// SchemaHistoryTopic, when set, receives the table definitions after
	// the snapshot and after each DDL, in the same Kafka transaction as the
	// events (the emitter must support WriteRaw). LoadSchemaHistory returns
	// the connector's last committed record there (nil if none).
	// SkipUnparsableDDL logs and skips DDL the parser cannot read instead
	// of failing the connector.
	SkipUnparsableDDL  bool
	SchemaHistoryTopic string
	LoadSchemaHistory  func(ctx context.Context) ([]byte, error)
	Decoder            DecoderOptions
	Logger             *slog.Logger
}

// Emitter is where the source writes its events (see sources.Emitter).
type Emitter = sources.Emitter

// Shared with the other sources.
var (
	compileAll = sources.CompilePatterns
	permanent  = sources.Permanent
)

// Source is a MySQL/MariaDB source connector.
type Source struct {
	o       Options
	ci      connInfo
	log     *slog.Logger
	include []*regexp.Regexp
	exclude []*regexp.Regexp
	// capturedCache holds captured's answers by [db, table].
	capturedCache sync.Map
	status        *Status
	adhoc         *sources.AdHoc
}

// RequestSnapshot queues an ad-hoc (blocking) snapshot of captured tables,
// named db.table; see sources.AdHoc.
func (s *Source) RequestSnapshot(tables []string) error { return s.adhoc.Request(tables) }

// Status returns the connector's live status.
func (s *Source) Status() *Status { return s.status }

// New validates o and returns a Source.
func New(o Options) (*Source, error) {
	if o.Name == "" {
		return nil, errors.New("mysql source: name is required")
	}
	if o.SnapshotMode == "" {
		o.SnapshotMode = SnapshotInitial
	}
	if o.SnapshotLockingMode == "" {
		o.SnapshotLockingMode = "minimal"
	}
	if o.GTID == "" {
		o.GTID = "auto"
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
	if o.ServerID == 0 {
		o.ServerID = 5400 + uint32(len(o.Name))
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Decoder.TopicPrefix == "" {
		o.Decoder.TopicPrefix = o.Name
	}
	if err := o.Decoder.Validate(); err != nil {
		return nil, fmt.Errorf("mysql source %s: %w", o.Name, err)
	}
	switch o.SnapshotMode {
	case SnapshotInitial, SnapshotNever, SnapshotInitialOnly, SnapshotWhenNeeded:
	default:
		return nil, fmt.Errorf("mysql source %s: unknown snapshot mode %q", o.Name, o.SnapshotMode)
	}
	s := &Source{o: o, log: o.Logger, status: &Status{}, adhoc: sources.NewAdHoc()}
	var err error
	if s.ci, err = parseDSN(o.DSN); err != nil {
		return nil, fmt.Errorf("mysql source %s: %w", o.Name, err)
	}
	if s.include, err = compileAll(o.Include); err != nil {
		return nil, fmt.Errorf("mysql source %s: tables: %w", o.Name, err)
	}
	if s.exclude, err = compileAll(o.Exclude); err != nil {
		return nil, fmt.Errorf("mysql source %s: exclude_tables: %w", o.Name, err)
	}
	return s, nil
}

// Run captures changes until ctx is cancelled or an error occurs. stored is
// the connector's last committed offset (nil if none).
func (s *Source) Run(ctx context.Context, stored []byte, em Emitter) error {
	var off *offsets.MySQL
	if stored != nil {
		var err error
		if off, err = offsets.UnmarshalMySQL(stored); err != nil {
			return permanent("mysql source %s: %w", s.o.Name, err)
		}
	}
	s.status.setState("starting")
	conn, err := s.connect()
	if err != nil {
		return err
	}
	defer conn.Close()
	si, err := s.checkServer(conn)
	if err != nil {
		return err
	}
	dec := NewDecoder(s.o.Decoder)

	snapDone := off != nil && off.Snapshot != offsets.SnapshotRunning
	needSnapshot := false
	switch s.o.SnapshotMode {
	case SnapshotInitial, SnapshotInitialOnly:
		needSnapshot = !snapDone
	case SnapshotWhenNeeded:
		needSnapshot = !snapDone
		if snapDone && off.File != "" {
			if ok, err := s.positionAvailable(conn, off); err != nil {
				return err
			} else if !ok {
				s.log.Warn("the stored binlog position was purged; taking a new snapshot", "file", off.File, "gtids", off.GTIDs)
				needSnapshot = true
			}
		}
	}
	if needSnapshot {
		if off, err = s.snapshot(ctx, conn, si, dec, em); err != nil {
			return err
		}
		if s.o.SnapshotMode == SnapshotInitialOnly {
			s.status.setState("finished")
			return nil
		}
	} else {
		if s.o.SnapshotMode == SnapshotInitialOnly {
			s.status.setState("finished")
			return nil
		}
		if off != nil && off.File != "" {
			if ok, err := s.positionAvailable(conn, off); err != nil {
				return err
			} else if !ok {
				return permanent("mysql source %s: the stored binlog position (%s:%d, GTIDs %q) was purged from the server: "+
					"the changes since then are lost. Use snapshot: when_needed to take a new snapshot, or `sluice offsets reset`",
					s.o.Name, off.File, off.Pos, off.GTIDs)
			}
		}
		if off == nil || off.File == "" {
			// No position yet (snapshot: never): start at the current end.
			pos, err := s.currentPosition(conn, si)
			if err != nil {
				return err
			}
			off = pos
		}
		fromHistory := false
		if off.Snapshot != "" || off.Rows > 0 || stored != nil {
			if fromHistory, err = s.loadHistory(ctx, dec); err != nil {
				return err
			}
		}
		if !fromHistory {
			// First start without a snapshot, or no history yet: the
			// current definitions, recorded for the next restart.
			if err := s.loadAll(conn, dec); err != nil {
				return err
			}
			if err := s.writeHistory(ctx, em, dec, off.File, off.Pos, off.GTIDs, ""); err != nil {
				return err
			}
		}
	}
	for {
		names := make([]string, 0)
		for _, t := range dec.Tables() {
			names = append(names, t.ID())
		}
		s.adhoc.SetCaptured(names)
		if len(off.AdHoc) > 0 {
			if off, err = s.adhocSnapshot(ctx, dec, *off, em); err != nil {
				return err
			}
		}
		err := s.stream(ctx, conn, si, dec, off, em)
		var stop *sources.AdHocStop[offsets.MySQL]
		if !errors.As(err, &stop) {
			return err
		}
		o := stop.Offset
		o.AdHoc = stop.Tables
		off = &o
	}
}
