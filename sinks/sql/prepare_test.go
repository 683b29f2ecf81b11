package sql

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/change"
)

// TestPrepare: records bound ahead of Write by Prepare (as the sink task
// does on its decoding goroutine) are written exactly as records Write
// binds itself; a binding error found by Prepare rejects the record as
// Write's own would; a record prepared for another shape is bound again;
// and Prepare runs safely while Write does (go test -race).
func TestPrepare(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, tg := range targets(t) {
		t.Run(tg.name, func(t *testing.T) {
			s, err := Open(ctx, Options{Name: "prep", DSN: tg.dsn, Table: "${topic}", DeleteEnabled: true, AutoCreate: true, AutoEvolve: true})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			sc := rowSchema()
			batch := func(topic string, prepare bool, from int64) []Record {
				var out []Record
				for i := range 50 {
					id := int32(i + 1)
					e := ev(change.OpCreate, id, nil, fullRow(sc, id, fmt.Sprintf("row %d", id)))
					if i%10 == 9 {
						e = ev(change.OpUpdate, id-1, nil, fullRow(sc, id-1, fmt.Sprintf("row %d again", id-1)))
					}
					e.Topic = topic
					r := Record{Topic: topic, Offset: from + int64(i), Event: e}
					if prepare {
						r.Prepared = s.Prepare(e)
						if r.Prepared == nil {
							t.Fatalf("Prepare(%s) = nil", e.Op)
						}
					}
					out = append(out, r)
				}
				return out
			}
			if err := s.Write(ctx, batch("bound", false, 0), noReject(t)); err != nil {
				t.Fatal(err)
			}
			if err := s.Write(ctx, batch("prepared", true, 0), noReject(t)); err != nil {
				t.Fatal(err)
			}
			dump := func(table string) string {
				t.Helper()
				var cols []string
				for _, f := range sc.Fields {
					cols = append(cols, tg.text(f.Name))
				}
				rows, err := s.db.QueryContext(ctx, "SELECT "+strings.Join(cols, ", ")+" FROM "+qualified(s.d, tableID{name: table})+" ORDER BY "+s.d.quote("id"))
				if err != nil {
					t.Fatal(err)
				}
				defer rows.Close()
				var b strings.Builder
				for rows.Next() {
					vals := make([]*string, len(cols))
					ptrs := make([]any, len(cols))
					for i := range vals {
						ptrs[i] = &vals[i]
					}
					if err := rows.Scan(ptrs...); err != nil {
						t.Fatal(err)
					}
					for _, v := range vals {
						if v == nil {
							b.WriteString("<null>|")
						} else {
							b.WriteString(*v + "|")
						}
					}
					b.WriteByte('\n')
				}
				if err := rows.Err(); err != nil {
					t.Fatal(err)
				}
				return b.String()
			}
			bound, prepared := dump("bound"), dump("prepared")
			if bound != prepared || strings.Count(bound, "\n") != 45 || !strings.Contains(bound, "row 9 again") {
				t.Fatalf("prepared rows differ from bound rows:\n%s\nwant\n%s", prepared, bound)
			}

			// A value that cannot be bound: the record is rejected, with
			// the same error whether Prepare or Write found it.
			badRow := fullRow(sc, 100, "bad")
			badRow.Values[4] = "not bytes" // c_num, a Decimal: bytes expected
			var errs []string
			for _, prepare := range []bool{false, true} {
				e := ev(change.OpCreate, 100, nil, badRow)
				e.Topic = "bound"
				r := Record{Topic: "bound", Offset: 100, Event: e}
				if prepare {
					r.Prepared = s.Prepare(e)
					r.Offset = 101
				}
				var got error
				if err := s.Write(ctx, []Record{r}, func(i int, err error) error { got = err; return nil }); err != nil {
					t.Fatal(err)
				}
				if got == nil {
					t.Fatalf("prepare=%v: a c_num of %T was not rejected", prepare, badRow.Values[4])
				}
				errs = append(errs, strings.Replace(got.Error(), "@101", "@100", 1))
			}
			if errs[0] != errs[1] {
				t.Errorf("rejections differ: Write's %q, Prepare's %q", errs[0], errs[1])
			}

			// Prepared for another shape (the row schema changed after
			// Prepare): Write binds the record again.
			sc2 := rowSchema(change.Field{Name: "c_new", Schema: change.PrimitiveSchema(change.TypeString, true)})
			old := ev(change.OpCreate, 200, nil, fullRow(sc, 200, "old shape"))
			e := ev(change.OpCreate, 200, nil, fullRow(sc2, 200, "new shape"))
			e.Topic, old.Topic = "bound", "bound"
			if err := s.Write(ctx, []Record{{Topic: "bound", Offset: 200, Event: e, Prepared: s.Prepare(old)}}, noReject(t)); err != nil {
				t.Fatal(err)
			}
			var text, added string
			q := fmt.Sprintf("SELECT %s, %s FROM %s WHERE %s = 200", tg.text("c_text"), tg.text("c_new"), qualified(s.d, tableID{name: "bound"}), s.d.quote("id"))
			if err := s.db.QueryRowContext(ctx, q).Scan(&text, &added); err != nil || text != "new shape" || added != "extra" {
				t.Errorf("row 200 = %q, %q, %v; want the new shape's values", text, added, err)
			}

			// Prepare while Write runs, as the sink task does.
			var wg sync.WaitGroup
			next := make(chan []Record, 1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer close(next)
				for n := range 5 {
					next <- batch("prepared", true, int64(1000+100*n))
				}
			}()
			for b := range next {
				if err := s.Write(ctx, b, noReject(t)); err != nil {
					t.Fatal(err)
				}
			}
			wg.Wait()
			if got := dump("prepared"); got != bound {
				t.Errorf("after concurrent batches, prepared rows differ:\n%s", got)
			}
		})
	}
}
