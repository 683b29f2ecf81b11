package sql

import (
	"testing"

	"github.com/sluice-cdc/sluice/change"
)

func TestDefinitionSchema(t *testing.T) {
	scale := func(n int32) *int32 { return &n }
	for _, tc := range []struct {
		connector string
		col       change.ColumnSchema
		want      string // schema name or type; "" for nil
	}{
		{"mysql", change.ColumnSchema{TypeName: "INT"}, "int32"},
		{"mysql", change.ColumnSchema{TypeName: "INT UNSIGNED"}, "int64"},
		{"mysql", change.ColumnSchema{TypeName: "BIGINT UNSIGNED"}, change.DecimalName},
		{"mysql", change.ColumnSchema{TypeName: "DECIMAL", Length: 10, Scale: scale(2)}, change.DecimalName},
		{"mysql", change.ColumnSchema{TypeName: "DATETIME"}, change.MicroTimestampName},
		{"mysql", change.ColumnSchema{TypeName: "TIMESTAMP"}, change.ZonedTimestampName},
		{"mysql", change.ColumnSchema{TypeName: "REAL"}, "float64"},
		{"mysql", change.ColumnSchema{TypeName: "BIT", Length: 1}, "boolean"},
		{"mysql", change.ColumnSchema{TypeName: "BIT", Length: 12}, change.BitsName},
		{"mysql", change.ColumnSchema{TypeName: "GEOMETRY"}, ""},
		{"postgresql", change.ColumnSchema{TypeName: "timestamp"}, change.MicroTimestampName},
		{"postgresql", change.ColumnSchema{TypeName: "timestamptz"}, change.ZonedTimestampName},
		{"postgresql", change.ColumnSchema{TypeName: "numeric"}, change.VariableScaleDecimalName},
		{"postgresql", change.ColumnSchema{TypeName: "real"}, "float32"},
		{"postgresql", change.ColumnSchema{TypeName: "jsonb"}, change.JSONName},
		{"postgresql", change.ColumnSchema{TypeName: "_int4"}, ""},
	} {
		s := definitionSchema(tc.connector, tc.col)
		got := ""
		if s != nil {
			got = s.Name
			if got == "" {
				got = string(s.Type)
			}
			if !s.Optional {
				t.Errorf("%s %s: not optional", tc.connector, tc.col.TypeName)
			}
		}
		if got != tc.want {
			t.Errorf("%s %s: %q, want %q", tc.connector, tc.col.TypeName, got, tc.want)
		}
	}
}

func TestSplitTableID(t *testing.T) {
	p, n, ok := splitTableID(`"public"."my ""odd"" table"`)
	if !ok || p != "public" || n != `my "odd" table` {
		t.Errorf("got %q %q %v", p, n, ok)
	}
	if _, _, ok := splitTableID("public.t"); ok {
		t.Error("unquoted id accepted")
	}
}
