// Package e2e holds the end-to-end tests: they start throwaway database
// servers (internal/harness), run sluice's real runtime or binary against
// them with the embedded broker, write to the database, read the topics or
// the targets, and compare exactly.
package e2e
