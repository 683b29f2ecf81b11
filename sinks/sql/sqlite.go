package sql

import (
	"context"
	stdsql "database/sql"
	"errors"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/sluice-cdc/sluice/change"
)

// sqliteDialect is the SQLite dialect (modernc.org/sqlite, pure Go).
// Values keep their exact text: decimals, dates and times are TEXT.
type sqliteDialect struct{}

func (sqliteDialect) name() string { return "sqlite" }

func (sqliteDialect) quote(id string) string { return `"` + strings.ReplaceAll(id, `"`, `""`) + `"` }

func (sqliteDialect) placeholder(int) string { return "?" }

func (sqliteDialect) fold(name string) string { return strings.ToLower(name) }

func (sqliteDialect) maxParams() int { return 32766 }

func (sqliteDialect) columnType(s *change.Schema, _ bool) string {
	switch kindOf(s) {
	case kInt16, kInt32, kInt64, kBool, kDuration:
		return "INTEGER"
	case kFloat32, kFloat64:
		return "REAL"
	case kBytes:
		return "BLOB"
	}
	return "TEXT"
}

func (sqliteDialect) bind(v any) any {
	switch x := v.(type) {
	case bool:
		if x {
			return int64(1)
		}
		return int64(0)
	case decimalText:
		return string(x)
	case dateValue:
		return time.Time(x).Format("2006-01-02")
	case timestampValue:
		return formatDateTime(time.Time(x))
	case zonedTimestampValue:
		return time.Time(x).Format("2006-01-02T15:04:05.999999Z")
	case timeValue:
		return change.FormatTimeOfDay(int64(x))
	case zonedTimeValue:
		return string(x)
	case durationValue:
		return int64(x)
	case jsonText:
		return string(x)
	}
	return v
}

func (d sqliteDialect) upsertSuffix(pk, cols []string) string {
	return onConflict(d, pk, cols, "excluded")
}

func (sqliteDialect) truncate(table string) string { return "DELETE FROM " + table }

func (d sqliteDialect) addColumn(table, col, typ string) string {
	return "ALTER TABLE " + table + " ADD COLUMN " + d.quote(col) + " " + typ
}

func (d sqliteDialect) columns(ctx context.Context, db *stdsql.DB, _, table string) ([]string, bool, error) {
	rows, err := db.QueryContext(ctx, "SELECT name FROM pragma_table_info(?) ORDER BY cid", table)
	return scanColumns(rows, err)
}

func (sqliteDialect) isDataError(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_ERROR, sqlite3.SQLITE_TOOBIG, sqlite3.SQLITE_CONSTRAINT, sqlite3.SQLITE_MISMATCH, sqlite3.SQLITE_RANGE:
		return true
	}
	return false
}

// sqliteDSN turns sqlite:///abs/path.db (or sqlite://rel.db) into the
// driver's DSN with a busy timeout and WAL journal.
//
// synchronous is NORMAL: in WAL mode a commit is then not synced to disk
// (checkpoints are). A commit survives a crash of sluice (kill -9); a power
// loss may roll back the last commits, each with the offsets it stored, so
// the sink reapplies them from Kafka: still exactly once. FULL synced every
// batch and halved the sink's rate; `?_pragma=synchronous(FULL)` on the DSN
// brings it back (a pragma the DSN sets replaces ours).
func sqliteDSN(dsn string) string {
	rest := strings.TrimPrefix(dsn, dsn[:strings.Index(dsn, "://")+3])
	path, query, _ := strings.Cut(rest, "?")
	params := []string{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(NORMAL)"} {
		name, _, _ := strings.Cut(p, "(")
		if !strings.Contains(query, "_pragma="+name+"(") {
			params = append(params, "_pragma="+p)
		}
	}
	if query != "" {
		params = append(params, query)
	}
	return "file:" + path + "?" + strings.Join(params, "&")
}
