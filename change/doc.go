// Package change owns sluice's event model and its Debezium-compatible wire
// format:
//
//   - the event model: Event (row changes c/u/d/r, truncates, tombstones,
//     schema changes) with its Source and Transaction blocks;
//   - Kafka Connect schemas and values: Schema, Struct (values in their
//     physical representation) and constructors for every logical type the
//     Postgres and MySQL decoders emit (DecimalSchema, MicroTimestampSchema,
//     ZonedTimestampSchema, EnumSchema, ...) with Debezium's exact names,
//     versions and parameters as constants;
//   - the Debezium JSON codec: JSONEncoder writes keys and values byte for
//     byte as Debezium 3.6 with Kafka Connect's JsonConverter does
//     (envelope before/after/source/transaction/op/ts_ms/ts_us/ts_ns,
//     io.debezium.connector.{postgresql,mysql}.Source, the schema-change
//     topic format, with or without the "schema" block); DecodeJSON and
//     DecodeJSONValue read such records back for sinks and tests;
//   - topic and schema naming: TopicFor, SchemaChangeTopic, TransactionTopic,
//     HeartbeatTopic, KeySchemaName, ValueSchemaName, EnvelopeSchemaName.
//
// Encoding is on the hot path: it appends into the caller's buffer, uses no
// reflection and caches each schema's serialised block per *Schema, so
// schemas must not be modified once events using them have been encoded.
//
// This package is a leaf: it imports nothing from sluice (only the standard
// library), so every other package, and code outside sluice, can use it.
package change
