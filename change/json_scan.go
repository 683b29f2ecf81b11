package change

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// scanner is a small strict JSON (RFC 8259) reader over a byte slice, used
// by the decoder to walk records without building an intermediate tree.
type scanner struct {
	b     []byte
	i     int
	depth int
	buf   []byte // scratch for unescaping keys
}

const maxDepth = 1000

var errEOF = errors.New("unexpected end of JSON input")

func (s *scanner) errorf(format string, args ...any) error {
	return fmt.Errorf("json offset %d: %s", s.i, fmt.Sprintf(format, args...))
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek skips whitespace and returns the next byte, 0 at the end.
func (s *scanner) peek() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *scanner) expect(c byte) error {
	if s.peek() != c {
		if s.i >= len(s.b) {
			return errEOF
		}
		return s.errorf("expected %q, found %q", c, s.b[s.i])
	}
	s.i++
	return nil
}

// end checks that only whitespace is left.
func (s *scanner) end() error {
	if s.peek() != 0 || s.i < len(s.b) {
		return s.errorf("trailing data after JSON value")
	}
	return nil
}

func (s *scanner) literal(word string) error {
	s.ws()
	if len(s.b)-s.i < len(word) || string(s.b[s.i:s.i+len(word)]) != word {
		return s.errorf("invalid literal")
	}
	s.i += len(word)
	return nil
}

// null consumes a null literal if one is next.
func (s *scanner) null() bool {
	if s.peek() == 'n' && s.literal("null") == nil {
		return true
	}
	return false
}

func (s *scanner) boolean() (bool, error) {
	switch s.peek() {
	case 't':
		return true, s.literal("true")
	case 'f':
		return false, s.literal("false")
	}
	return false, s.errorf("expected boolean")
}

// number returns the raw text of a JSON number and whether it is integral
// (no fraction or exponent).
func (s *scanner) number() (raw []byte, integral bool, err error) {
	s.ws()
	start := s.i
	integral = true
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	switch {
	case s.i < len(s.b) && s.b[s.i] == '0':
		s.i++
	case s.i < len(s.b) && s.b[s.i] >= '1' && s.b[s.i] <= '9':
		for s.i < len(s.b) && isDigit(s.b[s.i]) {
			s.i++
		}
	default:
		return nil, false, s.errorf("invalid number")
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		integral = false
		s.i++
		if s.i >= len(s.b) || !isDigit(s.b[s.i]) {
			return nil, false, s.errorf("invalid number")
		}
		for s.i < len(s.b) && isDigit(s.b[s.i]) {
			s.i++
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		integral = false
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if s.i >= len(s.b) || !isDigit(s.b[s.i]) {
			return nil, false, s.errorf("invalid number")
		}
		for s.i < len(s.b) && isDigit(s.b[s.i]) {
			s.i++
		}
	}
	return s.b[start:s.i], integral, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// rawString scans a string and returns its raw contents (between the
// quotes) and whether it needs unescaping (escapes or invalid UTF-8).
func (s *scanner) rawString() (raw []byte, plain bool, err error) {
	if s.peek() != '"' {
		if s.i >= len(s.b) {
			return nil, false, errEOF
		}
		return nil, false, s.errorf("expected string")
	}
	s.i++
	start := s.i
	plain = true
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			raw = s.b[start:s.i]
			s.i++
			return raw, plain, nil
		case c == '\\':
			plain = false
			s.i += 2
		case c < 0x20:
			return nil, false, s.errorf("control character in string")
		case c < utf8.RuneSelf:
			s.i++
		default:
			r, size := utf8.DecodeRune(s.b[s.i:])
			if r == utf8.RuneError && size == 1 {
				plain = false
			}
			s.i += size
		}
	}
	return nil, false, errEOF
}

// str reads a string value.
func (s *scanner) str() (string, error) {
	raw, plain, err := s.rawString()
	if err != nil {
		return "", err
	}
	return stringOf(raw, plain)
}

// stringOf is a raw string's value (unescaped unless plain).
func stringOf(raw []byte, plain bool) (string, error) {
	if plain {
		return string(raw), nil
	}
	b, err := unescape(make([]byte, 0, len(raw)), raw)
	return string(b), err
}

// interned holds strings that repeat from record to record (a source
// block's connector, name, database, table, ...), so that decoding them
// does not allocate each time.
var interned = struct {
	sync.RWMutex
	m map[string]string
}{m: map[string]string{}}

const maxInterned = 4096

