package offsets

import (
	"encoding/json"
	"fmt"
)

// Snapshot states stored in an offset.
const (
	SnapshotNone    = ""        // no snapshot taken (snapshot: never)
	SnapshotRunning = "running" // an initial snapshot was in progress
	SnapshotDone    = "done"    // the initial snapshot is complete
)

// Postgres is the stored position of a PostgreSQL source connector.
//
// Streaming resumes after the transaction whose commit LSN is CommitLSN: if
// Complete is false, the first Events events of that transaction were
// already written and are skipped when it is replayed.
type Postgres struct {
	Kind string `json:"kind"` // "postgres"
	Slot string `json:"slot"`
	// CommitLSN is the commit LSN (the LSN of the commit record, as in the
	// BEGIN message) of the last transaction written, 0 before the first.
	CommitLSN uint64 `json:"commit_lsn"`
	// EndLSN is the end LSN of that transaction's commit record, once
	// Complete: the position to confirm to the replication slot.
	EndLSN uint64 `json:"end_lsn,omitempty"`
	// Events is how many events of that transaction were written.
	Events int64 `json:"events"`
	// Complete is true when every event of the transaction was written.
	Complete bool `json:"complete"`
	// TxID is the transaction id of CommitLSN's transaction.
	TxID uint32 `json:"txid,omitempty"`
	// Snapshot is the state of the initial snapshot.
	Snapshot string `json:"snapshot,omitempty"`
	// SnapshotLSN is the slot's consistent point the snapshot was taken at.
	SnapshotLSN uint64 `json:"snapshot_lsn,omitempty"`
	// TsUs is the source commit time of CommitLSN's transaction.
	TsUs int64 `json:"ts_us,omitempty"`
	// AdHoc lists the tables of an ad-hoc snapshot in progress; streaming
	// goes on from the position above once it is done.
	AdHoc []string `json:"adhoc_snapshot,omitempty"`
}

// Skip reports whether the index-th event (1-based) of the transaction that
// commits at commitLSN was already written according to o.
func (o *Postgres) Skip(commitLSN uint64, index int64) bool {
	if o == nil || o.CommitLSN == 0 {
		return false
	}
	if commitLSN < o.CommitLSN {
		return true
	}
	if commitLSN > o.CommitLSN {
		return false
	}
	return o.Complete || index <= o.Events
}

// Marshal encodes o as the offset record value.
func (o *Postgres) Marshal() []byte {
	o.Kind = "postgres"
	b, err := json.Marshal(o)
	if err != nil {
		panic(err) // plain struct: cannot fail
	}
	return b
}

// UnmarshalPostgres decodes a stored offset record value.
func UnmarshalPostgres(b []byte) (*Postgres, error) {
	var o Postgres
	if err := json.Unmarshal(b, &o); err != nil {
		return nil, fmt.Errorf("decode postgres offset: %w", err)
	}
	if o.Kind != "postgres" {
		return nil, fmt.Errorf("decode postgres offset: stored offset is of kind %q", o.Kind)
	}
	return &o, nil
}
