package kafka

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// Options says how to reach a Kafka cluster.
type Options struct {
	Brokers  []string
	ClientID string
	// Compression is the produce batches' codec: none, gzip, snappy, lz4
	// or zstd; "" is lz4 (configs' default).
	Compression string
	SASL        SASL
	TLS         TLS
	// Partitions and ReplicationFactor are used for topics sluice creates;
	// ReplicationFactor -1 means the broker default.
	Partitions        int32
	ReplicationFactor int16
	TopicConfigs      map[string]string
}

// SASL holds SASL credentials; an empty Mechanism disables SASL.
type SASL struct {
	Mechanism string // PLAIN | SCRAM-SHA-256 | SCRAM-SHA-512
	Username  string
	Password  string
}

// TLS configures TLS to the brokers.
type TLS struct {
	Enabled            bool
	CAFile             string
	CertFile, KeyFile  string
	InsecureSkipVerify bool
}

// ClientOpts returns the kgo options common to every client sluice creates.
func (o Options) ClientOpts() ([]kgo.Opt, error) {
	if len(o.Brokers) == 0 {
		return nil, fmt.Errorf("kafka: no brokers")
	}
	id := o.ClientID
	if id == "" {
		id = "sluice"
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(o.Brokers...),
		kgo.ClientID(id),
		kgo.RetryBackoffFn(Backoff(100*time.Millisecond, 5*time.Second)),
		// Fail requests (other than produce, bounded by the delivery
		// timeout) after this long, so that an unreachable broker shows up
		// as a connector error instead of a silent hang.
		kgo.RetryTimeout(15 * time.Second),
	}
	codec, err := compression(o.Compression)
	if err != nil {
		return nil, err
	}
	opts = append(opts, codec, kgo.WithDecompressor(newLZ4Decompressor()))
	if o.SASL.Mechanism != "" {
		m, err := o.SASL.mechanism()
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.SASL(m))
	}
	if o.TLS.Enabled {
		cfg, err := o.TLS.config()
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.DialTLSConfig(cfg))
	}
	return opts, nil
}

// compression maps a compression.type name onto the producer option that
// compresses with it: franz-go's codecs, but for lz4 (lz4Compressor).
func compression(name string) (kgo.Opt, error) {
	switch strings.ToLower(name) {
	case "none":
		return kgo.ProducerBatchCompression(kgo.NoCompression()), nil
	case "gzip":
		return kgo.ProducerBatchCompression(kgo.GzipCompression()), nil
	case "snappy":
		return kgo.ProducerBatchCompression(kgo.SnappyCompression()), nil
	case "", "lz4":
		return kgo.WithCompressor(newLZ4Compressor()), nil
	case "zstd":
		return kgo.ProducerBatchCompression(kgo.ZstdCompression()), nil
	}
	return nil, fmt.Errorf("kafka: unsupported compression %q (want none, gzip, snappy, lz4 or zstd)", name)
}

func (s SASL) mechanism() (sasl.Mechanism, error) {
	switch strings.ToUpper(s.Mechanism) {
	case "PLAIN":
		return plain.Auth{User: s.Username, Pass: s.Password}.AsMechanism(), nil
	case "SCRAM-SHA-256":
		return scram.Auth{User: s.Username, Pass: s.Password}.AsSha256Mechanism(), nil
	case "SCRAM-SHA-512":
		return scram.Auth{User: s.Username, Pass: s.Password}.AsSha512Mechanism(), nil
	}
	return nil, fmt.Errorf("kafka: unsupported SASL mechanism %q (want PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512)", s.Mechanism)
}

func (t TLS) config() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: t.InsecureSkipVerify} //nolint:gosec // user opt-in
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("kafka tls: read ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("kafka tls: ca_file %s holds no PEM certificate", t.CAFile)
		}
		cfg.RootCAs = pool
	}
	if t.CertFile != "" || t.KeyFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("kafka tls: load client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// Backoff returns an exponential backoff with full jitter between min and max.
func Backoff(min, max time.Duration) func(int) time.Duration {
	return func(attempt int) time.Duration {
		d := min
		for i := 1; i < attempt && d < max; i++ {
			d *= 2
		}
		if d > max {
			d = max
		}
		return d/2 + jitter(d/2)
	}
}
