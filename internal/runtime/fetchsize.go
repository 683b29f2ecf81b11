package runtime

import (
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Bounds of a sink's fetches. Kafka bounds a fetch in the bytes the broker
// sends, which are compressed, and a batch of change records decompresses
// to 1 to 40 times its size: JSON with schemas repeats a schema block of a
// few KB in every record, which LZ4 all but removes. A fixed bound either
// holds a hundred MB of records once decompressed (lz4) or fetches a few
// hundred records a round trip (uncompressed). fetchSizer sets the bound
// from the compression seen so far instead, so that one fetch decompresses
// to about fetchTarget bytes whatever the codec.
const (
	fetchTarget = 8 << 20
	// fetchMin and fetchMax clamp the bound: a batch larger than it still
	// comes whole.
	fetchMin = 64 << 10
	fetchMax = 4 << 20
	// fetchStart is the bound until the first batches have been read.
	fetchStart = 256 << 10
	// fetchWindow: the counts are halved past this many decompressed
	// bytes, so that the bound follows a change of codec or of records.
	fetchWindow = 256 << 20
)

// fetchSizer is a franz-go hook counting fetched bytes before and after
// decompression, and sets the consumer's fetch bounds from their ratio.
type fetchSizer struct {
	mu                       sync.Mutex
	compressed, uncompressed int64
	bound                    int32 // what the client was last told; adjust's own
}

var _ kgo.HookFetchBatchRead = (*fetchSizer)(nil)

func newFetchSizer() *fetchSizer { return &fetchSizer{bound: fetchStart} }

// opts are the client options that start the consumer at fetchStart.
func (f *fetchSizer) opts() []kgo.Opt {
	return []kgo.Opt{kgo.WithHooks(f), kgo.FetchMaxBytes(fetchStart), kgo.FetchMaxPartitionBytes(fetchStart)}
}

func (f *fetchSizer) OnFetchBatchRead(_ kgo.BrokerMetadata, _ string, _ int32, m kgo.FetchBatchMetrics) {
	f.mu.Lock()
	f.compressed += int64(m.CompressedBytes)
	f.uncompressed += int64(m.UncompressedBytes)
	if f.uncompressed > fetchWindow {
		f.compressed /= 2
		f.uncompressed /= 2
	}
	f.mu.Unlock()
}

// want returns the bound for the compression seen so far; false before
// any batch was read.
func (f *fetchSizer) want() (int32, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.uncompressed == 0 {
		return 0, false
	}
	return int32(min(max(fetchTarget*f.compressed/f.uncompressed, fetchMin), fetchMax)), true
}

// adjust tells cl the bound for the compression seen so far when it moved
// by more than a quarter; it reports whether it did. One goroutine calls
// it (the poller's).
func (f *fetchSizer) adjust(cl *kgo.Client) bool {
	w, ok := f.want()
	if d := w - f.bound; !ok || d < f.bound/4 && -d < f.bound/4 {
		return false
	}
	f.bound = w
	// One partition may take the whole fetch.
	cl.UpdateFetchMaxBytes(w, w)
	return true
}
