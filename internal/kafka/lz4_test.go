package kafka

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pierrec/lz4/v4"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestLZ4FrameHeader: the frame descriptor is the one pierrec/lz4's frame
// writer emits for independent 1 MB blocks without checksums.
func TestLZ4FrameHeader(t *testing.T) {
	z := pierrecFrame(t, []byte("sluice"), lz4.BlockSizeOption(lz4.Block1Mb), lz4.ChecksumOption(false))
	if got := z[:len(lz4FrameHeader)]; !bytes.Equal(got, lz4FrameHeader[:]) {
		t.Errorf("pierrec/lz4 writes the header % x, we write % x", got, lz4FrameHeader)
	}
}

// pierrecFrame is src compressed by pierrec/lz4's frame writer with opts.
func pierrecFrame(t testing.TB, src []byte, opts ...lz4.Option) []byte {
	t.Helper()
	var b bytes.Buffer
	w := lz4.NewWriter(&b)
	if err := w.Apply(opts...); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(src); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// lz4RoundTrip compresses src and checks that both franz-go's
// decompressor (what sluice's sinks and any franz-go consumer use) and
// pierrec/lz4's frame reader give src back.
func lz4RoundTrip(t testing.TB, c *lz4Compressor, src []byte) []byte {
	t.Helper()
	var dst bytes.Buffer
	out, codec := c.Compress(&dst, src)
	if codec != kgo.CodecLz4 || out == nil {
		t.Fatalf("%d bytes: Compress returned codec %v, %d bytes", len(src), codec, len(out))
	}
	got, err := kgo.DefaultDecompressor().Decompress(bytes.Clone(out), kgo.CodecLz4)
	if err != nil {
		t.Fatalf("%d bytes: franz-go decompress: %v", len(src), err)
	}
	if !bytes.Equal(got, src) {
		t.Fatalf("%d bytes: franz-go read back %d different bytes", len(src), len(got))
	}
	got, err = io.ReadAll(lz4.NewReader(bytes.NewReader(out)))
	if err != nil {
		t.Fatalf("%d bytes: pierrec/lz4 reader: %v", len(src), err)
	}
	if !bytes.Equal(got, src) {
		t.Fatalf("%d bytes: pierrec/lz4 read back %d different bytes", len(src), len(got))
	}
	got, ok := decodeLZ4Frame(out)
	if !ok || !bytes.Equal(got, src) {
		t.Fatalf("%d bytes: lz4Decompressor's own decoder: ok %v, %d bytes back", len(src), ok, len(got))
	}
	return out
}

// TestLZ4DescriptorChecksums: the descriptors the decompressor decodes
// itself are those pierrec/lz4's writer emits for independent blocks of
// each size without checksums.
func TestLZ4DescriptorChecksums(t *testing.T) {
	for i, size := range []lz4.BlockSize{lz4.Block64Kb, lz4.Block256Kb, lz4.Block1Mb, lz4.Block4Mb} {
		z := pierrecFrame(t, []byte("sluice"), lz4.BlockSizeOption(size), lz4.ChecksumOption(false))
		if got, want := z[4:7], []byte{0x60, byte(4+i) << 4, lz4DescriptorChecksums[i]}; !bytes.Equal(got, want) {
			t.Errorf("block size %v: pierrec/lz4 writes the descriptor % x, we take % x", size, got, want)
		}
		if blockMax, _ := lz4Frame(z); blockMax != int(size) {
			t.Errorf("block size %v: lz4Frame says %d", size, blockMax)
		}
	}
}

// TestLZ4Decompressor: frames of independent blocks without checksums
// (ours, and pierrec/lz4's writer's with any block size, as Java's
// producer writes them) are decoded by the decompressor itself; frames with
// checksums, other codecs and corrupt frames go through franz-go's
// decompressor, which decodes the first and rejects the last.
func TestLZ4Decompressor(t *testing.T) {
	d := newLZ4Decompressor()
	src := changeRecords(300_000)
	frame := func(opts ...lz4.Option) []byte { return pierrecFrame(t, src, opts...) }
	for _, tc := range []struct {
		name string
		z    []byte
		own  bool
	}{
		{"64KB blocks", frame(lz4.BlockSizeOption(lz4.Block64Kb), lz4.ChecksumOption(false)), true},
		{"4MB blocks", frame(lz4.BlockSizeOption(lz4.Block4Mb), lz4.ChecksumOption(false)), true},
		{"content checksum", frame(lz4.BlockSizeOption(lz4.Block64Kb)), false},
		{"block checksums", frame(lz4.BlockSizeOption(lz4.Block64Kb), lz4.ChecksumOption(false), lz4.BlockChecksumOption(true)), false},
	} {
		if _, ok := decodeLZ4Frame(tc.z); ok != tc.own {
			t.Errorf("%s: decoded by the decompressor itself: %v, want %v", tc.name, ok, tc.own)
		}
		got, err := d.Decompress(tc.z, kgo.CodecLz4)
		if err != nil || !bytes.Equal(got, src) {
			t.Errorf("%s: %d bytes back, %v", tc.name, len(got), err)
		}
	}
	snappy, err := kgo.DefaultCompressor(kgo.SnappyCompression())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	z, _ := snappy.Compress(&buf, src)
	if got, err := d.Decompress(z, kgo.CodecSnappy); err != nil || !bytes.Equal(got, src) {
		t.Errorf("snappy: %d bytes back, %v", len(got), err)
	}

	good := frame(lz4.BlockSizeOption(lz4.Block64Kb), lz4.ChecksumOption(false))
	for name, z := range map[string][]byte{
		"cut in a block":      good[:len(good)/2],
		"no end mark":         good[:len(good)-4],
		"bytes after":         append(bytes.Clone(good), 1),
		"block over its max":  append(bytes.Clone(good[:7]), 0x01, 0x00, 0x01, 0x00),
		"corrupt block":       append(append(bytes.Clone(good[:11]), bytes.Repeat([]byte{0xff}, 64)...), good[75:]...),
		"descriptor checksum": append(append(bytes.Clone(good[:6]), good[6]^1), good[7:]...),
	} {
		if _, ok := decodeLZ4Frame(z); ok {
			t.Errorf("%s: decoded", name)
		}
		if got, err := d.Decompress(z, kgo.CodecLz4); err == nil && bytes.Equal(got, src) {
			t.Errorf("%s: decompressed to the whole batch", name)
		}
	}
}

// FuzzLZ4Decompressor: whatever bytes arrive, the decompressor does not
// panic, and what it decodes itself pierrec/lz4's reader decodes the same.
func FuzzLZ4Decompressor(f *testing.F) {
	var b bytes.Buffer
	out, _ := newLZ4Compressor().Compress(&b, changeRecords(20_000))
	f.Add(bytes.Clone(out))
	f.Add([]byte{0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82, 0x05, 0x00, 0x00, 0x80, 'h', 'e', 'l', 'l', 'o', 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, z []byte) {
		got, ok := decodeLZ4Frame(z)
		if !ok {
			return
		}
		want, err := io.ReadAll(lz4.NewReader(bytes.NewReader(z)))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("decoded %d bytes; pierrec/lz4: %d bytes, %v", len(got), len(want), err)
		}
	})
}

