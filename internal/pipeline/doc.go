// Package pipeline connects a source connector to Kafka: it encodes the
// source's change events with the Debezium JSON converter and writes them,
// with the connector's offset record, through a transactional producer.
//
// It imports change and internal/kafka; it must not import sources or sinks
// (sources depend on the small Emitter interface they declare themselves).
package pipeline
