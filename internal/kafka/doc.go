// Package kafka wires sluice to Kafka: client options (SASL, TLS) from plain
// option structs, the embedded Kafka-protocol broker (kfake) that runs when no
// brokers are configured, on-demand topic creation, and the transactional
// writer a source connector uses to commit change records together with its
// offset record.
//
// It imports change and offsets only; it must not import sources, sinks or
// configs.
package kafka
