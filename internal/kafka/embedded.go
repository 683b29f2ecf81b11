package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Embedded is the in-process Kafka-protocol broker sluice runs when no
// brokers are configured. Its log lives under a data directory, written with
// an fsync per batch, so committed records survive a restart or a kill -9.
type Embedded struct {
	cluster *kfake.Cluster
	addr    string
	lock    *os.File // holds an exclusive flock on the data dir
}

// ErrDataDirLocked reports that another process runs a broker on the same
// data directory.
var ErrDataDirLocked = errors.New("another sluice process is using this state directory")

// EmbeddedOptions configures the embedded broker.
type EmbeddedOptions struct {
	// Listen is host:port; port 0 picks a free port.
	Listen string
	// DataDir holds the broker's log; empty keeps everything in memory.
	DataDir string
	// NoSync leaves the log's writes to the page cache, as a Kafka broker
	// does by default, instead of syncing every batch to disk. Only the
	// benchmarks use it: their broker stands in for a Kafka cluster, and
	// kill -9 of sluice does not lose the page cache.
	NoSync bool
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
	var lock *os.File
	if o.DataDir != "" {
		var err error
		if lock, err = lockDir(o.DataDir); err != nil {
			return nil, err
		}
		opts = append(opts, kfake.DataDir(o.DataDir))
		if !o.NoSync {
			opts = append(opts, kfake.SyncWrites())
		}
	}
	if o.Logger != nil {
		opts = append(opts, kfake.WithLogger(kfakeLogger{o.Logger}))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		unlock(lock)
		return nil, fmt.Errorf("embedded broker on %s: %w", o.Listen, err)
	}
	addrs := c.ListenAddrs()
	if len(addrs) == 0 {
		c.Close()
		unlock(lock)
		return nil, fmt.Errorf("embedded broker on %s: no listener", o.Listen)
	}
	return &Embedded{cluster: c, addr: addrs[0], lock: lock}, nil
}

// lockDir takes an exclusive lock on dir, so that two processes never
// write one broker log.
func lockDir(dir string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("embedded broker data dir %s: %w", dir, err)
	}
	f, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("embedded broker data dir %s: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("embedded broker data dir %s: %w", dir, ErrDataDirLocked)
		}
		return nil, fmt.Errorf("embedded broker data dir %s: lock: %w", dir, err)
	}
	return f, nil
}

func unlock(f *os.File) {
	if f != nil {
		f.Close() // closing the descriptor releases the flock
	}
}

// Addr is the host:port clients connect to.
func (e *Embedded) Addr() string { return e.addr }

// Close stops the broker and writes its state to disk. It is idempotent.
func (e *Embedded) Close() {
	e.cluster.Close()
	unlock(e.lock)
	e.lock = nil
}

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
