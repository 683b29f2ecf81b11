package pipeline

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"

	"github.com/sluice-cdc/sluice/change"
	"github.com/sluice-cdc/sluice/configs"
	"github.com/sluice-cdc/sluice/sources/postgres"
	"github.com/sluice-cdc/sluice/transforms"
)

// benchEvents decodes n Postgres changes of a 7-column customers table
// (70% inserts, 25% updates with full before images, 5% deletes with
// their tombstones), as the source hands them to the writer.
func benchEvents(b testing.TB, n int) []change.Event {
	b.Helper()
	d := postgres.NewDecoder(postgres.DecoderOptions{TopicPrefix: "inventory", Database: "inventory", Version: "bench", Tombstones: true})
	const rel = 16384
	_, err := d.SetTable(postgres.Table{RelationID: rel, Schema: "public", Name: "customers", ReplicaIdentity: 'f',
		Columns: []postgres.Column{
			{Name: "id", TypeOID: 23, TypeName: "int4", Typmod: -1, Key: true, KeySeq: 1},
			{Name: "email", TypeOID: 1043, TypeName: "varchar", Typmod: 259},
			{Name: "first_name", TypeOID: 25, TypeName: "text", Typmod: -1, Nullable: true},
			{Name: "last_name", TypeOID: 25, TypeName: "text", Typmod: -1, Nullable: true},
			{Name: "score", TypeOID: 1700, TypeName: "numeric", Typmod: (10<<16 | 2) + 4, Nullable: true},
			{Name: "active", TypeOID: 16, TypeName: "bool", Typmod: -1, Nullable: true},
			{Name: "created", TypeOID: 1184, TypeName: "timestamptz", Typmod: -1, Nullable: true},
		}})
	if err != nil {
		b.Fatal(err)
	}
	// row is customer id in its version v (updates change the score).
	row := func(id, v int) *pglogrepl.TupleData {
		td := &pglogrepl.TupleData{}
		for _, v := range []string{fmt.Sprint(id), fmt.Sprintf("user%d@example.com", id), "Ann", "Example", fmt.Sprintf("%d.%02d", (id+v)%1000, v%100), "t", "2024-05-06 07:08:09.123456+00"} {
			td.Columns = append(td.Columns, &pglogrepl.TupleDataColumn{DataType: 't', Length: uint32(len(v)), Data: []byte(v)})
		}
		td.ColumnNum = uint16(len(td.Columns))
		return td
	}
	d.Begin(&pglogrepl.BeginMessage{FinalLSN: 1 << 20, CommitTime: time.Now(), Xid: 1})
	var evs []change.Event
	for i := 0; len(evs) < n; i++ {
		lsn := pglogrepl.LSN(1000 + i)
		switch r := i % 20; {
		case r < 14:
			evs, err = d.AppendInsert(evs, &pglogrepl.InsertMessage{RelationID: rel, Tuple: row(i, 0)}, lsn)
		case r < 19:
			evs, err = d.AppendUpdate(evs, &pglogrepl.UpdateMessage{RelationID: rel, OldTupleType: 'O', OldTuple: row(i-r, 0), NewTuple: row(i-r, r)}, lsn)
		default:
			evs, err = d.AppendDelete(evs, &pglogrepl.DeleteMessage{RelationID: rel, OldTupleType: 'O', OldTuple: row(i-r, 0)}, lsn)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	return evs[:n]
}

// benchChain is a representative source chain: filter on the envelope,
// unwrap (unless envelope), hash the e-mail (in before and after of an
// envelope), rename the topic.
func benchChain(b *testing.B, envelope bool) *transforms.Chain {
	b.Helper()
	ts := []configs.Transform{
		{Type: "filter", Key: "t[0]", Options: map[string]any{"condition": `op != "t"`}},
		{Type: "unwrap", Key: "t[1]", Options: map[string]any{"drop_tombstones": false}},
		{Type: "mask", Key: "t[2]", Options: map[string]any{"fields": []any{"email"}, "hash": true, "salt": "pepper"}},
		{Type: "route", Key: "t[3]", Options: map[string]any{"regex": `inventory\.public\.(.*)`, "replacement": "crm.$1"}},
	}
	if envelope {
		ts = append(ts[:1], ts[2:]...)
	}
	c, err := transforms.Compile(ts)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkPipeline measures the SourceWriter's per-batch work before the
// Kafka write (transform + encode into records) for 1,000 events, without
// transforms (none), with the representative chain (chain: filter, unwrap,
// mask, route; its records are smaller), with the same chain minus unwrap
// (chain-envelope: the same records as none, masked), and the chain's
// transforms alone (chain-only, no encoding). Compare ns/op of none with
// chain and chain-envelope for the chain's cost relative to the pipeline.
func BenchmarkPipeline(b *testing.B) {
	const n = 1000
	evs := benchEvents(b, n)
	for _, schemas := range []bool{true, false} {
		for _, tc := range []struct {
			name            string
			chain, envelope bool
		}{{"none", false, false}, {"chain", true, false}, {"chain-envelope", true, true}} {
			b.Run(fmt.Sprintf("%s/schemas=%v", tc.name, schemas), func(b *testing.B) {
				s := NewSourceWriter(nil, change.JSONOptions{Schemas: schemas})
				if tc.chain {
					s.SetTransform(benchChain(b, tc.envelope).Apply)
				}
				var bytes int64
				for b.Loop() {
					if err := s.encode(evs); err != nil {
						b.Fatal(err)
					}
					bytes = 0
					for _, r := range s.recs {
						bytes += int64(len(r.Key) + len(r.Value))
					}
				}
				b.ReportMetric(float64(bytes)/n, "B/event")
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/event")
			})
		}
	}
	b.Run("chain-only", func(b *testing.B) {
		c := benchChain(b, false)
		var e change.Event
		for b.Loop() {
			for i := range evs {
				e = evs[i]
				if _, err := c.Apply(&e); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/event")
	})
}

// BenchmarkPipelineKafka is BenchmarkPipeline through the whole
// SourceWriter path: transform, encode, produce into a transaction and
// commit it with an offset record, on the embedded broker. The broker keeps
// every record in memory: run it with a small -benchtime such as 100x. Each
// variant gets a broker of its own so that one's heap does not slow the
// next.
func BenchmarkPipelineKafka(b *testing.B) {
	const n = 1000
	evs := benchEvents(b, n)
	for _, tc := range []struct {
		name            string
		chain, envelope bool
	}{{"none", false, false}, {"chain", true, false}, {"chain-envelope", true, true}} {
		b.Run(tc.name, func(b *testing.B) {
			tw, _ := embeddedTxnWriter(b, "bench")
			s := NewSourceWriter(tw, change.JSONOptions{Schemas: true})
			if tc.chain {
				s.SetTransform(benchChain(b, tc.envelope).Apply)
			}
			ctx := context.Background()
			for b.Loop() {
				if err := s.Emit(ctx, evs); err != nil {
					b.Fatal(err)
				}
				if err := s.Commit(ctx, []byte("offset")); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/event")
		})
	}
}

// BenchmarkPipelineRatio interleaves batches without and with each chain
// on the same writer path and reports the fastest batch of each and their
// ratio, which holds up on a busy machine where separate runs drift.
func BenchmarkPipelineRatio(b *testing.B) {
	const n = 1000
	evs := benchEvents(b, n)
	for _, envelope := range []bool{false, true} {
		name := "chain"
		if envelope {
			name = "chain-envelope"
		}
		b.Run(name, func(b *testing.B) {
			none := NewSourceWriter(nil, change.JSONOptions{Schemas: true})
			with := NewSourceWriter(nil, change.JSONOptions{Schemas: true})
			with.SetTransform(benchChain(b, envelope).Apply)
			bestNone, bestWith := time.Duration(1<<62), time.Duration(1<<62)
			for b.Loop() {
				for _, s := range []*SourceWriter{none, with} {
					start := time.Now()
					if err := s.encode(evs); err != nil {
						b.Fatal(err)
					}
					d := time.Since(start)
					if s == none {
						bestNone = min(bestNone, d)
					} else {
						bestWith = min(bestWith, d)
					}
				}
			}
			b.ReportMetric(float64(bestNone.Nanoseconds())/n, "none-ns/event")
			b.ReportMetric(float64(bestWith.Nanoseconds())/n, "chain-ns/event")
			b.ReportMetric(float64(bestWith)/float64(bestNone), "chain/none")
		})
	}
}

// BenchmarkSnapshotRows measures the per-row work of a Postgres snapshot
// on the bench's orders table (bench/pg.go): decoding a row as read
// (ReadRow) and encoding it into a record, each separately and together.
func BenchmarkSnapshotRows(b *testing.B) {
	d := postgres.NewDecoder(postgres.DecoderOptions{TopicPrefix: "snap", Database: "snap", Version: "bench"})
	const rel = 16384
	_, err := d.SetTable(postgres.Table{RelationID: rel, Schema: "public", Name: "orders", ReplicaIdentity: 'd',
		Columns: []postgres.Column{
			{Name: "id", TypeOID: 20, TypeName: "int8", Typmod: -1, Key: true, KeySeq: 1},
			{Name: "customer_id", TypeOID: 20, TypeName: "int8", Typmod: -1},
			{Name: "status", TypeOID: 25, TypeName: "text", Typmod: -1},
			{Name: "amount", TypeOID: 1700, TypeName: "numeric", Typmod: (12<<16 | 2) + 4},
			{Name: "created_at", TypeOID: 1184, TypeName: "timestamptz", Typmod: -1},
			{Name: "note", TypeOID: 25, TypeName: "text", Typmod: -1, Nullable: true},
			{Name: "ts_us", TypeOID: 20, TypeName: "int8", Typmod: -1},
		}})
	if err != nil {
		b.Fatal(err)
	}
	const n = 1000
	rows := make([][][]byte, n)
	for i := range rows {
		g := 1_000_000 + i
		note := fmt.Sprintf("%032x", g*7919)
		for _, v := range []string{fmt.Sprint(g), fmt.Sprint(g % 5000), "shipped", fmt.Sprintf("%d.%02d", g%100000/100, g%100),
			"2026-11-25 02:20:14.123456+00", note + note + note, "1764037214123456"} {
			rows[i] = append(rows[i], []byte(v))
		}
	}
	src := change.Source{Snapshot: "true", Schema: "public", Table: "orders", TxID: 1234, LSN: 1 << 30, TsUs: 1764037214123456}
	evs := make([]change.Event, n)
	decode := func() {
		for i, r := range rows {
			ev, err := d.ReadRow(rel, r, nil, src)
			if err != nil {
				b.Fatal(err)
			}
			evs[i] = ev
		}
	}
	decode()
	b.Run("decode", func(b *testing.B) {
		for b.Loop() {
			decode()
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/row")
	})
	b.Run("encode", func(b *testing.B) {
		s := NewSourceWriter(nil, change.JSONOptions{Schemas: true})
		for b.Loop() {
			if err := s.encode(evs); err != nil {
				b.Fatal(err)
			}
			delivered(s)
		}
		b.ReportMetric(float64(len(s.recs[0].Key)+len(s.recs[0].Value)), "B/row")
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/row")
	})
	b.Run("both", func(b *testing.B) {
		s := NewSourceWriter(nil, change.JSONOptions{Schemas: true})
		for b.Loop() {
			decode()
			if err := s.encode(evs); err != nil {
				b.Fatal(err)
			}
			delivered(s)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/row")
	})
}

// delivered does what the TxnWriter's delivery hook does once Kafka has
// the records of the last encode.
func delivered(s *SourceWriter) {
	for _, r := range s.recs {
		releaseSlab(r)
	}
}
