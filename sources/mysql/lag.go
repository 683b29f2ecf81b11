package mysql

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// Lag is how far the connector's binlog position is behind the server's.
type Lag struct {
	// ServerFile and ServerPos are the server's current binlog position.
	ServerFile string `json:"server_binlog_file"`
	ServerPos  uint64 `json:"server_binlog_pos"`
	// Bytes is the binlog between the connector's position and the
	// server's: the rest of the connector's file, the whole files after it
	// and the server's position in its current file.
	Bytes int64 `json:"lag_bytes"`
	// Bytes is -1 when the connector's file is no longer listed.
	//
	// Estimated is the server's row estimate (information_schema) of each
	// table the snapshot has read rows of.
	Estimated map[string]int64 `json:"-"`
}

// Lag compares the connector's last committed binlog position with the
// server's over a short-lived connection. ctx bounds nothing inside the
// MySQL client but is checked before connecting.
func (s *Source) Lag(ctx context.Context) (Lag, error) {
	if err := ctx.Err(); err != nil {
		return Lag{}, err
	}
	st := s.status.Snapshot()
	c, err := s.connect()
	if err != nil {
		return Lag{}, err
	}
	defer c.Close()
	r, err := c.Execute("SHOW BINARY LOGS")
	if err != nil {
		return Lag{}, s.classify("list binary logs", err)
	}
	type binlog struct {
		name string
		size int64
	}
	var logs []binlog
	for i := range r.RowNumber() {
		n, _ := strconv.ParseInt(str(r, i, 1), 10, 64)
		logs = append(logs, binlog{str(r, i, 0), n})
	}
	if len(logs) == 0 {
		return Lag{}, fmt.Errorf("mysql source %s: SHOW BINARY LOGS returned nothing", s.o.Name)
	}
	// The last binary log's size is the server's current position.
	cur := logs[len(logs)-1]
	l := Lag{ServerFile: cur.name, ServerPos: uint64(cur.size)}
	if st.File != "" {
		counting := false
		for _, b := range logs {
			switch {
			case b.name == st.File:
				counting = true
				l.Bytes += b.size - int64(st.Pos)
			case counting:
				l.Bytes += b.size
			}
		}
		switch {
		case !counting:
			// Our file was purged or is newer than the list: unknown.
			l.Bytes = -1
		case l.Bytes < 0:
			// Our position was read after the server's: caught up.
			l.Bytes = 0
		}
	}
	if len(st.Snapshot) > 0 {
		l.Estimated = map[string]int64{}
		var conds []string
		for t := range st.Snapshot {
			db, table, ok := strings.Cut(t, ".")
			if !ok {
				continue
			}
			conds = append(conds, fmt.Sprintf("(TABLE_SCHEMA = '%s' AND TABLE_NAME = '%s')", sqlString(db), sqlString(table)))
		}
		if len(conds) > 0 {
			r, err := c.Execute("SELECT TABLE_SCHEMA, TABLE_NAME, COALESCE(TABLE_ROWS, 0) FROM information_schema.TABLES WHERE " + strings.Join(conds, " OR "))
			if err == nil {
				for i := range r.RowNumber() {
					n, _ := strconv.ParseInt(str(r, i, 2), 10, 64)
					l.Estimated[str(r, i, 0)+"."+str(r, i, 1)] = n
				}
			}
		}
	}
	return l, nil
}

// sqlString escapes s for a single-quoted MySQL string literal.
func sqlString(s string) string {
	return strings.NewReplacer(`\`, `\\`, `'`, `''`).Replace(s)
}
