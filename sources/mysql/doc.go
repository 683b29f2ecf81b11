// Package mysql is sluice's MySQL/MariaDB source: a consistent snapshot,
// then binlog streaming with go-mysql's replication.BinlogSyncer, producing
// the change events Debezium's MySQL connector produces.
//
// Snapshot: with snapshot.locking.mode minimal, FLUSH TABLES WITH READ LOCK
// is held only while a second connection starts a REPEATABLE READ
// transaction WITH CONSISTENT SNAPSHOT and the binlog position, GTID set
// and table definitions are read; with none (MariaDB), the position is the
// snapshot's own (binlog_snapshot_file/position, BINLOG_GTID_POS). Tables
// are read in primary-key order by one streaming SELECT each and committed
// to Kafka every snapshot.fetch.size rows; streaming starts at the recorded
// position.
//
// Streaming and offsets: the offset (offsets.MySQL) is the start of a
// transaction — binlog file/position and the GTID set before it — and the
// number of its row changes already written; after a complete transaction
// it is the position after its commit. A restart (or a reconnect after the
// binlog connection broke: go-mysql's own retry is off) resumes at the
// transaction start, by GTID when the server has GTIDs and gtid is not off,
// and skips the rows already written. Large transactions are split over
// several Kafka transactions and never held in memory whole.
//
// With IncludeQuery, source.query of streamed row events is the statement
// of the ROWS_QUERY (MySQL) or ANNOTATE_ROWS (MariaDB, requested with
// BINLOG_SEND_ANNOTATE_ROWS_EVENT) event before their rows events.
//
// DDL: every query event is parsed with the TiDB parser; CREATE/ALTER
// (add/drop/modify/change/rename column, primary key, rename)/RENAME/DROP
// are applied to the in-memory table definitions (statements it cannot
// apply from their text — CREATE TABLE ... LIKE/SELECT, CONVERT TO
// CHARACTER SET — read the catalog instead), a schema-change event goes to
// <topic_prefix>, and the definitions are written to the compacted schema
// history topic in the same Kafka transaction, so a restart decodes rows
// with the schema valid at the stored offset. Unparsable table DDL fails
// the connector with the statement, unless SkipUnparsableDDL.
//
// The pure decoder (table.go, types.go, decoder.go, ddl.go, apply.go,
// defaults.go, charset.go) does no I/O; the connection code is source.go,
// catalog.go, snapshot.go, stream.go, schema.go and history.go.
//
// Must not import: sinks/..., transforms, internal/...; sources hand events
// to the runtime through the Emitter interface.
package mysql
