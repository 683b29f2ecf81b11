package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/sluice-cdc/sluice/change"
	"github.com/sluice-cdc/sluice/offsets"
	"github.com/sluice-cdc/sluice/sources"
)

// streamer runs the pgoutput replication loop of one connector.
type streamer struct {
	s    *Source
	conn *pgx.Conn // regular connection: catalog lookups, heartbeat query
	repl *pgx.Conn
	dec  *Decoder
	cat  *catalog
	em   Emitter

	// resume is the offset stored at start; changes at or before it were
	// already written and are skipped when the server replays them.
	resume *offsets.Postgres
	// off is the position of the last change handed to the emitter.
	off offsets.Postgres

	inTx     bool
	txCommit pglogrepl.LSN
	txIndex  int64 // change messages seen in the open transaction
	// pendingSchema holds schema-change events from relation messages; they
	// are emitted with the next change that is not skipped.
	pendingSchema []change.Event

	batchEvents int
	batchStart  time.Time
	pendingEnd  pglogrepl.LSN // end LSN of the last complete transaction in the open batch

	durable       pglogrepl.LSN // everything before it is in Kafka (or has no events)
	serverWALEnd  pglogrepl.LSN
	lastStatus    time.Time
	lastHeartbeat time.Time

	evs []change.Event
}

// stream starts replication after off and runs until ctx is done.
func (s *Source) stream(ctx context.Context, conn, repl *pgx.Conn, dec *Decoder, cat *catalog, off *offsets.Postgres, em Emitter) error {
	st := &streamer{s: s, conn: conn, repl: repl, dec: dec, cat: cat, em: em, resume: off}
	var start pglogrepl.LSN
	if off != nil {
		st.off = *off
		start = pglogrepl.LSN(max(off.EndLSN, off.SnapshotLSN))
		if off.EndLSN > 0 && off.Complete {
			dec.SetLastCommitLSN(pglogrepl.LSN(off.EndLSN))
		}
	}
	st.off.Slot = s.o.SlotName
	if st.off.Snapshot == "" && s.o.SnapshotMode != SnapshotNever {
		st.off.Snapshot = offsets.SnapshotDone
	}
	st.durable = start
	args := []string{"proto_version '1'", "publication_names '" + escapeLiteral(s.o.Publication) + "'"}
	if err := pglogrepl.StartReplication(ctx, repl.PgConn(), s.o.SlotName, start, pglogrepl.StartReplicationOptions{PluginArgs: args}); err != nil {
		return s.replicationError("start replication", err)
	}
	s.log.Info("streaming changes", "slot", s.o.SlotName, "start_lsn", start.String())
	s.status.setState("streaming")
	st.lastStatus = time.Now()
	st.lastHeartbeat = time.Now()
	err := st.loop(ctx)
	if ctx.Err() != nil && (err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err)) {
		return st.shutdown(ctx)
	}
	return err
}

func escapeLiteral(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' {
			out = append(out, '\'')
		}
		out = append(out, s[i])
	}
	return string(out)
}

// replicationError classifies errors of the replication connection: a slot
// that vanished cannot be fixed by a restart.
func (s *Source) replicationError(what string, err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42704" { // undefined_object: slot does not exist
		return permanent("postgres source %s: %s: replication slot %q was dropped: %w", s.o.Name, what, s.o.SlotName, err)
	}
	return fmt.Errorf("postgres source %s: %s: %w", s.o.Name, what, err)
}

