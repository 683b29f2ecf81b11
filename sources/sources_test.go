package sources

import "testing"

func TestMode(t *testing.T) {
	if v, err := Mode("x.mode", "", "a", "a", "b"); v != "a" || err != nil {
		t.Errorf("empty: %q %v", v, err)
	}
	if v, err := Mode("x.mode", "b", "a", "a", "b"); v != "b" || err != nil {
		t.Errorf("b: %q %v", v, err)
	}
	_, err := Mode("x.mode", "c", "a", "a", "b", "d")
	if err == nil || err.Error() != `x.mode "c": want a, b or d` {
		t.Errorf("invalid: %v", err)
	}
}

func TestPatterns(t *testing.T) {
	res, err := CompilePatterns([]string{`public\.orders_\d+`, "inventory.customers"})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{"public.orders_12": true, "public.orders_12x": false, "inventory.customers": true, "xinventory.customers": false} {
		if MatchAny(res, name) != want {
			t.Errorf("%s: want %v", name, want)
		}
	}
	if _, err := CompilePatterns([]string{"("}); err == nil {
		t.Error("bad pattern accepted")
	}
}
