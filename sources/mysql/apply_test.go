package mysql

import (
	"testing"
)

func TestApplyDDL(t *testing.T) {
	tables := map[string]Table{}
	m := SchemaModel{
		Table:     func(db, n string) (Table, bool) { tb, ok := tables[db+"."+n]; return tb, ok },
		DBCharset: func(string) string { return "utf8mb4" },
		MariaDB:   true,
	}
	apply := func(sql string) []Applied {
		t.Helper()
		out, ok, err := ApplyDDL(m, "d", sql)
		if err != nil || !ok {
			t.Fatalf("%s: ok=%v err=%v", sql, ok, err)
		}
		for _, a := range out {
			if a.Type == "DROP" {
				delete(tables, a.Table.ID())
			} else {
				tables[a.Table.ID()] = a.Table
			}
		}
		return out
	}
	apply("CREATE TABLE t (id BIGINT UNSIGNED NOT NULL, name VARCHAR(20) CHARACTER SET latin1, price DECIMAL(10,2), at DATETIME(3), flags SET('a','b'), j JSON, bin VARBINARY(8), PRIMARY KEY (id))")
	tb := tables["d.t"]
	want := []struct {
		name, dt string
		length   int64
	}{{"id", "bigint", 0}, {"name", "varchar", 20}, {"price", "decimal", 10}, {"at", "datetime", 0}, {"flags", "set", 0}, {"j", "longtext", 0}, {"bin", "varbinary", 8}}
	if len(tb.Columns) != len(want) {
		t.Fatalf("columns: %+v", tb.Columns)
	}
	for i, w := range want {
		c := tb.Columns[i]
		if c.Name != w.name || c.DataType != w.dt || (w.length != 0 && c.Length != w.length) {
			t.Errorf("column %d: %+v, want %+v", i, c, w)
		}
	}
	if c := tb.Columns[0]; !c.Key || !c.Unsigned || c.Nullable {
		t.Errorf("id: %+v", c)
	}
	if c := tb.Columns[1]; c.Charset != "latin1" || !c.Nullable {
		t.Errorf("name: %+v", c)
	}
	if c := tb.Columns[2]; c.Scale != 2 {
		t.Errorf("price: %+v", c)
	}
	if c := tb.Columns[3]; c.FSP != 3 {
		t.Errorf("at: %+v", c)
	}
	if c := tb.Columns[4]; len(c.EnumValues) != 2 {
		t.Errorf("flags: %+v", c)
	}

	apply("ALTER TABLE t ADD COLUMN note TEXT AFTER id, DROP COLUMN j, MODIFY name VARCHAR(40) NOT NULL, CHANGE bin blob2 BLOB FIRST, RENAME COLUMN price TO cost")
	names := func() string {
		s := ""
		for _, c := range tables["d.t"].Columns {
			s += c.Name + ","
		}
		return s
	}
	if got := names(); got != "blob2,id,note,name,cost,at,flags," {
		t.Errorf("after ALTER: %s", got)
	}
	if c := tables["d.t"].Columns[3]; c.Nullable || c.Length != 40 || c.Charset != "utf8mb4" {
		t.Errorf("modified name: %+v", c)
	}
	apply("ALTER TABLE t DROP PRIMARY KEY, ADD PRIMARY KEY (name, id)")
	for _, c := range tables["d.t"].Columns {
		if (c.Name == "name" && c.KeySeq != 1) || (c.Name == "id" && c.KeySeq != 2) || (c.Name == "note" && c.Key) {
			t.Errorf("key: %+v", c)
		}
	}
	out := apply("RENAME TABLE t TO u")
	if len(out) != 2 || out[0].Type != "DROP" || out[1].Type != "CREATE" || out[1].Table.Name != "u" {
		t.Errorf("rename: %+v", out)
	}
	if out := apply("DROP TABLE u"); len(out) != 1 || len(tables) != 0 {
		t.Errorf("drop: %+v", out)
	}
	if _, ok, _ := ApplyDDL(m, "d", "ALTER TABLE unknown ADD COLUMN x INT"); ok {
		t.Error("an unknown table must fall back to the catalog")
	}
	if _, ok, _ := ApplyDDL(m, "d", "CREATE TABLE c LIKE other"); ok {
		t.Error("CREATE TABLE LIKE must fall back to the catalog")
	}
}
