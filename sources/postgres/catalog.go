package postgres

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"

	"github.com/sluice-cdc/sluice/sources"
)

// tableRef names a captured table.
type tableRef struct {
	OID    uint32
	Schema string
	Name   string
}

func (t tableRef) String() string { return t.Schema + "." + t.Name }

func (t tableRef) quoted() string { return quoteIdent(t.Schema) + "." + quoteIdent(t.Name) }

func quoteIdent(s string) string { return pgx.Identifier{s}.Sanitize() }

// selectTables lists the user tables matched by the include/exclude
// patterns. An include pattern that is a plain name (no regex syntax) and
// matches nothing is an error: the table does not exist.
func (s *Source) selectTables(ctx context.Context, conn *pgx.Conn) ([]tableRef, error) {
	rows, err := conn.Query(ctx, `SELECT c.oid, n.nspname, c.relname
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
		  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
		  AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
		ORDER BY n.nspname, c.relname`)
	if err != nil {
		return nil, fmt.Errorf("postgres source %s: list tables: %w", s.o.Name, err)
	}
	all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (tableRef, error) {
		var t tableRef
		err := r.Scan(&t.OID, &t.Schema, &t.Name)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres source %s: list tables: %w", s.o.Name, err)
	}
	matched := make([]bool, len(s.include))
	var out []tableRef
	for _, t := range all {
		name := t.String()
		if sources.MatchAny(s.exclude, name) {
			continue
		}
		ok := len(s.include) == 0
		for i, re := range s.include {
			if re.MatchString(name) {
				ok, matched[i] = true, true
			}
		}
		if ok {
			out = append(out, t)
		}
	}
	for i, m := range matched {
		pat := s.o.Include[i]
		if m {
			continue
		}
		if regexp.QuoteMeta(pat) == pat || isPlainQualifiedName(pat) {
			return nil, permanent("postgres source %s: table %s does not exist", s.o.Name, pat)
		}
		s.log.Warn("table pattern matches no table", "pattern", pat)
	}
	if len(out) == 0 {
		return nil, permanent("postgres source %s: no table matches tables=%v exclude_tables=%v", s.o.Name, s.o.Include, s.o.Exclude)
	}
	return out, nil
}

// isPlainQualifiedName reports whether p is schema.table with the dot as the
// only regex metacharacter.
func isPlainQualifiedName(p string) bool {
	parts := strings.Split(p, ".")
	if len(parts) != 2 {
		return false
	}
	return regexp.QuoteMeta(parts[0]) == parts[0] && regexp.QuoteMeta(parts[1]) == parts[1]
}

// ensurePublication creates or updates the publication per the configured
// mode.
func (s *Source) ensurePublication(ctx context.Context, conn *pgx.Conn, tables []tableRef) error {
	pub := s.o.Publication
	var exists, allTables bool
	err := conn.QueryRow(ctx, `SELECT true, puballtables FROM pg_publication WHERE pubname = $1`, pub).Scan(&exists, &allTables)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("postgres source %s: look up publication %s: %w", s.o.Name, pub, err)
	}
	var stmt string
	switch s.o.PublicationMode {
	case PublicationDisabled:
		if !exists {
			return permanent("postgres source %s: publication %q does not exist and publication.autocreate.mode is disabled; create it with CREATE PUBLICATION", s.o.Name, pub)
		}
		return nil
	case PublicationAllTables:
		if exists {
			if !allTables {
				return permanent("postgres source %s: publication %q exists but is not FOR ALL TABLES", s.o.Name, pub)
			}
			return nil
		}
		stmt = "CREATE PUBLICATION " + quoteIdent(pub) + " FOR ALL TABLES"
	case PublicationFiltered:
		names := make([]string, len(tables))
		for i, t := range tables {
			names[i] = t.quoted()
		}
		sort.Strings(names)
		list := strings.Join(names, ", ")
		switch {
		case !exists:
			stmt = "CREATE PUBLICATION " + quoteIdent(pub) + " FOR TABLE " + list
		case allTables:
			return permanent("postgres source %s: publication %q is FOR ALL TABLES; use publication.autocreate.mode: all_tables or another publication name", s.o.Name, pub)
		default:
			stmt = "ALTER PUBLICATION " + quoteIdent(pub) + " SET TABLE " + list
		}
	default:
		return permanent("postgres source %s: unknown publication.autocreate.mode %q", s.o.Name, s.o.PublicationMode)
	}
	if _, err := conn.Exec(ctx, stmt); err != nil {
		return fmt.Errorf("postgres source %s: %s: %w", s.o.Name, firstWords(stmt, 3), err)
	}
	return nil
}

func firstWords(s string, n int) string {
	f := strings.Fields(s)
	if len(f) > n {
		f = f[:n]
	}
	return strings.Join(f, " ")
}

type slotState struct {
	ConfirmedFlush pglogrepl.LSN
	Active         bool
}

// slotInfo returns the connector's slot, or nil if it does not exist.
func (s *Source) slotInfo(ctx context.Context, conn *pgx.Conn) (*slotState, error) {
	var plugin, db string
	var confirmed *string
	var active bool
	err := conn.QueryRow(ctx, `SELECT coalesce(plugin, ''), coalesce(database, ''), confirmed_flush_lsn::text, active
		FROM pg_replication_slots WHERE slot_name = $1`, s.o.SlotName).Scan(&plugin, &db, &confirmed, &active)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("postgres source %s: look up replication slot %s: %w", s.o.Name, s.o.SlotName, err)
	}
	if plugin != "pgoutput" {
		return nil, permanent("postgres source %s: replication slot %q uses plugin %q, not pgoutput", s.o.Name, s.o.SlotName, plugin)
	}
	if db != conn.Config().Database {
		return nil, permanent("postgres source %s: replication slot %q belongs to database %q, not %q", s.o.Name, s.o.SlotName, db, conn.Config().Database)
	}
	st := &slotState{Active: active}
	if confirmed != nil {
		if st.ConfirmedFlush, err = pglogrepl.ParseLSN(*confirmed); err != nil {
			return nil, fmt.Errorf("postgres source %s: slot %s: %w", s.o.Name, s.o.SlotName, err)
		}
	}
	return st, nil
}

