// Package offsets owns source positions: the offset model of each source
// kind and the offset store, a compacted Kafka topic (sluice.offsets by
// default) keyed by connector name. A source connector writes its offset
// record in the same Kafka transaction as the change records it covers, so
// the stored offset and the topics never disagree.
//
// It imports franz-go only; it must not import sources, sinks or configs.
package offsets
