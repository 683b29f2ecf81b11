package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pglogrepl"

	"github.com/sluice-cdc/sluice/offsets"
)

// ErrConnectorRunning is returned by ResetOffset while the connector holds
// its replication slot.
var ErrConnectorRunning = errors.New("the connector is running (its replication slot is active); stop it first")

// ResetOffset computes the offset that makes the connector start from to:
//
//   - "earliest": no offset (nil) — the next start behaves as a first start
//     and takes a new snapshot as its snapshot mode says;
//   - "latest": the server's current WAL position — changes committed before
//     now are not captured;
//   - an LSN such as "0/16B3748": streaming resumes after it (never before
//     the slot's confirmed position, which PostgreSQL does not go back from).
//
// It refuses while the connector's slot is active.
func ResetOffset(ctx context.Context, o Options, to string) (*offsets.Postgres, error) {
	s, err := New(o)
	if err != nil {
		return nil, err
	}
	conn, err := s.connect(ctx, false)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	slot, err := s.slotInfo(ctx, conn)
	if err != nil {
		return nil, err
	}
	if slot != nil && slot.Active {
		return nil, fmt.Errorf("reset %s: %w", o.Name, ErrConnectorRunning)
	}
	var lsn pglogrepl.LSN
	switch to {
	case "earliest":
		return nil, nil
	case "latest":
		var cur string
		if err := conn.QueryRow(ctx, "SELECT pg_current_wal_lsn()::text").Scan(&cur); err != nil {
			return nil, fmt.Errorf("reset %s: read current WAL position: %w", o.Name, err)
		}
		if lsn, err = pglogrepl.ParseLSN(cur); err != nil {
			return nil, err
		}
	default:
		if lsn, err = pglogrepl.ParseLSN(to); err != nil {
			return nil, fmt.Errorf("reset %s: --to must be earliest, latest or an LSN like 0/16B3748: %w", o.Name, err)
		}
	}
	if slot == nil {
		return nil, fmt.Errorf("reset %s: replication slot %q does not exist: only earliest is possible", o.Name, s.o.SlotName)
	}
	return &offsets.Postgres{Slot: s.o.SlotName, Snapshot: offsets.SnapshotDone, EndLSN: uint64(lsn), Complete: true}, nil
}
