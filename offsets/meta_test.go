package offsets

import "testing"

func TestReplayable(t *testing.T) {
	for _, tc := range []struct {
		offset string
		want   bool
	}{
		{"", false},
		{`{"kind":"postgres","snapshot":"running"}`, false},
		{`{"kind":"postgres","snapshot":"done","commit_lsn":5}`, true},
		{`{"kind":"mysql","snapshot":"done","adhoc_snapshot":["app.a"]}`, false},
		{`opaque`, true},
	} {
		if got := Replayable([]byte(tc.offset)); got != tc.want {
			t.Errorf("Replayable(%s) = %v, want %v", tc.offset, got, tc.want)
		}
	}
}
