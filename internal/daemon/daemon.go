package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/change"
	"github.com/sluice-cdc/sluice/configs"
	"github.com/sluice-cdc/sluice/internal/kafka"
	"github.com/sluice-cdc/sluice/internal/pipeline"
	"github.com/sluice-cdc/sluice/internal/runtime"
	"github.com/sluice-cdc/sluice/sources/postgres"
	"github.com/sluice-cdc/sluice/transforms"
)

// Version is sluice's version, written into every event's source.version.
var Version = "0.1.0-dev"

// Daemon is a running sluice.
type Daemon struct {
	cfg      *configs.Config
	log      *slog.Logger
	embedded *kafka.Embedded
	env      runtime.KafkaEnv
	sup      *runtime.Supervisor
	api      *http.Server
	apiLn    net.Listener
	brokers  []string
}

// New prepares a daemon: it starts the embedded broker (when no brokers are
// configured) and builds every connector, but runs nothing yet.
func New(cfg *configs.Config, log *slog.Logger) (*Daemon, error) {
	if err := transforms.Validate(cfg); err != nil {
		return nil, err
	}
	d := &Daemon{cfg: cfg, log: log}
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
	}
	d.sup = runtime.NewSupervisor(log, time.Second, time.Minute)
	for i := range cfg.Sources {
		c, err := d.sourceConnector(&cfg.Sources[i])
		if err != nil {
			d.Close()
			return nil, err
		}
		d.sup.Add(c)
	}
	for i := range cfg.Sinks {
		c, err := d.sinkConnector(&cfg.Sinks[i])
		if err != nil {
			d.Close()
			return nil, err
		}
		d.sup.Add(c)
	}
	if cfg.API.Listen != "" {
		ln, err := net.Listen("tcp", cfg.API.Listen)
		if err != nil {
			d.Close()
			return nil, fmt.Errorf("api: listen on %s: %w", cfg.API.Listen, err)
		}
		d.apiLn = ln
		d.api = &http.Server{Handler: d.handler(), ReadHeaderTimeout: 10 * time.Second}
	}
	return d, nil
}

// Brokers returns the Kafka bootstrap addresses in use.
func (d *Daemon) Brokers() []string { return d.brokers }

// APIAddr returns the REST API's address, or "" when it is disabled.
func (d *Daemon) APIAddr() string {
	if d.apiLn == nil {
		return ""
	}
	return d.apiLn.Addr().String()
}

// Supervisor returns the connector supervisor.
func (d *Daemon) Supervisor() *runtime.Supervisor { return d.sup }

// Run runs the connectors and the API until ctx is done, then stops them
// and returns.
func (d *Daemon) Run(ctx context.Context) error {
	if d.api != nil {
		go func() {
			if err := d.api.Serve(d.apiLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				d.log.Error("api server stopped", "err", err)
			}
		}()
		d.log.Info("REST API listening", "addr", d.apiLn.Addr().String())
	}
	d.sup.Run(ctx)
	return nil
}

// Close stops the API, the Kafka clients and the embedded broker. Idempotent.
func (d *Daemon) Close() {
	if d.api != nil {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = d.api.Shutdown(sctx)
		cancel()
		d.api = nil
	} else if d.apiLn != nil {
		d.apiLn.Close()
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
		Brokers:  k.Brokers,
		ClientID: k.ClientID,
		SASL:     kafka.SASL{Mechanism: k.SASL.Mechanism, Username: k.SASL.Username, Password: k.SASL.Password},
		TLS: kafka.TLS{Enabled: k.TLS.Enabled, CAFile: k.TLS.CAFile, CertFile: k.TLS.CertFile, KeyFile: k.TLS.KeyFile,
			InsecureSkipVerify: k.TLS.InsecureSkipVerify},
		Partitions:        int32(k.Topic.Partitions),
		ReplicationFactor: int16(k.Topic.ReplicationFactor),
		TopicConfigs:      k.Topic.Configs,
	}
}

func (d *Daemon) sourceConnector(sc *configs.Source) (runtime.Connector, error) {
	switch sc.Type {
	case configs.SourcePostgres:
		src, err := postgres.New(PostgresOptions(sc, d.log))
		if err != nil {
			return runtime.Connector{}, err
		}
		run := func(ctx context.Context, stored []byte, w *pipeline.SourceWriter) error {
			return src.Run(ctx, stored, w)
		}
		return d.sourceTask(sc, run, func() any { return src.Status().Snapshot() }), nil
	case configs.SourceMySQL:
		return d.mysqlSourceConnector(sc)
	}
	return runtime.Connector{}, fmt.Errorf("source %s: unknown type %q", sc.Name, sc.Type)
}

// sourceTask wraps a source's body into a supervised connector. The
// source's transforms (validated by New) are applied by its writer.
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
	return runtime.Connector{
		Name:    sc.Name,
		Kind:    "source",
		Type:    sc.Type,
		Run:     runtime.SourceTask(d.env, sc.Name, change.JSONOptions{Schemas: sc.Schemas}, run, runtime.AtLeastOnce(!sc.ExactlyOnce)),
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