func (st *streamer) loop(ctx context.Context) error {
	// The loop wakes up at nextDeadline through a read deadline on the
	// connection, set only when the wake-up moves earlier or has passed:
	// a context with a deadline per message (pgconn watches each on a
	// goroutine) cost 13% of the streamer's CPU.
	conn := st.repl.PgConn()
	var deadline time.Time
	defer func() { _ = conn.Conn().SetReadDeadline(time.Time{}) }()
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
		if d := st.nextDeadline(); deadline.IsZero() || d.Before(deadline) {
			if err := conn.Conn().SetReadDeadline(d); err != nil {
				return st.s.replicationError("receive", err)
			}
			deadline = d
		}
		msg, err := conn.ReceiveMessage(context.Background())
		if err != nil {
			if pgconn.Timeout(err) {
				deadline = time.Time{}
				continue
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return st.s.replicationError("receive", err)
		}
		switch m := msg.(type) {
		case *pgproto3.CopyData:
			if err := st.handleCopyData(ctx, m.Data); err != nil {
				return err
			}
		case *pgproto3.ErrorResponse:
			return st.s.replicationError("replication stream", pgconn.ErrorResponseToPgError(m))
		case *pgproto3.CopyDone:
			return fmt.Errorf("postgres source %s: the server ended the replication stream", st.s.o.Name)
		}
	}
}

// stopForSnapshot commits what is pending and acknowledges it, and stops
// streaming for an ad-hoc snapshot of tables.
func (st *streamer) stopForSnapshot(ctx context.Context, tables []string) error {
	if st.batchEvents > 0 {
		if err := st.commitBatch(ctx); err != nil {
			return err
		}
	}
	if err := st.sendStatus(ctx); err != nil {
		return err
	}
	st.s.log.Info("streaming paused for an ad-hoc snapshot", "tables", tables, "lsn", fmtLSN(max(st.off.EndLSN, st.off.SnapshotLSN)))
	return &sources.AdHocStop[offsets.Postgres]{Tables: tables, Offset: st.off}
}

// nextDeadline is when the loop must wake up even without server messages:
// to commit a waiting batch, report status or send a heartbeat. It is at
// most 250ms away so that a shutdown is noticed promptly.
func (st *streamer) nextDeadline() time.Time {
	now := time.Now()
	d := now.Add(250 * time.Millisecond)
	if st.batchEvents > 0 && !st.inTx {
		if t := st.batchStart.Add(st.s.o.MaxBatchWait); t.Before(d) {
			d = t
		}
	}
	return d
}

// tick does the time-driven work: committing a batch that waited long
// enough, heartbeats, and status reports to the server.
func (st *streamer) tick(ctx context.Context) error {
	now := time.Now()
	if st.batchEvents > 0 && !st.inTx && now.Sub(st.batchStart) >= st.s.o.MaxBatchWait {
		if err := st.commitBatch(ctx); err != nil {
			return err
		}
	}
	if hb := st.s.o.HeartbeatInterval; hb > 0 && !st.inTx && now.Sub(st.lastHeartbeat) >= hb {
		if err := st.heartbeat(ctx); err != nil {
			return err
		}
	}
	if now.Sub(st.lastStatus) >= st.s.o.StatusInterval {
		return st.sendStatus(ctx)
	}
	return nil
}

func (st *streamer) handleCopyData(ctx context.Context, data []byte) error {
	if len(data) == 0 {
		return nil
	}
	switch data[0] {
	case pglogrepl.PrimaryKeepaliveMessageByteID:
		ka, err := pglogrepl.ParsePrimaryKeepaliveMessage(data[1:])
		if err != nil {
			return fmt.Errorf("postgres source %s: parse keepalive: %w", st.s.o.Name, err)
		}
		if ka.ServerWALEnd > st.serverWALEnd {
			st.serverWALEnd = ka.ServerWALEnd
		}
		if ka.ReplyRequested {
			return st.sendStatus(ctx)
		}
	case pglogrepl.XLogDataByteID:
		xld, err := pglogrepl.ParseXLogData(data[1:])
		if err != nil {
			return fmt.Errorf("postgres source %s: parse xlogdata: %w", st.s.o.Name, err)
		}
		return st.handleWAL(ctx, xld)
	}
	return nil
}

