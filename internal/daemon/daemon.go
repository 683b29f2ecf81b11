package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"

	"github.com/sluice-cdc/sluice/change"
	"github.com/sluice-cdc/sluice/configs"
	"github.com/sluice-cdc/sluice/internal/api"
	"github.com/sluice-cdc/sluice/internal/kafka"
	"github.com/sluice-cdc/sluice/internal/metrics"
	"github.com/sluice-cdc/sluice/internal/pipeline"
	"github.com/sluice-cdc/sluice/internal/runtime"
	"github.com/sluice-cdc/sluice/sources/postgres"
	"github.com/sluice-cdc/sluice/transforms"
)

// Version is sluice's version, written into every event's source.version.
var Version = "0.1.0-dev"

// Daemon is a running sluice.
type Daemon struct {
	log      *slog.Logger
	metrics  *metrics.Metrics
	embedded *kafka.Embedded
	env      runtime.KafkaEnv
	sup      *runtime.Supervisor
	api      *api.Server
	brokers  []string
	workerID string

	reloadMu sync.Mutex // one Reload at a time
	mu       sync.Mutex // guards cfg and conns
	cfg      *configs.Config
	conns    map[string]*connector
}

// New prepares a daemon: it starts the embedded broker (when no brokers are
// configured) and builds every connector, but runs nothing yet.
func New(cfg *configs.Config, log *slog.Logger) (*Daemon, error) {
	if err := transforms.Validate(cfg); err != nil {
		return nil, err
	}
	d := &Daemon{cfg: cfg, log: log, metrics: metrics.New(), conns: map[string]*connector{}}
	ko := KafkaOptions(cfg)
	if len(ko.Brokers) == 0 {
		listen := cfg.Kafka.Listen
		if listen == "" {
			listen = configs.DefaultKafkaListen
		}
		e, err := kafka.StartEmbedded(kafka.EmbeddedOptions{
			Listen:     listen,
			DataDir:    filepath.Join(cfg.StateDir, "kafka"),
			Partitions: int32(cfg.Kafka.Topic.Partitions),
			Logger:     log,
		})
		if err != nil {
			return nil, err
		}
		d.embedded = e
		ko.Brokers = []string{e.Addr()}
		log.Info("embedded Kafka broker started", "addr", e.Addr(), "data_dir", filepath.Join(cfg.StateDir, "kafka"))
	}
	d.brokers = ko.Brokers
	opts, err := ko.ClientOpts()
	if err != nil {
		d.Close()
		return nil, err
	}

	admin, err := kgo.NewClient(opts...)
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("kafka client: %w", err)
	}
	d.env = runtime.KafkaEnv{
		ClientOpts:   opts,
		Topics:       kafka.NewTopics(admin, ko.Partitions, ko.ReplicationFactor, ko.TopicConfigs),
		OffsetsTopic: cfg.Kafka.OffsetsTopic,
		Admin:        admin,
		Log:          log,
		Metrics:      d.metrics,
	}
	d.sup = runtime.NewSupervisor(log, time.Second, time.Minute)
	conns, err := d.buildAll(cfg)
	if err != nil {
		d.Close()
		return nil, err
	}
	for _, c := range conns {
		d.conns[c.name] = c
		if err := d.sup.Add(c.c); err != nil {
			d.Close()
			return nil, err
		}
	}
	d.metrics.CollectStatus(d.samples)
	host, _ := os.Hostname()
	d.workerID = host
	if cfg.API.Listen != "" {
		token := ""
		if cfg.API.TokenFile != "" {
			if token, err = api.ReadToken(cfg.API.TokenFile); err != nil {
				d.Close()
				return nil, err
			}
		}
		h := api.Handler(api.Options{Backend: d, Metrics: d.metrics.Handler(), Token: token, Version: Version, Log: log})
		srv, err := api.Listen(cfg.API.Listen, h, cfg.API.TLS.CertFile, cfg.API.TLS.KeyFile)
		if err != nil {
			d.Close()
			return nil, err
		}
		d.api = srv
		if _, port, err := net.SplitHostPort(srv.Addr()); err == nil {
			d.workerID = net.JoinHostPort(host, port)
		}
	}
	return d, nil
}

