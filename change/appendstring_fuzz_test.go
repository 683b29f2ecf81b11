package change

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"
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

// appendStringBytewise is appendString one byte at a time (as it was
// before the eight-byte fast path): the reference for FuzzAppendStringFast.
func appendStringBytewise(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if noEscape[c] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\r':
				dst = append(dst, '\\', 'r')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexUpper[c>>4], hexUpper[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\uFFFD"...)
			i++
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// TestAppendStringFast: every byte value at every position of strings
// around the eight-byte blocks is written as the byte-wise writer does.
func TestAppendStringFast(t *testing.T) {
	for n := 1; n <= 19; n++ {
		for pos := range n {
			for c := range 256 {
				b := bytes.Repeat([]byte{'a'}, n)
				b[pos] = byte(c)
				s := string(b)
				if got, want := appendString(nil, s), appendStringBytewise(nil, s); !bytes.Equal(got, want) {
					t.Fatalf("appendString(%q) = %q, want %q", s, got, want)
				}
			}
		}
	}
}

// FuzzAppendStringFast: appendString writes what the byte-wise writer
// does.
func FuzzAppendStringFast(f *testing.F) {
	for _, s := range []string{"", "plain text longer than eight", "0123456789abcdef\"", "abcdefgh\\ijklmnop", "abcdefg\x1fhij", "abcdefgh\xe2\x9c\x93ijklmnop\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := appendString(nil, s), appendStringBytewise(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("appendString(%q) = %q, want %q", s, got, want)
		}
	})
}
