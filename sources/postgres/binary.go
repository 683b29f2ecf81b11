package postgres

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/sluice-cdc/sluice/change"
)

// The snapshot reads fixed-width columns (integers, floats, booleans,
// dates, times and timestamps) in PostgreSQL's binary format: the server
// sends them without formatting them (timestamptz_out alone is a fifth of
// the server's CPU on a table with one), and the decoder reads them without
// parsing. The values decoded are the text decoders' exactly
// (TestBinarySnapshotMatchesText). Streaming (pgoutput) stays text.

// pgEpochDays is 2000-01-01, PostgreSQL's epoch for dates and timestamps,
// in days since 1970-01-01.
const pgEpochDays = 10957

// binaryDecoder returns the binary-format decoder of a column of kind k,
// giving the values its text decoder gives, or nil when the column is read
// as text.
func binaryDecoder(k kind, c Column, cfg *config) decodeFunc {
	switch k {
	case kindInt16:
		return func(b []byte, _ *arena) (any, error) {
			v, err := binInt(b, 2)
			return int16(v), err
		}
	case kindInt32:
		return func(b []byte, _ *arena) (any, error) {
			v, err := binInt(b, 4)
			return int32(v), err
		}
	case kindInt64:
		return func(b []byte, _ *arena) (any, error) { return binInt(b, 8) }
	case kindFloat32:
		return func(b []byte, _ *arena) (any, error) {
			v, err := binInt(b, 4)
			return math.Float32frombits(uint32(v)), err
		}
	case kindFloat64:
		return func(b []byte, _ *arena) (any, error) {
			v, err := binInt(b, 8)
			return math.Float64frombits(uint64(v)), err
		}
	case kindBool:
		return func(b []byte, _ *arena) (any, error) {
			if len(b) != 1 {
				return nil, fmt.Errorf("binary boolean of %d bytes", len(b))
			}
			return b[0] != 0, nil
		}
	case kindDate:
		return decodeDateBinary
	case kindTime:
		if timeInMillis(c, cfg) {
			return func(b []byte, _ *arena) (any, error) {
				us, err := binTime(b)
				return int32(us / 1000), err
			}
		}
		return func(b []byte, _ *arena) (any, error) { return binTime(b) }
	case kindTimestamp:
		if timestampInMillis(c, cfg) {
			return func(b []byte, _ *arena) (any, error) {
				us, err := binTimestamp(b)
				return change.FloorDiv(us, 1000), err
			}
		}
		return func(b []byte, _ *arena) (any, error) { return binTimestamp(b) }
	case kindTimestampTZ:
		width := timePrecision(c.Typmod)
		return func(b []byte, a *arena) (any, error) {
			v, inf, err := binInfinite(b, 8)
			switch {
			case err != nil:
				return nil, err
			case inf > 0:
				return "infinity", nil // as the text decoder leaves it
			case inf < 0:
				return "-infinity", nil
			}
			us, err := fromPGEpoch(v)
			if err != nil {
				return nil, err
			}
			return formatZonedTimestamp(us, width, a), nil
		}
	}
	return nil
}

// binInt reads a big-endian integer of n bytes, sign-extended.
func binInt(b []byte, n int) (int64, error) {
	if len(b) != n {
		return 0, fmt.Errorf("binary value of %d bytes, want %d", len(b), n)
	}
	switch n {
	case 2:
		return int64(int16(binary.BigEndian.Uint16(b))), nil
	case 4:
		return int64(int32(binary.BigEndian.Uint32(b))), nil
	}
	return int64(binary.BigEndian.Uint64(b)), nil
}

// fromPGEpoch moves microseconds since 2000-01-01 to since 1970-01-01.
func fromPGEpoch(us int64) (int64, error) {
	return mulAdd(pgEpochDays, microsPerDay, us)
}

// binInfinite reads a date (n 4) or a timestamp (n 8); inf is +1 or -1 for
// PostgreSQL's infinity and -infinity (the type's extreme values).
func binInfinite(b []byte, n int) (v int64, inf int, err error) {
	if v, err = binInt(b, n); err != nil {
		return 0, 0, err
	}
	hi := int64(math.MaxInt64)
	if n == 4 {
		hi = math.MaxInt32
	}
	switch v {
	case hi:
		return v, 1, nil
	case -hi - 1:
		return v, -1, nil
	}
	return v, 0, nil
}

// binTimestamp is a timestamp's microseconds since 1970-01-01, with
// infinity as the text decoder has it.
func binTimestamp(b []byte) (int64, error) {
	v, inf, err := binInfinite(b, 8)
	switch {
	case err != nil:
		return 0, err
	case inf > 0:
		return timestampPosInfinityMicros, nil
	case inf < 0:
		return timestampNegInfinityMicros, nil
	}
	return fromPGEpoch(v)
}

// binTime is a time of day in microseconds.
func binTime(b []byte) (int64, error) {
	us, err := binInt(b, 8)
	if err != nil {
		return 0, err
	}
	if us < 0 || us > microsPerDay {
		return 0, errors.New("invalid time")
	}
	return us, nil
}

func decodeDateBinary(b []byte, _ *arena) (any, error) {
	v, inf, err := binInfinite(b, 4)
	switch {
	case err != nil:
		return nil, err
	case inf > 0:
		return datePosInfinityDays, nil
	case inf < 0:
		return dateNegInfinityDays, nil
	}
	days := v + pgEpochDays
	if days > math.MaxInt32 {
		return nil, errors.New("date out of range")
	}
	return int32(days), nil
}
