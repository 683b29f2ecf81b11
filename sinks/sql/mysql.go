package sql

import (
	"context"
	stdsql "database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/sluice-cdc/sluice/change"
)

// mysqlDialect is the MySQL/MariaDB dialect (go-sql-driver/mysql).
type mysqlDialect struct{}

func (mysqlDialect) name() string { return "mysql" }

func (mysqlDialect) quote(id string) string { return "`" + strings.ReplaceAll(id, "`", "``") + "`" }

func (mysqlDialect) placeholder(int) string { return "?" }

func (mysqlDialect) fold(name string) string { return strings.ToLower(name) }

func (mysqlDialect) maxParams() int { return 65535 }

func (mysqlDialect) columnType(s *change.Schema, key bool) string {
	switch kindOf(s) {
	case kInt16:
		return "SMALLINT"
	case kInt32:
		return "INT"
	case kInt64:
		return "BIGINT"
	case kFloat32:
		return "FLOAT"
	case kFloat64:
		return "DOUBLE"
	case kBool:
		return "BOOLEAN"
	case kBytes:
		if key {
			return "VARBINARY(255)"
		}
		return "LONGBLOB"
	case kDecimal:
		p, sc := decimalParams(s)
		switch {
		case sc < 0 || sc > 30:
			return "LONGTEXT"
		case p > 0 && p <= 65 && sc <= p:
			return fmt.Sprintf("DECIMAL(%d,%d)", p, sc)
		}
		return fmt.Sprintf("DECIMAL(65,%d)", sc)
	case kVarDecimal:
		return "DECIMAL(65,30)"
	case kDate:
		return "DATE"
	case kTime:
		return "TIME(6)"
	case kTimestamp, kZonedTimestamp:
		return "DATETIME(6)" // zoned timestamps in UTC
	case kZonedTime:
		return "VARCHAR(32)"
	case kDuration:
		return "BIGINT"
	case kJSON, kStructured:
		return "JSON"
	case kUUID:
		return "CHAR(36)"
	}
	if key {
		return "VARCHAR(255)"
	}
	return "LONGTEXT"
}

func (mysqlDialect) bind(v any) any {
	switch x := v.(type) {
	case decimalText:
		return string(x)
	case dateValue:
		return time.Time(x).Format("2006-01-02")
	case timestampValue:
		return formatDateTime(time.Time(x))
	case zonedTimestampValue:
		return formatDateTime(time.Time(x))
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

func (d mysqlDialect) upsertSuffix(pk, cols []string) string {
	var b strings.Builder
	b.WriteString(" ON DUPLICATE KEY UPDATE ")
	n := 0
	for _, c := range cols {
		if contains(pk, c) {
			continue
		}
		if n > 0 {
			b.WriteString(", ")
		}
		n++
		b.WriteString(d.quote(c) + " = VALUES(" + d.quote(c) + ")")
	}
	if n == 0 {
		b.WriteString(d.quote(pk[0]) + " = " + d.quote(pk[0]))
	}
	return b.String()
}

// truncate deletes: TRUNCATE is DDL in MySQL and commits implicitly.
func (mysqlDialect) truncate(table string) string { return "DELETE FROM " + table }

func (d mysqlDialect) addColumn(table, col, typ string) string {
	return "ALTER TABLE " + table + " ADD COLUMN IF NOT EXISTS " + d.quote(col) + " " + typ + " NULL"
}

func (mysqlDialect) columns(ctx context.Context, db *stdsql.DB, schema, table string) ([]string, bool, error) {
	rows, err := db.QueryContext(ctx, `SELECT column_name FROM information_schema.columns
		WHERE table_schema = COALESCE(NULLIF(?, ''), DATABASE()) AND table_name = ? ORDER BY ordinal_position`, schema, table)
	return scanColumns(rows, err)
}

func (mysqlDialect) isDataError(err error) bool {
	var me *mysql.MySQLError
	if !errors.As(err, &me) {
		return false
	}
	switch me.Number {
	case 1048, // column cannot be null
		1054,       // unknown column
		1062,       // duplicate entry
		1136,       // column count
		1146,       // no such table
		1264,       // out of range
		1265,       // data truncated
		1292,       // incorrect datetime etc.
		1364,       // no default
		1366,       // incorrect value
		1367,       // illegal value
		1406,       // data too long
		1451, 1452, // foreign key
		1690, // value out of range
		3140, // invalid JSON (MySQL)
		3819, // check constraint (MySQL)
		4025, // check constraint (MariaDB)
		4038: // JSON syntax (MariaDB)
		return true
	}
	return false
}

// mysqlConfig turns mysql://user:pass@host:port/db?param=v into a driver
// configuration: UTC, client-side parameter interpolation (fewer round
// trips; the driver escapes), strict mode.
func mysqlConfig(dsn string) (*mysql.Config, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, errors.New("cannot parse the mysql DSN")
	}
	addr := u.Host
	if u.Port() == "" {
		addr = u.Hostname() + ":3306"
	}
	// The driver's own DSN form parses its options (tls, timeout,
	// charset, ...); other query parameters become session variables.
	drv := "tcp(" + addr + ")/" + strings.TrimPrefix(u.Path, "/")
	if u.RawQuery != "" {
		drv += "?" + u.RawQuery
	}
	c, err := mysql.ParseDSN(drv)
	if err != nil {
		return nil, fmt.Errorf("mysql DSN options: %v", err)
	}
	c.User = u.User.Username()
	c.Passwd, _ = u.User.Password()
	c.Loc = time.UTC
	c.InterpolateParams = true
	c.ClientFoundRows = true // UPDATE reports matched rows (the offsets fence)
	if c.Params == nil {
		c.Params = map[string]string{}
	}
	c.Params["time_zone"] = "'+00:00'"
	if _, ok := c.Params["sql_mode"]; !ok {
		c.Params["sql_mode"] = "CONCAT(@@sql_mode, ',STRICT_ALL_TABLES')"
	}
	return c, nil
}
