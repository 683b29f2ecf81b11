package api

import "time"

// ConnectorStatus is GET /connectors/{name}/status: Kafka Connect's shape
// (name, connector, tasks, type) plus sluice's fields.
type ConnectorStatus struct {
	Name      string         `json:"name"`
	Connector ConnectorState `json:"connector"`
	Tasks     []TaskState    `json:"tasks"`
	// Type is "source" or "sink", as in Kafka Connect.
	Type string `json:"type"`

	// ConnectorType is postgres, mysql, sql or elasticsearch.
	ConnectorType string    `json:"connector_type"`
	Since         time.Time `json:"since,omitzero"`
	// Restarts counts restarts after failures.
	Restarts  int       `json:"restarts"`
	NextRetry time.Time `json:"next_retry,omitzero"`
	// LastError stays visible after the connector recovered.
	LastError     string    `json:"last_error,omitempty"`
	LastErrorTime time.Time `json:"last_error_time,omitzero"`
	// Phase is the source's own phase while it runs: starting, snapshot,
	// streaming, finished (empty while it is paused, failed or restarting).
	Phase string `json:"phase,omitempty"`
	// Position is the current source position (Postgres LSNs, MySQL binlog
	// file/pos/GTIDs) or, for a sink, the next offsets per topic partition.
	Position map[string]any `json:"position,omitempty"`
	Lag      *Lag           `json:"lag,omitempty"`
	// Snapshot is the snapshot progress per table.
	Snapshot map[string]TableProgress `json:"snapshot,omitempty"`
	// LastEventTime is the source commit time of the last event committed
	// to Kafka.
	LastEventTime *time.Time `json:"last_event_time,omitempty"`
	// Events counts events (sink: records) committed since sluice started.
	Events          int64   `json:"events"`
	EventsPerSecond float64 `json:"events_per_second"`
	// Details are connector-specific counters (Elasticsearch: documents
	// indexed and deleted, version conflicts, retries).
	Details any `json:"details,omitempty"`
}

// ConnectorState is the connector part of a status.
type ConnectorState struct {
	State    string `json:"state"`
	WorkerID string `json:"worker_id"`
	Trace    string `json:"trace,omitempty"`
}

// TaskState is one task of a connector; sluice runs one task per
// connector.
type TaskState struct {
	ID       int    `json:"id"`
	State    string `json:"state"`
	WorkerID string `json:"worker_id"`
	// Trace is the error and its causes ("Caused by: ...").
	Trace string `json:"trace,omitempty"`
}

// Lag is how far a source is behind its database.
type Lag struct {
	// Ms is the time between the source database's commit of the last
	// committed event and its commit to Kafka.
	Ms *int64 `json:"ms,omitempty"`
	// Bytes is the WAL (Postgres: pg_current_wal_lsn() -
	// confirmed_flush_lsn) or binlog (MySQL: server position minus ours)
	// not yet committed.
	Bytes *int64 `json:"bytes,omitempty"`
	// RetainedWALBytes is what a Postgres slot makes the server keep.
	RetainedWALBytes *int64 `json:"retained_wal_bytes,omitempty"`
	// ServerPosition is the database's current log position.
	ServerPosition string `json:"server_position,omitempty"`
	// Error says why Bytes could not be measured.
	Error string `json:"error,omitempty"`
}

// TableProgress is one table's snapshot progress. Estimated is the
// database's row estimate: Postgres's when the table's snapshot started,
// MySQL's information_schema TABLE_ROWS when the status was read.
type TableProgress struct {
	Rows      int64 `json:"rows"`
	Estimated int64 `json:"estimated,omitempty"`
	Done      bool  `json:"done,omitempty"`
}

// ConnectorInfo is GET /connectors/{name}: Kafka Connect's shape with the
// configuration redacted.
type ConnectorInfo struct {
	Name   string `json:"name"`
	Type   string `json:"type"`
	Config any    `json:"config"`
	Tasks  []Task `json:"tasks"`
}

// Task names a task.
type Task struct {
	Connector string `json:"connector"`
	Task      int    `json:"task"`
}

// Error is the body of every error response, as Kafka Connect writes it.
type Error struct {
	ErrorCode int    `json:"error_code"`
	Message   string `json:"message"`
}

func (e *Error) Error() string { return e.Message }
