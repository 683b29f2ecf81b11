package change

import "testing"

// TestStructChunks checks that rows handed out from chunks do not share
// values, with and without a key, across chunk boundaries.
func TestStructChunks(t *testing.T) {
	rs, ks := &Schema{Type: TypeStruct, Name: "r"}, &Schema{Type: TypeStruct, Name: "k"}
	var c StructChunks
	var rows, keys []*Struct
	for i := range 3*structChunkRows + 5 {
		var r, k *Struct
		if i%2 == 0 {
			r, k = c.Next(rs, 3, ks, 1)
			k.Values[0] = i
		} else {
			r, k = c.Next(rs, 3, nil, 0)
			if k != nil {
				t.Fatal("key without a key schema")
			}
		}
		for j := range r.Values {
			r.Values[j] = i*10 + j
		}
		rows, keys = append(rows, r), append(keys, k)
	}
	for i, r := range rows {
		if len(r.Values) != 3 || cap(r.Values) != 3 || r.Schema != rs {
			t.Fatalf("row %d: %+v", i, r)
		}
		for j, v := range r.Values {
			if v != i*10+j {
				t.Fatalf("row %d value %d = %v", i, j, v)
			}
		}
		if k := keys[i]; k != nil && (k.Values[0] != i || k.Schema != ks) {
			t.Fatalf("key %d: %+v", i, k)
		}
	}
	r, k := NewRowAndKey(rs, 2, ks, 1)
	if len(r.Values) != 2 || len(k.Values) != 1 {
		t.Fatalf("NewRowAndKey: %+v %+v", r, k)
	}
}
