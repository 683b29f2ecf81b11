package postgres

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"

	"github.com/sluice-cdc/sluice/change"
	"github.com/sluice-cdc/sluice/offsets"
	"github.com/sluice-cdc/sluice/sources"
)

func lsnString(l uint64) string { return pglogrepl.LSN(l).String() }

// snapshot creates the replication slot with an exported snapshot and reads
// every captured table inside that snapshot, so that streaming from the
// slot's consistent point continues exactly where the snapshot ends. Each
// chunk of rows is committed to Kafka with a "snapshot running" offset; the
// last one with "snapshot done" and the consistent point.
func (s *Source) snapshot(ctx context.Context, conn, repl *pgx.Conn, dec *Decoder, cat *catalog, tables []tableRef, em Emitter) (*offsets.Postgres, error) {
	s.status.setState("snapshot")
	cp, snapName, err := createSlotExport(ctx, repl, s.o.SlotName, true)
	if err != nil {
		return nil, fmt.Errorf("postgres source %s: %w", s.o.Name, err)
	}
	s.log.Info("snapshot started", "slot", s.o.SlotName, "consistent_point", cp.String(), "tables", len(tables))
	started := time.Now()

	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("postgres source %s: begin snapshot transaction: %w", s.o.Name, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // no-op after commit
	if _, err := tx.Exec(ctx, "SET TRANSACTION SNAPSHOT '"+escapeLiteral(snapName)+"'"); err != nil {
		return nil, fmt.Errorf("postgres source %s: import snapshot %s: %w", s.o.Name, snapName, err)
	}
	var xmin int64
	if err := tx.QueryRow(ctx, "SELECT txid_snapshot_xmin(txid_current_snapshot())").Scan(&xmin); err != nil {
		return nil, fmt.Errorf("postgres source %s: snapshot xmin: %w", s.o.Name, err)
	}

	off := &offsets.Postgres{Slot: s.o.SlotName, Snapshot: offsets.SnapshotRunning, SnapshotLSN: uint64(cp)}
	sr := &snapshotReader{s: s, tx: tx, dec: dec, off: off, lsn: cp, xmin: xmin}
	sr.w = sources.StartSnapshot(ctx, em, s.status.addEvents)
	defer sr.w.Close()
	for i, t := range tables {
		def, err := cat.Table(ctx, t.OID)
		if err != nil {
			return nil, fmt.Errorf("postgres source %s: snapshot %s: %w", s.o.Name, t, err)
		}
		if _, err := dec.SetTable(*def); err != nil {
			return nil, fmt.Errorf("postgres source %s: snapshot %s: %w", s.o.Name, t, err)
		}
		if err := sr.readTable(ctx, def, i == len(tables)-1); err != nil {
			return nil, fmt.Errorf("postgres source %s: snapshot %s: %w", s.o.Name, t, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("postgres source %s: end snapshot transaction: %w", s.o.Name, err)
	}
	off.Snapshot = offsets.SnapshotDone
	off.EndLSN = uint64(cp)
	if err := sr.flush(ctx, true); err != nil {
		return nil, err
	}
	el := time.Since(started)
	s.log.Info("snapshot complete", "rows", sr.total, "seconds", el.Seconds(), "rows_per_second", int64(float64(sr.total)/max(el.Seconds(), 1e-9)))
	return off, nil
}

// adhocSnapshot reads the tables listed in off.AdHoc (a blocking ad-hoc
// snapshot) in a repeatable-read transaction of its own and emits them as
// op r events. Its batches are committed with off, so that a restart takes
// the snapshot again before streaming on; the last one clears off.AdHoc.
func (s *Source) adhocSnapshot(ctx context.Context, conn *pgx.Conn, dec *Decoder, cat *catalog, captured []tableRef, off offsets.Postgres, em Emitter) (*offsets.Postgres, error) {
	s.status.setState("snapshot")
	s.log.Info("ad-hoc snapshot started", "tables", off.AdHoc)
	started := time.Now()
	// First the request itself, so that a crash takes the snapshot again.
	if err := em.Commit(ctx, off.Marshal()); err != nil {
		return nil, fmt.Errorf("postgres source %s: ad-hoc snapshot: %w", s.o.Name, err)
	}
	var tables []tableRef
	for _, name := range off.AdHoc {
		i := slices.IndexFunc(captured, func(t tableRef) bool { return t.String() == name })
		if i < 0 {
			s.log.Warn("ad-hoc snapshot: table no longer captured; skipped", "table", name)
			continue
		}
		tables = append(tables, captured[i])
	}
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("postgres source %s: begin ad-hoc snapshot transaction: %w", s.o.Name, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // no-op after commit
	var xmin int64
	if err := tx.QueryRow(ctx, "SELECT txid_snapshot_xmin(txid_current_snapshot())").Scan(&xmin); err != nil {
		return nil, fmt.Errorf("postgres source %s: ad-hoc snapshot xmin: %w", s.o.Name, err)
	}
	sr := &snapshotReader{s: s, tx: tx, dec: dec, off: &off, lsn: pglogrepl.LSN(max(off.EndLSN, off.SnapshotLSN)), xmin: xmin}
	sr.w = sources.StartSnapshot(ctx, em, s.status.addEvents)
	defer sr.w.Close()
	for i, t := range tables {
		def, err := cat.Table(ctx, t.OID)
		if err != nil {
			return nil, fmt.Errorf("postgres source %s: ad-hoc snapshot %s: %w", s.o.Name, t, err)
		}
		if _, err := dec.SetTable(*def); err != nil {
			return nil, fmt.Errorf("postgres source %s: ad-hoc snapshot %s: %w", s.o.Name, t, err)
		}
		if err := sr.readTable(ctx, def, i == len(tables)-1); err != nil {
			return nil, fmt.Errorf("postgres source %s: ad-hoc snapshot %s: %w", s.o.Name, t, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("postgres source %s: end ad-hoc snapshot transaction: %w", s.o.Name, err)
	}
	off.AdHoc = nil
	if err := sr.flush(ctx, true); err != nil {
		return nil, err
	}
	el := time.Since(started)
	s.log.Info("ad-hoc snapshot complete", "tables", len(tables), "rows", sr.total, "seconds", el.Seconds())
	return &off, nil
}

type snapshotReader struct {
	s    *Source
	tx   pgx.Tx
	dec  *Decoder
	off  *offsets.Postgres
	lsn  pglogrepl.LSN
	xmin int64

	// w emits and commits the events on a goroutine of its own.
	w     *sources.SnapshotWriter
	total int64
}

func (sr *snapshotReader) readTable(ctx context.Context, t *Table, lastTable bool) error {
	name := t.Schema + "." + t.Name
	var est float64
	_ = sr.tx.QueryRow(ctx, "SELECT reltuples FROM pg_class WHERE oid = $1", t.RelationID).Scan(&est)
	prog := sr.s.status.tableProgress(name, int64(max(est, 0)))

	cols := make([]string, len(t.Columns))
	var keyCols []Column
	for i, c := range t.Columns {
		cols[i] = quoteIdent(c.Name)
		if c.Key {
			keyCols = append(keyCols, c)
		}
	}
	// Primary-key order, which the key's index serves.
	sort.SliceStable(keyCols, func(i, j int) bool { return keyCols[i].KeySeq < keyCols[j].KeySeq })
	keys := make([]string, len(keyCols))
	for i, c := range keyCols {
		keys[i] = quoteIdent(c.Name)
	}
	// One SELECT whose rows stream in as they are read (TCP holds the
	// server back while the pipeline is full), cut into chunks of
	// snapshot.fetch.size rows here. A cursor fetched in chunks cost the
	// server twice the CPU per row of this query (1.5 s against 0.7 s a
	// million rows of the bench table), on a machine the snapshot keeps
	// busy.
	q := "SELECT " + strings.Join(cols, ", ") + " FROM " + quoteIdent(t.Schema) + "." + quoteIdent(t.Name)
	if len(keys) > 0 {
		q += " ORDER BY " + strings.Join(keys, ", ")
	}
	src := change.Source{
		Snapshot: "true",
		Schema:   t.Schema,
		Table:    t.Name,
		TxID:     sr.xmin,
		LSN:      int64(sr.lsn),
		TsUs:     time.Now().UnixMicro(),
	}
	chunk := sr.s.o.SnapshotFetchSize
	n := 0 // rows of the current chunk
	// Fixed-width columns come in binary format (binary.go).
	formats, err := sr.dec.SnapshotFormats(t.RelationID)
	if err != nil {
		return err
	}
	// On an error the query is cancelled (its context), not read to the
	// end of the table; that closes the connection, and the snapshot
	// fails anyway.
	qctx, cancel := context.WithCancel(ctx)
	defer cancel()
	rr := sr.tx.Conn().PgConn().ExecParams(qctx, q, nil, nil, nil, formats)
	// The formats the server sends (those asked for).
	got := make([]int16, 0, len(formats))
	for _, fd := range rr.FieldDescriptions() {
		got = append(got, fd.Format)
	}
	err = func() error {
		for rr.NextRow() {
			ev, err := sr.dec.ReadRow(t.RelationID, rr.Values(), got, src)
			if err != nil {
				return err
			}
			if err := sr.w.Hold(ctx, ev); err != nil {
				return err
			}
			if n++; n < chunk {
				continue
			}
			sr.total += int64(n)
			sr.s.status.addRows(prog, int64(n), false)
			n = 0
			src.TsUs = time.Now().UnixMicro()
			if err := sr.flush(ctx, false); err != nil {
				return err
			}
		}
		return nil
	}()
	if err != nil {
		cancel()
	}
	if _, cerr := rr.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("read rows: %w", cerr)
	}
	if err != nil {
		return err
	}
	sr.total += int64(n)
	sr.s.status.addRows(prog, int64(n), true)
	if !lastTable {
		return sr.flush(ctx, false)
	}
	return nil
}

// flush has the pending events emitted and committed with the current
// offset (in the background); with final, the held event too, marked
// snapshot=last, and it waits for the commit.
func (sr *snapshotReader) flush(ctx context.Context, final bool) error {
	if err := sr.w.Flush(ctx, final, sr.off.Marshal()); err != nil {
		return fmt.Errorf("postgres source %s: snapshot: %w", sr.s.o.Name, err)
	}
	return nil
}
