package mysql

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/sluice-cdc/sluice/change"
	"github.com/sluice-cdc/sluice/offsets"
	"github.com/sluice-cdc/sluice/sources"
)

// streamer runs the binlog loop of one connector.
type streamer struct {
	s    *Source
	conn *client.Conn // regular connection: catalog lookups, heartbeat query
	si   serverInfo
	dec  *Decoder
	em   Emitter

	// resumeRows is how many row changes of the first transaction were
	// already written before the restart; they are skipped.
	resumeRows int64
	first      bool // the first transaction since the start is open/pending

	file string
	// gset is the GTIDs of the transactions committed so far: before the
	// open transaction, so it is the GTID part of off both between and
	// within transactions. Formatting it costs more than decoding a small
	// transaction's rows, so it is formatted only when off is written
	// (syncGTIDs), not per transaction.
	gset      gomysql.GTIDSet
	gsetStale bool // gset changed since off.GTIDs was formatted

	// the open transaction
	inTx   bool
	begun  bool // a BEGIN (or a non-standalone MariaDB GTID) opened it
	txFile string
	txPos  uint32
	txGTID string
	// txMariaGTID is txGTID of a MariaDB transaction (txMaria), added to
	// gset as is at the commit: parsing txGTID back cost more than a row.
	txMariaGTID gomysql.MariadbGTID
	txMaria     bool
	txRows      int64
	thread      int64
	query       string // statement of the following rows events (IncludeQuery)

	off offsets.MySQL // position of the last change handed to the emitter

	batchEvents   int
	batchStart    time.Time
	now           time.Time // when the events being handled were taken
	lastEvent     time.Time // when the stream last delivered an event
	deadAfter     time.Duration
	lastHeartbeat time.Time
	dirty         bool // off moved without a commit
	broken        bool // an Emit or Commit failed: the open batch must not be committed

	evs      []change.Event
	charsets map[string]string // database default character sets
}

