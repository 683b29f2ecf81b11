package change

import (
	"encoding/json"
	"testing"
)

// FuzzAppendString: every string becomes valid JSON that decodes to the
// same text (invalid UTF-8 bytes to U+FFFD, as encoding/json does).
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", "q\"b\\s", "\x00\x1f\n\t", "é✓\u2028\u2029", "\xff\xfe", "a\xc3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := AppendJSONString(nil, s)
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("AppendJSONString(%q) = %s: %v", s, b, err)
		}
		// encoding/json replaces each invalid byte the same way.
		ref, _ := json.Marshal(s)
		var want string
		if err := json.Unmarshal(ref, &want); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("AppendJSONString(%q) decodes to %q, want %q", s, got, want)
		}
	})
}
