package sql

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sluice-cdc/sluice/change"
)

// PostgreSQL's binary COPY. The text format has the server parse every
// value with the column's input function: timestamptz_in, numeric_in and
// int8in were most of the backend's CPU in a sink's COPY, on the writer's
// path. In binary, each value arrives in the column type's own
// representation. A value is written in binary only where the result is
// the one its text form gives (a Go type and a column type that match
// exactly: an int64 into an integer column, a string into a text column,
// a decimal string into a numeric column, ...); a batch holding any other
// pairing, or a table with a column type not listed in binaryTypes, is
// copied in text as before.

// errNoBinary marks a value or a column without a binary form here.
var errNoBinary = errors.New("no binary COPY form")

// Type OIDs with a binary encoder here (pg_type.oid, fixed for built-in
// types).
const (
	oidBool        = 16
	oidBytea       = 17
	oidInt8        = 20
	oidInt2        = 21
	oidInt4        = 23
	oidText        = 25
	oidJSON        = 114
	oidFloat8      = 701
	oidBpchar      = 1042
	oidVarchar     = 1043
	oidDate        = 1082
	oidTimestamp   = 1114
	oidTimestamptz = 1184
	oidNumeric     = 1700
	oidUUID        = 2950
	oidJSONB       = 3802
)

func binaryType(oid uint32) bool {
	switch oid {
	case oidBool, oidBytea, oidInt8, oidInt2, oidInt4, oidText, oidJSON, oidFloat8, oidBpchar, oidVarchar,
		oidDate, oidTimestamp, oidTimestamptz, oidNumeric, oidUUID, oidJSONB:
		return true
	}
	return false
}

// copyBinaryHeader is the signature, no flags and no header extension.
var copyBinaryHeader = []byte("PGCOPY\n\xff\r\n\x00" + "\x00\x00\x00\x00" + "\x00\x00\x00\x00")

// copyBinary encodes rows in COPY's binary format for columns of the given
// types, or returns errNoBinary.
func copyBinary(buf []byte, oids []uint32, rows [][]any) ([]byte, error) {
	buf = append(buf, copyBinaryHeader...)
	for _, r := range rows {
		buf = binary.BigEndian.AppendUint16(buf, uint16(len(r)))
		for j, v := range r {
			var err error
			if buf, err = appendBinaryField(buf, oids[j], v); err != nil {
				return nil, err
			}
		}
	}
	return binary.BigEndian.AppendUint16(buf, 0xffff), nil
}

// pgEpochMicros is 2000-01-01T00:00:00Z in microseconds since 1970.
const pgEpochMicros = 946684800_000_000

// appendBinaryField appends v's length-prefixed binary form for a column
// of type oid.
func appendBinaryField(b []byte, oid uint32, v any) ([]byte, error) {
	if v == nil {
		return binary.BigEndian.AppendUint32(b, 0xffffffff), nil // NULL
	}
	switch x := v.(type) {
	case int64:
		switch oid {
		case oidInt8:
			b = binary.BigEndian.AppendUint32(b, 8)
			return binary.BigEndian.AppendUint64(b, uint64(x)), nil
		case oidInt4:
			if x >= math.MinInt32 && x <= math.MaxInt32 {
				b = binary.BigEndian.AppendUint32(b, 4)
				return binary.BigEndian.AppendUint32(b, uint32(int32(x))), nil
			}
		case oidInt2:
			if x >= math.MinInt16 && x <= math.MaxInt16 {
				b = binary.BigEndian.AppendUint32(b, 2)
				return binary.BigEndian.AppendUint16(b, uint16(int16(x))), nil
			}
		}
	case float64:
		if oid == oidFloat8 {
			b = binary.BigEndian.AppendUint32(b, 8)
			return binary.BigEndian.AppendUint64(b, math.Float64bits(x)), nil
		}
	case bool:
		if oid == oidBool {
			b = binary.BigEndian.AppendUint32(b, 1)
			if x {
				return append(b, 1), nil
			}
			return append(b, 0), nil
		}
	case string:
		return appendBinaryString(b, oid, x)
	case []byte:
		if oid == oidBytea {
			b = binary.BigEndian.AppendUint32(b, uint32(len(x)))
			return append(b, x...), nil
		}
	case time.Time:
		// As copyText's form: the instant's UTC wall clock, whose date a
		// date column takes.
		if !copyableTime(x) {
			break
		}
		us := x.UnixMicro() - pgEpochMicros
		switch oid {
		case oidTimestamptz, oidTimestamp:
			b = binary.BigEndian.AppendUint32(b, 8)
			return binary.BigEndian.AppendUint64(b, uint64(us)), nil
		case oidDate:
			days := change.FloorDiv(us, 86400_000_000) // the day of an instant before the epoch too
			b = binary.BigEndian.AppendUint32(b, 4)
			return binary.BigEndian.AppendUint32(b, uint32(int32(days))), nil
		}
	}
	return nil, fmt.Errorf("%w: %T into type %d", errNoBinary, v, oid)
}

