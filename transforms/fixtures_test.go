package transforms_test

import (
	"testing"
	"time"

	"github.com/jackc/pglogrepl"

	"github.com/sluice-cdc/sluice/change"
	"github.com/sluice-cdc/sluice/configs"
	"github.com/sluice-cdc/sluice/sources/mysql"
	"github.com/sluice-cdc/sluice/sources/postgres"
	"github.com/sluice-cdc/sluice/transforms"
)

// Golden events are built by the sources' own decoders, so that the
// transforms see exactly what a connector emits.

var (
	commitTime = time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC)
	procTime   = time.Date(2024, 5, 6, 7, 8, 10, 0, time.UTC)
)

const relCustomers = 16384

func tuple(vals ...string) *pglogrepl.TupleData {
	td := &pglogrepl.TupleData{}
	for _, v := range vals {
		c := &pglogrepl.TupleDataColumn{DataType: 't', Length: uint32(len(v)), Data: []byte(v)}
		if v == "<null>" {
			c = &pglogrepl.TupleDataColumn{DataType: 'n'}
		}
		td.Columns = append(td.Columns, c)
		td.ColumnNum++
	}
	return td
}

// pgEvents returns a Postgres insert, update, delete and tombstone of
// inventory.public.customers (id int4 PK, email varchar, name text,
// score numeric(5,2), created timestamptz).
func pgEvents(t testing.TB) (insert, update, del, tombstone change.Event) {
	t.Helper()
	d := postgres.NewDecoder(postgres.DecoderOptions{
		TopicPrefix: "inventory", Database: "inventory", Version: "test", Tombstones: true,
		Now: func() time.Time { return procTime },
	})
	_, err := d.SetTable(postgres.Table{RelationID: relCustomers, Schema: "public", Name: "customers", ReplicaIdentity: 'f',
		Columns: []postgres.Column{
			{Name: "id", TypeOID: 23, TypeName: "int4", Typmod: -1, Key: true, KeySeq: 1},
			{Name: "email", TypeOID: 1043, TypeName: "varchar", Typmod: 259},
			{Name: "name", TypeOID: 25, TypeName: "text", Typmod: -1, Nullable: true},
			{Name: "score", TypeOID: 1700, TypeName: "numeric", Typmod: (5<<16 | 2) + 4, Nullable: true},
			{Name: "created", TypeOID: 1184, TypeName: "timestamptz", Typmod: -1, Nullable: true},
		}})
	if err != nil {
		t.Fatal(err)
	}
	d.Begin(&pglogrepl.BeginMessage{FinalLSN: 0x2000, CommitTime: commitTime, Xid: 771})
	row1 := tuple("1", "ann@example.com", "Ann", "12.50", "2024-05-06 07:08:09.123456+00")
	row2 := tuple("1", "ann@example.org", "Ann", "99.99", "2024-05-06 07:08:09.123456+00")
	evs, err := d.Insert(&pglogrepl.InsertMessage{RelationID: relCustomers, Tuple: row1}, 0x1000)
	if err != nil {
		t.Fatal(err)
	}
	insert = evs[0]
	evs, err = d.Update(&pglogrepl.UpdateMessage{RelationID: relCustomers, OldTupleType: 'O', OldTuple: row1, NewTuple: row2}, 0x1100)
	if err != nil {
		t.Fatal(err)
	}
	update = evs[0]
	evs, err = d.Delete(&pglogrepl.DeleteMessage{RelationID: relCustomers, OldTupleType: 'O', OldTuple: row2}, 0x1200)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || !evs[1].Tombstone {
		t.Fatalf("delete: want a delete and a tombstone, got %+v", evs)
	}
	return insert, update, evs[0], evs[1]
}

// myEvents returns MySQL inserts into the shards shop.orders_1 and
// shop.orders_2 (id bigint PK, customer varchar, qty int) with the same
// primary key, and a delete (plus tombstone) from orders_1.
func myEvents(t testing.TB) (ins1, ins2, del, tombstone change.Event) {
	t.Helper()
	d := mysql.NewDecoder(mysql.DecoderOptions{TopicPrefix: "shop", Version: "test", Tombstones: true})
	for _, name := range []string{"orders_1", "orders_2"} {
		err := d.SetTable(mysql.Table{DB: "shop", Name: name, Columns: []mysql.Column{
			{Name: "id", DataType: "bigint", Key: true, KeySeq: 1},
			{Name: "customer", DataType: "varchar", Charset: "utf8mb4", Nullable: true},
			{Name: "qty", DataType: "int", Nullable: true},
		}})
		if err != nil {
			t.Fatal(err)
		}
	}
	src := change.Source{File: "mysql-bin.000003", Pos: 4711, ServerID: 1, TsUs: commitTime.UnixMicro()}
	a, err := d.AppendRow(nil, "shop", "orders_1", mysql.Insert, nil, []any{int64(7), "bob", int32(3)}, src)
	if err != nil {
		t.Fatal(err)
	}
	b, err := d.AppendRow(nil, "shop", "orders_2", mysql.Insert, nil, []any{int64(7), "eve", int32(5)}, src)
	if err != nil {
		t.Fatal(err)
	}
	c, err := d.AppendRow(nil, "shop", "orders_1", mysql.Delete, []any{int64(7), "bob", int32(3)}, nil, src)
	if err != nil {
		t.Fatal(err)
	}
	return a[0], b[0], c[0], c[1]
}

// chain compiles transforms written as YAML-like option maps.
func chain(t testing.TB, ts ...configs.Transform) *transforms.Chain {
	t.Helper()
	for i := range ts {
		if ts[i].Key == "" {
			ts[i].Key = "sources[0].transforms[" + string(rune('0'+i)) + "]"
		}
	}
	c, err := transforms.Compile(ts)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	return c
}

func tf(typ string, kv ...any) configs.Transform {
	o := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		o[kv[i].(string)] = kv[i+1]
	}
	return configs.Transform{Type: typ, Options: o}
}

// apply runs a copy of e through c.
func apply(t testing.TB, c *transforms.Chain, e change.Event) (change.Event, bool) {
	t.Helper()
	keep, err := c.Apply(&e)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	return e, keep
}

// encode returns the JSON key and value of e (with schemas).
func encode(t testing.TB, e change.Event) (key, value string) {
	t.Helper()
	k, v, err := change.NewJSONEncoder(change.JSONOptions{Schemas: true}).Encode(&e)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	return string(k), string(v)
}

// payload returns the value without schemas.
func payload(t testing.TB, e change.Event) (key, value string) {
	t.Helper()
	k, v, err := change.NewJSONEncoder(change.JSONOptions{}).Encode(&e)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	return string(k), string(v)
}
