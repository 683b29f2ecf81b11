package mysql

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"

	"github.com/sluice-cdc/sluice/offsets"
)

// ErrConnectorRunning is returned by ResetOffset while the connector is
// connected to the server as a replica.
var ErrConnectorRunning = errors.New("the connector is running (a replica with its server_id is connected); stop it first")

// ResetOffset computes the offset that makes the connector start from to:
//
//   - "earliest": no offset (nil) — the next start behaves as a first start
//     and takes a new snapshot as its snapshot mode says;
//   - "latest": the server's current binlog position — changes committed
//     before now are not captured;
//   - a binlog position "file:pos" such as "mysql-bin.000003:4": streaming
//     resumes there; it must be the start of a transaction.
//
// A reset also drops the connector's schema history (see
// Options.SchemaHistoryTopic): the next start records the tables' current
// definitions, so a position before a later DDL decodes with the wrong
// columns. It refuses while the connector runs.
func ResetOffset(ctx context.Context, o Options, to string) (*offsets.MySQL, error) {
	s, err := New(o)
	if err != nil {
		return nil, err
	}
	conn, err := s.connect()
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	si, err := s.checkServer(conn)
	if err != nil {
		return nil, err
	}
	r, err := conn.Execute("SHOW SLAVE HOSTS")
	if err != nil {
		return nil, fmt.Errorf("reset %s: list connected replicas: %w", o.Name, err)
	}
	for i := range r.RowNumber() {
		if id, _ := strconv.ParseUint(str(r, i, 0), 10, 32); uint32(id) == s.o.ServerID {
			return nil, fmt.Errorf("reset %s: %w", o.Name, ErrConnectorRunning)
		}
	}
	switch to {
	case "earliest":
		return nil, nil
	case "latest":
		off, err := s.currentPosition(conn, si)
		if err != nil {
			return nil, err
		}
		off.Snapshot = offsets.SnapshotDone
		return off, nil
	}
	file, p, ok := strings.Cut(to, ":")
	pos, err := strconv.ParseUint(p, 10, 32)
	if !ok || file == "" || err != nil {
		return nil, fmt.Errorf("reset %s: --to must be earliest, latest or a binlog position like mysql-bin.000003:4, not %q", o.Name, to)
	}
	off := &offsets.MySQL{File: file, Pos: uint32(pos), Flavor: si.flavor, Snapshot: offsets.SnapshotDone}
	if ok, err := s.positionAvailable(conn, off); err != nil {
		return nil, err
	} else if !ok {
		return nil, fmt.Errorf("reset %s: binlog file %s is not on the server (SHOW BINARY LOGS)", o.Name, file)
	}
	if si.gtid {
		// Streaming resumes by GTID set when the server has GTIDs: the set
		// executed before that position.
		if si.flavor != gomysql.MariaDBFlavor {
			return nil, fmt.Errorf("reset %s: the server uses GTIDs and MySQL has no way to tell the GTID set at %s; reset to earliest or latest", o.Name, to)
		}
		r, err := conn.Execute("SELECT BINLOG_GTID_POS(?, ?)", file, pos)
		if err != nil {
			return nil, fmt.Errorf("reset %s: GTID position at %s: %w", o.Name, to, err)
		}
		if r.RowNumber() == 0 || isNull(r, 0, 0) {
			return nil, fmt.Errorf("reset %s: %s is not a valid binlog position (BINLOG_GTID_POS is NULL)", o.Name, to)
		}
		off.GTIDs = str(r, 0, 0)
	}
	return off, nil
}
