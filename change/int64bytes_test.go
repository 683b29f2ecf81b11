package change

import (
	"bytes"
	"encoding/hex"
	"math"
	"math/big"
	"testing"
)

func TestAppendInt64Bytes(t *testing.T) {
	for _, v := range []int64{0, 1, -1, 127, 128, -128, -129, 255, 256, 32767, -32768, math.MaxInt64, math.MinInt64 + 1, math.MinInt64} {
		want := DecimalBytes(big.NewInt(v))
		if got := AppendInt64Bytes(nil, v); !bytes.Equal(got, want) {
			t.Errorf("%d: got %x want %x", v, got, want)
		}
	}
	for _, tc := range []struct {
		v    int64
		want string
	}{{0, "00"}, {127, "7f"}, {128, "0080"}, {-1, "ff"}, {-128, "80"}, {-129, "ff7f"}} {
		if got := hex.EncodeToString(AppendInt64Bytes(nil, tc.v)); got != tc.want {
			t.Errorf("%d: got %s want %s", tc.v, got, tc.want)
		}
	}
}
