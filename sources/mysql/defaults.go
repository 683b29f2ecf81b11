package mysql

import (
	"strings"
)

// defaultValue converts a column's default (information_schema's
// COLUMN_DEFAULT text: MariaDB quotes string literals and writes NULL and
// expressions unquoted, MySQL writes literals bare) into the physical
// value the field schema carries, as Debezium does: CURRENT_TIMESTAMP and
// NOW() become the epoch, other expressions and NULL give no default.
func defaultValue(c Column, cd codec) (any, bool) {
	if c.Default == nil {
		return nil, false
	}
	d := strings.TrimSpace(*c.Default)
	lower := strings.ToLower(d)
	switch {
	case d == "" && c.DataType != "char" && c.DataType != "varchar":
		return nil, false
	case lower == "null":
		return nil, false
	case strings.HasPrefix(lower, "current_timestamp") || strings.HasPrefix(lower, "now(") || strings.HasPrefix(lower, "localtimestamp"):
		switch c.DataType {
		case "timestamp":
			return "1970-01-01T00:00:00Z", true
		case "datetime":
			return int64(0), true
		}
		return nil, false
	}
	text := d
	if len(d) >= 2 && d[0] == '\'' && d[len(d)-1] == '\'' {
		text = unquoteSQL(d[1 : len(d)-1])
	} else if strings.ContainsAny(d, "()") || strings.HasPrefix(lower, "b'") {
		return nil, false // an expression or a bit literal
	}
	v, err := cd.convert([]byte(text), false)
	if err != nil || v == nil {
		return nil, false
	}
	return v, true
}

func unquoteSQL(s string) string {
	if !strings.ContainsAny(s, `'\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'' && i+1 < len(s) && s[i+1] == '\'':
			i++
		case c == '\\' && i+1 < len(s):
			i++
			switch s[i] {
			case 'n':
				c = '\n'
			case 't':
				c = '\t'
			case '0':
				c = 0
			default:
				c = s[i]
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}
