package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Lag is how far the connector's replication slot is behind the server.
type Lag struct {
	// CurrentLSN is the server's current WAL write position.
	CurrentLSN string `json:"current_lsn"`
	// Bytes is pg_current_wal_lsn() - confirmed_flush_lsn: WAL the
	// connector has not yet committed to Kafka (and acknowledged).
	Bytes int64 `json:"lag_bytes"`
	// RetainedWALBytes is pg_current_wal_lsn() - restart_lsn: the WAL the
	// slot makes the server keep on disk.
	RetainedWALBytes int64 `json:"retained_wal_bytes"`
}

// Lag reads the replication slot's distance from the server's current WAL
// position over a short-lived regular connection. It fails when the slot
// does not exist (yet) or the server is unreachable.
func (s *Source) Lag(ctx context.Context) (Lag, error) {
	conn, err := s.connect(ctx, false)
	if err != nil {
		return Lag{}, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var l Lag
	var lagB, retained *int64
	err = conn.QueryRow(ctx, `SELECT pg_current_wal_lsn()::text,
			pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint,
			pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint
		FROM pg_replication_slots WHERE slot_name = $1`, s.o.SlotName).Scan(&l.CurrentLSN, &lagB, &retained)
	if errors.Is(err, pgx.ErrNoRows) {
		return Lag{}, fmt.Errorf("postgres source %s: replication slot %s does not exist", s.o.Name, s.o.SlotName)
	}
	if err != nil {
		return Lag{}, fmt.Errorf("postgres source %s: read slot lag: %w", s.o.Name, err)
	}
	if lagB != nil {
		l.Bytes = max(0, *lagB)
	}
	if retained != nil {
		l.RetainedWALBytes = max(0, *retained)
	}
	return l, nil
}
