// Package transforms owns sluice's single-message transforms: unwrap
// (Debezium ExtractNewRecordState), route (RegexRouter and
// ByLogicalTableRouter), filter (expr-lang expressions), fields, insert,
// cast, timestamp_convert, mask and outbox (Debezium's outbox event
// router), the predicates that restrict a transform to some records
// (topic_matches, is_tombstone, has_header_key, with negate), and the
// compilation of a configs.Transform list into a Chain, with validation
// errors located at the offending key.
//
// A transform is a func(*change.Event) (keep bool, err error): DESIGN's
// func(change.Event) (change.Event, bool, error) with the event passed by
// pointer, so that the hot path copies no event. It sees the record as the
// event itself (never a JSON re-encoding): the Debezium envelope (Op,
// Before, After, Source, ...) until unwrap or outbox makes it flat
// (change.Event.IsFlat: the value is After, or Value for a non-struct
// payload). Field transforms apply to the flat value, or to both Before
// and After of an envelope. The Event's fields are set in place, but the
// rows, keys and schemas it points to are never written to: a changed row
// is a new Struct, and a transform that changes a schema derives a new one
// once per input schema and reuses it, so the JSON encoder's per-schema
// caches keep working.
//
// This package imports change and configs only (plus expr-lang/expr); it
// must not import internal/..., sources or sinks: the runtime applies a
// Chain, not the other way round.
package transforms
