// Package mysql is sluice's MySQL/MariaDB source: a consistent snapshot
// (START TRANSACTION WITH CONSISTENT SNAPSHOT with the binlog position read
// under a short global read lock), then binlog streaming with go-mysql's
// replication.BinlogSyncer, producing the change events Debezium's MySQL
// connector produces.
//
// The pure decoder (table.go, types.go, decoder.go, ddl.go) does no I/O:
// Decoder turns binlog row images and snapshot rows into change.Event
// values following Debezium's MySQL type mapping. The connection code
// (source.go, catalog.go, snapshot.go, stream.go) owns the connections,
// the snapshot transaction and the replication loop.
//
// Must not import: sinks/..., transforms, internal/...; sources hand events
// to the runtime through the Emitter interface.
package mysql
