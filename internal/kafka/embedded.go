package kafka

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Embedded is the in-process Kafka-protocol broker sluice runs when no
// brokers are configured. Its log lives under a data directory, written with
// an fsync per batch, so committed records survive a restart or a kill -9.
type Embedded struct {
	cluster *kfake.Cluster
	addr    string
}

// EmbeddedOptions configures the embedded broker.
type EmbeddedOptions struct {
	// Listen is host:port; port 0 picks a free port.
	Listen string
	// DataDir holds the broker's log; empty keeps everything in memory.
	DataDir string
	// Partitions is the default partition count of auto-created topics.
	Partitions int32
	Logger     *slog.Logger
}

// StartEmbedded starts the embedded broker.
func StartEmbedded(o EmbeddedOptions) (*Embedded, error) {
	host, portStr, err := net.SplitHostPort(o.Listen)
	if err != nil {
		return nil, fmt.Errorf("embedded broker: listen address %q: %w", o.Listen, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("embedded broker: listen port %q: %w", portStr, err)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.Ports(port),
		kfake.ListenFn(func(network, _ string) (net.Listener, error) {
			return net.Listen(network, net.JoinHostPort(host, strconv.Itoa(port)))
		}),
		kfake.ClusterID("sluice-embedded"),
		kfake.BrokerConfigs(map[string]string{
			// Allow long-running snapshot transactions.
			"transaction.max.timeout.ms": "900000",
		}),
	}
	if o.Partitions > 0 {
		opts = append(opts, kfake.DefaultNumPartitions(int(o.Partitions)))
	}
	if o.DataDir != "" {
		opts = append(opts, kfake.DataDir(o.DataDir), kfake.SyncWrites())
	}
	if o.Logger != nil {
		opts = append(opts, kfake.WithLogger(kfakeLogger{o.Logger}))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("embedded broker on %s: %w", o.Listen, err)
	}
	addrs := c.ListenAddrs()
	if len(addrs) == 0 {
		c.Close()
		return nil, fmt.Errorf("embedded broker on %s: no listener", o.Listen)
	}
	return &Embedded{cluster: c, addr: addrs[0]}, nil
}

// Addr is the host:port clients connect to.
func (e *Embedded) Addr() string { return e.addr }

// Close stops the broker and writes its state to disk. It is idempotent.
func (e *Embedded) Close() { e.cluster.Close() }

type kfakeLogger struct{ l *slog.Logger }

func (k kfakeLogger) Logf(level kfake.LogLevel, msg string, args ...any) {
	var lv slog.Level
	switch level {
	case kfake.LogLevelError:
		lv = slog.LevelError
	case kfake.LogLevelWarn:
		lv = slog.LevelWarn
		if strings.HasPrefix(msg, "txn: EndTxn slow") {
			lv = slog.LevelDebug // fsync latency, reported per commit
		}
	case kfake.LogLevelInfo:
		lv = slog.LevelDebug // kfake is chatty at info
	default:
		return
	}
	k.l.Log(context.Background(), lv, fmt.Sprintf(msg, args...), "component", "embedded-broker")
}
