package mysql

import (
	"context"
	"fmt"

	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/sluice-cdc/sluice/change"
)

// ddl handles a statement of a query event: table DDL on captured tables
// updates the decoder's tables and emits a schema-change event.
//
// The new definitions are read from information_schema when the event is
// processed, which matches the binlog position as long as no later DDL on
// the same table has already run on the server.
func (st *streamer) ddl(ctx context.Context, h *replication.EventHeader, db, q string) error {
	targets, isDDL, err := ParseDDL(db, q)
	if err != nil && st.s.o.SkipUnparsableDDL {
		st.s.log.Warn("skipping a DDL statement the parser cannot read (skip_unparsable_ddl); the schema model may now be wrong",
			"file", st.file, "pos", h.LogPos-h.EventSize, "ddl", q, "err", err)
		return nil
	}
	if err != nil {
		return permanent("mysql source %s: at %s:%d: %w", st.s.o.Name, st.file, h.LogPos-h.EventSize, err)
	}
	if !isDDL {
		return nil
	}
	// A DDL statement counts as one change of its transaction, so that an
	// offset stored right after its event skips it on replay (the schema
	// history committed with that event already holds its effect).
	st.txRows++
	if st.first && st.txRows <= st.resumeRows {
		return nil // written before the restart
	}
	var changes []TableChangeRef
	truncated := false
	for _, t := range targets {
		// Debezium writes TRUNCATE to the schema-change topic without
		// table changes.
		if t.Type == "TRUNCATE" && st.s.captured(t.DB, t.Table) {
			truncated = true
		}
	}
	model := SchemaModel{Table: st.dec.Table, DBCharset: st.dbCharset, MariaDB: st.si.flavor == "mariadb"}
	applied, ok, err := ApplyDDL(model, db, q)
	if err != nil {
		return permanent("mysql source %s: at %s:%d: %w", st.s.o.Name, st.file, h.LogPos-h.EventSize, err)
	}
	if ok {
		for _, a := range applied {
			switch a.Type {
			case "DROP":
				if _, known := st.dec.Table(a.Table.DB, a.Table.Name); known {
					st.dec.DropTable(a.Table.DB, a.Table.Name)
					changes = append(changes, TableChangeRef{Type: "DROP", Table: a.Table})
				}
			default:
				if !st.s.captured(a.Table.DB, a.Table.Name) {
					continue
				}
				if err := st.dec.SetTable(a.Table); err != nil {
					return permanent("mysql source %s: %w", st.s.o.Name, err)
				}
				changes = append(changes, TableChangeRef{Type: a.Type, Table: a.Table})
			}
		}
	} else if changes, err = st.catalogDDL(targets); err != nil {
		return err
	}
	if len(changes) == 0 && !truncated {
		return nil
	}
	src := change.Source{
		File:     st.file,
		Pos:      int64(h.LogPos - h.EventSize),
		GTID:     st.txGTID,
		ServerID: int64(h.ServerID),
		Thread:   st.thread,
		TsUs:     int64(h.Timestamp) * 1_000_000,
	}
	ev := st.dec.SchemaChange(db, q, changes, src)
	if err := st.emit(ctx, []change.Event{ev}); err != nil {
		return err
	}
	gtids := ""
	if st.gset != nil {
		gtids = st.gset.String()
	}
	return st.s.writeHistory(ctx, st.em, st.dec, st.file, h.LogPos, gtids, q)
}

// catalogDDL reads the definitions a DDL statement left from the catalog:
// for statements the schema model cannot apply from their text.
func (st *streamer) catalogDDL(targets []DDLTarget) ([]TableChangeRef, error) {
	var changes []TableChangeRef
	load := func(db, name, typ string) error {
		if !st.s.captured(db, name) {
			return nil
		}
		def, ok, err := loadTable(st.conn, db, name)
		if err != nil {
			return fmt.Errorf("mysql source %s: %w", st.s.o.Name, err)
		}
		if !ok {
			return nil // dropped since
		}
		if err := st.dec.SetTable(def); err != nil {
			return permanent("mysql source %s: %w", st.s.o.Name, err)
		}
		changes = append(changes, TableChangeRef{Type: typ, Table: def})
		return nil
	}
	for _, t := range targets {
		switch t.Type {
		case "CREATE", "ALTER":
			if err := load(t.DB, t.Table, t.Type); err != nil {
				return nil, err
			}
		case "DROP", "RENAME":
			if old, ok := st.dec.Table(t.DB, t.Table); ok {
				st.dec.DropTable(t.DB, t.Table)
				changes = append(changes, TableChangeRef{Type: "DROP", Table: old})
			}
			if t.Type == "RENAME" {
				if err := load(t.NewDB, t.NewTable, "CREATE"); err != nil {
					return nil, err
				}
			}
		}
	}
	return changes, nil
}

// dbCharset returns a database's default character set.
func (st *streamer) dbCharset(db string) string {
	if cs, ok := st.charsets[db]; ok {
		return cs
	}
	cs := "utf8mb4"
	r, err := st.conn.Execute("SELECT DEFAULT_CHARACTER_SET_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", db)
	if err == nil && r.RowNumber() > 0 {
		cs = str(r, 0, 0)
	}
	if st.charsets == nil {
		st.charsets = map[string]string{}
	}
	st.charsets[db] = cs
	return cs
}