func dropSlot(ctx context.Context, conn *pgx.Conn, slot string) error {
	if _, err := conn.Exec(ctx, `SELECT pg_drop_replication_slot($1)`, slot); err != nil {
		return fmt.Errorf("drop replication slot %s: %w", slot, err)
	}
	return nil
}

// createSlot creates the logical slot on a replication connection. With
// export, the slot's snapshot is exported and its name returned with the
// consistent point; the snapshot stays valid until the next command on repl.
func createSlot(ctx context.Context, repl *pgx.Conn, slot string, export bool) error {
	_, _, err := createSlotExport(ctx, repl, slot, export)
	return err
}

func createSlotExport(ctx context.Context, repl *pgx.Conn, slot string, export bool) (pglogrepl.LSN, string, error) {
	action := "NOEXPORT_SNAPSHOT"
	if export {
		action = "EXPORT_SNAPSHOT"
	}
	res, err := pglogrepl.CreateReplicationSlot(ctx, repl.PgConn(), slot, "pgoutput",
		pglogrepl.CreateReplicationSlotOptions{SnapshotAction: action, Mode: pglogrepl.LogicalReplication})
	if err != nil {
		return 0, "", fmt.Errorf("create replication slot %s: %w", slot, err)
	}
	lsn, err := pglogrepl.ParseLSN(res.ConsistentPoint)
	if err != nil {
		return 0, "", fmt.Errorf("create replication slot %s: consistent point: %w", slot, err)
	}
	return lsn, res.SnapshotName, nil
}

// catalog looks up table definitions (columns, types, nullability, primary
// key) by relation OID on a regular connection.
type catalog struct {
	conn *pgx.Conn
}

func newCatalog(conn *pgx.Conn) *catalog { return &catalog{conn: conn} }

// Table reads the current definition of relation oid.
func (c *catalog) Table(ctx context.Context, oid uint32) (*Table, error) {
	t := &Table{RelationID: oid}
	var ident string
	err := c.conn.QueryRow(ctx, `SELECT n.nspname, c.relname, c.relreplident::text
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1`, oid).Scan(&t.Schema, &t.Name, &ident)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("relation %d does not exist", oid)
	}
	if err != nil {
		return nil, fmt.Errorf("look up relation %d: %w", oid, err)
	}
	if ident != "" {
		t.ReplicaIdentity = ident[0]
	}
	rows, err := c.conn.Query(ctx, `
		WITH pk AS (
			SELECT k.attnum, k.ord FROM pg_index i,
			  unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
			WHERE i.indrelid = $1 AND i.indisprimary
		)
		SELECT a.attname,
		       coalesce(nullif(t.typbasetype, 0), t.oid)::int8 AS type_oid,
		       bt.typname,
		       CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END,
		       NOT (a.attnotnull OR (t.typtype = 'd' AND t.typnotnull)),
		       coalesce(pk.ord, 0)::int8,
		       coalesce(pg_get_expr(d.adbin, d.adrelid), ''),
		       CASE WHEN bt.typcategory = 'A' THEN bt.typelem ELSE 0 END::int8,
		       coalesce(et.typname, ''),
		       CASE WHEN bt.typtype = 'e' THEN
		         ARRAY(SELECT enumlabel::text FROM pg_enum WHERE enumtypid = bt.oid ORDER BY enumsortorder)
		       WHEN et.typtype = 'e' THEN
		         ARRAY(SELECT enumlabel::text FROM pg_enum WHERE enumtypid = et.oid ORDER BY enumsortorder)
		       END
		FROM pg_attribute a
		JOIN pg_type t ON t.oid = a.atttypid
		JOIN pg_type bt ON bt.oid = coalesce(nullif(t.typbasetype, 0), t.oid)
		LEFT JOIN pg_type et ON et.oid = bt.typelem AND bt.typcategory = 'A'
		LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
		LEFT JOIN pk ON pk.attnum = a.attnum
		WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
		ORDER BY a.attnum`, oid)
	if err != nil {
		return nil, fmt.Errorf("read columns of %s.%s: %w", t.Schema, t.Name, err)
	}
	defer rows.Close()
	for rows.Next() {
		var col Column
		var typeOID, pkOrd, elemOID int64
		var enum []string
		if err := rows.Scan(&col.Name, &typeOID, &col.TypeName, &col.Typmod, &col.Nullable, &pkOrd, &col.Default, &elemOID, &col.ElemTypeName, &enum); err != nil {
			return nil, fmt.Errorf("read columns of %s.%s: %w", t.Schema, t.Name, err)
		}
		col.TypeOID, col.ElemOID = uint32(typeOID), uint32(elemOID)
		col.Key = pkOrd > 0
		col.KeySeq = int(pkOrd)
		col.EnumValues = enum
		t.Columns = append(t.Columns, col)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read columns of %s.%s: %w", t.Schema, t.Name, err)
	}
	return t, nil
}
