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
	if err != nil {
		return permanent("mysql source %s: at %s:%d: %w", st.s.o.Name, st.file, h.LogPos-h.EventSize, err)
	}
	if !isDDL {
		return nil
	}
	if st.first && st.resumeRows > 0 {
		return nil // written before the restart
	}
	var changes []TableChangeRef
	truncated := false
	for _, t := range targets {
		switch t.Type {
		case "CREATE", "ALTER":
			if !st.s.captured(t.DB, t.Table) {
				continue
			}
			def, ok, err := loadTable(st.conn, t.DB, t.Table)
			if err != nil {
				return fmt.Errorf("mysql source %s: %w", st.s.o.Name, err)
			}
			if !ok {
				continue // dropped since
			}
			if err := st.dec.SetTable(def); err != nil {
				return permanent("mysql source %s: %w", st.s.o.Name, err)
			}
			changes = append(changes, TableChangeRef{Type: t.Type, Table: def})
		case "DROP":
			if old, ok := st.dec.Table(t.DB, t.Table); ok {
				st.dec.DropTable(t.DB, t.Table)
				changes = append(changes, TableChangeRef{Type: "DROP", Table: old})
			}
		case "RENAME":
			if old, ok := st.dec.Table(t.DB, t.Table); ok {
				st.dec.DropTable(t.DB, t.Table)
				changes = append(changes, TableChangeRef{Type: "DROP", Table: old})
			}
			if st.s.captured(t.NewDB, t.NewTable) {
				def, ok, err := loadTable(st.conn, t.NewDB, t.NewTable)
				if err != nil {
					return fmt.Errorf("mysql source %s: %w", st.s.o.Name, err)
				}
				if ok {
					if err := st.dec.SetTable(def); err != nil {
						return permanent("mysql source %s: %w", st.s.o.Name, err)
					}
					changes = append(changes, TableChangeRef{Type: "CREATE", Table: def})
				}
			}
		case "TRUNCATE":
			// Debezium writes TRUNCATE to the schema-change topic
			// without table changes.
			truncated = truncated || st.s.captured(t.DB, t.Table)
		}
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
	return st.emit(ctx, []change.Event{ev})
}
