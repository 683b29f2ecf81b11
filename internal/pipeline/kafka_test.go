package pipeline

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/change"
	"github.com/sluice-cdc/sluice/internal/kafka"
)

// TestSlabsReusedKafka writes more events than the slab pool holds,
// through a TxnWriter on the embedded broker, so that slabs are reused as
// soon as Kafka has their records, and reads every record back: each must
// hold the bytes it was encoded with.
func TestSlabsReusedKafka(t *testing.T) {
	tw, opts := embeddedTxnWriter(t, "slabs")
	jopts := change.JSONOptions{Schemas: true}
	s := NewSourceWriter(tw, jopts)
	evs := benchEvents(t, 4000)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const rounds = 4
	for range rounds {
		for i := 0; i < len(evs); i += 500 {
			if err := s.Emit(ctx, evs[i:i+500]); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Commit(ctx, []byte("offset")); err != nil {
			t.Fatal(err)
		}
	}
	topic := evs[0].Topic
	cl, err := kgo.NewClient(append(opts, kgo.ConsumeTopics(topic), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	enc := change.NewJSONEncoder(jopts)
	n := 0
	for n < rounds*len(evs) {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatal(err)
		}
		for _, r := range fs.Records() {
			ev := &evs[n%len(evs)]
			key, value, err := enc.Encode(ev)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(r.Key, key) || !bytes.Equal(r.Value, value) {
				t.Fatalf("record %d: key %.80q value %.80q, want key %.80q value %.80q", n, r.Key, r.Value, key, value)
			}
			n++
		}
	}
	if s.pool.get(0) == nil {
		t.Error("no slab came back to the pool")
	}
}

// embeddedTxnWriter starts an embedded broker of one partition and returns
// a TxnWriter for connector on it, and the client options that reach it;
// both are closed when tb ends.
func embeddedTxnWriter(tb testing.TB, connector string) (*kafka.TxnWriter, []kgo.Opt) {
	tb.Helper()
	e, err := kafka.StartEmbedded(kafka.EmbeddedOptions{Listen: "127.0.0.1:0", Partitions: 1})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(e.Close)
	opts := []kgo.Opt{kgo.SeedBrokers(e.Addr())}
	admin, err := kgo.NewClient(opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(admin.Close)
	tw, err := kafka.NewTxnWriter(kafka.TxnWriterOptions{ClientOpts: opts, Connector: connector, OffsetsTopic: "offsets",
		Topics: kafka.NewTopics(admin, 1, -1, nil)})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(tw.Close)
	return tw, opts
}
