package sources

import (
	"errors"
	"testing"
)

func TestAdHocRequests(t *testing.T) {
	a := NewAdHoc()
	if err := a.Request([]string{"public.a"}); err == nil {
		t.Error("a request before the source started was queued")
	}
	a.SetCaptured([]string{"public.a", "public.b"})
	if err := a.Request(nil); err == nil {
		t.Error("a request without tables was queued")
	}
	if err := a.Request([]string{"public.a", "public.nope"}); err == nil {
		t.Error("a request for a table not captured was queued")
	}
	if err := a.Request([]string{"public.b"}); err != nil {
		t.Fatal(err)
	}
	if err := a.Request([]string{"public.a"}); !errors.Is(err, ErrSnapshotPending) {
		t.Errorf("second request: %v, want ErrSnapshotPending", err)
	}
	if got, ok := a.Next(); !ok || len(got) != 1 || got[0] != "public.b" {
		t.Errorf("Next = %v %v", got, ok)
	}
	if _, ok := a.Next(); ok {
		t.Error("Next returned a request twice")
	}
}
