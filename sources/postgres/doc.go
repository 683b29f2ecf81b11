// Package postgres is sluice's PostgreSQL source: an initial snapshot
// consistent with a logical replication slot, then pgoutput streaming, both
// producing the change events Debezium's PostgreSQL connector (3.6)
// produces.
//
// The package has two halves. The connection code (source.go, snapshot.go,
// stream.go, catalog.go) owns the replication slot, the publication, the
// snapshot transaction, the replication loop and catalog queries. The pure
// decoders (decoder.go, types.go, schemas.go) do no I/O: Decoder turns
// pgoutput messages and snapshot rows into change.Event values, and the type
// mapping (ColumnSchema, DecodeText) follows Debezium's "Data type mappings"
// for time.precision.mode adaptive, adaptive_time_microseconds and connect,
// decimal.handling.mode, interval.handling.mode, binary.handling.mode and
// unavailable.value.placeholder.
//
// Text formats: values are decoded from PostgreSQL's text output, as
// pgoutput sends them and as a simple-protocol snapshot query returns them.
// The sessions must use DateStyle ISO, IntervalStyle postgres (postgres_verbose,
// sql_standard and iso_8601 are understood too) and bytea_output hex;
// timestamptz values may be in any TimeZone since they carry their offset.
//
// Types without a Debezium mapping (tsquery, pg_lsn, box, circle, line,
// lseg, path, polygon, multiranges, composite types, ...): with
// include.unknown.datatypes off the column is left out of the schema and of
// every event; with it on, the column carries the UTF-8 bytes of the
// value's text, as bytes or as a base64/hex string per binary.handling.mode.
// Arrays Debezium never maps (money[], name[], interval[], varbit[], xml[],
// point[], refcursor[]) are always left out.
//
// Where Debezium 3.6 fails or emits meaningless data, sluice does this:
// multi-dimensional arrays are flattened in row-major order (Debezium emits
// nulls or Java object names); time[] elements keep microseconds (Debezium
// truncates them to milliseconds); bit[] is an array of the element schema;
// arrays of unmapped element types carry the elements' text bytes when
// include.unknown.datatypes is on; timetz 24:00:00 with a non-zero offset is
// moved to UTC like other values. Values Debezium's default
// event.converting.failure.handling.mode=warn turns into null (NaN or
// infinity in a precise decimal, an unchanged-TOAST placeholder a type
// cannot hold) are null in optional columns and an error in NOT NULL ones.
//
// Must not import: sinks/..., transforms, internal/runtime (or anything
// else under internal/ that starts processes); sources hand events to the
// runtime through the Emitter interface. decoder.go, types.go and
// schemas.go import only change, sources and pglogrepl.
package postgres