func (s *Source) stream(ctx context.Context, conn *client.Conn, si serverInfo, dec *Decoder, off *offsets.MySQL, em Emitter) error {
	st := &streamer{s: s, conn: conn, si: si, dec: dec, em: em, off: *off, file: off.File, resumeRows: off.Rows, first: true,
		deadAfter: deadStream}
	if st.off.Snapshot == "" && s.o.SnapshotMode != SnapshotNever {
		st.off.Snapshot = offsets.SnapshotDone
	}
	st.off.Flavor = si.flavor
	st.off.ServerID = s.o.ServerID
	if off.GTIDs != "" || si.gtid {
		g, err := gomysql.ParseGTIDSet(si.flavor, off.GTIDs)
		if err != nil {
			return permanent("mysql source %s: stored GTID set %q: %w", s.o.Name, off.GTIDs, err)
		}
		st.gset = g
	}
	q := newEventQueue(queueMaxEvents, queueMaxBytes)
	cfg := replication.BinlogSyncerConfig{
		ServerID:                s.o.ServerID,
		Flavor:                  si.flavor,
		Host:                    s.ci.Host,
		Port:                    s.ci.Port,
		User:                    s.ci.User,
		Password:                s.ci.Password,
		TimestampStringLocation: time.UTC,
		// DATETIME and TIMESTAMP values as time.Time: formatting them as
		// text (fmt.Sprintf) to parse them again cost 8% of the decoding.
		ParseTime:        true,
		DisableRetrySync: true,
		// The streamer keeps its own GTID set (gset); go-mysql's copy of
		// it on every commit event went unused.
		DiscardGTIDSet:  true,
		HeartbeatPeriod: heartbeatPeriod,
		// Events read ahead of the decoder go through a queue bounded by
		// bytes (see eventQueue), not go-mysql's channel.
		SynchronousEventHandler: q,
		Logger:                  slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if s.o.IncludeQuery && si.flavor == gomysql.MariaDBFlavor {
		// MariaDB sends ANNOTATE_ROWS events only when asked to.
		cfg.DumpCommandFlag |= replication.BINLOG_SEND_ANNOTATE_ROWS_EVENT
	}
	if err := st.checkServerID(); err != nil {
		return err
	}
	syncer := replication.NewBinlogSyncer(cfg)
	defer syncer.Close()
	defer q.close() // before syncer.Close: a reader waiting for room gives up
	var bs *replication.BinlogStreamer
	var err error
	if si.gtid && st.gset != nil {
		bs, err = syncer.StartSyncGTID(st.gset)
	} else {
		bs, err = syncer.StartSync(gomysql.Position{Name: off.File, Pos: off.Pos})
	}
	if err != nil {
		return s.classify("start binlog sync", err)
	}
	s.status.setState("streaming")
	s.status.setPosition(off.File, off.Pos, off.GTIDs)
	s.log.Info("streaming changes", "file", off.File, "pos", off.Pos, "gtids", off.GTIDs, "skip_rows", off.Rows)
	st.lastHeartbeat = time.Now()
	st.lastEvent = st.lastHeartbeat
	// With a synchronous handler, the streamer's channel carries only the
	// reader's error (the connection lost, the server's refusal).
	ectx, stopErrs := context.WithCancel(ctx)
	defer stopErrs()
	go func() {
		if _, err := bs.GetEvent(ectx); ectx.Err() == nil {
			q.fail(err)
		}
	}()
	err = st.loop(ctx, q)
	if ctx.Err() != nil && (err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return st.shutdown(ctx)
	}
	return err
}

func (st *streamer) loop(ctx context.Context, q *eventQueue) error {
	var evs []*replication.BinlogEvent
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := st.tick(ctx); err != nil {
			return err
		}
		if !st.inTx {
			if tables, ok := st.s.adhoc.Next(); ok {
				return st.stopForSnapshot(ctx, tables)
			}
		}
		// Take every event read ahead at once.
		var err error
		evs, err = q.take(evs)
		st.now = time.Now()
		if len(evs) == 0 {
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return st.binlogError(err)
			}
			idle := st.now.Sub(st.lastEvent)
			switch {
			case idle > st.deadAfter:
				return fmt.Errorf("mysql source %s: binlog stream: no event (not even a heartbeat) for %s: %w",
					st.s.o.Name, idle.Round(time.Second), errDeadStream)
			case idle < busyWindow:
				// The stream is busy: let the reader queue events for a
				// moment rather than be woken for each one (the two
				// goroutines then take turns on the CPU instead of
				// running side by side, and each hand-over costs a
				// wake-up).
				time.Sleep(busyPause)
			default:
				q.wait(ctx, st.wait())
			}
			continue
		}
		st.lastEvent = st.now
		for _, ev := range evs {
			if err := st.handle(ctx, ev); err != nil {
				return err
			}
		}
	}
}

// mariaGTIDString is MariadbGTID.String without fmt (once per
// transaction, it cost 4% of streaming small transactions).
func mariaGTIDString(g *gomysql.MariadbGTID) string {
	if g.DomainID == 0 && g.ServerID == 0 && g.SequenceNumber == 0 {
		return ""
	}
	var b [64]byte
	out := strconv.AppendUint(b[:0], uint64(g.DomainID), 10)
	out = append(out, '-')
	out = strconv.AppendUint(out, uint64(g.ServerID), 10)
	out = append(out, '-')
	out = strconv.AppendUint(out, g.SequenceNumber, 10)
	return string(out)
}

// While events arrived within busyWindow, the loop takes them in batches,
// busyPause apart, rather than one wake-up per event: a busy stream gains
// at most about a millisecond of latency (timers wake no sooner).
const (
	busyWindow = 5 * time.Millisecond
	busyPause  = 500 * time.Microsecond
)

// heartbeatPeriod is how often the server sends a heartbeat event on an
// idle binlog stream; deadStream is how long a stream may stay silent
// before the connection is taken for dead and the source restarts. The
// reader sets no deadline per packet (that cost as much as decoding).
const (
	heartbeatPeriod = 10 * time.Second
	deadStream      = 6 * heartbeatPeriod
)

// errDeadStream is a binlog connection that stopped delivering.
var errDeadStream = errors.New("connection presumed dead")

// stopForSnapshot commits what is pending and stops streaming for an
// ad-hoc snapshot of tables.
func (st *streamer) stopForSnapshot(ctx context.Context, tables []string) error {
	if st.batchEvents > 0 || st.dirty {
		if err := st.commitBatch(ctx); err != nil {
			return err
		}
	}
	st.syncGTIDs()
	st.s.log.Info("streaming paused for an ad-hoc snapshot", "tables", tables, "file", st.off.File, "pos", st.off.Pos)
	return &sources.AdHocStop[offsets.MySQL]{Tables: tables, Offset: st.off}
}

