package mysql

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	gomysql "github.com/go-mysql-org/go-mysql/mysql"

	"github.com/sluice-cdc/sluice/change"
	"github.com/sluice-cdc/sluice/offsets"
	"github.com/sluice-cdc/sluice/sources"
)

// snapshot reads every captured table inside one consistent-snapshot
// transaction whose binlog position is read under the shortest possible
// global read lock (or, with snapshot.locking.mode none on MariaDB, from
// the snapshot itself), so that streaming from that position continues
// exactly where the snapshot ends. Each chunk of rows is committed to Kafka
// with a "snapshot running" offset, the last one with "snapshot done".
func (s *Source) snapshot(ctx context.Context, conn *client.Conn, si serverInfo, dec *Decoder, em Emitter) (*offsets.MySQL, error) {
	started := time.Now()
	s.status.setState("snapshot")
	snap, err := s.connect()
	if err != nil {
		return nil, err
	}
	defer snap.Close()
	// Each table is one streaming SELECT in primary-key order, committed
	// to Kafka in chunks while the rows arrive; a slow Kafka commit must
	// not make the server drop the connection mid-result.
	for _, q := range []string{"SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ", "SET SESSION net_write_timeout = 3600"} {
		if _, err := snap.Execute(q); err != nil {
			return nil, fmt.Errorf("mysql source %s: snapshot: %s: %w", s.o.Name, q, err)
		}
	}
	var pos *offsets.MySQL
	switch s.o.SnapshotLockingMode {
	case "none":
		if si.flavor != gomysql.MariaDBFlavor {
			return nil, permanent("mysql source %s: snapshot.locking.mode none needs MariaDB (binlog_snapshot_file); use minimal", s.o.Name)
		}
		if _, err := snap.Execute("START TRANSACTION WITH CONSISTENT SNAPSHOT"); err != nil {
			return nil, fmt.Errorf("mysql source %s: start snapshot transaction: %w", s.o.Name, err)
		}
		r, err := snap.Execute("SHOW STATUS LIKE 'binlog_snapshot_%'")
		if err != nil {
			return nil, fmt.Errorf("mysql source %s: snapshot position: %w", s.o.Name, err)
		}
		pos = &offsets.MySQL{Flavor: si.flavor}
		for i := range r.RowNumber() {
			switch str(r, i, 0) {
			case "Binlog_snapshot_file":
				pos.File = str(r, i, 1)
			case "Binlog_snapshot_position":
				p, _ := strconv.ParseUint(str(r, i, 1), 10, 32)
				pos.Pos = uint32(p)
			}
		}
		r, err = snap.Execute("SELECT BINLOG_GTID_POS(?, ?)", pos.File, pos.Pos)
		if err != nil {
			return nil, fmt.Errorf("mysql source %s: snapshot GTID position: %w", s.o.Name, err)
		}
		pos.GTIDs = str(r, 0, 0)
		if err := s.loadAll(conn, dec); err != nil {
			return nil, err
		}
	default: // minimal
		if _, err := conn.Execute("FLUSH TABLES WITH READ LOCK"); err != nil {
			return nil, s.classify("snapshot: FLUSH TABLES WITH READ LOCK (needs the RELOAD privilege; or use snapshot.locking.mode none)", err)
		}
		unlock := func() { _, _ = conn.Execute("UNLOCK TABLES") }
		if _, err := snap.Execute("START TRANSACTION WITH CONSISTENT SNAPSHOT"); err != nil {
			unlock()
			return nil, fmt.Errorf("mysql source %s: start snapshot transaction: %w", s.o.Name, err)
		}
		pos, err = s.currentPosition(conn, si)
		if err == nil {
			err = s.loadAll(conn, dec)
		}
		unlock()
		if err != nil {
			return nil, err
		}
	}
	pos.Snapshot = offsets.SnapshotRunning
	if err := s.writeHistory(ctx, em, dec, pos.File, pos.Pos, pos.GTIDs, ""); err != nil {
		return nil, err
	}
	s.log.Info("snapshot started", "file", pos.File, "pos", pos.Pos, "gtids", pos.GTIDs, "lock_ms", time.Since(started).Milliseconds())

	tables := dec.Tables()
	sortTables(tables)
	sr := &snapshotReader{s: s, conn: snap, dec: dec, off: pos}
	sr.w = sources.StartSnapshot(ctx, em, func(n int) { s.status.addEvents(n, 0) })
	defer sr.w.Close()
	for i, t := range tables {
		if err := sr.readTable(ctx, t); err != nil {
			return nil, fmt.Errorf("mysql source %s: snapshot %s: %w", s.o.Name, t.ID(), err)
		}
		if i < len(tables)-1 {
			if err := sr.flush(ctx, false); err != nil {
				return nil, err
			}
		}
	}
	if _, err := snap.Execute("COMMIT"); err != nil {
		return nil, fmt.Errorf("mysql source %s: end snapshot transaction: %w", s.o.Name, err)
	}
	pos.Snapshot = offsets.SnapshotDone
	if err := sr.flush(ctx, true); err != nil {
		return nil, err
	}
	el := time.Since(started)
	s.log.Info("snapshot complete", "rows", sr.total, "seconds", el.Seconds(), "rows_per_second", int64(float64(sr.total)/max(el.Seconds(), 1e-9)))
	return pos, nil
}

