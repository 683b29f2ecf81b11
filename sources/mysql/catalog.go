package mysql

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	gomysql "github.com/go-mysql-org/go-mysql/mysql"

	"github.com/sluice-cdc/sluice/offsets"
)

// connInfo is a parsed mysql:// DSN.
type connInfo struct {
	Host     string
	Port     uint16
	User     string
	Password string
	DB       string
}

func (c connInfo) addr() string { return c.Host + ":" + strconv.Itoa(int(c.Port)) }

// parseDSN parses mysql://user:password@host:port/db.
func parseDSN(dsn string) (connInfo, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return connInfo{}, fmt.Errorf("parse dsn: %w", redactURLError(err))
	}
	if u.Scheme != "mysql" && u.Scheme != "mariadb" {
		return connInfo{}, fmt.Errorf("parse dsn: scheme %q: want mysql://", u.Scheme)
	}
	ci := connInfo{Host: u.Hostname(), Port: 3306, DB: strings.TrimPrefix(u.Path, "/")}
	if ci.Host == "" {
		ci.Host = "127.0.0.1"
	}
	if p := u.Port(); p != "" {
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil {
			return connInfo{}, fmt.Errorf("parse dsn: port %q", p)
		}
		ci.Port = uint16(n)
	}
	if u.User != nil {
		ci.User = u.User.Username()
		ci.Password, _ = u.User.Password()
	}
	return ci, nil
}

func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// connect opens a regular connection with UTC session time and utf8mb4.
func (s *Source) connect() (*client.Conn, error) {
	c, err := client.ConnectWithTimeout(s.ci.addr(), s.ci.User, s.ci.Password, "", 10*time.Second)
	if err != nil {
		return nil, s.classify("connect", err)
	}
	for _, q := range []string{"SET NAMES utf8mb4", "SET time_zone = '+00:00'"} {
		if _, err := c.Execute(q); err != nil {
			c.Close()
			return nil, fmt.Errorf("mysql source %s: %s: %w", s.o.Name, q, err)
		}
	}
	return c, nil
}

// classify wraps err; access errors are permanent.
func (s *Source) classify(what string, err error) error {
	var me *gomysql.MyError
	if errors.As(err, &me) {
		switch me.Code {
		case gomysql.ER_ACCESS_DENIED_ERROR, gomysql.ER_DBACCESS_DENIED_ERROR, gomysql.ER_SPECIFIC_ACCESS_DENIED_ERROR:
			return permanent("mysql source %s: %s: %w", s.o.Name, what, err)
		}
	}
	return fmt.Errorf("mysql source %s: %s: %w", s.o.Name, what, err)
}

// serverInfo is what checkServer learns.
type serverInfo struct {
	flavor  string // "mariadb" | "mysql"
	version string
	gtid    bool // GTIDs usable
}

func str(r *gomysql.Result, row, col int) string {
	s, _ := r.GetString(row, col)
	return s
}

func isNull(r *gomysql.Result, row, col int) bool {
	v, _ := r.IsNull(row, col)
	return v
}

// checkServer verifies the settings row-based capture needs.
func (s *Source) checkServer(c *client.Conn) (serverInfo, error) {
	r, err := c.Execute("SELECT VERSION(), @@log_bin, @@binlog_format, @@binlog_row_image")
	if err != nil {
		return serverInfo{}, fmt.Errorf("mysql source %s: check server settings: %w", s.o.Name, err)
	}
	si := serverInfo{version: str(r, 0, 0), flavor: gomysql.MySQLFlavor}
	if strings.Contains(strings.ToLower(si.version), "mariadb") {
		si.flavor = gomysql.MariaDBFlavor
	}
	if v := str(r, 0, 1); v != "1" && !strings.EqualFold(v, "ON") {
		return si, permanent("mysql source %s: the server runs without a binary log (log_bin=%s); start it with --log-bin", s.o.Name, v)
	}
	if f := str(r, 0, 2); !strings.EqualFold(f, "ROW") {
		return si, permanent("mysql source %s: the server runs with binlog_format=%s; change data capture needs binlog_format=ROW (SET GLOBAL binlog_format=ROW and in my.cnf)", s.o.Name, f)
	}
	if im := str(r, 0, 3); !strings.EqualFold(im, "FULL") {
		return si, permanent("mysql source %s: the server runs with binlog_row_image=%s; change data capture needs binlog_row_image=FULL (SET GLOBAL binlog_row_image=FULL and in my.cnf)", s.o.Name, im)
	}
	switch s.o.GTID {
	case "on":
		si.gtid = true
	case "off":
	default: // auto
		if si.flavor == gomysql.MariaDBFlavor {
			si.gtid = true
		} else if r, err := c.Execute("SELECT @@gtid_mode"); err == nil && strings.EqualFold(str(r, 0, 0), "ON") {
			si.gtid = true
		}
	}
	if err := s.checkGrants(c); err != nil {
		return si, err
	}
	return si, nil
}

