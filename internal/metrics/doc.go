// Package metrics owns sluice's Prometheus metrics: one Metrics value (its
// own registry, no globals) made by the daemon and handed to the runtime,
// per-connector meters that the source and sink tasks update once per
// batch (per-table children are cached, so the hot path costs a map lookup
// per table run of a batch), franz-go client hooks for bytes and producer
// errors, and a collector that turns connector status (state, restarts,
// snapshot progress, lag) into gauges at scrape time.
//
// Names follow the Prometheus conventions: sluice_ prefix, _total for
// counters, base units (seconds, bytes). It imports only the Prometheus
// client and franz-go's kgo; it must not import the runtime or connectors.
package metrics
