package sql

import (
	"context"
	stdsql "database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"

	"github.com/sluice-cdc/sluice/change"
)

// postgres is the PostgreSQL dialect (pgx).
type postgres struct{}

func (postgres) name() string { return "postgres" }

func (postgres) quote(id string) string { return `"` + strings.ReplaceAll(id, `"`, `""`) + `"` }

func (postgres) placeholder(n int) string { return fmt.Sprintf("$%d", n) }

func (postgres) fold(name string) string { return name }

func (postgres) maxParams() int { return 65535 }

func (postgres) columnType(s *change.Schema, _ bool) string {
	switch kindOf(s) {
	case kInt16:
		return "smallint"
	case kInt32:
		return "integer"
	case kInt64:
		return "bigint"
	case kFloat32:
		return "real"
	case kFloat64:
		return "double precision"
	case kBool:
		return "boolean"
	case kBytes:
		return "bytea"
	case kDecimal:
		p, sc := decimalParams(s)
		if p > 0 && p <= 1000 && sc >= 0 && sc <= p {
			return fmt.Sprintf("numeric(%d,%d)", p, sc)
		}
		return "numeric"
	case kVarDecimal:
		return "numeric"
	case kDate:
		return "date"
	case kTime:
		return "time(6)"
	case kTimestamp:
		return "timestamp(6)"
	case kZonedTimestamp:
		return "timestamptz(6)"
	case kZonedTime:
		return "timetz(6)"
	case kDuration:
		return "interval"
	case kJSON, kStructured:
		return "jsonb"
	case kUUID:
		return "uuid"
	}
	return "text"
}

func (postgres) bind(v any) any {
	switch x := v.(type) {
	case decimalText:
		return string(x)
	case dateValue:
		return time.Time(x)
	case timestampValue:
		return time.Time(x)
	case zonedTimestampValue:
		return time.Time(x)
	case timeValue:
		return change.FormatTimeOfDay(int64(x))
	case zonedTimeValue:
		return string(x)
	case durationValue:
		return fmt.Sprintf("%d microseconds", int64(x))
	case jsonText:
		return string(x)
	}
	return v
}

func (d postgres) upsertSuffix(pk, cols []string) string {
	return onConflict(d, pk, cols, "EXCLUDED")
}

// onConflict is the ON CONFLICT clause shared by PostgreSQL and SQLite.
func onConflict(d dialect, pk, cols []string, excluded string) string {
	var b strings.Builder
	b.WriteString(" ON CONFLICT (")
	for i, k := range pk {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(d.quote(k))
	}
	b.WriteString(")")
	n := 0
	for _, c := range cols {
		if contains(pk, c) {
			continue
		}
		if n == 0 {
			b.WriteString(" DO UPDATE SET ")
		} else {
			b.WriteString(", ")
		}
		n++
		b.WriteString(d.quote(c) + " = " + excluded + "." + d.quote(c))
	}
	if n == 0 {
		b.WriteString(" DO NOTHING")
	}
	return b.String()
}

func (postgres) truncate(table string) string { return "TRUNCATE TABLE " + table }

func (d postgres) addColumn(table, col, typ string) string {
	return "ALTER TABLE " + table + " ADD COLUMN IF NOT EXISTS " + d.quote(col) + " " + typ
}

func (postgres) columns(ctx context.Context, db *stdsql.DB, schema, table string) ([]string, bool, error) {
	rows, err := db.QueryContext(ctx, `SELECT column_name FROM information_schema.columns
		WHERE table_schema = COALESCE(NULLIF($1, ''), current_schema()) AND table_name = $2 ORDER BY ordinal_position`, schema, table)
	return scanColumns(rows, err)
}

func scanColumns(rows *stdsql.Rows, err error) ([]string, bool, error) {
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, false, err
		}
		cols = append(cols, c)
	}
	return cols, len(cols) > 0, rows.Err()
}

func (postgres) isDataError(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || len(pe.Code) < 2 {
		return false
	}
	switch pe.Code[:2] {
	case "22", "23", "42": // data exception, integrity constraint, syntax/undefined object
		return true
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
