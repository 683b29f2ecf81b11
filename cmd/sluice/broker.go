package main

import (
	"context"
	"flag"
	"io"
	"os/signal"
	"syscall"

	"github.com/sluice-cdc/sluice/configs"
	"github.com/sluice-cdc/sluice/internal/kafka"
)

// cmdBroker runs the embedded Kafka-protocol broker on its own, for setups
// (and tests) that want the broker in a separate process.
func cmdBroker(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("broker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", configs.DefaultKafkaListen, "host:port to listen on")
	dataDir := fs.String("data-dir", "./data/kafka", "directory of the broker's log (fsynced per batch)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	log := newLogger(configs.Log{Level: "info", Format: "auto"}, stderr)
	b, err := kafka.StartEmbedded(kafka.EmbeddedOptions{Listen: *listen, DataDir: *dataDir, Logger: log})
	if err != nil {
		return err
	}
	defer b.Close()
	log.Info("broker listening", "addr", b.Addr(), "data_dir", *dataDir)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	return nil
}