func (st *streamer) handleWAL(ctx context.Context, xld pglogrepl.XLogData) error {
	msg, err := ParseMessage(xld.WALData)
	if err != nil {
		return fmt.Errorf("postgres source %s: parse pgoutput message at %s: %w", st.s.o.Name, xld.WALStart, err)
	}
	lsn := xld.WALStart
	switch m := msg.(type) {
	case *pglogrepl.BeginMessage:
		st.inTx = true
		st.txCommit = m.FinalLSN
		st.txIndex = 0
		st.dec.Begin(m)
		st.s.status.setSourceTime(m.CommitTime)
	case *pglogrepl.CommitMessage:
		return st.commitTx(ctx, m)
	case *pglogrepl.RelationMessage:
		return st.relation(ctx, m)
	case *pglogrepl.InsertMessage:
		return st.change(ctx, func() ([]change.Event, error) { return st.dec.Insert(m, lsn) })
	case *pglogrepl.UpdateMessage:
		return st.change(ctx, func() ([]change.Event, error) { return st.dec.Update(m, lsn) })
	case *pglogrepl.DeleteMessage:
		return st.change(ctx, func() ([]change.Event, error) { return st.dec.Delete(m, lsn) })
	case *pglogrepl.TruncateMessage:
		return st.change(ctx, func() ([]change.Event, error) { return st.dec.Truncate(m, lsn) })
	}
	// Type and origin messages need no action: types are resolved from the
	// catalog, origins are not filtered.
	return nil
}

// relation registers a (possibly changed) table definition. A changed
// definition yields a schema-change event, emitted before the next change.
func (st *streamer) relation(ctx context.Context, m *pglogrepl.RelationMessage) error {
	cat, err := st.cat.Table(ctx, m.RelationID)
	if err != nil {
		// The table may have been dropped since; the relation message
		// alone still describes the rows that follow.
		st.s.log.Warn("catalog lookup failed; using the relation message only", "relation", m.Namespace+"."+m.RelationName, "err", err)
		cat = nil
	}
	t := TableFromRelation(m, cat)
	ev, err := st.dec.SetTable(t)
	if err != nil {
		return fmt.Errorf("postgres source %s: relation %s.%s: %w", st.s.o.Name, m.Namespace, m.RelationName, err)
	}
	if ev != nil {
		st.pendingSchema = append(st.pendingSchema, *ev)
	}
	return nil
}

// change decodes and emits one change message, unless it was written
// before the restart.
func (st *streamer) change(ctx context.Context, decode func() ([]change.Event, error)) error {
	st.txIndex++
	if st.resume.Skip(uint64(st.txCommit), st.txIndex) {
		st.pendingSchema = st.pendingSchema[:0]
		return nil
	}
	evs, err := decode()
	if err != nil {
		return fmt.Errorf("postgres source %s: decode change in transaction %s: %w", st.s.o.Name, st.txCommit, err)
	}
	if len(st.pendingSchema) > 0 {
		evs = append(st.pendingSchema, evs...)
		st.pendingSchema = st.pendingSchema[:0:0]
	}
	if len(evs) == 0 {
		return nil
	}
	if st.batchEvents == 0 {
		st.batchStart = time.Now()
	}
	if err := st.em.Emit(ctx, evs); err != nil {
		return err
	}
	st.batchEvents += len(evs)
	st.s.status.addEvents(len(evs))
	st.off.CommitLSN = uint64(st.txCommit)
	st.off.Events = st.txIndex
	st.off.Complete = false
	// A very large transaction is split over several Kafka transactions;
	// the offset records how far into it we got.
	if st.batchEvents >= 8*st.s.o.MaxBatchSize {
		return st.commitBatch(ctx)
	}
	return nil
}

