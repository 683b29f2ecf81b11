// Package api is sluice's REST API: health and readiness, Prometheus
// metrics, and the connectors' configuration (secrets redacted), status and
// control (pause, resume, restart), in the shapes of Kafka Connect's REST
// API plus sluice's fields (position, lag, snapshot progress, rates). It
// also holds the client that `sluice status` uses.
//
// It serves a Backend (the daemon) and imports only the standard library
// and internal/runtime's state names; it must not import connectors.
package api
