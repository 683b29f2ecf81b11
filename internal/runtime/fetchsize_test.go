package runtime

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/internal/kafka"
)

// TestFetchSizer: a consumer reading batches that decompress twentyfold
// fetches a twentieth of what one reading uncompressed batches fetches,
// both about fetchTarget bytes decompressed.
func TestFetchSizer(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "lz4", "none"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// Records that compress about twentyfold: a repeated block around a
	// varying payload.
	block := bytes.Repeat([]byte(`{"type":"int64","optional":false,"field":"id"},`), 40)
	for _, codec := range []string{"lz4", "none"} {
		opts, err := kafka.Options{Brokers: c.ListenAddrs(), Compression: codec}.ClientOpts()
		if err != nil {
			t.Fatal(err)
		}
		p, err := kgo.NewClient(append(opts, kgo.DefaultProduceTopic(codec))...)
		if err != nil {
			t.Fatal(err)
		}
		var recs []*kgo.Record
		for i := range 20_000 {
			recs = append(recs, &kgo.Record{Value: fmt.Appendf(bytes.Clone(block), `{"id":%d,"note":"%x"}`, i, i*7919)})
		}
		if err := p.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
		p.Close()
	}

	for _, tc := range []struct {
		topic    string
		min, max int32
	}{
		{"lz4", fetchMin, fetchTarget / 10},
		{"none", fetchMax, fetchMax},
	} {
		f := newFetchSizer()
		opts, err := kafka.Options{Brokers: c.ListenAddrs()}.ClientOpts()
		if err != nil {
			t.Fatal(err)
		}
		cl, err := kgo.NewClient(append(append(opts, f.opts()...), kgo.ConsumeTopics(tc.topic))...)
		if err != nil {
			t.Fatal(err)
		}
		for n := 0; n < 20_000; {
			fs := cl.PollFetches(ctx)
			if err := fs.Err0(); err != nil {
				t.Fatal(err)
			}
			n += fs.NumRecords()
			f.adjust(cl)
		}
		cl.Close()
		if f.bound < tc.min || f.bound > tc.max {
			t.Errorf("%s: fetch bound %d, want %d to %d", tc.topic, f.bound, tc.min, tc.max)
		}
	}
}

// TestFetchSizerWindow: the bound follows a change of compression (older
// batches count half once the window is full), and moves only by more than
// a quarter.
func TestFetchSizerWindow(t *testing.T) {
	f := newFetchSizer()
	cl, err := kgo.NewClient(kgo.SeedBrokers("127.0.0.1:1"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	read := func(compressed, uncompressed int) {
		f.OnFetchBatchRead(kgo.BrokerMetadata{}, "t", 0, kgo.FetchBatchMetrics{CompressedBytes: compressed, UncompressedBytes: uncompressed})
	}
	if f.adjust(cl) || f.bound != fetchStart {
		t.Fatalf("no batch read: bound %d, want %d unchanged", f.bound, fetchStart)
	}
	for range 100 {
		read(1<<20, 1<<20) // uncompressed
	}
	if !f.adjust(cl) || f.bound != fetchMax {
		t.Fatalf("uncompressed: bound %d, want %d", f.bound, fetchMax)
	}
	for range 1000 {
		read(1<<15, 1<<20) // 32-fold
	}
	if !f.adjust(cl) || f.bound < fetchTarget/32 || f.bound > fetchTarget/32*5/4 {
		t.Fatalf("after 1 GB compressed 32-fold: bound %d, want about %d", f.bound, fetchTarget/32)
	}
	b := f.bound
	read(1<<15, 1<<15) // one uncompressed batch: a small move
	if f.adjust(cl) || f.bound != b {
		t.Errorf("one more batch moved the bound from %d to %d", b, f.bound)
	}
}
