// Package sources holds what every source connector shares: the Emitter a
// source writes through, table-pattern matching, and the marker for errors
// a restart cannot fix. The connectors live in sources/postgres and
// sources/mysql; this package imports only change.
package sources

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/sluice-cdc/sluice/change"
)

// Emitter receives a source's events. Emit adds events to the open batch;
// Commit makes the batch and the offset durable together (one Kafka
// transaction) and only then returns nil.
type Emitter interface {
	Emit(ctx context.Context, evs []change.Event) error
	Heartbeat(ctx context.Context, serverName string, tsMs int64) error
	Commit(ctx context.Context, offset []byte) error
}

// CompilePatterns compiles table patterns, each anchored on the whole name.
func CompilePatterns(pats []string) ([]*regexp.Regexp, error) {
	out := make([]*regexp.Regexp, 0, len(pats))
	for _, p := range pats {
		re, err := regexp.Compile("^(?:" + p + ")$")
		if err != nil {
			return nil, fmt.Errorf("pattern %q: %w", p, err)
		}
		out = append(out, re)
	}
	return out, nil
}

// MatchAny reports whether one of res matches s.
func MatchAny(res []*regexp.Regexp, s string) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

// PermanentError marks errors that a restart cannot fix (configuration or
// server setup): the supervisor stops the connector instead of retrying.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string   { return e.Err.Error() }
func (e *PermanentError) Unwrap() error   { return e.Err }
func (e *PermanentError) Permanent() bool { return true }

// Permanent formats an error (with %w support) and marks it permanent.
func Permanent(format string, args ...any) error {
	return &PermanentError{fmt.Errorf(format, args...)}
}

// Mode returns the value of a mode option, or def when it is empty, and an
// error naming the option when the value is not one of allowed.
func Mode(option, value, def string, allowed ...string) (string, error) {
	if value == "" {
		value = def
	}
	if slices.Contains(allowed, value) {
		return value, nil
	}
	list := allowed[len(allowed)-1]
	if len(allowed) > 1 {
		list = strings.Join(allowed[:len(allowed)-1], ", ") + " or " + list
	}
	return "", fmt.Errorf("%s %q: want %s", option, value, list)
}

// SnapshotTs is a snapshot row's processing time (the envelope's ts_ms):
// when its chunk was read (src.TsUs), as for the rest of the chunk, or
// else now. One clock read per chunk rather than per row, and the encoder
// writes the timestamps of a chunk's rows once.
func SnapshotTs(src change.Source, now func() time.Time) int64 {
	if src.TsUs != 0 {
		return src.TsUs
	}
	return now().UnixMicro()
}