// changeRecords returns about n bytes of records like the bench's
// snapshot of its orders table: a schema block repeated in every record
// around a payload whose values vary (an md5 among them).
func changeRecords(n int) []byte {
	schema := `{"schema":{"type":"struct","fields":[` + strings.Repeat(`{"type":"int64","optional":false,"field":"id"},{"type":"string","optional":true,"name":"io.debezium.time.ZonedTimestamp","version":1,"field":"created_at"},`, 12) +
		`{"type":"string","optional":false,"field":"op"}],"optional":false,"name":"snap.public.orders.Envelope","version":2},"payload":`
	var b []byte
	for i := 0; len(b) < n; i++ {
		sum := md5.Sum([]byte(strconv.Itoa(i)))
		note := hex.EncodeToString(sum[:])
		b = append(b, schema...)
		b = fmt.Appendf(b, `{"before":null,"after":{"id":%d,"customer_id":%d,"amount":"%s","note":"%s%s%s","ts_us":%d},"source":{"version":"1.0","connector":"postgresql","name":"snap","snapshot":"true"},"op":"r","ts_ms":1764037214123}}`,
			1_000_000+i, i%5000, strconv.Itoa(i*7919%100000), note, note, note, 1764037214123456+i*37)
	}
	return b[:n]
}

// TestLZ4Compressor: batches round-trip whatever their size and content:
// empty, tiny, incompressible (blocks stored as is), change records,
// exactly one block, and several blocks.
func TestLZ4Compressor(t *testing.T) {
	c := newLZ4Compressor()
	rnd := rand.New(rand.NewPCG(1, 2))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rnd.Uint32())
		}
		return b
	}
	for _, src := range [][]byte{
		{},
		{'x'},
		[]byte("sluice sluice sluice"),
		random(100),
		random(lz4BlockSize + 1000),
		changeRecords(1 << 10),
		changeRecords(1_000_012), // franz-go's default batch limit
		changeRecords(lz4BlockSize),
		changeRecords(lz4BlockSize + 1),
		changeRecords(3*lz4BlockSize + 12345),
		append(changeRecords(lz4BlockSize), random(lz4BlockSize)...), // a compressed block, then one stored
		bytes.Repeat([]byte{0}, 2*lz4BlockSize),
	} {
		lz4RoundTrip(t, c, src)
	}
	// A batch of change records shrinks more than tenfold (a schema block
	// repeated is one match).
	src := changeRecords(1_000_012)
	if out := lz4RoundTrip(t, c, src); len(out)*10 > len(src) {
		t.Errorf("%d bytes of change records compressed to %d bytes, want under a tenth", len(src), len(out))
	}
}

