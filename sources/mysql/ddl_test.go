package mysql

import (
	"reflect"
	"testing"
)

func TestParseDDL(t *testing.T) {
	tests := []struct {
		sql   string
		want  []DDLTarget
		isDDL bool
	}{
		{"CREATE TABLE t (id INT PRIMARY KEY)", []DDLTarget{{Type: "CREATE", DB: "d", Table: "t"}}, true},
		{"ALTER TABLE x.t ADD COLUMN note VARCHAR(10)", []DDLTarget{{Type: "ALTER", DB: "x", Table: "t"}}, true},
		{"ALTER TABLE t RENAME TO u", []DDLTarget{{Type: "RENAME", DB: "d", Table: "t", NewDB: "d", NewTable: "u"}}, true},
		{"RENAME TABLE a TO b, c TO e.f", []DDLTarget{{Type: "RENAME", DB: "d", Table: "a", NewDB: "d", NewTable: "b"}, {Type: "RENAME", DB: "d", Table: "c", NewDB: "e", NewTable: "f"}}, true},
		{"DROP TABLE IF EXISTS a, b", []DDLTarget{{Type: "DROP", DB: "d", Table: "a"}, {Type: "DROP", DB: "d", Table: "b"}}, true},
		{"TRUNCATE TABLE a", []DDLTarget{{Type: "TRUNCATE", DB: "d", Table: "a"}}, true},
		{"CREATE INDEX i ON a (x)", []DDLTarget{{Type: "ALTER", DB: "d", Table: "a"}}, true},
		{"CREATE DATABASE z", nil, true},
		{"GRANT ALL ON *.* TO 'u'@'%'", nil, false},
		{"FLUSH PRIVILEGES", nil, false},
	}
	for _, tt := range tests {
		got, isDDL, err := ParseDDL("d", tt.sql)
		if err != nil {
			t.Errorf("%s: %v", tt.sql, err)
			continue
		}
		if isDDL != tt.isDDL || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %+v %v, want %+v %v", tt.sql, got, isDDL, tt.want, tt.isDDL)
		}
	}
	if _, _, err := ParseDDL("d", "ALTER TABLE t FROBNICATE"); err == nil {
		t.Error("want an error for an unparsable ALTER TABLE")
	}
}
