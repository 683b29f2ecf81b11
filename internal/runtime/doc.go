// Package runtime runs connectors: the supervisor that starts every source
// and sink connector, restarts a failing one with exponential backoff and
// jitter while the others keep running, pauses, resumes, restarts, adds,
// removes and replaces one on request (by cancelling its run context, so it
// commits what it has in flight), and keeps each one's state and last error
// with its cause chain for the status API; the source task that wires a
// source to its offsets and its transactional Kafka writer; and the sink
// task that feeds a sink from read_committed partitions, starting at the
// offsets the sink stored in its own target, or, for a target without an
// offsets table (Elasticsearch), at the offsets committed to the group
// sluice-<name>, which it then commits after every batch. The sink task
// fetches and decodes the next batch while the sink writes the current
// one, and bounds a fetch so that it decompresses to a few MiB whatever
// the codec (fetchsize.go), so that its memory stays flat however long the
// backlog.
//
// It imports internal/kafka, internal/metrics, internal/pipeline, offsets
// and change; source and sink packages are wired in by cmd/sluice through
// plain functions.
package runtime
