package kafka

import "github.com/twmb/franz-go/pkg/kgo"

// keyHasher is franz-go's Kafka-compatible key partitioner (murmur2, as the
// Java client's default): a record with a key always lands on the same
// partition, as Debezium's do.
var keyHasher = kgo.StickyKeyPartitioner(nil).ForTopic("")

// Partition returns the partition of n that a record with key and value is
// written to. Keyed records go where the Java client would put them;
// records without a key (tables without a primary key) are placed by a hash
// of their value instead of the usual sticky choice, so that the placement
// of every record is a function of its content: a transaction replayed
// after a crash must put each record where it went the first time.
func Partition(key, value []byte, n int) int {
	if n <= 1 {
		return 0
	}
	switch {
	case key != nil:
		return keyHasher.Partition(&kgo.Record{Key: key}, n)
	case value != nil:
		return keyHasher.Partition(&kgo.Record{Key: value}, n)
	}
	return 0
}

// partitioner places records with Partition.
var partitioner = kgo.BasicConsistentPartitioner(func(string) func(*kgo.Record, int) int {
	return func(r *kgo.Record, n int) int { return Partition(r.Key, r.Value, n) }
})