func (st *streamer) binlogError(err error) error {
	var me *gomysql.MyError
	if errors.As(err, &me) && me.Code == gomysql.ER_MASTER_FATAL_ERROR_READING_BINLOG {
		msg := me.Message
		if strings.Contains(msg, "server_id") || strings.Contains(msg, "server-id") || strings.Contains(strings.ToLower(msg), "same server") {
			return fmt.Errorf("mysql source %s: binlog stream: another replica uses server_id %d: %w", st.s.o.Name, st.s.o.ServerID, err)
		}
		return permanent("mysql source %s: binlog stream: the server cannot send the stored position (purged binlog?): %w", st.s.o.Name, err)
	}
	return st.s.classify("binlog stream", err)
}

func (st *streamer) wait() time.Duration {
	d := 250 * time.Millisecond
	if st.batchEvents > 0 && !st.inTx {
		if w := time.Until(st.batchStart.Add(st.s.o.MaxBatchWait)); w < d {
			d = max(w, time.Millisecond)
		}
	}
	return d
}

func (st *streamer) tick(ctx context.Context) error {
	now := time.Now()
	if st.batchEvents > 0 && !st.inTx && now.Sub(st.batchStart) >= st.s.o.MaxBatchWait {
		if err := st.commitBatch(ctx); err != nil {
			return err
		}
	}
	if hb := st.s.o.HeartbeatInterval; hb > 0 && !st.inTx && now.Sub(st.lastHeartbeat) >= hb {
		return st.heartbeat(ctx)
	}
	return nil
}

func (st *streamer) handle(ctx context.Context, ev *replication.BinlogEvent) error {
	h := ev.Header
	switch e := ev.Event.(type) {
	case *replication.RotateEvent:
		st.file = string(e.NextLogName)
		if h.LogPos != 0 && !st.inTx && st.off.Rows == 0 {
			// A real rotation between transactions: the restart point
			// moves to the new file.
			st.off.File, st.off.Pos = st.file, uint32(e.Position)
			st.dirty = true
		}
	case *replication.MariadbGTIDEvent:
		st.beginTx(h, mariaGTIDString(&e.GTID))
		st.txMariaGTID, st.txMaria = e.GTID, true
		st.begun = !e.IsStandalone()
	case *replication.GTIDEvent:
		next, err := e.GTIDNext()
		if err != nil {
			return fmt.Errorf("mysql source %s: GTID event: %w", st.s.o.Name, err)
		}
		st.beginTx(h, next.String())
	case *replication.QueryEvent:
		q := strings.TrimSpace(string(e.Query))
		st.thread = int64(e.SlaveProxyID)
		switch strings.ToUpper(q) {
		case "BEGIN":
			if !st.inTx {
				st.beginTx(h, "")
			}
			st.begun = true
			return nil
		case "COMMIT", "ROLLBACK":
			// A ROLLBACK in the binlog ends a transaction whose changes to
			// non-transactional tables stay applied (and were logged).
			return st.commitTx(ctx, h)
		}
		if !st.inTx {
			st.beginTx(h, "")
		}
		if err := st.ddl(ctx, h, string(e.Schema), q); err != nil {
			return err
		}
		if !st.begun {
			return st.commitTx(ctx, h)
		}
	case *replication.XIDEvent:
		return st.commitTx(ctx, h)
	case *replication.RowsQueryEvent: // MySQL, binlog_rows_query_log_events
		if st.s.o.IncludeQuery {
			st.query = string(e.Query)
		}
	case *replication.MariadbAnnotateRowsEvent: // MariaDB, binlog_annotate_row_events
		if st.s.o.IncludeQuery {
			st.query = string(e.Query)
		}
	case *replication.RowsEvent:
		return st.rows(ctx, h, e)
	}
	return nil
}

func (st *streamer) beginTx(h *replication.EventHeader, gtid string) {
	st.inTx, st.begun = true, false
	st.txFile = st.file
	st.txPos = h.LogPos - h.EventSize
	st.txGTID = gtid
	st.txMaria = false
	st.txRows = 0
	id := gtid
	if id == "" {
		id = st.txFile + ":" + strconv.FormatUint(uint64(st.txPos), 10)
	}
	st.dec.BeginTx(id)
	st.thread = 0
	st.query = ""
}

