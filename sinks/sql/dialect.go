package sql

import (
	"context"
	stdsql "database/sql"

	"github.com/sluice-cdc/sluice/change"
)

// dialect is what differs between target databases.
type dialect interface {
	// name is "postgres", "mysql" or "sqlite".
	name() string
	// quote quotes an identifier.
	quote(id string) string
	// placeholder is the n-th (1-based) bind parameter.
	placeholder(n int) string
	// fold is how the database compares column names.
	fold(name string) string
	// columnType is the column type for a Connect schema; key columns
	// must be indexable.
	columnType(s *change.Schema, key bool) string
	// bind turns a neutral value (see values.go) into a driver argument.
	bind(v any) any
	// upsertSuffix follows INSERT ... VALUES ... to make it an upsert on pk.
	upsertSuffix(pk, cols []string) string
	// truncate empties a table inside a transaction.
	truncate(table string) string
	// addColumn adds a nullable column.
	addColumn(table, col, typ string) string
	// maxParams is the most bind parameters in one statement.
	maxParams() int
	// columns returns a table's column names, or exists=false.
	columns(ctx context.Context, db *stdsql.DB, schema, table string) (cols []string, exists bool, err error)
	// isDataError reports whether err is about the statement's data or
	// shape (constraint, range, type, unknown column) rather than the
	// connection or the server.
	isDataError(err error) bool
}

// qualified is the quoted, schema-qualified table name.
func qualified(d dialect, id tableID) string {
	if id.schema == "" || d.name() == "sqlite" {
		return d.quote(id.name)
	}
	return d.quote(id.schema) + "." + d.quote(id.name)
}
