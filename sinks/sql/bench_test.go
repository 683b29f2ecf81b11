package sql

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/change"
	"github.com/sluice-cdc/sluice/internal/harness"
)

// BenchmarkWrite measures rows/s into each target: batches of 1000 creates
// of a 7-column row (int key, text, int, decimal, timestamp, json, bytes),
// upsert mode, one transaction per batch with its offsets.
//
//	go test ./sinks/sql -run '^$' -bench Write -benchtime 20x
func BenchmarkWrite(b *testing.B) {
	ctx := context.Background()
	pg := harness.StartPostgres(b)
	if err := pg.CreateDatabase(ctx, "bench"); err != nil {
		b.Fatal(err)
	}
	my := harness.StartMariaDB(b)
	if err := my.CreateDatabase(ctx, "bench"); err != nil {
		b.Fatal(err)
	}
	dsns := map[string]string{
		"postgres": pg.DSN("bench"),
		"mariadb":  my.DSN("bench"),
		"sqlite":   "sqlite://" + filepath.Join(b.TempDir(), "bench.db"),
	}
	sc := &change.Schema{Type: change.TypeStruct, Optional: true, Fields: []change.Field{
		{Name: "id", Schema: change.PrimitiveSchema(change.TypeInt64, false)},
		{Name: "name", Schema: change.PrimitiveSchema(change.TypeString, true)},
		{Name: "qty", Schema: change.PrimitiveSchema(change.TypeInt32, true)},
		{Name: "price", Schema: change.DecimalSchema(2, 10, true)},
		{Name: "seen", Schema: change.MicroTimestampSchema(true)},
		{Name: "doc", Schema: change.JSONSchema(true)},
		{Name: "data", Schema: change.PrimitiveSchema(change.TypeBytes, true)},
	}}
	ks := &change.Schema{Type: change.TypeStruct, Fields: sc.Fields[:1]}
	const batch = 1000
	for _, name := range []string{"postgres", "mariadb", "sqlite"} {
		b.Run(name, func(b *testing.B) {
			s, err := Open(ctx, Options{Name: "bench", DSN: dsns[name], Table: "items", DeleteEnabled: true, AutoCreate: true, AutoEvolve: true})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			recs := make([]Record, batch)
			off := int64(0)
			start := time.Now()
			for i := 0; i < b.N; i++ {
				for j := range recs {
					id := off
					row := &change.Struct{Schema: sc, Values: []any{id, fmt.Sprintf("item %d", id), int32(id % 100), dec(fmt.Sprint(id*7 + 1)),
						int64(1_700_000_000_000_000 + id), `{"a": 1}`, []byte{1, 2, 3}}}
					recs[j] = Record{Topic: "b.public.items", Offset: off, Event: &change.Event{Op: change.OpCreate, After: row, RowSchema: sc,
						Key: &change.Struct{Schema: ks, Values: []any{id}}}}
					off++
				}
				if err := s.Write(ctx, recs, func(i int, err error) error { return err }); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*batch)/time.Since(start).Seconds(), "rows/s")
		})
	}
}