// syncGTIDs brings off.GTIDs up to date with gset.
func (st *streamer) syncGTIDs() {
	if st.gset != nil && st.gsetStale {
		st.off.GTIDs = st.gset.String()
		st.gsetStale = false
	}
}

func rowKind(t replication.EventType) (Kind, bool) {
	switch t {
	case replication.WRITE_ROWS_EVENTv0, replication.WRITE_ROWS_EVENTv1, replication.WRITE_ROWS_EVENTv2, replication.MARIADB_WRITE_ROWS_COMPRESSED_EVENT_V1:
		return Insert, true
	case replication.UPDATE_ROWS_EVENTv0, replication.UPDATE_ROWS_EVENTv1, replication.UPDATE_ROWS_EVENTv2, replication.MARIADB_UPDATE_ROWS_COMPRESSED_EVENT_V1, replication.PARTIAL_UPDATE_ROWS_EVENT:
		return Update, true
	case replication.DELETE_ROWS_EVENTv0, replication.DELETE_ROWS_EVENTv1, replication.DELETE_ROWS_EVENTv2, replication.MARIADB_DELETE_ROWS_COMPRESSED_EVENT_V1:
		return Delete, true
	}
	return 0, false
}

// rows handles one rows event: every row change counts towards the
// transaction's row index (captured or not, so that skipping is stable).
func (st *streamer) rows(ctx context.Context, h *replication.EventHeader, e *replication.RowsEvent) error {
	kind, ok := rowKind(h.EventType)
	if !ok || e.Table == nil {
		return nil
	}
	db, table := string(e.Table.Schema), string(e.Table.Table)
	captured := st.s.captured(db, table)
	if captured {
		if _, known := st.dec.Table(db, table); !known {
			// Created after the start without a DDL we saw: load it.
			t, ok, err := loadTable(st.conn, db, table)
			if err != nil {
				return fmt.Errorf("mysql source %s: %w", st.s.o.Name, err)
			}
			if !ok {
				return fmt.Errorf("mysql source %s: rows for %s.%s, which does not exist", st.s.o.Name, db, table)
			}
			if err := st.dec.SetTable(t); err != nil {
				return permanent("mysql source %s: %w", st.s.o.Name, err)
			}
		}
	}
	step := 1
	if kind == Update {
		step = 2
	}
	src := change.Source{
		File:     st.file,
		Pos:      int64(h.LogPos - h.EventSize),
		GTID:     st.txGTID,
		ServerID: int64(h.ServerID),
		Thread:   st.thread,
		Query:    st.query,
		TsUs:     int64(h.Timestamp) * 1_000_000,
	}
	st.evs = st.evs[:0]
	row := int32(0)
	for i := 0; i+step <= len(e.Rows); i += step {
		st.txRows++
		src.Row = row
		row++
		if !captured {
			continue
		}
		skip := st.first && st.txRows <= st.resumeRows
		if skip && !st.s.o.Decoder.TransactionMetadata {
			continue
		}
		var before, after []any
		switch kind {
		case Insert:
			after = e.Rows[i]
		case Delete:
			before = e.Rows[i]
		case Update:
			before, after = e.Rows[i], e.Rows[i+1]
		}
		n := len(st.evs)
		var err error
		st.evs, err = st.dec.AppendRow(st.evs, db, table, kind, before, after, src)
		if err != nil {
			return fmt.Errorf("mysql source %s: decode row at %s:%d: %w", st.s.o.Name, st.file, src.Pos, err)
		}
		if skip {
			// Decoded only to keep the transaction blocks' counters.
			st.evs = st.evs[:n]
		}
	}
	if len(st.evs) == 0 {
		return nil
	}
	return st.emit(ctx, st.evs)
}

func (st *streamer) emit(ctx context.Context, evs []change.Event) error {
	if st.batchEvents == 0 {
		st.batchStart = st.now
	}
	// Emit and Commit run to completion even when ctx is cancelled
	// meanwhile: a half-written batch must not be committed at shutdown
	// with an offset that does not cover it. Cancellation is noticed
	// between binlog events.
	if err := st.em.Emit(context.WithoutCancel(ctx), evs); err != nil {
		st.broken = true
		return err
	}
	st.batchEvents += len(evs)
	st.s.status.addEvents(len(evs), evs[len(evs)-1].Source.TsUs)
	// The GTID part is gset, which does not yet hold this transaction.
	st.off.File, st.off.Pos, st.off.Rows = st.txFile, st.txPos, st.txRows
	if st.off.File == "" {
		st.off.File = st.file
	}
	st.off.TsMs = evs[len(evs)-1].Source.TsUs / 1000
	if st.batchEvents >= 8*st.s.o.MaxBatchSize {
		return st.commitBatch(ctx)
	}
	return nil
}

