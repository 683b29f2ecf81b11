package mysql

import (
	"math/big"
	"reflect"
	"testing"

	"github.com/sluice-cdc/sluice/change"
)

func TestBigIntUnsignedHandlingMode(t *testing.T) {
	max := new(big.Int).SetUint64(18446744073709551615)
	dec := func(b *big.Int) []byte { return change.DecimalBytes(b) }
	col := Column{DataType: "bigint", Unsigned: true, Nullable: true}
	precise := DecoderOptions{BigIntUnsignedMode: "precise"}
	long := DecoderOptions{BigIntUnsignedMode: "long"}
	tests := []struct {
		name   string
		col    Column
		opts   DecoderOptions
		in     any
		binlog bool
		want   any
	}{
		{"long default max text", col, DecoderOptions{}, uint64(18446744073709551615), false, int64(-1)},
		{"long max binlog", col, long, int64(-1), true, int64(-1)},
		{"long max digits", col, long, []byte("18446744073709551615"), false, int64(-1)},
		{"long small", col, long, uint64(42), false, int64(42)},
		{"precise max text", col, precise, uint64(18446744073709551615), false, dec(max)},
		{"precise max binlog signed bits", col, precise, int64(-1), true, dec(max)},
		{"precise max binlog uint64", col, precise, uint64(18446744073709551615), true, dec(max)},
		{"precise max digits", col, precise, []byte("18446744073709551615"), false, dec(max)},
		{"precise 2^63", col, precise, "9223372036854775808", false, dec(new(big.Int).Lsh(big.NewInt(1), 63))},
		{"precise 2^63-1", col, precise, int64(9223372036854775807), true, dec(big.NewInt(9223372036854775807))},
		{"precise zero", col, precise, int64(0), true, []byte{0}},
		{"precise signed bigint stays int64", Column{DataType: "bigint"}, precise, int64(-5), true, int64(-5)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ConvertValue(tt.col, tt.opts, tt.in, tt.binlog)
			if err != nil {
				t.Fatal(err)
			}
			if !change.ValueEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}

	s, err := ColumnSchema(col, precise)
	if err != nil {
		t.Fatal(err)
	}
	want := change.DecimalSchema(0, 0, true)
	if !reflect.DeepEqual(s, want) || s.Name != change.DecimalName || s.Parameters[change.DecimalScaleParam] != "0" {
		t.Errorf("precise schema = %+v, want %+v", s, want)
	}
	if _, ok := s.Parameters[change.DecimalPrecisionParam]; ok {
		t.Errorf("precise schema has a precision parameter: %v", s.Parameters)
	}
	for _, o := range []DecoderOptions{{}, long} {
		s, err := ColumnSchema(col, o)
		if err != nil {
			t.Fatal(err)
		}
		if s.Type != change.TypeInt64 || s.Name != "" {
			t.Errorf("long schema = %+v", s)
		}
	}
	if s, _ := ColumnSchema(Column{DataType: "bigint"}, precise); s.Type != change.TypeInt64 || s.Name != "" {
		t.Errorf("signed bigint in precise mode: %+v", s)
	}
	if err := (DecoderOptions{BigIntUnsignedMode: "string"}).Validate(); err == nil {
		t.Error("want an error for bigint.unsigned.handling.mode string")
	}
	if _, err := ConvertValue(col, precise, "-1", false); err == nil {
		t.Error("want an error for a negative text value")
	}
}

// TestBigIntUnsignedPreciseEvent decodes a row through the Decoder: the
// 18446744073709551615 key and value are exact Decimals in the event.
func TestBigIntUnsignedPreciseEvent(t *testing.T) {
	d := NewDecoder(DecoderOptions{TopicPrefix: "p", BigIntUnsignedMode: "precise"})
	tbl := Table{DB: "db", Name: "t", Columns: []Column{
		{Name: "id", DataType: "bigint", Unsigned: true, Key: true, KeySeq: 1},
		{Name: "v", DataType: "bigint", Unsigned: true, Nullable: true},
	}}
	if err := d.SetTable(tbl); err != nil {
		t.Fatal(err)
	}
	max := change.DecimalBytes(new(big.Int).SetUint64(18446744073709551615))
	evs, err := d.AppendRow(nil, "db", "t", Insert, nil, []any{int64(-1), uint64(18446744073709551615)}, change.Source{})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || !change.ValueEqual(evs[0].Key.Values[0], max) || !change.ValueEqual(evs[0].After.Values[1], max) {
		t.Fatalf("insert: %+v", evs)
	}
	if f := evs[0].After.Schema.Fields[1].Schema; f.Name != change.DecimalName || f.Parameters[change.DecimalScaleParam] != "0" {
		t.Errorf("v schema = %+v", f)
	}
}