// internedStr reads a string value (null: "") that is likely to repeat
// and returns a shared copy of it.
func (s *scanner) internedStr() (string, error) {
	if s.null() {
		return "", nil
	}
	raw, plain, err := s.rawString()
	if err != nil {
		return "", err
	}
	if !plain || len(raw) > 256 {
		return stringOf(raw, plain)
	}
	interned.RLock()
	v, ok := interned.m[string(raw)]
	interned.RUnlock()
	if ok {
		return v, nil
	}
	v = string(raw)
	interned.Lock()
	if len(interned.m) >= maxInterned {
		clear(interned.m)
	}
	interned.m[v] = v
	interned.Unlock()
	return v, nil
}

// key reads an object key; the result is only valid until the next call.
func (s *scanner) key() ([]byte, error) {
	raw, plain, err := s.rawString()
	if err != nil {
		return nil, err
	}
	if err := s.expect(':'); err != nil {
		return nil, err
	}
	if plain {
		return raw, nil
	}
	s.buf, err = unescape(s.buf[:0], raw)
	return s.buf, err
}

// unescape decodes JSON escapes; invalid UTF-8 and unpaired surrogates
// become U+FFFD.
func unescape(dst, raw []byte) ([]byte, error) {
	for i := 0; i < len(raw); {
		c := raw[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && size == 1 {
				dst = append(dst, "\uFFFD"...)
			} else {
				dst = append(dst, raw[i:i+size]...)
			}
			i += size
			continue
		}
		if c != '\\' {
			dst = append(dst, c)
			i++
			continue
		}
		if i+1 >= len(raw) {
			return dst, errors.New("invalid escape in string")
		}
		switch raw[i+1] {
		case '"', '\\', '/':
			dst = append(dst, raw[i+1])
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, ok := hex4(raw[i+2:])
			if !ok {
				return dst, errors.New("invalid \\u escape in string")
			}
			i += 6
			if utf16.IsSurrogate(r) {
				if i+1 < len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
					if r2, ok := hex4(raw[i+2:]); ok {
						if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
							dst = utf8.AppendRune(dst, dec)
							i += 6
							continue
						}
					}
				}
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default:
			return dst, errors.New("invalid escape in string")
		}
		i += 2
	}
	return dst, nil
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	return r, true
}

func (s *scanner) enter() error {
	s.depth++
	if s.depth > maxDepth {
		return s.errorf("nesting too deep")
	}
	return nil
}

// object reads an object, calling fn for each key with the scanner at the
// value; fn must consume the value.
func (s *scanner) object(fn func(key []byte) error) error {
	if err := s.expect('{'); err != nil {
		return err
	}
	if err := s.enter(); err != nil {
		return err
	}
	if s.peek() == '}' {
		s.i++
		s.depth--
		return nil
	}
	for {
		k, err := s.key()
		if err != nil {
			return err
		}
		if err := fn(k); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			s.depth--
			return nil
		case 0:
			return errEOF
		default:
			return s.errorf("expected ',' or '}'")
		}
	}
}

// array reads an array, calling fn with the scanner at each element.
func (s *scanner) array(fn func() error) error {
	if err := s.expect('['); err != nil {
		return err
	}
	if err := s.enter(); err != nil {
		return err
	}
	if s.peek() == ']' {
		s.i++
		s.depth--
		return nil
	}
	for {
		if err := fn(); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.i++
		case ']':
			s.i++
			s.depth--
			return nil
		case 0:
			return errEOF
		default:
			return s.errorf("expected ',' or ']'")
		}
	}
}

// skip consumes any value.
func (s *scanner) skip() error {
	switch s.peek() {
	case '{':
		return s.object(func([]byte) error { return s.skip() })
	case '[':
		return s.array(s.skip)
	case '"':
		_, _, err := s.rawString()
		return err
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	case 0:
		return errEOF
	}
	_, _, err := s.number()
	return err
}

// span consumes a value and returns its raw bytes.
func (s *scanner) span() ([]byte, error) {
	s.ws()
	start := s.i
	if err := s.skip(); err != nil {
		return nil, err
	}
	return s.b[start:s.i], nil
}

// fastSpan returns the raw bytes of the next value, finding its end by
// matching brackets and quotes only. It does not validate: use it only
// where the bytes are validated afterwards or compared with bytes that were
// (a cache key of a parsed schema).
func (s *scanner) fastSpan() ([]byte, error) {
	s.ws()
	start := s.i
	if s.i >= len(s.b) {
		return nil, errEOF
	}
	switch s.b[s.i] {
	case '{', '[':
	default:
		return s.span()
	}
	depth := 0
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				s.i++
				return s.b[start:s.i], nil
			}
		case '"':
			s.i++
			for {
				j := bytes.IndexByte(s.b[s.i:], '"')
				if j < 0 {
					return nil, errEOF
				}
				s.i += j
				bs := 0 // backslashes before the quote
				for k := s.i - 1; k >= start && s.b[k] == '\\'; k-- {
					bs++
				}
				if bs%2 == 0 {
					break
				}
				s.i++
			}
		}
		s.i++
	}
	return nil, errEOF
}
