// Package daemon assembles a running sluice from a configuration: the
// embedded broker or a Kafka client, the connectors under the supervisor,
// the metrics, and the REST API (it is the API's backend: statuses with
// position, lag probes and rates). Reload applies a new configuration
// connector by connector. cmd/sluice calls it; end-to-end tests run it
// in-process.
//
// It is the one package that imports configs and the connector packages
// together; it maps the YAML DTOs onto their plain option structs.
package daemon
