package configs

import (
	"fmt"
	"sort"
	"strings"
)

// Error is one problem in a configuration file.
//
// Its text reads "file:line:col: key: msg", for example
//
//	quickstart.yaml:12:5: sources[0].snapshott: unknown key (did you mean "snapshot"?)
//
// Parts that are unknown (no file, no position, no key) are left out.
type Error struct {
	// File is the file name as given to Load or Parse.
	File string
	// Line and Column are 1-based; 0 when unknown.
	Line, Column int
	// Key is the dotted path of the offending key, such as
	// "sources[0].snapshot" or `sources[0].message.key.columns["public.orders"]`.
	Key string
	// Msg says what is wrong.
	Msg string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteByte(':')
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "%d:", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, "%d:", e.Column)
		}
	}
	if b.Len() > 0 {
		b.WriteByte(' ')
	}
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in a configuration, sorted by position.
// Load, Parse and Validate return it (never empty) when a configuration is
// invalid; errors.As finds the individual *Error values too.
type Errors []*Error

// Error prints one problem per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the individual errors.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

func (es Errors) sort() {
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].Line != es[j].Line {
			return es[i].Line < es[j].Line
		}
		return es[i].Column < es[j].Column
	})
}

// errOrNil returns nil for no errors, else the sorted Errors.
func (es Errors) errOrNil() error {
	if len(es) == 0 {
		return nil
	}
	es.sort()
	return es
}

func sprintf(format string, args ...any) string {
	if len(args) == 0 {
		return format
	}
	return fmt.Sprintf(format, args...)
}
