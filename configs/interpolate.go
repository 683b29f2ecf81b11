package configs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// interpolator expands ${NAME}, ${NAME:-default}, ${file:/path} and $$ in
// scalar values. A '$' followed by anything else is kept, so regexes such as
// "^public\.orders$" need no escaping.
type interpolator struct {
	lookupEnv func(string) (string, bool)
	readFile  func(string) ([]byte, error)
	dir       string // base for relative ${file:...} paths
}

func newInterpolator(filename string) *interpolator {
	return &interpolator{lookupEnv: os.LookupEnv, readFile: os.ReadFile, dir: filepath.Dir(filename)}
}

// expand returns s with every reference replaced.
func (ip *interpolator) expand(s string) (string, error) {
	if !strings.Contains(s, "$") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		c := s[i]
		if c != '$' || i+1 >= len(s) {
			b.WriteByte(c)
			i++
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i += 2
		case '{':
			end := matchingBrace(s, i+2)
			if end < 0 {
				return "", fmt.Errorf("unterminated %q (write $$ for a literal $)", s[i:])
			}
			v, err := ip.reference(s[i+2 : end])
			if err != nil {
				return "", err
			}
			b.WriteString(v)
			i = end + 1
		default:
			b.WriteByte('$')
			i++
		}
	}
	return b.String(), nil
}

// matchingBrace returns the index of the '}' closing a reference whose body
// starts at from, allowing nested ${...} in defaults, or -1.
func matchingBrace(s string, from int) int {
	depth := 1
	for i := from; i < len(s); i++ {
		switch {
		case s[i] == '$' && i+1 < len(s) && s[i+1] == '$':
			i++
		case s[i] == '$' && i+1 < len(s) && s[i+1] == '{':
			depth++
			i++
		case s[i] == '}':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

func (ip *interpolator) reference(body string) (string, error) {
	if path, ok := strings.CutPrefix(body, "file:"); ok {
		if path == "" {
			return "", errors.New("${file:} needs a path")
		}
		if !filepath.IsAbs(path) && ip.dir != "" {
			path = filepath.Join(ip.dir, path)
		}
		data, err := ip.readFile(path)
		if err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return "", fmt.Errorf("cannot read file %s: %v", path, err)
		}
		return strings.TrimRight(string(data), "\r\n"), nil
	}
	name, def, hasDef := strings.Cut(body, ":-")
	if !validEnvName(name) {
		return "", fmt.Errorf("invalid reference ${%s}: want ${NAME}, ${NAME:-default} or ${file:/path} (write $$ for a literal $)", body)
	}
	v, ok := ip.lookupEnv(name)
	if hasDef && v == "" {
		return ip.expand(def)
	}
	if !ok {
		return "", fmt.Errorf("environment variable %s is not set (give a default with ${%s:-default})", name, name)
	}
	return v, nil
}

func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
