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
