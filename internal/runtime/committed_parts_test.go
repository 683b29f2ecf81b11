package runtime

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/offsets"
)

// TestCommittedParts checks that the last transaction's marker is found
// from just after its records: with other producers' records interleaved,
// for a commit, an abort and a transaction left open, and for a part whose
// marker was never written at the end of the partition.
func TestCommittedParts(t *testing.T) {
	env := testEnv(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const topic = "cp"
	if err := env.Topics.Ensure(ctx, nil, topic); err != nil {
		t.Fatal(err)
	}
	plain, err := kgo.NewClient(append(append([]kgo.Opt(nil), env.ClientOpts...), kgo.DefaultProduceTopic(topic))...)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	produce := func(cl *kgo.Client, p int32, v string) *kgo.Record {
		t.Helper()
		r := &kgo.Record{Topic: topic, Partition: p, Value: []byte(v)}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatal(err)
		}
		return r
	}
	// txn writes n records to each partition, with a plain record after
	// each of them if interleaved, and ends (commit or abort) or stays open.
	txn := func(id string, n int, interleaved bool, end *kgo.TransactionEndTry) (last *kgo.Record, parts []offsets.Part) {
		t.Helper()
		cl, err := kgo.NewClient(append(append([]kgo.Opt(nil), env.ClientOpts...), kgo.TransactionalID(id),
			kgo.RecordPartitioner(kgo.ManualPartitioner()))...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cl.Close)
		if err := cl.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		for p := int32(0); p < 2; p++ {
			part := offsets.Part{Topic: topic, Partition: p}
			for i := 0; i < n; i++ {
				r := produce(cl, p, "txn")
				if i == 0 {
					part.First = r.Offset
				}
				part.Count++
				last = r
				if interleaved {
					produce(plain, p, "other")
				}
			}
			parts = append(parts, part)
		}
		if end != nil {
			if err := cl.EndTransaction(ctx, *end); err != nil {
				t.Fatal(err)
			}
		}
		return last, parts
	}
	commit, abort := kgo.TryCommit, kgo.TryAbort
	for _, c := range []struct {
		name        string
		interleaved bool
		end         *kgo.TransactionEndTry
		want        int
	}{
		{"committed", false, &commit, 2}, // the markers right after the records
		{"committed-interleaved", true, &commit, 2},
		{"aborted", true, &abort, 0},
		{"open", true, nil, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec, parts := txn("cp-"+c.name, 5, c.interleaved, c.end)
			if c.end == nil {
				// No marker yet: the reader stops at the end of each partition.
				produce(plain, 0, "after")
			}
			done, err := committedParts(ctx, env, rec, parts)
			if err != nil {
				t.Fatal(err)
			}
			if len(done) != c.want {
				t.Fatalf("%d committed parts, want %d: %+v", len(done), c.want, done)
			}
		})
	}
}
