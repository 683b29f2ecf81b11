package mysql

import (
	"testing"
)

// FuzzApplyDDL: any statement either applies, falls back or errors; it
// never panics, and an applied CREATE yields a table the decoder accepts
// or rejects with an error.
func FuzzApplyDDL(f *testing.F) {
	for _, s := range []string{
		"CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10))",
		"ALTER TABLE t ADD COLUMN x DECIMAL(5,2) AFTER id, DROP COLUMN v",
		"ALTER TABLE t CHANGE v w TEXT FIRST",
		"RENAME TABLE t TO u",
		"DROP TABLE t",
		"CREATE TABLE e (a ENUM('x','y'), b SET('p'), c BIT(3), d TIME(6), j JSON, g POINT)",
	} {
		f.Add(s)
	}
	base := Table{DB: "d", Name: "t", Columns: []Column{{Name: "id", DataType: "int", Key: true, KeySeq: 1}, {Name: "v", DataType: "varchar", Nullable: true}}}
	m := SchemaModel{
		Table: func(db, n string) (Table, bool) {
			if db == "d" && n == "t" {
				return base, true
			}
			return Table{}, false
		},
		DBCharset: func(string) string { return "utf8mb4" },
	}
	f.Fuzz(func(t *testing.T, sql string) {
		out, ok, err := ApplyDDL(m, "d", sql)
		if err != nil || !ok {
			return
		}
		d := NewDecoder(DecoderOptions{TopicPrefix: "p"})
		for _, a := range out {
			if a.Type != "DROP" {
				_ = d.SetTable(a.Table)
			}
		}
	})
}

// FuzzConvertText: snapshot and binlog text values of every type convert
// or fail; they never panic.
func FuzzConvertText(f *testing.F) {
	for _, s := range []string{"2024-02-29", "2018-06-20 06:37:03.125", "-838:59:59.5", "12.34", "0000-00-00 00:00:00", "a,b", "\xff\x00"} {
		f.Add(s)
	}
	cols := []Column{
		{DataType: "date"}, {DataType: "datetime", FSP: 6}, {DataType: "timestamp", FSP: 3}, {DataType: "time", FSP: 6},
		{DataType: "decimal", Length: 10, Scale: 2}, {DataType: "set", EnumValues: []string{"a", "b"}},
		{DataType: "enum", EnumValues: []string{"a"}}, {DataType: "bit", Length: 12}, {DataType: "int", Unsigned: true},
		{DataType: "float"}, {DataType: "char", Charset: "latin1"}, {DataType: "json"}, {DataType: "geometry"}, {DataType: "year"},
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, c := range cols {
			_, _ = ConvertValue(c, DecoderOptions{}, s, true)
			_, _ = ConvertValue(c, DecoderOptions{}, []byte(s), false)
		}
	})
}