// checkGrants fails when the user lacks REPLICATION SLAVE (binlog
// streaming) or REPLICATION CLIENT / BINLOG MONITOR (positions).
func (s *Source) checkGrants(c *client.Conn) error {
	r, err := c.Execute("SHOW GRANTS FOR CURRENT_USER()")
	if err != nil {
		return fmt.Errorf("mysql source %s: show grants: %w", s.o.Name, err)
	}
	var all strings.Builder
	for i := range r.RowNumber() {
		all.WriteString(strings.ToUpper(str(r, i, 0)))
		all.WriteByte('\n')
	}
	g := all.String()
	if strings.Contains(g, "ALL PRIVILEGES ON *.*") {
		return nil
	}
	var missing []string
	if !strings.Contains(g, "REPLICATION SLAVE") && !strings.Contains(g, "REPLICATION REPLICA") {
		missing = append(missing, "REPLICATION SLAVE")
	}
	if !strings.Contains(g, "REPLICATION CLIENT") && !strings.Contains(g, "BINLOG MONITOR") && !strings.Contains(g, "SUPER") {
		missing = append(missing, "REPLICATION CLIENT")
	}
	if len(missing) > 0 {
		return permanent("mysql source %s: the user %q lacks %s; grant it with GRANT %s ON *.* TO ...",
			s.o.Name, s.ci.User, strings.Join(missing, " and "), strings.Join(missing, ", "))
	}
	return nil
}

// selectTables lists the captured base tables, sorted by name.
func (s *Source) selectTables(c *client.Conn) ([][2]string, error) {
	r, err := c.Execute(`SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES
		WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA NOT IN ('mysql','information_schema','performance_schema','sys')
		ORDER BY TABLE_SCHEMA, TABLE_NAME`)
	if err != nil {
		return nil, fmt.Errorf("mysql source %s: list tables: %w", s.o.Name, err)
	}
	var out [][2]string
	for i := range r.RowNumber() {
		db, name := str(r, i, 0), str(r, i, 1)
		if s.captured(db, name) {
			out = append(out, [2]string{db, name})
		}
	}
	return out, nil
}

// captured reports whether db.table passes the include/exclude filters.
// The answer is remembered: the binlog asks for every rows event, and
// matching the patterns cost more than decoding a small row.
func (s *Source) captured(db, table string) bool {
	k := [2]string{db, table}
	if v, ok := s.capturedCache.Load(k); ok {
		return v.(bool)
	}
	ok := s.match(db, table)
	s.capturedCache.Store(k, ok)
	return ok
}

