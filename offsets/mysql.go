package offsets

import (
	"encoding/json"
	"fmt"
)

// MySQL is the stored position of a MySQL/MariaDB source connector.
//
// File/Pos and GTIDs name the start of a transaction (the restart point):
// streaming resumes there, and the first Rows row changes of that
// transaction were already written and are skipped when the server sends
// it again. After a complete transaction the restart point is the position
// after its commit and Rows is 0.
type MySQL struct {
	Kind string `json:"kind"` // "mysql"
	// File and Pos are the binlog file and position of the restart point.
	File string `json:"file"`
	Pos  uint32 `json:"pos"`
	// GTIDs is the GTID set executed before the restart point (MariaDB
	// GTID list "0-1-5,1-2-7" or MySQL "uuid:1-5"); "" without GTIDs.
	GTIDs string `json:"gtids,omitempty"`
	// Flavor is "mariadb" or "mysql": the format of GTIDs.
	Flavor string `json:"flavor,omitempty"`
	// Rows is how many row changes of the transaction starting at the
	// restart point were written.
	Rows int64 `json:"rows"`
	// Snapshot is the state of the initial snapshot.
	Snapshot string `json:"snapshot,omitempty"`
	// TsMs is the source time of the last event written.
	TsMs int64 `json:"ts_ms,omitempty"`
	// ServerID is the server id of the source the position belongs to.
	ServerID uint32 `json:"server_id,omitempty"`
	// AdHoc lists the tables of an ad-hoc snapshot in progress; streaming
	// goes on from the position above once it is done.
	AdHoc []string `json:"adhoc_snapshot,omitempty"`
}

// Skip reports whether the index-th row change (1-based) of the
// transaction that starts at the restart point was already written.
func (o *MySQL) Skip(index int64) bool {
	return o != nil && index <= o.Rows
}

// Marshal encodes o as the offset record value.
func (o *MySQL) Marshal() []byte {
	o.Kind = "mysql"
	b, err := json.Marshal(o)
	if err != nil {
		panic(err) // plain struct: cannot fail
	}
	return b
}

// UnmarshalMySQL decodes a stored offset record value.
func UnmarshalMySQL(b []byte) (*MySQL, error) {
	var o MySQL
	if err := json.Unmarshal(b, &o); err != nil {
		return nil, fmt.Errorf("decode mysql offset: %w", err)
	}
	if o.Kind != "mysql" {
		return nil, fmt.Errorf("decode mysql offset: stored offset is of kind %q", o.Kind)
	}
	return &o, nil
}