func sortTables(ts []Table) {
	for a := 1; a < len(ts); a++ {
		for b := a; b > 0 && ts[b].ID() < ts[b-1].ID(); b-- {
			ts[b], ts[b-1] = ts[b-1], ts[b]
		}
	}
}

// adhocSnapshot reads the tables listed in off.AdHoc (a blocking ad-hoc
// snapshot) in a consistent-snapshot transaction of its own and emits them
// as op r events, decoded with the definitions valid at the streaming
// position. Its batches are committed with off, so that a restart takes
// the snapshot again before streaming on; the last one clears off.AdHoc.
func (s *Source) adhocSnapshot(ctx context.Context, dec *Decoder, off offsets.MySQL, em Emitter) (*offsets.MySQL, error) {
	s.status.setState("snapshot")
	s.log.Info("ad-hoc snapshot started", "tables", off.AdHoc)
	started := time.Now()
	// First the request itself, so that a crash takes the snapshot again.
	if err := em.Commit(ctx, off.Marshal()); err != nil {
		return nil, fmt.Errorf("mysql source %s: ad-hoc snapshot: %w", s.o.Name, err)
	}
	snap, err := s.connect()
	if err != nil {
		return nil, err
	}
	defer snap.Close()
	for _, q := range []string{"SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ", "SET SESSION net_write_timeout = 3600", "START TRANSACTION WITH CONSISTENT SNAPSHOT"} {
		if _, err := snap.Execute(q); err != nil {
			return nil, fmt.Errorf("mysql source %s: ad-hoc snapshot: %s: %w", s.o.Name, q, err)
		}
	}
	var tables []Table
	for _, name := range off.AdHoc {
		db, table, _ := strings.Cut(name, ".")
		t, ok := dec.Table(db, table)
		if !ok {
			s.log.Warn("ad-hoc snapshot: table no longer captured; skipped", "table", name)
			continue
		}
		tables = append(tables, t)
	}
	sr := &snapshotReader{s: s, conn: snap, dec: dec, off: &off}
	sr.w = sources.StartSnapshot(ctx, em, func(n int) { s.status.addEvents(n, 0) })
	defer sr.w.Close()
	for i, t := range tables {
		if err := sr.readTable(ctx, t); err != nil {
			return nil, fmt.Errorf("mysql source %s: ad-hoc snapshot %s: %w", s.o.Name, t.ID(), err)
		}
		if i < len(tables)-1 {
			if err := sr.flush(ctx, false); err != nil {
				return nil, err
			}
		}
	}
	if _, err := snap.Execute("COMMIT"); err != nil {
		return nil, fmt.Errorf("mysql source %s: end ad-hoc snapshot transaction: %w", s.o.Name, err)
	}
	off.AdHoc = nil
	if err := sr.flush(ctx, true); err != nil {
		return nil, err
	}
	s.log.Info("ad-hoc snapshot complete", "tables", len(tables), "rows", sr.total, "seconds", time.Since(started).Seconds())
	return &off, nil
}

type snapshotReader struct {
	s    *Source
	conn *client.Conn
	dec  *Decoder
	off  *offsets.MySQL

	// w emits and commits the events on a goroutine of its own.
	w     *sources.SnapshotWriter
	total int64
}

func (sr *snapshotReader) readTable(ctx context.Context, t Table) error {
	sr.s.status.startTable(t.ID())
	cols := make([]string, len(t.Columns))
	var keys []Column
	for i, c := range t.Columns {
		cols[i] = quoteIdent(c.Name)
		if c.Key {
			keys = append(keys, c)
		}
	}
	for a := 1; a < len(keys); a++ {
		for b := a; b > 0 && keys[b].KeySeq < keys[b-1].KeySeq; b-- {
			keys[b], keys[b-1] = keys[b-1], keys[b]
		}
	}
	q := "SELECT " + strings.Join(cols, ", ") + " FROM " + quoteIdent(t.DB) + "." + quoteIdent(t.Name)
	if len(keys) > 0 {
		ks := make([]string, len(keys))
		for i, k := range keys {
			ks[i] = quoteIdent(k.Name)
		}
		q += " ORDER BY " + strings.Join(ks, ", ")
	}
	src := change.Source{Snapshot: "true", File: sr.off.File, Pos: int64(sr.off.Pos), TsUs: time.Now().UnixMicro()}
	n := 0
	var res gomysql.Result
	err := sr.conn.ExecuteSelectStreaming(q, &res, func(row []gomysql.FieldValue) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		ev, err := sr.dec.ReadTextRow(t.DB, t.Name, row, src)
		if err != nil {
			return err
		}
		if err := sr.w.Hold(ctx, ev); err != nil {
			return err
		}
		n++
		sr.total++
		if n%1024 == 0 {
			sr.s.status.addRows(t.ID(), 1024)
		}
		if n%sr.s.o.SnapshotFetchSize == 0 {
			src.TsUs = time.Now().UnixMicro()
			return sr.flush(ctx, false)
		}
		return nil
	}, nil)
	sr.s.status.addRows(t.ID(), int64(n%1024))
	return err
}

// flush has the pending events emitted and committed with the current
// offset (in the background); with final, the held event too, marked
// snapshot=last, and it waits for the commit.
func (sr *snapshotReader) flush(ctx context.Context, final bool) error {
	if err := sr.w.Flush(ctx, final, sr.off.Marshal()); err != nil {
		return fmt.Errorf("mysql source %s: snapshot: %w", sr.s.o.Name, err)
	}
	return nil
}
