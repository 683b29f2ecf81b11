package kafka

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/goleak"

	"github.com/sluice-cdc/sluice/offsets"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newEnv(t *testing.T, addr string) ([]kgo.Opt, *Topics) {
	t.Helper()
	opts, err := Options{Brokers: []string{addr}}.ClientOpts()
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return opts, NewTopics(cl, 1, -1, nil)
}

func readAll(t *testing.T, opts []kgo.Opt, topic string) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(append(opts, kgo.ConsumeTopics(topic), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	var out []*kgo.Record
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return out
		}
		out = append(out, fs.Records()...)
	}
}

// TestTxnWriterCommitAndAbort: committed records and the offset are
// visible to read_committed consumers together; an aborted batch is not.
func TestTxnWriterCommitAndAbort(t *testing.T) {
	e, err := StartEmbedded(EmbeddedOptions{Listen: "127.0.0.1:0", DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	opts, topics := newEnv(t, e.Addr())
	ctx := context.Background()
	w, err := NewTxnWriter(TxnWriterOptions{ClientOpts: opts, Connector: "c1", OffsetsTopic: offsets.DefaultTopic, Topics: topics})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for i := 0; i < 3; i++ {
		if err := w.Write(ctx, &kgo.Record{Topic: "t", Key: []byte{byte(i)}, Value: []byte("v")}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Commit(ctx, []byte(`{"n":3}`)); err != nil {
		t.Fatal(err)
	}
	// An open transaction is invisible, and aborting it (Close) keeps it so.
	if err := w.Write(ctx, &kgo.Record{Topic: "t", Key: []byte{9}, Value: []byte("lost")}); err != nil {
		t.Fatal(err)
	}
	w.Close()

	if got := readAll(t, opts, "t"); len(got) != 3 {
		t.Fatalf("read_committed sees %d records, want 3", len(got))
	}
	stored, err := offsets.ReadAll(ctx, opts, offsets.DefaultTopic)
	if err != nil {
		t.Fatal(err)
	}
	if string(stored["c1"]) != `{"n":3}` {
		t.Fatalf("stored offset %q", stored["c1"])
	}
}

// TestEmbeddedBrokerKeepsTopicsAcrossRestart: the broker's log lives in its
// data dir.
func TestEmbeddedBrokerKeepsTopicsAcrossRestart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "kafka")
	e, err := StartEmbedded(EmbeddedOptions{Listen: "127.0.0.1:0", DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	opts, topics := newEnv(t, e.Addr())
	ctx := context.Background()
	w, err := NewTxnWriter(TxnWriterOptions{ClientOpts: opts, Connector: "c", OffsetsTopic: offsets.DefaultTopic, Topics: topics})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(ctx, &kgo.Record{Topic: "kept", Value: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(ctx, []byte("1")); err != nil {
		t.Fatal(err)
	}
	w.Close()
	addr := e.Addr()
	e.Close()

	e2, err := StartEmbedded(EmbeddedOptions{Listen: addr, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer e2.Close()
	if got := readAll(t, opts, "kept"); len(got) != 1 || string(got[0].Value) != "x" {
		t.Fatalf("after restart: %d records", len(got))
	}
}

// TestCompression produces and reads back a record with each codec of
// kafka.compression.
func TestCompression(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "z"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	value := bytes.Repeat([]byte("sluice "), 200)
	for _, codec := range []string{"", "none", "gzip", "snappy", "lz4", "zstd"} {
		opts, err := Options{Brokers: c.ListenAddrs(), Compression: codec}.ClientOpts()
		if err != nil {
			t.Fatal(err)
		}
		cl, err := kgo.NewClient(append(opts, kgo.DefaultProduceTopic("z"))...)
		if err != nil {
			t.Fatal(err)
		}
		if err := cl.ProduceSync(ctx, &kgo.Record{Key: []byte(codec), Value: value}).FirstErr(); err != nil {
			t.Fatalf("%q: produce: %v", codec, err)
		}
		cl.Close()
	}
	opts, err := Options{Brokers: c.ListenAddrs()}.ClientOpts()
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(append(opts, kgo.ConsumeTopics("z"))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for n := 0; n < 6; {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatal(err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			n++
			if !bytes.Equal(r.Value, value) {
				t.Errorf("%q: value read back differs", r.Key)
			}
		})
	}
	if _, err := (Options{Brokers: []string{"x:1"}, Compression: "brotli"}).ClientOpts(); err == nil {
		t.Error("unsupported compression accepted")
	}
}

// TestSASL: the client options authenticate with SCRAM; a wrong password
// is an error, not a hang.
func TestSASL(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-256", "admin", "pw"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, tc := range []struct {
		pass string
		ok   bool
	}{{"pw", true}, {"wrong", false}} {
		opts, err := Options{Brokers: c.ListenAddrs(), SASL: SASL{Mechanism: "SCRAM-SHA-256", Username: "admin", Password: tc.pass}}.ClientOpts()
		if err != nil {
			t.Fatal(err)
		}
		cl, err := kgo.NewClient(opts...)
		if err != nil {
			t.Fatal(err)
		}
		err = NewTopics(cl, 1, -1, nil).Ensure(ctx, nil, "secure")
		cl.Close()
		if (err == nil) != tc.ok {
			t.Errorf("password %q: err = %v", tc.pass, err)
		}
	}
	if _, err := (Options{Brokers: []string{"x:1"}, SASL: SASL{Mechanism: "GSSAPI"}}).ClientOpts(); err == nil {
		t.Error("unsupported mechanism accepted")
	}
}

// TestTxnWriterFencedBeforeOthersTransaction: a second writer of the same
// connector initialises its producer (fencing the first, aborting its open
// transaction) and has not begun a transaction yet when the first commits.
// The embedded broker answers that commit with INVALID_TXN_STATE, not
// PRODUCER_FENCED; the writer asks the coordinator, finds its producer
// superseded, and reports a FencedError (permanent: retrying would fence
// the second in turn). Its own, unsuperseded commits are not.
func TestTxnWriterFencedBeforeOthersTransaction(t *testing.T) {
	e, err := StartEmbedded(EmbeddedOptions{Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	opts, topics := newEnv(t, e.Addr())
	ctx := context.Background()
	newWriter := func() *TxnWriter {
		w, err := NewTxnWriter(TxnWriterOptions{ClientOpts: opts, Connector: "twin", OffsetsTopic: offsets.DefaultTopic, Topics: topics})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(w.Close)
		return w
	}
	a := newWriter()
	if err := a.Write(ctx, &kgo.Record{Topic: "t", Value: []byte("1")}); err != nil {
		t.Fatal(err)
	}
	if err := a.Commit(ctx, []byte(`{"n":1}`)); err != nil {
		t.Fatal(err)
	}
	if id, epoch, err := a.cl.ProducerID(ctx); err != nil || a.superseded(ctx, id, epoch) {
		t.Fatalf("the only writer's producer (%d, %d) is superseded (or %v)", id, epoch, err)
	}
	// The first writer's next transaction, written to the broker and
	// about to be committed, when the second instance starts.
	if err := a.Write(ctx, &kgo.Record{Topic: "t", Value: []byte("2")}); err != nil {
		t.Fatal(err)
	}
	if err := a.cl.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	b := newWriter()
	if _, _, err := b.cl.ProducerID(ctx); err != nil {
		t.Fatal(err)
	}
	err = a.endTxn(ctx)
	var fe *FencedError
	if !errors.As(err, &fe) || !errors.Is(err, kerr.InvalidTxnState) {
		t.Fatalf("commit after the second writer's init: %v, want a FencedError of INVALID_TXN_STATE", err)
	}
}
