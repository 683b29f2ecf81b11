package sql

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/sluice-cdc/sluice/change"
)

// PostgreSQL's bulk path: COPY ... FROM STDIN, in binary where every
// column and value of the batch has a binary form (copybinary.go), else in
// text format, inside the
// batch's transaction (the offsets row is written in the same one).
// Inserts are copied into the table; upserts are copied into a temporary
// staging table (dropped at commit) and moved with one INSERT ... SELECT
// ... ON CONFLICT (without the TEMPORARY privilege on the database, upserts
// stay multi-row INSERTs). Values are written as PostgreSQL's text input, which
// the server parses with the column's input function, as it does the
// text parameters of an INSERT. A batch holding a value that has no
// text form here (a timestamp outside years 1-9999) takes the multi-row
// INSERT path instead.

// copyMinRows is the fewest rows worth a COPY (a staging table for
// upserts); smaller groups use multi-row INSERTs.
const (
	copyMinRows   = 64
	upsertMinRows = 256
)

// errNoCopy marks a value that has no text form in copyText.
var errNoCopy = errors.New("value has no COPY text form")

// canCopy reports whether rows are worth and fit for a COPY.
func (s *Sink) canCopy(n int, upsert bool) bool {
	if _, ok := s.d.(postgres); !ok {
		return false
	}
	if upsert {
		return s.canStage && n >= upsertMinRows
	}
	return n >= copyMinRows
}

// copyText encodes rows in COPY's text format.
func copyText(buf []byte, rows [][]any) ([]byte, error) {
	for _, r := range rows {
		for j, v := range r {
			if j > 0 {
				buf = append(buf, '\t')
			}
			var err error
			if buf, err = appendCopyValue(buf, v); err != nil {
				return nil, err
			}
		}
		buf = append(buf, '\n')
	}
	return buf, nil
}

func appendCopyValue(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, `\N`...), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case float64:
		switch {
		case math.IsNaN(x):
			return append(b, "NaN"...), nil
		case math.IsInf(x, 1):
			return append(b, "Infinity"...), nil
		case math.IsInf(x, -1):
			return append(b, "-Infinity"...), nil
		}
		return strconv.AppendFloat(b, x, 'g', -1, 64), nil
	case bool:
		if x {
			return append(b, 't'), nil
		}
		return append(b, 'f'), nil
	case string:
		return appendCopyString(b, x), nil
	case []byte:
		// bytea's hex form \x..., its backslash escaped for COPY.
		b = append(b, `\\x`...)
		const hex = "0123456789abcdef"
		for _, c := range x {
			b = append(b, hex[c>>4], hex[c&0xf])
		}
		return b, nil
	case time.Time:
		// An instant in UTC with its offset: a timestamptz column takes
		// the instant, a timestamp column the UTC wall clock (a zone in
		// its input is ignored), a date column the date.
		// Written as "2006-01-02 15:04:05.999999+00" (time.AppendFormat
		// takes five times as long).
		if !copyableTime(x) {
			return nil, errNoCopy
		}
		n := len(b)
		b = change.AppendZonedTimestamp(b, x.UnixMicro(), 0) // 2006-01-02T15:04:05.999999Z
		b[n+10] = ' '
		return append(b[:len(b)-1], "+00"...), nil
	}
	return nil, fmt.Errorf("%w: %T", errNoCopy, v)
}

// copyableTime reports whether t's UTC year is 1-9999, the years a
// timestamp has a COPY form for here (text or binary).
func copyableTime(t time.Time) bool {
	y := t.UTC().Year()
	return y >= 1 && y <= 9999
}

// appendCopyString escapes backslash, newline, carriage return and tab.
func appendCopyString(b []byte, s string) []byte {
	for {
		i := strings.IndexAny(s, "\\\n\r\t")
		if i < 0 {
			return append(b, s...)
		}
		b = append(b, s[:i]...)
		switch s[i] {
		case '\\':
			b = append(b, `\\`...)
		case '\n':
			b = append(b, `\n`...)
		case '\r':
			b = append(b, `\r`...)
		case '\t':
			b = append(b, `\t`...)
		}
		s = s[i+1:]
	}
}

// copyRows copies rows into t's columns cols, or into the staging table
// into when it is set, in the transaction: in binary where every column
// and value has a binary form (copybinary.go), else in text. It returns
// errNoCopy, having written nothing, when a value has no text form.
func (s *Sink) copyRows(ctx context.Context, tx *txn, t *table, into string, cols []string, rows [][]any) (int, error) {
	if into == "" {
		into = t.q
	}
	q := "COPY " + into + " (" + s.columnList(cols) + ") FROM STDIN"
	oids, err := s.columnOIDs(ctx, tx, t, cols)
	if err != nil {
		return 0, err
	}
	buf := make([]byte, 0, 256*len(rows))
	var data []byte
	binary := oids != nil
	if binary {
		data, err = copyBinary(buf, oids, rows)
		if binary = err == nil; binary {
			q += " (FORMAT binary)"
		} else if !errors.Is(err, errNoBinary) {
			return 0, err
		}
	}
	if !binary {
		if data, err = copyText(buf, rows); err != nil {
			return 0, err
		}
	}
	err = tx.conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("sql sink: COPY needs a pgx connection, not %T", dc)
		}
		_, err := c.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(data), q)
		return err
	})
	if err != nil {
		if binary {
			// The column types may have changed since they were read:
			// read them again (see binaryCopyError).
			t.oids = nil
			return 0, &binaryCopyError{err}
		}
		return 0, err
	}
	s.copied += len(rows)
	if binary {
		s.copiedBinary += len(rows)
	}
	return len(rows), nil
}

// binaryCopyError is a failed binary COPY. A column whose type changed
// behind the sink's back (ALTER COLUMN ... TYPE) makes the server refuse
// values encoded for the old type, often with a protocol violation that
// is no record's fault; Write applies such a batch once more, with the
// types read again.
type binaryCopyError struct{ err error }

func (e *binaryCopyError) Error() string { return "binary COPY: " + e.err.Error() }
func (e *binaryCopyError) Unwrap() error { return e.err }

// copyUpsert upserts rows through a staging table: COPY into a temporary
// table shaped like the target's columns (dropped at commit), then one
// INSERT ... SELECT ... ON CONFLICT. The rows' keys are distinct (the
// batch is compacted per key).
func (s *Sink) copyUpsert(ctx context.Context, tx *txn, t *table, cols, pk []string, rows [][]any) (int, error) {
	tx.n++
	stage := s.d.quote(fmt.Sprintf("sluice_stage_%d", tx.n))
	list := s.columnList(cols)
	if _, err := tx.ExecContext(ctx, "CREATE TEMPORARY TABLE "+stage+" ON COMMIT DROP AS SELECT "+list+" FROM "+t.q+" WITH NO DATA"); err != nil {
		return 0, err
	}
	// The staging table's columns have the target's types.
	if _, err := s.copyRows(ctx, tx, t, stage, cols, rows); err != nil {
		return 0, err // errNoCopy: the empty staging table goes at commit
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO "+t.q+" ("+list+") SELECT "+list+" FROM "+stage+s.d.upsertSuffix(pk, cols)); err != nil {
		return 0, err
	}
	return len(rows), nil
}