func (st *streamer) commitTx(ctx context.Context, m *pglogrepl.CommitMessage) error {
	st.dec.Commit(m)
	st.inTx = false
	st.pendingSchema = st.pendingSchema[:0]
	if st.off.CommitLSN == uint64(m.CommitLSN) || !st.resume.Skip(uint64(m.CommitLSN), st.txIndex+1) {
		st.off.CommitLSN = uint64(m.CommitLSN)
		st.off.Events = st.txIndex
		st.off.Complete = true
		st.off.EndLSN = uint64(m.TransactionEndLSN)
		st.off.TsUs = m.CommitTime.UnixMicro()
	}
	if st.batchEvents == 0 {
		// Nothing of this transaction is waiting for Kafka.
		if m.TransactionEndLSN > st.durable {
			st.durable = m.TransactionEndLSN
		}
		return nil
	}
	st.pendingEnd = m.TransactionEndLSN
	if st.batchEvents >= st.s.o.MaxBatchSize || time.Since(st.batchStart) >= st.s.o.MaxBatchWait {
		return st.commitBatch(ctx)
	}
	return nil
}

// commitBatch commits the open Kafka transaction with the current offset.
func (st *streamer) commitBatch(ctx context.Context) error {
	if err := st.em.Commit(ctx, st.off.Marshal()); err != nil {
		return fmt.Errorf("postgres source %s: %w", st.s.o.Name, err)
	}
	st.batchEvents = 0
	if !st.inTx && st.pendingEnd > st.durable {
		st.durable = st.pendingEnd
	}
	st.s.status.setPosition(st.off.CommitLSN)
	if time.Since(st.lastStatus) >= time.Second {
		return st.sendStatus(ctx)
	}
	return nil
}

// heartbeat writes a heartbeat record and, when the captured tables are
// idle, moves the stored position to the server's WAL end so that the slot
// does not hold WAL back.
func (st *streamer) heartbeat(ctx context.Context) error {
	st.lastHeartbeat = time.Now()
	if q := st.s.o.HeartbeatQuery; q != "" {
		if _, err := st.conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("postgres source %s: heartbeat.action.query: %w", st.s.o.Name, err)
		}
	}
	if st.batchEvents == 0 && st.serverWALEnd > pglogrepl.LSN(st.off.EndLSN) {
		st.off.EndLSN = uint64(st.serverWALEnd)
		st.pendingEnd = st.serverWALEnd
	}
	if err := st.em.Heartbeat(ctx, st.s.o.Decoder.TopicPrefix, time.Now().UnixMilli()); err != nil {
		return fmt.Errorf("postgres source %s: heartbeat: %w", st.s.o.Name, err)
	}
	st.batchEvents++ // the heartbeat record itself
	if st.batchEvents == 1 {
		st.batchStart = time.Now()
	}
	return st.commitBatch(ctx)
}

// sendStatus reports the durable position to the server; the slot's
// confirmed_flush_lsn moves to it. When nothing is pending, the position of
// the last keepalive is safe too: every change before it has been received
// and had no events waiting.
func (st *streamer) sendStatus(ctx context.Context) error {
	pos := st.durable
	if !st.inTx && st.batchEvents == 0 && st.serverWALEnd > pos {
		pos = st.serverWALEnd
		st.durable = pos
	}
	err := pglogrepl.SendStandbyStatusUpdate(ctx, st.repl.PgConn(), pglogrepl.StandbyStatusUpdate{
		WALWritePosition: pos, WALFlushPosition: pos, WALApplyPosition: pos, ClientTime: time.Now(),
	})
	if err != nil {
		return st.s.replicationError("send status", err)
	}
	st.lastStatus = time.Now()
	st.s.status.setConfirmed(uint64(pos))
	return nil
}

// shutdown commits what was handed to the emitter and acknowledges it, with
// a bounded context of its own since ctx is already done.
func (st *streamer) shutdown(ctx context.Context) error {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if st.batchEvents > 0 {
		if err := st.commitBatch(sctx); err != nil {
			return err
		}
	}
	if err := st.sendStatus(sctx); err != nil {
		return err
	}
	st.s.log.Info("replication stopped", "confirmed_lsn", st.durable.String())
	return nil
}
