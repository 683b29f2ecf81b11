package change

import "testing"

func TestCivilRoundTrip(t *testing.T) {
	for _, days := range []int64{-2932897, -719893, -1, 0, 1, 17109, 2932896, 106751991} {
		y, m, d := CivilFromDays(days)
		if got := DaysFromCivil(y, m, d); got != days {
			t.Errorf("%d -> %d-%d-%d -> %d", days, y, m, d, got)
		}
	}
}
