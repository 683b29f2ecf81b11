package mysql

import "testing"

func TestSpatialColumnsParse(t *testing.T) {
	model := SchemaModel{Table: func(db, name string) (Table, bool) {
		return Table{DB: db, Name: name, Columns: []Column{{Name: "id", DataType: "int", ColumnType: "int", Key: true, KeySeq: 1}}}, true
	}, DBCharset: func(string) string { return "utf8mb4" }}
	for _, tc := range []struct {
		sql  string
		want map[string]string // column -> DataType
	}{
		{"CREATE TABLE s.t (id INT PRIMARY KEY, g GEOMETRY NOT NULL, p POINT SRID 4326, `l` LineString, pg polygon DEFAULT NULL COMMENT 'x')",
			map[string]string{"g": "geometry", "p": "point", "l": "linestring", "pg": "polygon"}},
		{"ALTER TABLE s.t ADD COLUMN shape GEOMETRY, ADD COLUMN mp MULTIPOINT AFTER id, ADD gc GEOMETRYCOLLECTION",
			map[string]string{"shape": "geometry", "mp": "multipoint", "gc": "geometrycollection"}},
		// A column named like a type keeps its name; the rewrite leaves
		// strings and comments alone.
		{"ALTER TABLE s.t ADD COLUMN point INT DEFAULT 0 COMMENT 'a POINT here', ADD COLUMN g2 /* POLYGON */ POLYGON",
			map[string]string{"point": "int", "g2": "polygon"}},
	} {
		applied, ok, err := ApplyDDL(model, "s", tc.sql)
		if err != nil || !ok || len(applied) != 1 {
			t.Fatalf("%s: ok %v, %d changes, err %v", tc.sql, ok, len(applied), err)
		}
		got := map[string]string{}
		for _, c := range applied[0].Table.Columns {
			got[c.Name] = c.DataType
			if c.EnumValues != nil && c.DataType != "enum" {
				t.Errorf("%s: column %s keeps enum values %q", tc.sql, c.Name, c.EnumValues)
			}
		}
		for col, typ := range tc.want {
			if got[col] != typ {
				t.Errorf("%s: column %s is %q, want %q (all: %v)", tc.sql, col, got[col], typ, got)
			}
		}
	}
	// Still an error: what the parser cannot read for other reasons.
	if _, _, err := ApplyDDL(model, "s", "ALTER TABLE s.t ADD COLUMN g GEOMETRY FROBNICATE"); err == nil {
		t.Error("a broken statement parsed")
	}
}