func (st *streamer) commitTx(ctx context.Context, h *replication.EventHeader) error {
	st.inTx, st.begun = false, false
	st.query = ""
	if ms, ok := st.gset.(*gomysql.MariadbGTIDSet); ok && st.txMaria {
		if err := ms.AddSet(&st.txMariaGTID); err != nil {
			return fmt.Errorf("mysql source %s: GTID %s: %w", st.s.o.Name, st.txGTID, err)
		}
		st.gsetStale = true
	} else if st.gset != nil && st.txGTID != "" {
		if err := st.gset.Update(st.txGTID); err != nil {
			return fmt.Errorf("mysql source %s: GTID %s: %w", st.s.o.Name, st.txGTID, err)
		}
		st.gsetStale = true
	}
	st.first = false
	st.resumeRows = 0
	// The restart point moves past this transaction.
	st.off.File, st.off.Pos, st.off.Rows = st.file, h.LogPos, 0
	st.dirty = true
	if st.batchEvents > 0 && (st.batchEvents >= st.s.o.MaxBatchSize || st.now.Sub(st.batchStart) >= st.s.o.MaxBatchWait) {
		return st.commitBatch(ctx)
	}
	return nil
}

func (st *streamer) commitBatch(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	st.syncGTIDs()
	if err := st.em.Commit(cctx, st.off.Marshal()); err != nil {
		st.broken = true
		return fmt.Errorf("mysql source %s: %w", st.s.o.Name, err)
	}
	st.batchEvents = 0
	st.dirty = false
	st.s.status.setPosition(st.off.File, st.off.Pos, st.off.GTIDs)
	return nil
}

// heartbeat writes a heartbeat record and, between transactions, the
// current position, so that a restart does not reread idle binlog.
func (st *streamer) heartbeat(ctx context.Context) error {
	st.lastHeartbeat = time.Now()
	if q := st.s.o.HeartbeatQuery; q != "" {
		if _, err := st.conn.Execute(q); err != nil {
			return fmt.Errorf("mysql source %s: heartbeat.action.query: %w", st.s.o.Name, err)
		}
	}
	if err := st.em.Heartbeat(ctx, st.s.o.Decoder.TopicPrefix, time.Now().UnixMilli()); err != nil {
		return fmt.Errorf("mysql source %s: heartbeat: %w", st.s.o.Name, err)
	}
	if st.batchEvents == 0 {
		st.batchStart = time.Now()
	}
	st.batchEvents++
	return st.commitBatch(ctx)
}

func (st *streamer) shutdown(ctx context.Context) error {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if !st.broken && (st.batchEvents > 0 || st.dirty) {
		if err := st.commitBatch(sctx); err != nil {
			return err
		}
	}
	st.syncGTIDs()
	st.s.log.Info("binlog streaming stopped", "file", st.off.File, "pos", st.off.Pos, "gtids", st.off.GTIDs)
	return nil
}

// checkServerID fails (to be retried) while another replica is registered
// with the connector's server_id: two replicas with one id make the server
// drop one of the binlog connections, which then take turns. After a crash
// of this connector its own old registration can linger until the server
// notices; the retry outlasts it.
func (st *streamer) checkServerID() error {
	r, err := st.conn.Execute("SHOW SLAVE HOSTS")
	if err != nil {
		if r, err = st.conn.Execute("SHOW REPLICAS"); err != nil { // MySQL 8.4
			return nil // not allowed to look: nothing to check
		}
	}
	for i := range r.RowNumber() {
		if str(r, i, 0) == strconv.FormatUint(uint64(st.s.o.ServerID), 10) {
			return fmt.Errorf("mysql source %s: another replica (host %q) is registered with server_id %d; give every connector and replica a unique server_id",
				st.s.o.Name, str(r, i, 1), st.s.o.ServerID)
		}
	}
	return nil
}
