package kafka

import (
	"bytes"
	"encoding/binary"
	"sync"

	"github.com/pierrec/lz4/v4"
	"github.com/twmb/franz-go/pkg/kgo"
)

// lz4Compressor compresses produce batches for kafka.compression lz4: each
// batch becomes one standard LZ4 frame (what Kafka's lz4 codec is) of
// independent blocks of up to 1 MB, compressed by pierrec/lz4's block
// compressor straight from the batch, without a content checksum.
//
// franz-go's own lz4 codec goes through pierrec/lz4's frame writer, which
// copies the batch into its block buffer and hashes all of it for the
// content checksum: about twice the CPU of this compressor on a batch of
// change records (BenchmarkLZ4Compressor: 300 µs against 158 µs a
// megabyte, snappy 101 µs). A record batch carries a CRC of its own, so
// the checksum adds nothing.
//
// Why lz4 by default: Debezium's JSON with schemas repeats a schema block of
// a few kilobytes in every record. Snappy's copies are at most 64 bytes
// long, so each repeat still costs a few hundred compressed bytes; one LZ4
// match covers it. The frames are a third of snappy's size (30 KB against
// 91 KB a megabyte of records), so the broker receives, writes and serves
// a third of the bytes, for half again snappy's CPU in the producer. On
// the bench's PostgreSQL snapshot that took 0.7 CPU seconds a million rows
// off the machine: the embedded broker's 1.5 s fell to 0.8 s, while
// compressing cost sluice about 0.3 s more.
type lz4Compressor struct {
	pool sync.Pool // *lz4.Compressor (its hash table is 136 KB)
}

// lz4FrameHeader is the frame descriptor every batch starts with: magic
// number, FLG (version 1, independent blocks, no block or content
// checksum, no content size), BD (blocks of at most 1 MB), and the
// descriptor's checksum byte. pierrec/lz4's writer emits the same bytes
// with these options (TestLZ4FrameHeader).
var lz4FrameHeader = [...]byte{0x04, 0x22, 0x4d, 0x18, 0x60, 0x60, 0x51}

const (
	// lz4BlockSize is the frame's maximum block size (BD above). A batch
	// is at most ProducerBatchMaxBytes (1 MB by default), so it is mostly
	// a single block; larger ones are cut into several.
	lz4BlockSize = 1 << 20
	// lz4Uncompressed marks a block stored as is (it did not shrink).
	lz4Uncompressed = 1 << 31
)

func newLZ4Compressor() *lz4Compressor {
	return &lz4Compressor{pool: sync.Pool{New: func() any { return new(lz4.Compressor) }}}
}

// Compress returns the LZ4 frame of src, built in dst's memory.
func (c *lz4Compressor) Compress(dst *bytes.Buffer, src []byte, _ ...kgo.CompressFlag) ([]byte, kgo.CompressionCodecType) {
	bound := len(lz4FrameHeader) + 4 // the end mark
	for rest := len(src); rest > 0; rest -= lz4BlockSize {
		bound += 4 + lz4.CompressBlockBound(min(rest, lz4BlockSize))
	}
	dst.Reset()
	dst.Grow(bound)
	out := dst.AvailableBuffer()[:bound]
	n := copy(out, lz4FrameHeader[:])

	comp := c.pool.Get().(*lz4.Compressor)
	defer c.pool.Put(comp)
	for len(src) > 0 {
		block := src[:min(len(src), lz4BlockSize)]
		src = src[len(block):]
		// bound leaves room for the block's worst case, so the block
		// compressor never gives up for want of space.
		z, err := comp.CompressBlock(block, out[n+4:])
		if err != nil {
			return nil, kgo.CodecNone // franz-go sends the batch uncompressed
		}
		if z == 0 || z >= len(block) {
			binary.LittleEndian.PutUint32(out[n:], uint32(len(block))|lz4Uncompressed)
			n += 4 + copy(out[n+4:], block)
			continue
		}
		binary.LittleEndian.PutUint32(out[n:], uint32(z))
		n += 4 + z
	}
	binary.LittleEndian.PutUint32(out[n:], 0) // end mark
	return out[:n+4], kgo.CodecLz4
}
