package change

// Op is the Debezium operation code of a change event.
type Op string

// Operation codes, as Debezium writes them in the envelope's "op" field.
const (
	OpCreate   Op = "c"
	OpUpdate   Op = "u"
	OpDelete   Op = "d"
	OpRead     Op = "r" // snapshot read
	OpTruncate Op = "t"
)

// Event is one change: a row insert/update/delete/read, a table truncate, a
// tombstone following a delete, or a schema change. It is the single value
// type that flows from a source, through transforms, into a topic, and back
// out of a topic into a sink.
//
// Row values (Key, Before, After) hold Kafka Connect values in their
// physical representation (see Struct); the codec only serialises them.
type Event struct {
	// Topic the event is written to.
	Topic string
	// Op is empty for tombstones and schema changes.
	Op Op
	// Key is the message key: the primary key (or configured message key)
	// columns. Nil for tables without a key: the message key is null.
	Key *Struct
	// RowSchema is the struct schema of the table's rows (the schema of
	// Before and After). Set for row events and truncate events (Debezium
	// writes a truncate with the table's envelope schema), nil otherwise.
	// The JSON codec always writes it as optional in the envelope (before
	// and after may be null), as Debezium builds it.
	RowSchema *Schema
	// Before is the row before the change (updates, deletes), After the row
	// after it (creates, updates, reads). Either may be nil.
	Before, After *Struct
	// Source describes where in the source the change happened.
	Source Source
	// TsUs is when sluice processed the event, in microseconds since the epoch.
	TsUs int64
	// Transaction is the transaction block, nil unless transaction metadata
	// is enabled.
	Transaction *Transaction
	// Tombstone marks the null-valued record that follows a delete so that
	// log compaction can drop the key.
	Tombstone bool
	// SchemaChange is set for schema-change events (Op is empty).
	SchemaChange *SchemaChange

	// KeySchema and KeyValue are a record key that is not a struct, such
	// as an outbox event's aggregate id; Key is nil then.
	KeySchema *Schema
	KeyValue  any
	// Value is the record value of a flat event (see IsFlat) whose
	// RowSchema is not a struct, such as an outbox event's payload; flat
	// struct values are held in After.
	Value any
	// Headers are the Kafka record headers: added by transforms on the
	// source side, read from the record on the sink side.
	Headers []Header
}

// Header is a Kafka record header.
type Header struct {
	Key   string
	Value []byte
}

// IsFlat reports whether e's record value is not an envelope but a row (or
// another value) of schema RowSchema, as an unwrap (ExtractNewRecordState)
// or outbox transform writes it: Op is empty, the value is After (struct
// schemas) or Value (other schemas).
func (e *Event) IsFlat() bool {
	return e.Op == "" && e.SchemaChange == nil && !e.Tombstone && e.RowSchema != nil
}

// IsRow reports whether e is a row change (c/u/d/r).
func (e *Event) IsRow() bool {
	switch e.Op {
	case OpCreate, OpUpdate, OpDelete, OpRead:
		return true
	}
	return false
}

// Source is the envelope's "source" block. Which fields are written depends
// on Connector ("postgresql" or "mysql"); zero values of optional fields are
// written as null.
type Source struct {
	Version   string // sluice's Debezium-compatible version string
	Connector string // "postgresql" | "mysql"
	Name      string // logical server name (topic_prefix)
	TsUs      int64  // commit time in the source database, µs since epoch
	// Snapshot is one of SnapshotValues: "true", "first",
	// "first_in_data_collection", "last_in_data_collection", "last",
	// "false", "incremental". "" means "false" (the decoder returns
	// "false", as written on the wire).
	Snapshot string
	DB       string
	Sequence string // Postgres: JSON array ["<last commit lsn>","<lsn>"]
	Schema   string // Postgres schema
	Table    string

	// Postgres
	TxID      int64  // 0 = null
	LSN       int64  // 0 = null
	Xmin      int64  // 0 = null
	Origin    string // replication origin name (Debezium 3.5+ "origin"); "" = null
	OriginLSN int64  // replication origin LSN (Debezium 3.5+ "origin_lsn"); 0 = null

	// MySQL
	File     string
	Pos      int64
	Row      int32
	GTID     string // "" = null
	ServerID int64
	Thread   int64  // 0 = null
	Query    string // "" = null
}

// Transaction is the envelope's "transaction" block.
type Transaction struct {
	ID                  string // Postgres: "<txid>:<commit lsn>"; MySQL: GTID or file:pos
	TotalOrder          int64  // position of the event among all events of the transaction, from 1
	DataCollectionOrder int64  // position among the transaction's events of the same table, from 1
}

// SchemaChange is a schema-change event in Debezium's schema change topic
// format (io.debezium.connector.*.SchemaChangeValue).
type SchemaChange struct {
	DatabaseName string
	SchemaName   string
	DDL          string
	TableChanges []TableChange
}

// TableChange describes one table affected by a schema change.
type TableChange struct {
	Type  string // "CREATE" | "ALTER" | "DROP"
	ID    string // fully qualified, quoted: "\"public\".\"customers\"" / "\"inventory\".\"customers\""
	Table TableSchema
}

// TableSchema is the table block of a TableChange.
type TableSchema struct {
	DefaultCharsetName    string
	PrimaryKeyColumnNames []string
	Columns               []ColumnSchema
	Comment               string
}

// ColumnSchema describes one column of a TableSchema.
type ColumnSchema struct {
	Name            string
	JdbcType        int32  // java.sql.Types code
	NativeType      int32  // 0 = null (Postgres: the type OID)
	TypeName        string // e.g. "int4", "varchar", "numeric"
	TypeExpression  string // e.g. "varchar(255)", "numeric(10,2)"
	CharsetName     string // "" = null
	Length          int32  // 0 = null
	Scale           *int32 // nil = null
	Position        int32  // 1-based
	Optional        bool
	AutoIncremented bool
	Generated       bool
	Comment         string // "" = null
	DefaultValue    string // "" = null (defaultValueExpression)
	EnumValues      []string
}
