package mysql

import (
	"testing"

	"github.com/sluice-cdc/sluice/change"
)

func TestDefaults(t *testing.T) {
	p := func(s string) *string { return &s }
	tb := Table{DB: "d", Name: "t", Columns: []Column{
		{Name: "id", DataType: "int", Key: true, KeySeq: 1, Default: p("0")},
		{Name: "s", DataType: "varchar", Nullable: true, Default: p("'it''s'")},
		{Name: "ts", DataType: "timestamp", Default: p("current_timestamp()")},
		{Name: "n", DataType: "varchar", Nullable: true, Default: p("NULL")},
		{Name: "dec", DataType: "decimal", Length: 5, Scale: 2, Default: p("1.50")},
		{Name: "e", DataType: "enum", EnumValues: []string{"x", "y"}, Default: p("'y'")},
		{Name: "u", DataType: "varchar", Default: p("uuid()")},
		{Name: "m", DataType: "varchar", Default: p("plain")}, // MySQL: bare literal
	}}
	d := NewDecoder(DecoderOptions{TopicPrefix: "p"})
	if err := d.SetTable(tb); err != nil {
		t.Fatal(err)
	}
	st := d.tables["d.t"]
	want := []any{int32(0), "it's", "1970-01-01T00:00:00Z", nil, change.DecimalBytes(bigInt(150)), "y", nil, "plain"}
	for i, w := range want {
		s := st.rowSchema.Fields[i].Schema
		if w == nil {
			if s.HasDefault {
				t.Errorf("%s: unexpected default %v", tb.Columns[i].Name, s.Default)
			}
			continue
		}
		if !s.HasDefault || !change.ValueEqual(s.Default, w) {
			t.Errorf("%s: default %#v (%v), want %#v", tb.Columns[i].Name, s.Default, s.HasDefault, w)
		}
	}

	out, ok, err := ApplyDDL(SchemaModel{Table: d.Table, DBCharset: func(string) string { return "utf8mb4" }}, "d",
		"CREATE TABLE c (a INT NOT NULL DEFAULT 5, s VARCHAR(5) DEFAULT 'x', ts TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, z DECIMAL(4,1) DEFAULT 2.5)")
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if err := d.SetTable(out[0].Table); err != nil {
		t.Fatal(err)
	}
	fs := d.tables["d.c"].rowSchema.Fields
	for i, w := range []any{int32(5), "x", "1970-01-01T00:00:00Z", change.DecimalBytes(bigInt(25))} {
		if !fs[i].Schema.HasDefault || !change.ValueEqual(fs[i].Schema.Default, w) {
			t.Errorf("DDL %s: default %#v, want %#v", fs[i].Name, fs[i].Schema.Default, w)
		}
	}
}
