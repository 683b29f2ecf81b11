package change

import (
	"encoding/base64"
	"math"
	"strconv"
	"unicode/utf8"
)

// Low-level JSON writers that reproduce what Kafka Connect's JsonConverter
// (Jackson's UTF8JsonGenerator with default features) writes.

const hexUpper = "0123456789ABCDEF"

// noEscape[c] is true for ASCII bytes Jackson writes as is.
var noEscape = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendString appends s as a JSON string the way Jackson does: '"' and '\\'
// and the control characters \b \t \n \f \r get short escapes, the other
// control characters \u00XX (upper-case hex); everything else, including
// '/', DEL and U+2028/U+2029, is written raw as UTF-8. Invalid UTF-8 bytes
// become U+FFFD (what a Java String decoded from them would hold), so the
// output is valid JSON for any input.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		// Eight bytes at a time while none needs a look (the usual case).
		for i+8 <= len(s) && plain8(s[i:i+8]) {
			i += 8
		}
		if i == len(s) {
			break
		}
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

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// plain8 reports whether the 8 bytes of s are all ASCII that appendString
// writes as is: none below 0x20, none '"' or '\\', none 0x80 or above.
func plain8(s string) bool {
	x := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
	// A byte below 0x20 or of the high half, or one equal to '"' or '\\'
	// (a zero byte after the xor) sets its high bit in one of the terms.
	q := x ^ (ones * '"')
	b := x ^ (ones * '\\')
	return (x|(x-ones*0x20)|(q-ones)&^q|(b-ones)&^b)&highs == 0
}

// appendBytes appends b base64-encoded (standard alphabet, padded, no line
// breaks: Jackson's default Base64Variant MIME_NO_LINEFEEDS) as a string.
func appendBytes(dst, b []byte) []byte {
	dst = append(dst, '"')
	dst = base64.StdEncoding.AppendEncode(dst, b)
	return append(dst, '"')
}

// appendJavaFloat appends f as Java's Double.toString (bits 64) or
// Float.toString (bits 32) writes it (JDK 19+ shortest-decimal algorithm),
// which is what Jackson writes for DoubleNode/FloatNode: "1.0", "0.001",
// "1.0E7", "1.0E-4", "-0.0". NaN and infinities are written as the JSON
// strings "NaN", "Infinity" and "-Infinity" (Jackson's default
// WRITE_NAN_AS_STRINGS).
func appendJavaFloat(dst []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(dst, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(dst, `"-Infinity"`...)
	case f == 0:
		if math.Signbit(f) {
			return append(dst, "-0.0"...)
		}
		return append(dst, "0.0"...)
	}
	var buf [40]byte
	e := strconv.AppendFloat(buf[:0], f, 'e', -1, bits)
	// JDK 19+: when the shortest decimal has one digit, Java picks the
	// closest decimal of length 1 or 2 (e.g. 4.9E-324, not 5.0E-324).
	if len(e) > 1 && (e[1] == 'e' || (e[0] == '-' && e[2] == 'e')) {
		var buf2 [40]byte
		two := strconv.AppendFloat(buf2[:0], f, 'e', 1, bits)
		if g, err := strconv.ParseFloat(string(two), bits); err == nil && g == f {
			n := copy(buf[:], two)
			e = buf[:n]
		}
	}
	// Split e = [-]d[.ddd]e±XX into sign, digits and exponent.
	neg := e[0] == '-'
	if neg {
		e = e[1:]
	}
	var digits [32]byte
	nd := 0
	i := 0
	for ; i < len(e) && e[i] != 'e'; i++ {
		if e[i] != '.' {
			digits[nd] = e[i]
			nd++
		}
	}
	exp, _ := strconv.Atoi(string(e[i+1:]))
	for nd > 1 && digits[nd-1] == '0' {
		nd--
	}
	if neg {
		dst = append(dst, '-')
	}
	abs := math.Abs(f)
	if abs >= 1e-3 && abs < 1e7 {
		point := exp + 1 // digits before the decimal point
		switch {
		case point <= 0:
			dst = append(dst, '0', '.')
			for j := 0; j < -point; j++ {
				dst = append(dst, '0')
			}
			dst = append(dst, digits[:nd]...)
		case point >= nd:
			dst = append(dst, digits[:nd]...)
			for j := nd; j < point; j++ {
				dst = append(dst, '0')
			}
			dst = append(dst, '.', '0')
		default:
			dst = append(dst, digits[:point]...)
			dst = append(dst, '.')
			dst = append(dst, digits[point:nd]...)
		}
		return dst
	}
	dst = append(dst, digits[0], '.')
	if nd > 1 {
		dst = append(dst, digits[1:nd]...)
	} else {
		dst = append(dst, '0')
	}
	dst = append(dst, 'E')
	return strconv.AppendInt(dst, int64(exp), 10)
}
