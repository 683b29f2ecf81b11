package sql

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/change"
)

var smallSchema = &change.Schema{Type: change.TypeStruct, Optional: true, Fields: []change.Field{
	{Name: "id", Schema: change.PrimitiveSchema(change.TypeInt32, false)},
	{Name: "v", Schema: change.PrimitiveSchema(change.TypeString, true)},
}}

func small(id int32, v string) *change.Struct {
	return &change.Struct{Schema: smallSchema, Values: []any{id, v}}
}

// TestModes covers insert_mode insert/update, primary_key.mode
// record_value with flattened rows, delete_enabled off, keyless tables and
// the default table name, on every target.
func TestModes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, tg := range targets(t) {
		t.Run(tg.name, func(t *testing.T) {
			open := func(o Options) *Sink {
				o.DSN, o.AutoCreate, o.AutoEvolve = tg.dsn, true, true
				s, err := Open(ctx, o)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { s.Close() })
				return s
			}
			offset := int64(0)
			write := func(s *Sink, reject Reject, evs ...*change.Event) error {
				rs := make([]Record, len(evs))
				for i, e := range evs {
					rs[i] = Record{Topic: "srv.public.t", Offset: offset, Event: e}
					offset++
				}
				return s.Write(ctx, rs, reject)
			}
			key := func(id int32) *change.Struct { return &change.Struct{Schema: keySchema, Values: []any{id}} }
			e := func(op change.Op, id int32, v string) *change.Event {
				ev := &change.Event{Op: op, Key: key(id), RowSchema: smallSchema, Source: change.Source{Table: "t"}}
				if op == change.OpDelete {
					ev.Before = small(id, v)
				} else {
					ev.After = small(id, v)
				}
				return ev
			}
			rows := func(s *Sink, table string) string {
				t.Helper()
				r, err := s.db.QueryContext(ctx, fmt.Sprintf("SELECT %s, %s FROM %s ORDER BY 1, 2", s.d.quote("id"), s.d.quote("v"), s.d.quote(table)))
				if err != nil {
					t.Fatal(err)
				}
				defer r.Close()
				out := ""
				for r.Next() {
					var id int
					var v *string
					if err := r.Scan(&id, &v); err != nil {
						t.Fatal(err)
					}
					if v == nil {
						out += fmt.Sprintf("%d=NULL ", id)
					} else {
						out += fmt.Sprintf("%d=%s ", id, *v)
					}
				}
				return out
			}

			// insert: a delete and re-insert of a key in one batch; then a
			// duplicate is rejected.
			ins := open(Options{Name: "ins", Table: "m_insert", InsertMode: InsertModeInsert, DeleteEnabled: true})
			if err := write(ins, noReject(t), e(change.OpCreate, 1, "a"), e(change.OpCreate, 2, "b"), e(change.OpDelete, 1, "a"), e(change.OpCreate, 1, "a2")); err != nil {
				t.Fatal(err)
			}
			var rejected []int
			if err := write(ins, func(i int, err error) error { rejected = append(rejected, i); return nil }, e(change.OpCreate, 3, "c"), e(change.OpCreate, 2, "dup")); err != nil {
				t.Fatal(err)
			}
			if got := rows(ins, "m_insert"); got != "1=a2 2=b 3=c " || fmt.Sprint(rejected) != "[1]" {
				t.Errorf("insert mode: rows %q, rejected %v", got, rejected)
			}

			// update: only existing rows change.
			upd := open(Options{Name: "upd", Table: "m_insert", InsertMode: InsertModeUpdate, DeleteEnabled: true})
			if err := write(upd, noReject(t), e(change.OpUpdate, 1, "u1"), e(change.OpCreate, 9, "nine")); err != nil {
				t.Fatal(err)
			}
			if got := rows(upd, "m_insert"); got != "1=u1 2=b 3=c " {
				t.Errorf("update mode: rows %q", got)
			}

			// record_value with flattened rows (no key, no op).
			rv := open(Options{Name: "rv", Table: "m_value", PrimaryKeyMode: PrimaryKeyRecordValue, PrimaryKeyFields: []string{"id"}, DeleteEnabled: true})
			flat := func(id int32, v string) *change.Event {
				return &change.Event{After: small(id, v), RowSchema: smallSchema}
			}
			if err := write(rv, noReject(t), flat(1, "x"), flat(1, "y"), flat(2, "z")); err != nil {
				t.Fatal(err)
			}
			if got := rows(rv, "m_value"); got != "1=y 2=z " {
				t.Errorf("record_value: rows %q", got)
			}

			// delete_enabled off, and the default table name ${topic}.
			nd := open(Options{Name: "nd"})
			if err := write(nd, noReject(t), e(change.OpCreate, 1, "keep"), e(change.OpDelete, 1, "keep"), &change.Event{Tombstone: true, Key: key(1)}); err != nil {
				t.Fatal(err)
			}
			if got := rows(nd, "srv_public_t"); got != "1=keep " {
				t.Errorf("delete_enabled off: rows %q", got)
			}

			// A keyless table: rows are appended; updates and deletes are
			// rejected rather than applied to some row.
			kl := open(Options{Name: "kl", Table: "m_keyless", DeleteEnabled: true})
			nokey := func(op change.Op, id int32, v string) *change.Event {
				ev := e(op, id, v)
				ev.Key = nil
				return ev
			}
			rejected = nil
			if err := write(kl, func(i int, err error) error { rejected = append(rejected, i); return nil },
				nokey(change.OpCreate, 1, "a"), nokey(change.OpCreate, 1, "a"), nokey(change.OpUpdate, 1, "b"), nokey(change.OpDelete, 1, "a"),
				&change.Event{Tombstone: true}); err != nil {
				t.Fatal(err)
			}
			if got := rows(kl, "m_keyless"); got != "1=a 1=a " || fmt.Sprint(rejected) != "[2 3]" {
				t.Errorf("keyless: rows %q, rejected %v", got, rejected)
			}
		})
	}
}
