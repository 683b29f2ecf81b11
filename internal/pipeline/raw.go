package pipeline

import (
	"context"

	"github.com/twmb/franz-go/pkg/kgo"
)

// WriteRaw adds a record with an already-encoded key and value to the open
// Kafka transaction, so that it becomes visible together with the batch's
// events and offset (a source's schema history, for instance). The topic is
// created with the default configs if it does not exist; create it first
// for other settings (cleanup.policy=compact).
func (s *SourceWriter) WriteRaw(ctx context.Context, topic string, key, value []byte) error {
	return s.w.Write(ctx, &kgo.Record{Topic: topic, Key: key, Value: value})
}
