package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/configs"
	"github.com/sluice-cdc/sluice/internal/daemon"
	"github.com/sluice-cdc/sluice/internal/kafka"
	"github.com/sluice-cdc/sluice/internal/runtime"
	"github.com/sluice-cdc/sluice/offsets"
	"github.com/sluice-cdc/sluice/sources/mysql"
	"github.com/sluice-cdc/sluice/sources/postgres"
)

// cmdOffsets implements `sluice offsets show` and `sluice offsets reset`.
func cmdOffsets(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "show" && args[0] != "reset") {
		fmt.Fprintln(stderr, "usage: sluice offsets show -c FILE\n       sluice offsets reset -c FILE -connector NAME -to earliest|latest|POSITION")
		return errUsage
	}
	fs := flag.NewFlagSet("offsets "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := configFlag(fs)
	connector := fs.String("connector", "", "connector name (reset)")
	to := fs.String("to", "", "earliest | latest | a position such as a PostgreSQL LSN 0/16B3748 (reset)")
	if err := fs.Parse(args[1:]); err != nil {
		return errUsage
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		return err
	}
	if args[0] == "reset" && (*connector == "" || *to == "") {
		return fmt.Errorf("%w: offsets reset needs -connector and -to", errUsage)
	}
	opts, closeBroker, err := offsetsBroker(cfg, args[0] == "reset")
	if err != nil {
		return err
	}
	defer closeBroker()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if args[0] == "show" {
		return showOffsets(ctx, cfg, opts, stdout)
	}
	return resetOffset(ctx, cfg, opts, *connector, *to, stdout)
}

// offsetsBroker returns client options for the configured cluster. With the
// embedded broker, the offsets live in state_dir: when sluice is not
// running, the broker is started here on that directory; when it is
// running (the directory is locked), show reads through its listener and
// reset refuses.
func offsetsBroker(cfg *configs.Config, reset bool) ([]kgo.Opt, func(), error) {
	ko := kafkaOptionsFor(cfg)
	if len(cfg.Kafka.Brokers) == 0 {
		e, err := kafka.StartEmbedded(kafka.EmbeddedOptions{Listen: "127.0.0.1:0", DataDir: filepath.Join(cfg.StateDir, "kafka")})
		switch {
		case err == nil:
			ko.Brokers = []string{e.Addr()}
			opts, err := ko.ClientOpts()
			if err != nil {
				e.Close()
				return nil, nil, err
			}
			return opts, e.Close, nil
		case errors.Is(err, kafka.ErrDataDirLocked) && reset:
			return nil, nil, fmt.Errorf("sluice is running with state_dir %s: stop it before resetting an offset", cfg.StateDir)
		case !errors.Is(err, kafka.ErrDataDirLocked):
			return nil, nil, err
		}
	}
	opts, err := ko.ClientOpts()
	return opts, func() {}, err
}

func showOffsets(ctx context.Context, cfg *configs.Config, opts []kgo.Opt, stdout io.Writer) error {
	stored, err := offsets.ReadAll(ctx, opts, cfg.Kafka.OffsetsTopic)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(stored))
	for n := range stored {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		var v any
		if json.Unmarshal(stored[n], &v) != nil {
			v = string(stored[n])
		}
		line, _ := json.Marshal(map[string]any{"connector": n, "offset": v})
		fmt.Fprintln(stdout, string(line))
	}
	for _, s := range cfg.Sources {
		if _, ok := stored[s.Name]; !ok {
			line, _ := json.Marshal(map[string]any{"connector": s.Name, "offset": nil})
			fmt.Fprintln(stdout, string(line))
		}
	}
	return nil
}

func resetOffset(ctx context.Context, cfg *configs.Config, opts []kgo.Opt, name, to string, stdout io.Writer) error {
	var sc *configs.Source
	for i := range cfg.Sources {
		if cfg.Sources[i].Name == name {
			sc = &cfg.Sources[i]
		}
	}
	if sc == nil {
		return fmt.Errorf("offsets reset: no source connector named %q in %s", name, "the configuration")
	}
	var (
		value        []byte
		historyTopic string // a schema history to drop with the old offset
	)
	switch sc.Type {
	case configs.SourcePostgres:
		off, err := postgres.ResetOffset(ctx, daemon.PostgresOptions(sc, newLogger(cfg.Log, io.Discard)), to)
		if err != nil {
			return err
		}
		if off != nil {
			value = off.Marshal()
		}
	case configs.SourceMySQL:
		o := daemon.MySQLOptions(sc, newLogger(cfg.Log, io.Discard))
		off, err := mysql.ResetOffset(ctx, o, to)
		if err != nil {
			return err
		}
		if off != nil {
			value = off.Marshal()
		}
		historyTopic = o.SchemaHistoryTopic
	default:
		return fmt.Errorf("offsets reset: unknown source type %q", sc.Type)
	}
	// Written with a transactional id of the connector's next generation,
	// after fencing the last one: an instance that started in the meantime
	// is fenced instead of interleaving with us, and the next start goes
	// on from the generation after ours.
	log, err := offsets.ReadLog(ctx, opts, cfg.Kafka.OffsetsTopic)
	if err != nil {
		return err
	}
	gen := log[name].Generation
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return err
	}
	defer cl.Close()
	if err := runtime.Fence(ctx, cl, kafka.TransactionalID(name, gen)); err != nil {
		return fmt.Errorf("offsets reset %s: %w", name, err)
	}
	topics := kafka.NewTopics(cl, 1, -1, nil)
	w, err := kafka.NewTxnWriter(kafka.TxnWriterOptions{ClientOpts: opts, Connector: name, OffsetsTopic: cfg.Kafka.OffsetsTopic, Topics: topics, Generation: gen + 1})
	if err != nil {
		return err
	}
	defer w.Close()
	if historyTopic != "" {
		// The tables' definitions at the old offset do not describe the
		// new one: the next start records the current ones.
		if err := topics.Ensure(ctx, offsets.TopicConfigs, historyTopic); err != nil {
			return fmt.Errorf("offsets reset %s: %w", name, err)
		}
		if err := w.WriteUncounted(ctx, &kgo.Record{Topic: historyTopic, Key: []byte(name)}); err != nil {
			return fmt.Errorf("offsets reset %s: drop the schema history: %w", name, err)
		}
	}
	if err := w.Commit(ctx, value); err != nil {
		return fmt.Errorf("offsets reset %s: %w", name, err)
	}
	if value == nil {
		fmt.Fprintf(stdout, "%s: offset removed; the next start takes a snapshot as configured (snapshot: %s)\n", name, sc.Snapshot)
	} else {
		fmt.Fprintf(stdout, "%s: offset set to %s\n", name, value)
	}
	return nil
}
