// Package elasticsearch is the Elasticsearch sink: it materialises change
// events into indices of Elasticsearch 7.x/8.x or OpenSearch 1.x/2.x over
// their documented REST API (typeless _bulk, PUT /<index>, HEAD /<index>,
// _index_template), with plain net/http and encoding/json: the official
// client refuses servers that are not Elasticsearch.
//
// Documents: the _id is the record key. A single-field key is its value as
// text (42, "abc", base64 for bytes, ISO dates); a composite key is the
// JSON array of its values in key-schema order ([42,"EU"]). A record
// without a key is indexed under "<topic>+<partition>+<offset>" (Kafka
// Connect's key.ignore id) and cannot be deleted. c/u/r events and rows
// flattened by the unwrap transform index the after image (the row as a
// JSON object, fields in schema order); d deletes; a tombstone deletes,
// is skipped or is rejected per behavior.on.null.values; truncates are
// rejected (they cannot be applied idempotently); schema-change events are
// skipped.
//
// Exactly-once: every action carries version_type=external with the
// record's Kafka offset as version. Offsets only grow per partition and a
// key always lands in one partition, so a replay after a crash is a
// version conflict (409 version_conflict_engine_exception), which counts
// as done, and an older change never replaces a newer one (a delete leaves
// a versioned tombstone for index.gc_deletes, 60s by default; after a
// longer outage a replayed write may briefly bring back a document deleted
// later in the replayed range, until the replay reaches the delete again).
// Within a batch the last change per document wins. A topic that is
// deleted and recreated restarts its offsets: its writes then lose against
// the index's higher versions (recreate the index too). The index stores no consumer offsets:
// Positions returns nil and the runtime commits the consumer group
// sluice-<name> synchronously after Write returned, that is after every
// action of the batch is durable, superseded or rejected. Several topics
// written into one index must not share keys: their offsets are not
// comparable.
//
// Errors: transport failures, 429 and 5xx answers are retried with
// exponential backoff and jitter (at least Retry-After) for RetryTimeout;
// throttled or failed items of a bulk response are resent, in order,
// before anything later of the same lane. Other item failures (a mapping
// conflict, a malformed document) go to the Reject callback with the
// server's error type and reason (ItemError; dead-letter headers
// sluice.es.error.*). 404 on a delete counts as done. concurrency lanes
// send bulk requests in parallel; a document always goes to the same lane
// (hash of index and id), so its writes stay in order.
//
// Index management (auto_create): an index is created before its first
// write with a mapping derived from the record schema, unless it exists
// (resource_already_exists_exception is fine) or an index template is
// configured (then the template decides). Fields a schema carries that the
// index's mapping lacks (a new column) are added with PUT _mapping before
// the first document that holds them; mapped fields are never changed.
// Derived types:
//
//	Connect / Debezium type                      mapping
//	int8/int16/int32/int64, Year                 byte/short/integer/long, integer
//	float32 / float64, VariableScaleDecimal      float / double, double
//	Decimal(p<=15, s) (decimal mode precise)     scaled_float, scaling_factor 10^s; else double
//	double / string decimal modes                double / text+keyword (the column's schema type)
//	boolean                                      boolean
//	string, Json, Xml                            text with a keyword sub-field (ignore_above 256)
//	Uuid, Enum, EnumSet, ZonedTime, Interval     keyword
//	Date, Timestamp, Micro/NanoTimestamp,        date (strict_date_optional_time||epoch_millis),
//	  ZonedTimestamp, Connect Date/Timestamp       values written as ISO-8601 UTC strings
//	Time, MicroTime, NanoTime                    keyword, "HH:MM:SS[.ffffff]"
//	MicroDuration, NanoDuration                  long (as in the record)
//	bytes, Bits                                  binary (base64)
//	struct / array / map                         object with properties / the item's type / object
//
// Records without a schema block leave the mapping to dynamic mapping.
//
// It imports change only; the Kafka consumer that feeds it lives in
// internal/runtime.
package elasticsearch
