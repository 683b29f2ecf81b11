package change

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// Helpers for writers that turn physical Connect values into other
// representations (the sinks).

// AsInt64 returns an integer value of any Go integer type, or a float64
// without a fraction (schemaless JSON numbers decode as float64).
func AsInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case int8:
		return int64(x), true
	case int16:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case int:
		return int64(x), true
	case float64:
		if x == math.Trunc(x) {
			return int64(x), true
		}
	}
	return 0, false
}

// FormatDecimal writes unscaled × 10^-scale in plain notation ("-12.340").
func FormatDecimal(unscaled *big.Int, scale int) string {
	if scale <= 0 {
		if scale < 0 {
			unscaled = new(big.Int).Mul(unscaled, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(-scale)), nil))
		}
		return unscaled.String()
	}
	neg := unscaled.Sign() < 0
	digits := new(big.Int).Abs(unscaled).String()
	if len(digits) <= scale {
		digits = strings.Repeat("0", scale-len(digits)+1) + digits
	}
	out := digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
	if neg {
		out = "-" + out
	}
	return out
}

// FormatDecimalBytes is FormatDecimal for a Decimal's physical value, its
// unscaled bytes (big-endian two's complement), without math/big when the
// value fits in an int64.
func FormatDecimalBytes(b []byte, scale int) string {
	if len(b) == 0 || len(b) > 8 || scale < 0 || scale > 18 {
		return FormatDecimal(DecimalFromBytes(b), scale)
	}
	var v int64
	if b[0]&0x80 != 0 {
		v = -1 // sign extension
	}
	for _, c := range b {
		v = v<<8 | int64(c)
	}
	var u uint64
	neg := v < 0
	if neg {
		u = uint64(-(v + 1)) + 1 // also for math.MinInt64
	} else {
		u = uint64(v)
	}
	var digits [24]byte
	d := strconv.AppendUint(digits[:0], u, 10)
	var out [48]byte
	o := out[:0]
	if neg {
		o = append(o, '-')
	}
	if scale == 0 {
		return string(append(o, d...))
	}
	if len(d) <= scale {
		o = append(o, '0', '.')
		for i := len(d); i < scale; i++ {
			o = append(o, '0')
		}
		return string(append(o, d...))
	}
	o = append(o, d[:len(d)-scale]...)
	o = append(o, '.')
	return string(append(o, d[len(d)-scale:]...))
}

// FormatTimeOfDay writes µs past midnight as HH:MM:SS[.ffffff] (trailing
// zeros of the fraction dropped).
func FormatTimeOfDay(us int64) string {
	h := us / 3_600_000_000
	m := us / 60_000_000 % 60
	s := us / 1_000_000 % 60
	f := us % 1_000_000
	out := fmt.Sprintf("%02d:%02d:%02d", h, m, s)
	if f != 0 {
		out += strings.TrimRight(fmt.Sprintf(".%06d", f), "0")
	}
	return out
}

// AppendJSONString appends s as a JSON string, escaped as the JSON
// converter escapes; invalid UTF-8 becomes U+FFFD.
func AppendJSONString(dst []byte, s string) []byte { return appendString(dst, s) }

// AppendZonedTimestamp appends µs since the epoch as
// io.debezium.time.ZonedTimestamp: the instant in UTC as ISO-8601
// ("2026-11-25T07:28:56.123Z"), the fraction as AppendClock writes it.
func AppendZonedTimestamp(dst []byte, us int64, width int) []byte {
	days := FloorDiv(us, 86_400_000_000)
	tod := us - days*86_400_000_000
	y, m, d := CivilFromDays(days)
	dst = appendYear(dst, y)
	dst = append(dst, '-')
	dst = append2(dst, m)
	dst = append(dst, '-')
	dst = append2(dst, d)
	dst = append(dst, 'T')
	dst = AppendClock(dst, tod, width)
	return append(dst, 'Z')
}

// appendYear formats a year as java.time's ISO_LOCAL_DATE does: at least
// four digits, '+' above 9999, '-' below zero.
func appendYear(dst []byte, y int64) []byte {
	switch {
	case y > 9999:
		dst = append(dst, '+')
	case y < 0:
		dst = append(dst, '-')
		y = -y
	}
	for p := int64(1000); p > 1 && y < p; p /= 10 {
		dst = append(dst, '0')
	}
	return strconv.AppendInt(dst, y, 10)
}

func append2(dst []byte, v int64) []byte {
	return append(dst, byte('0'+v/10), byte('0'+v%10))
}

// AppendClock appends µs past midnight (less than 100 hours) as HH:MM:SS
// and a fraction: width > 0 writes exactly width digits, width <= 0 the
// significant digits only (none when zero), as java.time's
// DateTimeFormatter.ISO_LOCAL_TIME.
func AppendClock(dst []byte, tod int64, width int) []byte {
	h := tod / 3_600_000_000
	mi := tod / 60_000_000 % 60
	s := tod / 1_000_000 % 60
	frac := tod % 1_000_000
	dst = append2(dst, h)
	dst = append(dst, ':')
	dst = append2(dst, mi)
	dst = append(dst, ':')
	dst = append2(dst, s)
	var f [6]byte
	for i := 5; i >= 0; i-- {
		f[i] = byte('0' + frac%10)
		frac /= 10
	}
	if width > 0 {
		dst = append(dst, '.')
		for i := 0; i < width; i++ {
			if i < 6 {
				dst = append(dst, f[i])
			} else {
				dst = append(dst, '0')
			}
		}
		return dst
	}
	n := 6
	for n > 0 && f[n-1] == '0' {
		n--
	}
	if n > 0 {
		dst = append(dst, '.')
		dst = append(dst, f[:n]...)
	}
	return dst
}