// appendBinaryString appends a string's binary form for a column of type
// oid: text as is; a decimal in numeric's base-10000 digits; a UUID's 16
// bytes; json as text and jsonb as version 1 text. Text with a NUL or
// invalid UTF-8 goes the text path, whose error the server reports.
func appendBinaryString(b []byte, oid uint32, s string) ([]byte, error) {
	switch oid {
	case oidText, oidVarchar, oidBpchar, oidJSON, oidJSONB:
		if strings.IndexByte(s, 0) >= 0 || !utf8.ValidString(s) {
			break
		}
		n := len(s)
		if oid == oidJSONB {
			n++
		}
		b = binary.BigEndian.AppendUint32(b, uint32(n))
		if oid == oidJSONB {
			b = append(b, 1)
		}
		return append(b, s...), nil
	case oidNumeric:
		if out, ok := appendNumeric(b, s); ok {
			return out, nil
		}
	case oidUUID:
		if out, ok := appendUUID(b, s); ok {
			return out, nil
		}
	}
	return nil, fmt.Errorf("%w: string into type %d", errNoBinary, oid)
}

// appendNumeric appends a decimal in plain notation ("-12.340") as a
// length-prefixed numeric: digit count, weight (of the first base-10000
// digit), sign, display scale (the digits after the point, as numeric_in
// keeps them), digits. ok is false for anything but [-]digits[.digits].
func appendNumeric(b []byte, s string) (_ []byte, ok bool) {
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	ip, fp, _ := strings.Cut(s, ".")
	if ip == "" && fp == "" || !allDigits(ip) || !allDigits(fp) || len(fp) > 0x3fff || len(ip) > 131072 {
		return nil, false
	}
	dscale := len(fp)
	ip = strings.TrimLeft(ip, "0")
	// Base-10000 digits: the integer part padded on the left, the
	// fraction on the right, to whole groups of four.
	lead := (4 - len(ip)%4) % 4
	weight := (lead+len(ip))/4 - 1
	var digits []uint16
	group, n := 0, lead
	add := func(c byte) {
		group = group*10 + int(c-'0')
		if n++; n == 4 {
			digits = append(digits, uint16(group))
			group, n = 0, 0
		}
	}
	for i := 0; i < len(ip); i++ {
		add(ip[i])
	}
	for i := 0; i < len(fp); i++ {
		add(fp[i])
	}
	if n > 0 {
		for ; n < 4; n++ {
			group *= 10
		}
		digits = append(digits, uint16(group))
	}
	for len(digits) > 0 && digits[0] == 0 {
		digits = digits[1:]
		weight--
	}
	for len(digits) > 0 && digits[len(digits)-1] == 0 {
		digits = digits[:len(digits)-1]
	}
	sign := uint16(0x0000)
	switch {
	case len(digits) == 0:
		weight = 0 // zero: positive, whatever its sign
	case neg:
		sign = 0x4000
	}
	b = binary.BigEndian.AppendUint32(b, uint32(8+2*len(digits)))
	b = binary.BigEndian.AppendUint16(b, uint16(len(digits)))
	b = binary.BigEndian.AppendUint16(b, uint16(int16(weight)))
	b = binary.BigEndian.AppendUint16(b, sign)
	b = binary.BigEndian.AppendUint16(b, uint16(dscale))
	for _, d := range digits {
		b = binary.BigEndian.AppendUint16(b, d)
	}
	return b, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// appendUUID appends a UUID in its canonical form (8-4-4-4-12 hex digits)
// as 16 bytes; ok is false for any other form, which the text path takes.
func appendUUID(b []byte, s string) (_ []byte, ok bool) {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return nil, false
	}
	var u [16]byte
	n := 0
	for _, part := range [...]string{s[:8], s[9:13], s[14:18], s[19:23], s[24:]} {
		m, err := hex.Decode(u[n:], []byte(part))
		if err != nil {
			return nil, false
		}
		n += m
	}
	b = binary.BigEndian.AppendUint32(b, 16)
	return append(b, u[:]...), true
}

// columnOIDs returns the types of t's columns cols, read from the catalog
// once per table (again when a column is new to it or after a failed
// binary COPY), or nil when one has no binary encoder here.
func (s *Sink) columnOIDs(ctx context.Context, tx *txn, t *table, cols []string) ([]uint32, error) {
	fresh := false
	for _, c := range cols {
		if _, ok := t.oids[c]; !ok {
			fresh = true
			break
		}
	}
	if fresh {
		rows, err := tx.QueryContext(ctx, "SELECT attname, atttypid::int8 FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped", t.q)
		if err != nil {
			return nil, fmt.Errorf("sql sink: column types of %s: %w", t.q, err)
		}
		defer rows.Close()
		oids := map[string]uint32{}
		for rows.Next() {
			var name string
			var oid int64
			if err := rows.Scan(&name, &oid); err != nil {
				return nil, fmt.Errorf("sql sink: column types of %s: %w", t.q, err)
			}
			oids[name] = uint32(oid)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("sql sink: column types of %s: %w", t.q, err)
		}
		t.oids = oids
	}
	out := make([]uint32, len(cols))
	for i, c := range cols {
		oid, ok := t.oids[c]
		if !ok || !binaryType(oid) {
			return nil, nil
		}
		out[i] = oid
	}
	return out, nil
}
