package change

import (
	"math/big"
	"testing"
)

// TestFormatDecimalFast checks FormatDecimalBytes (int64 fast path)
// against FormatDecimal (math/big) around the int64 and scale limits.
func TestFormatDecimalFast(t *testing.T) {
	for _, unscaled := range []string{"0", "1", "-1", "5", "-5", "123", "-123", "127", "128", "-128", "-129", "255", "256", "32767", "-32768",
		"1234567", "-1234567", "9223372036854775807", "-9223372036854775808", "9223372036854775808", "-9223372036854775809", "100000000000000000000"} {
		for _, scale := range []int{0, 1, 2, 3, 7, 18, 19, 25, -2} {
			v, _ := new(big.Int).SetString(unscaled, 10)
			b := DecimalBytes(v)
			want := FormatDecimal(DecimalFromBytes(b), scale)
			if got := FormatDecimalBytes(b, scale); got != want {
				t.Errorf("FormatDecimalBytes(%s, %d) = %q, want %q", unscaled, scale, got, want)
			}
		}
	}
	if got, want := FormatDecimalBytes([]byte{}, 2), FormatDecimal(DecimalFromBytes(nil), 2); got != want {
		t.Errorf("empty: %q, want %q", got, want)
	}
}

func TestAppendZonedTimestamp(t *testing.T) {
	day := int64(86_400_000_000)
	for _, c := range []struct {
		us    int64
		width int
		want  string
	}{
		{0, 0, "1970-01-01T00:00:00Z"},
		{1795591736123456, 0, "2026-11-25T07:28:56.123456Z"},
		{1795591736120000, 0, "2026-11-25T07:28:56.12Z"},
		{1795591736120000, 3, "2026-11-25T07:28:56.120Z"},
		{1795591736000000, 6, "2026-11-25T07:28:56.000000Z"},
		{1795591736123456, 9, "2026-11-25T07:28:56.123456000Z"},
		{-1, 0, "1969-12-31T23:59:59.999999Z"},
		{-62135596800000000, 0, "0001-01-01T00:00:00Z"},            // year 1
		{-62135596800000000 - 366*day, 0, "0000-01-01T00:00:00Z"},  // year 0, a leap year
		{-62135596800000000 - 731*day, 0, "-0001-01-01T00:00:00Z"}, // year -1
		{-61851600000000000, 0, "0010-01-01T00:00:00Z"},            // year 10
		{253402300800000000, 0, "+10000-01-01T00:00:00Z"},          // year 10000
		{-30610224000000000, 0, "1000-01-01T00:00:00Z"},
	} {
		if got := string(AppendZonedTimestamp([]byte("x"), c.us, c.width)); got != "x"+c.want {
			t.Errorf("AppendZonedTimestamp(%d, %d) = %s, want x%s", c.us, c.width, got, c.want)
		}
	}
	buf := make([]byte, 0, 64)
	if n := testing.AllocsPerRun(100, func() { buf = AppendZonedTimestamp(buf[:0], 1795591736123456, 6) }); n != 0 {
		t.Errorf("AppendZonedTimestamp allocates %v times", n)
	}
}
