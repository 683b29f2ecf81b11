package mysql

import (
	"testing"

	"github.com/sluice-cdc/sluice/change"
)

func testTable() Table {
	return Table{DB: "shop", Name: "items", Columns: []Column{
		{Name: "id", DataType: "bigint", Key: true, KeySeq: 1},
		{Name: "name", DataType: "varchar", Charset: "utf8mb4", Nullable: true},
	}}
}

func TestAppendRow(t *testing.T) {
	d := NewDecoder(DecoderOptions{TopicPrefix: "p", Version: "v", Tombstones: true})
	if err := d.SetTable(testTable()); err != nil {
		t.Fatal(err)
	}
	src := change.Source{File: "mysql-bin.000001", Pos: 100, Row: 0, ServerID: 1, GTID: "0-1-5", TsUs: 1_000_000}
	evs, err := d.AppendRow(nil, "shop", "items", Insert, nil, []any{int64(1), "a"}, src)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Op != change.OpCreate || evs[0].Topic != "p.shop.items" || evs[0].Key.Values[0] != int64(1) {
		t.Fatalf("insert: %+v", evs)
	}
	if s := evs[0].Source; s.Connector != "mysql" || s.DB != "shop" || s.Table != "items" || s.Name != "p" || s.GTID != "0-1-5" {
		t.Errorf("source: %+v", s)
	}
	evs, _ = d.AppendRow(nil, "shop", "items", Update, []any{int64(1), "a"}, []any{int64(1), nil}, src)
	if len(evs) != 1 || evs[0].Op != change.OpUpdate || evs[0].Before.Values[1] != "a" || evs[0].After.Values[1] != nil {
		t.Fatalf("update: %+v", evs)
	}
	evs, _ = d.AppendRow(nil, "shop", "items", Update, []any{int64(1), "a"}, []any{int64(2), "a"}, src)
	if len(evs) != 3 || evs[0].Op != change.OpDelete || !evs[1].Tombstone || evs[2].Op != change.OpCreate ||
		evs[0].Key.Values[0] != int64(1) || evs[1].Key.Values[0] != int64(1) || evs[2].Key.Values[0] != int64(2) {
		t.Fatalf("pk change: %+v", evs)
	}
	evs, _ = d.AppendRow(nil, "shop", "items", Delete, []any{int64(2), "a"}, nil, src)
	if len(evs) != 2 || evs[0].Op != change.OpDelete || !evs[1].Tombstone {
		t.Fatalf("delete: %+v", evs)
	}
	if _, err := d.AppendRow(nil, "shop", "items", Insert, nil, []any{int64(1)}, src); err == nil {
		t.Error("want an error for a row with too few values")
	}
	if _, err := d.AppendRow(nil, "shop", "nope", Insert, nil, []any{int64(1)}, src); err == nil {
		t.Error("want an error for an unknown table")
	}
}

func TestKeylessTable(t *testing.T) {
	d := NewDecoder(DecoderOptions{TopicPrefix: "p", Tombstones: true})
	tb := testTable()
	tb.Columns[0].Key = false
	if err := d.SetTable(tb); err != nil {
		t.Fatal(err)
	}
	evs, err := d.AppendRow(nil, "shop", "items", Delete, []any{int64(2), "a"}, nil, change.Source{})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[0].Key != nil || evs[1].Key != nil || !evs[1].Tombstone {
		t.Fatalf("keyless delete: %+v", evs)
	}
}

func TestKeys(t *testing.T) {
	tb := Table{DB: "shop", Name: "lines", Columns: []Column{
		{Name: "a", DataType: "int", Key: true, KeySeq: 2},
		{Name: "b", DataType: "int", Key: true, KeySeq: 1},
		{Name: "c", DataType: "int"},
	}}
	d := NewDecoder(DecoderOptions{TopicPrefix: "p"})
	if err := d.SetTable(tb); err != nil {
		t.Fatal(err)
	}
	ks := d.tables["shop.lines"].keySchema
	if len(ks.Fields) != 2 || ks.Fields[0].Name != "b" || ks.Fields[1].Name != "a" {
		t.Errorf("primary key order: %+v", ks.Fields)
	}
	d = NewDecoder(DecoderOptions{TopicPrefix: "p", MessageKeyColumns: map[string][]string{`shop\.LINES`: {"c", "a"}}})
	if err := d.SetTable(tb); err != nil {
		t.Fatal(err)
	}
	ks = d.tables["shop.lines"].keySchema
	if len(ks.Fields) != 2 || ks.Fields[0].Name != "c" || ks.Fields[1].Name != "a" {
		t.Errorf("message.key.columns: %+v", ks.Fields)
	}
}