// buildAll builds every connector of cfg without starting any.
func (d *Daemon) buildAll(cfg *configs.Config) ([]*connector, error) {
	var out []*connector
	for i := range cfg.Sources {
		c, err := d.sourceConnector(&cfg.Sources[i])
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	for i := range cfg.Sinks {
		c, err := d.sinkConnector(&cfg.Sinks[i])
		if err != nil {
			return nil, err
		}
		out = append(out, &connector{name: c.Name, c: c, sink: &cfg.Sinks[i]})
	}
	return out, nil
}

// Brokers returns the Kafka bootstrap addresses in use.
func (d *Daemon) Brokers() []string { return d.brokers }

// APIAddr returns the REST API's address, or "" when it is disabled.
func (d *Daemon) APIAddr() string {
	if d.api == nil {
		return ""
	}
	return d.api.Addr()
}

// Supervisor returns the connector supervisor.
func (d *Daemon) Supervisor() *runtime.Supervisor { return d.sup }

// Metrics returns the daemon's metrics.
func (d *Daemon) Metrics() *metrics.Metrics { return d.metrics }

// Run runs the connectors and the API until ctx is done, then stops them
// and returns.
func (d *Daemon) Run(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	if d.api != nil {
		srv := d.api
		g.Go(func() error {
			if err := srv.Serve(); err != nil {
				d.log.Error("api server stopped", "err", err)
			}
			return nil
		})
		scheme := "http"
		if srv.TLS() {
			scheme = "https"
		}
		d.log.Info("REST API listening", "addr", srv.Addr(), "url", scheme+"://"+srv.Addr())
		g.Go(func() error {
			<-gctx.Done()
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(sctx)
			return nil
		})
	}
	g.Go(func() error {
		d.sampleRates(gctx)
		return nil
	})
	d.sup.Run(ctx)
	return g.Wait()
}

// Close stops the API, the Kafka clients and the embedded broker. Idempotent.
func (d *Daemon) Close() {
	if d.api != nil {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = d.api.Shutdown(sctx)
		cancel()
	}
	if d.env.Admin != nil {
		d.env.Admin.Close()
		d.env.Admin = nil
	}
	if d.embedded != nil {
		d.embedded.Close()
		d.embedded = nil
	}
}

// KafkaOptions maps the kafka section onto client options.
func KafkaOptions(cfg *configs.Config) kafka.Options {
	k := cfg.Kafka
	return kafka.Options{
		Brokers:     k.Brokers,
		ClientID:    k.ClientID,
		Compression: k.Compression,
		SASL:        kafka.SASL{Mechanism: k.SASL.Mechanism, Username: k.SASL.Username, Password: k.SASL.Password},
		TLS: kafka.TLS{Enabled: k.TLS.Enabled, CAFile: k.TLS.CAFile, CertFile: k.TLS.CertFile, KeyFile: k.TLS.KeyFile,
			InsecureSkipVerify: k.TLS.InsecureSkipVerify},
		Partitions:        int32(k.Topic.Partitions),
		ReplicationFactor: int16(k.Topic.ReplicationFactor),
		TopicConfigs:      k.Topic.Configs,
	}
}

func (d *Daemon) sourceConnector(sc *configs.Source) (*connector, error) {
	switch sc.Type {
	case configs.SourcePostgres:
		src, err := postgres.New(PostgresOptions(sc, d.log))
		if err != nil {
			return nil, err
		}
		c := &connector{name: sc.Name, source: sc, stats: &sourceStats{}}
		run := func(ctx context.Context, stored []byte, w *pipeline.SourceWriter) error {
			return src.Run(ctx, stored, c.meter(d.metrics, w))
		}
		c.c = d.sourceTask(sc, run, func() any { return src.Status().Snapshot() })
		c.snapshot = src.RequestSnapshot
		c.lag = func(ctx context.Context) (api.Lag, error) {
			l, err := src.Lag(ctx)
			if err != nil {
				return api.Lag{}, err
			}
			return api.Lag{Bytes: &l.Bytes, RetainedWALBytes: &l.RetainedWALBytes, ServerPosition: l.CurrentLSN}, nil
		}
		return c, nil
	case configs.SourceMySQL:
		return d.mysqlSourceConnector(sc)
	}
	return nil, fmt.Errorf("source %s: unknown type %q", sc.Name, sc.Type)
}

// sourceTask wraps a source's body into a supervised connector. The
// source's transforms (validated by New) are applied by its writer. Its
// Kafka clients report bytes and produce errors to the metrics.
func (d *Daemon) sourceTask(sc *configs.Source, run runtime.SourceRun, details func() any) runtime.Connector {
	chain, err := transforms.Compile(sc.Transforms)
	if err != nil || chain.Len() > 0 {
		body := run
		run = func(ctx context.Context, stored []byte, w *pipeline.SourceWriter) error {
			if err != nil { // not reached: New validated the transforms
				return fmt.Errorf("source %s: %w", sc.Name, err)
			}
			w.SetTransform(chain.Apply)
			return body(ctx, stored, w)
		}
	}
	env := d.env
	env.ClientOpts = append(slices.Clip(env.ClientOpts), kgo.WithHooks(d.metrics.KafkaHooks(sc.Name)))
	return runtime.Connector{
		Name:    sc.Name,
		Kind:    "source",
		Type:    sc.Type,
		Run:     runtime.SourceTask(env, sc.Name, change.JSONOptions{Schemas: sc.Schemas}, run, runtime.AtLeastOnce(!sc.ExactlyOnce)),
		Details: details,
	}
}

// PostgresOptions maps a source's configuration onto the Postgres source's options.
func PostgresOptions(sc *configs.Source, log *slog.Logger) postgres.Options {
	prefix := sc.TopicPrefix
	if prefix == "" {
		prefix = sc.Name
	}
	return postgres.Options{
		Name:              sc.Name,
		DSN:               sc.DSN,
		Include:           sc.Tables,
		Exclude:           sc.ExcludeTables,
		SlotName:          sc.SlotName,
		Publication:       sc.PublicationName,
		PublicationMode:   sc.PublicationAutocreateMode,
		SnapshotMode:      sc.Snapshot,
		SnapshotFetchSize: sc.SnapshotFetchSize,
		HeartbeatInterval: time.Duration(sc.HeartbeatInterval),
		HeartbeatQuery:    sc.HeartbeatActionQuery,
		MaxBatchSize:      sc.MaxBatchSize,
		MaxBatchWait:      time.Duration(sc.MaxBatchWait),
		Logger:            log.With("connector", sc.Name),
		Decoder: postgres.DecoderOptions{
			TopicPrefix:            prefix,
			Version:                Version,
			DecimalMode:            sc.DecimalHandlingMode,
			TimePrecisionMode:      sc.TimePrecisionMode,
			IntervalMode:           sc.IntervalHandlingMode,
			BinaryMode:             sc.BinaryHandlingMode,
			UnavailablePlaceholder: sc.UnavailableValuePlaceholder,
			IncludeUnknownTypes:    sc.IncludeUnknownDatatypes,
			Tombstones:             sc.TombstonesOnDelete,
			TransactionMetadata:    sc.ProvideTransactionMetadata,
			MessageKeyColumns:      sc.MessageKeyColumns,
		},
	}
}

// EnsureStateDir creates the state directory.
func EnsureStateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("state_dir %s: %w", dir, err)
	}
	return nil
}
