// Package sql is the SQL sink: it materialises change events into tables of
// a PostgreSQL (pgx), MySQL/MariaDB (go-sql-driver/mysql) or SQLite
// (modernc.org/sqlite, pure Go) database.
//
// Exactly-once: a batch of records becomes one database transaction holding
// the rows and the consumed Kafka offsets (table sluice_offsets: sink,
// topic, partition, next_offset); the consumer starts every partition at
// the stored offset. The offsets row is moved with a compare-and-set, so a
// second instance of the same sink writing to the same database fails
// instead of applying a change twice. Since the offsets commit with the
// rows, a commit need not be synced to disk to keep exactly-once: SQLite
// runs in WAL mode with synchronous=NORMAL (a power loss may roll back the
// last batches, offsets included, and they are applied again from Kafka).
//
// Records: c/r/u upsert (or insert, or update, per insert_mode) the after
// image; d and tombstones delete by key when delete_enabled; t empties the
// table; a schema-change event (when the sink reads the <topic_prefix>
// topic) adds the columns its CREATE/ALTER table changes define to existing
// tables, with auto_evolve (otherwise columns are added when a record
// carrying them arrives). Rows flattened by an unwrap transform (no
// envelope) are upserted. A batch is compacted per table and key (the last
// change of a key wins; a truncate drops what came before it) and written
// with multi-row statements, or on PostgreSQL, for groups of 64 rows or
// more, with COPY FROM STDIN (upserts of 256 rows or more: COPY into a
// temporary staging table, then INSERT ... SELECT ... ON CONFLICT), in
// binary format when every column type and value of the group has a
// binary form in copybinary.go (integers, float8, bool, text types, bytea,
// date, timestamp(tz), numeric, json(b), uuid), else in text, in the
// same transaction as the offsets (on SQLite, full-size multi-row INSERTs
// are prepared once and kept on the connection); if the database rejects
// it, the batch is replayed record by record inside savepoints to find the
// records that fail, which go to the Reject callback (dead-letter topic or
// stop).
// Tables without a key (null record keys) take inserts only: an update or
// delete of such a row is rejected, since nothing identifies the target row.
//
// Tables are created (auto_create) and widened with nullable columns
// (auto_evolve; never dropped) from the records' Kafka Connect schemas
// before the batch's transaction starts: MySQL commits implicitly on DDL.
// Column types per dialect (postgres.go, mysql.go, sqlite.go):
//
//	Connect / Debezium type           PostgreSQL        MySQL/MariaDB      SQLite
//	int8, int16 / int32 / int64       smallint/int/bigint SMALLINT/INT/BIGINT INTEGER
//	float32 / float64                 real / double     FLOAT / DOUBLE     REAL
//	boolean                           boolean           BOOLEAN            INTEGER 0/1
//	string (enum, xml, inet, ...)     text              LONGTEXT (key: VARCHAR(255)) TEXT
//	bytes                             bytea             LONGBLOB (key: VARBINARY(255)) BLOB
//	Decimal(p,s)                      numeric(p,s)      DECIMAL(p,s)       TEXT (exact)
//	VariableScaleDecimal              numeric           DECIMAL(65,30)     TEXT (exact)
//	Date                              date              DATE               TEXT YYYY-MM-DD
//	Time, MicroTime, NanoTime         time(6)           TIME(6)            TEXT
//	Timestamp, Micro-, NanoTimestamp  timestamp(6)      DATETIME(6)        TEXT
//	ZonedTimestamp                    timestamptz(6)    DATETIME(6) in UTC TEXT ISO-8601 Z
//	ZonedTime                         timetz(6)         VARCHAR(32)        TEXT
//	MicroDuration, NanoDuration       interval          BIGINT µs          INTEGER µs
//	Json                              jsonb             JSON               TEXT
//	Uuid                              uuid              CHAR(36)           TEXT
//	arrays, maps, structs             jsonb             JSON               TEXT (JSON)
//
// Key columns are NOT NULL and form the primary key; other columns are
// nullable. Values always go through placeholders; identifiers are always
// quoted.
//
// It imports change only; the Kafka consumer that feeds it lives in
// internal/runtime.
package sql
