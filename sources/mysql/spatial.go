package mysql

import (
	"regexp"
	"strings"
)

// The TiDB parser knows no spatial column types (TiDB has none), so a
// CREATE or ALTER TABLE with a GEOMETRY, POINT, ... column does not parse.
// Such a statement is parsed again with every spatial type written as an
// ENUM with one marker value, which columnFromDef turns back into the
// spatial type; MySQL 8's SRID column attribute is dropped (the SRID of a
// value travels in the value).

// spatialMarker prefixes the single value of a stand-in ENUM.
const spatialMarker = "\x00sluice-spatial:"

var spatialTypes = map[string]bool{
	"GEOMETRY": true, "POINT": true, "LINESTRING": true, "POLYGON": true, "MULTIPOINT": true,
	"MULTILINESTRING": true, "MULTIPOLYGON": true, "GEOMETRYCOLLECTION": true, "GEOMCOLLECTION": true,
}

// Words that may follow a column's type; anything else after a spatial
// type name means it is not in type position (a column named "point").
var afterType = map[string]bool{
	"": true, ",": true, ")": true, ";": true, "NOT": true, "NULL": true, "DEFAULT": true, "SRID": true,
	"COMMENT": true, "AFTER": true, "FIRST": true, "PRIMARY": true, "UNIQUE": true, "KEY": true,
	"INVISIBLE": true, "VISIBLE": true, "COLLATE": true, "CHARACTER": true, "CHARSET": true,
	"GENERATED": true, "AS": true, "STORED": true, "VIRTUAL": true, "REFERENCES": true, "CHECK": true,
	"CONSTRAINT": true,
}

var sridClause = regexp.MustCompile(`(?i)^SRID\s+\d+`)

// rewriteSpatial returns sql with spatial column types replaced by marker
// enums, and whether it replaced any. Quoted strings, quoted identifiers
// and comments are left alone.
func rewriteSpatial(sql string) (string, bool) {
	var b strings.Builder
	changed := false
	prevWord := "" // the previous significant token, upper-cased
	i := 0
	for i < len(sql) {
		c := sql[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			j := i + 1
			for j < len(sql) {
				if sql[j] == '\\' && c != '`' {
					j += 2
					continue
				}
				if sql[j] == c {
					if j+1 < len(sql) && sql[j+1] == c { // doubled quote
						j += 2
						continue
					}
					break
				}
				j++
			}
			j = min(j+1, len(sql))
			b.WriteString(sql[i:j])
			prevWord = "'"
			i = j
		case c == '-' && strings.HasPrefix(sql[i:], "-- "), c == '#':
			j := strings.IndexByte(sql[i:], '\n')
			if j < 0 {
				j = len(sql) - i
			}
			b.WriteString(sql[i : i+j])
			i += j
		case c == '/' && strings.HasPrefix(sql[i:], "/*"):
			j := strings.Index(sql[i+2:], "*/")
			if j < 0 {
				j = len(sql) - i - 2
			} else {
				j += 2
			}
			b.WriteString(sql[i : i+2+j])
			i += 2 + j
		case isWordByte(c):
			j := i
			for j < len(sql) && isWordByte(sql[j]) {
				j++
			}
			word := strings.ToUpper(sql[i:j])
			if spatialTypes[word] && isColumnName(prevWord) && afterType[nextToken(sql[j:])] {
				b.WriteString("ENUM('" + spatialMarker + strings.ToLower(word) + "')")
				changed = true
				rest := strings.TrimLeft(sql[j:], " \t\r\n")
				if m := sridClause.FindString(rest); m != "" {
					j = len(sql) - len(rest) + len(m)
				}
				prevWord = "TYPE"
			} else {
				b.WriteString(sql[i:j])
				prevWord = word
			}
			i = j
		default:
			b.WriteByte(c)
			if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
				prevWord = string(c)
			}
			i++
		}
	}
	return b.String(), changed
}

func isWordByte(c byte) bool {
	return c == '_' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

// isColumnName reports whether the token before a type can be the column
// name it follows: an identifier or a quoted identifier, not a keyword
// that is itself followed by a name (ADD POINT, ...).
func isColumnName(prev string) bool {
	switch prev {
	case "", "(", ",", "ADD", "COLUMN", "MODIFY", "CHANGE", "TABLE", "EXISTS", "DROP", "ALTER", "RENAME", "TO", "KEY", "INDEX", "ON":
		return false
	}
	return prev == "'" || isWordByte(prev[0])
}

// nextToken returns the next word or punctuation of s, upper-cased.
func nextToken(s string) string {
	s = strings.TrimLeft(s, " \t\r\n")
	if s == "" {
		return ""
	}
	if !isWordByte(s[0]) {
		return s[:1]
	}
	j := 0
	for j < len(s) && isWordByte(s[j]) {
		j++
	}
	return strings.ToUpper(s[:j])
}

// spatialFromMarker returns the spatial type a stand-in enum holds.
func spatialFromMarker(elems []string) (string, bool) {
	if len(elems) != 1 || !strings.HasPrefix(elems[0], spatialMarker) {
		return "", false
	}
	return strings.TrimPrefix(elems[0], spatialMarker), true
}