// FuzzLZ4Compressor: whatever the batch, the frame decompresses to it.
func FuzzLZ4Compressor(f *testing.F) {
	f.Add([]byte("sluice sluice sluice"))
	f.Add(changeRecords(20_000))
	f.Add(bytes.Repeat([]byte{0xff}, 70_000))
	c := newLZ4Compressor()
	f.Fuzz(func(t *testing.T, src []byte) {
		lz4RoundTrip(t, c, src)
	})
}

// BenchmarkLZ4Compressor compresses a 1 MB batch of change records with
// this compressor (lz4) and with franz-go's codecs for lz4 and snappy
// (franz-go-lz4, franz-go-snappy); out/batch is the compressed size.
// Compare ns/op between the sub-benchmarks.
func BenchmarkLZ4Compressor(b *testing.B) {
	src := changeRecords(1_000_012)
	franz := func(codec kgo.CompressionCodec) kgo.Compressor {
		c, err := kgo.DefaultCompressor(codec)
		if err != nil {
			b.Fatal(err)
		}
		return c
	}
	for _, tc := range []struct {
		name string
		c    kgo.Compressor
	}{
		{"lz4", newLZ4Compressor()},
		{"franz-go-lz4", franz(kgo.Lz4Compression())},
		{"franz-go-snappy", franz(kgo.SnappyCompression())},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var dst bytes.Buffer
			var n int
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				dst.Reset() // as franz-go does before each batch
				out, _ := tc.c.Compress(&dst, src)
				n = len(out)
			}
			b.ReportMetric(float64(n), "out/batch")
		})
	}
}

// BenchmarkDecompress decompresses a 1 MB batch of change records as
// sluice's consumers do (lz4Decompressor) and as franz-go's decompressor
// does, compressed by lz4Compressor (lz4) and by franz-go's snappy codec
// (snappy, which lz4Decompressor hands to franz-go's).
func BenchmarkDecompress(b *testing.B) {
	src := changeRecords(1_000_012)
	snappy, err := kgo.DefaultCompressor(kgo.SnappyCompression())
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		c     kgo.Compressor
		codec kgo.CompressionCodecType
		d     kgo.Decompressor
	}{
		{"lz4", newLZ4Compressor(), kgo.CodecLz4, newLZ4Decompressor()},
		{"lz4/franz-go", newLZ4Compressor(), kgo.CodecLz4, kgo.DefaultDecompressor()},
		{"snappy/franz-go", snappy, kgo.CodecSnappy, kgo.DefaultDecompressor()},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var dst bytes.Buffer
			z, _ := tc.c.Compress(&dst, src)
			z = bytes.Clone(z)
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				out, err := tc.d.Decompress(z, tc.codec)
				if err != nil || len(out) != len(src) {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestLZ4ReadByLibrdkafka: batches this compressor wrote to a broker read
// back through librdkafka (kcat, installed by `make deps`), the client
// most non-Go consumers are built on.
func TestLZ4ReadByLibrdkafka(t *testing.T) {
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		t.Fatal("kcat not found (make deps installs it):", err)
	}
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "lz4"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	opts, err := Options{Brokers: c.ListenAddrs(), Compression: "lz4"}.ClientOpts()
	if err != nil {
		t.Fatal(err)
	}
	codecs := &batchCodecs{}
	cl, err := kgo.NewClient(append(opts, kgo.DefaultProduceTopic("lz4"), kgo.WithHooks(codecs))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	// Records of a few KB each, in several batches.
	var want bytes.Buffer
	var batch []*kgo.Record
	for _, r := range bytes.Split(changeRecords(3<<20), []byte(`{"schema"`))[1:] {
		v := append([]byte(`{"schema"`), r...)
		want.Write(v)
		want.WriteByte('\n')
		batch = append(batch, &kgo.Record{Value: v})
	}
	if err := cl.ProduceSync(ctx, batch...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if n, o := codecs.lz4.Load(), codecs.other.Load(); n < 3 || o > 0 {
		t.Fatalf("%d batches written with lz4, %d without; want 3 or more, all lz4", n, o)
	}
	out, err := exec.CommandContext(ctx, kcat, "-C", "-b", c.ListenAddrs()[0], "-t", "lz4", "-o", "beginning", "-e", "-q", "-f", "%s\n").Output()
	if err != nil {
		t.Fatalf("kcat: %v", err)
	}
	if !bytes.Equal(out, want.Bytes()) {
		t.Fatalf("kcat read %d bytes, want the %d produced (%d records)", len(out), want.Len(), len(batch))
	}
}

// batchCodecs counts produced batches by codec.
type batchCodecs struct{ lz4, other atomic.Int64 }

func (b *batchCodecs) OnProduceBatchWritten(_ kgo.BrokerMetadata, _ string, _ int32, m kgo.ProduceBatchMetrics) {
	if m.CompressionType == uint8(kgo.CodecLz4) {
		b.lz4.Add(1)
	} else {
		b.other.Add(1)
	}
}
