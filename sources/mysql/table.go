package mysql

import (
	"fmt"
	"strings"
)

// Column describes one column of a captured table, in ordinal order, as
// information_schema.COLUMNS describes it.
type Column struct {
	Name string
	// DataType is information_schema's DATA_TYPE, lower case: "int",
	// "varchar", "decimal", "enum", ...
	DataType string
	// ColumnType is COLUMN_TYPE: "int(10) unsigned", "enum('a','b')", ...
	ColumnType string
	Unsigned   bool
	Nullable   bool
	// Length is CHARACTER_MAXIMUM_LENGTH for strings, NUMERIC_PRECISION for
	// decimals and the number of bits of BIT(n).
	Length int64
	Scale  int  // NUMERIC_SCALE of decimals
	FSP    int  // fractional-second precision of datetime/timestamp/time
	Key    bool // part of the primary key
	// KeySeq is the 1-based position in the primary key.
	KeySeq        int
	Charset       string // CHARACTER_SET_NAME, "" for non-strings
	EnumValues    []string
	AutoIncrement bool
	Default       *string
	Comment       string
}

// Table is a captured table's definition.
type Table struct {
	DB, Name string
	Columns  []Column
	// Charset is the table's default character set.
	Charset string
}

// ID is "db.table".
func (t *Table) ID() string { return t.DB + "." + t.Name }

// ParseEnumValues returns the labels of an enum('a','b') or set('a','b')
// column type, unquoted.
func ParseEnumValues(columnType string) ([]string, error) {
	open := strings.IndexByte(columnType, '(')
	if open < 0 || !strings.HasSuffix(columnType, ")") {
		return nil, fmt.Errorf("column type %q: no value list", columnType)
	}
	s := columnType[open+1 : len(columnType)-1]
	var out []string
	for i := 0; i < len(s); {
		if s[i] != '\'' {
			return nil, fmt.Errorf("column type %q: expected a quoted value at %d", columnType, open+1+i)
		}
		i++
		var b strings.Builder
		closed := false
		for i < len(s) {
			c := s[i]
			if c == '\'' {
				if i+1 < len(s) && s[i+1] == '\'' {
					b.WriteByte('\'')
					i += 2
					continue
				}
				i++
				closed = true
				break
			}
			if c == '\\' && i+1 < len(s) {
				i++
				c = s[i]
			}
			b.WriteByte(c)
			i++
		}
		if !closed {
			return nil, fmt.Errorf("column type %q: unterminated value", columnType)
		}
		out = append(out, b.String())
		if i < len(s) {
			if s[i] != ',' {
				return nil, fmt.Errorf("column type %q: expected ',' at %d", columnType, open+1+i)
			}
			i++
		}
	}
	return out, nil
}