// match applies the include/exclude filters to db.table.
func (s *Source) match(db, table string) bool {
	switch db {
	case "mysql", "information_schema", "performance_schema", "sys":
		return false
	}
	id := db + "." + table
	if len(s.include) > 0 {
		ok := false
		for _, re := range s.include {
			if re.MatchString(id) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	for _, re := range s.exclude {
		if re.MatchString(id) {
			return false
		}
	}
	return true
}

// loadTable reads a table's definition from information_schema; ok is
// false when the table does not exist.
func loadTable(c *client.Conn, db, name string) (Table, bool, error) {
	t := Table{DB: db, Name: name}
	r, err := c.Execute(`SELECT TABLE_COLLATION FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?`, db, name)
	if err != nil {
		return t, false, fmt.Errorf("load table %s.%s: %w", db, name, err)
	}
	if r.RowNumber() == 0 {
		return t, false, nil
	}
	coll := str(r, 0, 0)
	t.Charset, _, _ = strings.Cut(coll, "_")
	r, err = c.Execute(`SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, CHARACTER_SET_NAME,
		NUMERIC_PRECISION, NUMERIC_SCALE, DATETIME_PRECISION, CHARACTER_MAXIMUM_LENGTH, EXTRA, COLUMN_DEFAULT, COLUMN_COMMENT
		FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`, db, name)
	if err != nil {
		return t, false, fmt.Errorf("load table %s.%s: columns: %w", db, name, err)
	}
	for i := range r.RowNumber() {
		c := Column{
			Name:       str(r, i, 0),
			DataType:   strings.ToLower(str(r, i, 1)),
			ColumnType: str(r, i, 2),
			Nullable:   str(r, i, 3) == "YES",
			Charset:    str(r, i, 4),
			Comment:    str(r, i, 11),
		}
		c.Unsigned = strings.Contains(strings.ToLower(c.ColumnType), "unsigned")
		prec, _ := strconv.ParseInt(str(r, i, 5), 10, 64)
		scale, _ := strconv.Atoi(str(r, i, 6))
		fsp, _ := strconv.Atoi(str(r, i, 7))
		chars, _ := strconv.ParseInt(str(r, i, 8), 10, 64)
		switch c.DataType {
		case "decimal", "numeric", "bit":
			c.Length, c.Scale = prec, scale
		default:
			c.Length = chars
		}
		c.FSP = fsp
		c.AutoIncrement = strings.Contains(strings.ToLower(str(r, i, 9)), "auto_increment")
		if !isNull(r, i, 10) {
			d := str(r, i, 10)
			c.Default = &d
		}
		if c.DataType == "enum" || c.DataType == "set" {
			if c.EnumValues, err = ParseEnumValues(c.ColumnType); err != nil {
				return t, false, fmt.Errorf("load table %s.%s: %w", db, name, err)
			}
		}
		t.Columns = append(t.Columns, c)
	}
	r, err = c.Execute(`SELECT COLUMN_NAME, SEQ_IN_INDEX FROM information_schema.STATISTICS
		WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND INDEX_NAME = 'PRIMARY' ORDER BY SEQ_IN_INDEX`, db, name)
	if err != nil {
		return t, false, fmt.Errorf("load table %s.%s: primary key: %w", db, name, err)
	}
	for i := range r.RowNumber() {
		col := str(r, i, 0)
		seq, _ := strconv.Atoi(str(r, i, 1))
		for j := range t.Columns {
			if t.Columns[j].Name == col {
				t.Columns[j].Key, t.Columns[j].KeySeq = true, seq
			}
		}
	}
	return t, true, nil
}

func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// loadAll registers every captured table's current definition.
func (s *Source) loadAll(c *client.Conn, dec *Decoder) error {
	tables, err := s.selectTables(c)
	if err != nil {
		return err
	}
	for _, tn := range tables {
		t, ok, err := loadTable(c, tn[0], tn[1])
		if err != nil {
			return fmt.Errorf("mysql source %s: %w", s.o.Name, err)
		}
		if !ok {
			continue
		}
		if err := dec.SetTable(t); err != nil {
			return permanent("mysql source %s: %w", s.o.Name, err)
		}
	}
	return nil
}

// currentPosition returns the binlog's current end as a restart point.
func (s *Source) currentPosition(c *client.Conn, si serverInfo) (*offsets.MySQL, error) {
	r, err := c.Execute("SHOW MASTER STATUS")
	if err != nil {
		// MySQL 8.4 removed it in favour of SHOW BINARY LOG STATUS.
		var err2 error
		if r, err2 = c.Execute("SHOW BINARY LOG STATUS"); err2 != nil {
			return nil, s.classify("read binlog position (SHOW MASTER STATUS)", err)
		}
	}
	if r.RowNumber() == 0 {
		return nil, permanent("mysql source %s: SHOW MASTER STATUS returned nothing: is the binary log enabled?", s.o.Name)
	}
	pos, _ := strconv.ParseUint(str(r, 0, 1), 10, 32)
	off := &offsets.MySQL{File: str(r, 0, 0), Pos: uint32(pos), Flavor: si.flavor}
	q := "SELECT @@gtid_executed"
	if si.flavor == gomysql.MariaDBFlavor {
		q = "SELECT @@gtid_binlog_pos"
	}
	if r, err := c.Execute(q); err == nil {
		off.GTIDs = str(r, 0, 0)
	} else if si.gtid {
		return nil, fmt.Errorf("mysql source %s: read GTID position: %w", s.o.Name, err)
	}
	return off, nil
}

// positionAvailable reports whether the binlog file of off still exists.
func (s *Source) positionAvailable(c *client.Conn, off *offsets.MySQL) (bool, error) {
	r, err := c.Execute("SHOW BINARY LOGS")
	if err != nil {
		return false, s.classify("list binary logs", err)
	}
	for i := range r.RowNumber() {
		if str(r, i, 0) == off.File {
			return true, nil
		}
	}
	return false, nil
}
