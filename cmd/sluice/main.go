// Command sluice is the change-data-capture daemon and its command-line
// tools. This file only parses flags and wires packages together.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/sluice-cdc/sluice/configs"
	"github.com/sluice-cdc/sluice/internal/daemon"
	"github.com/sluice-cdc/sluice/transforms"
)

const usage = `sluice — change data capture from PostgreSQL and MySQL into Kafka

Usage:
  sluice run -c FILE [-cpuprofile F]
                                run the connectors of a configuration
  sluice validate -c FILE       check a configuration and print it with secrets redacted
  sluice tail [flags] TOPIC     print a topic's records as JSON lines
  sluice offsets show -c FILE   print each source connector's stored position
  sluice offsets reset -c FILE -connector NAME -to earliest|latest|POSITION
                                change a stopped connector's position
  sluice status [-watch] [-api URL] [-token-file F] [-c FILE]
                                show the connectors' state from a running sluice's API
  sluice broker [-listen ADDR] [-data-dir DIR]
                                run the embedded Kafka-protocol broker on its own
  sluice version                print the version
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// errUsage is returned for command-line mistakes; it exits with status 2.
var errUsage = errors.New("usage")

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "run":
		err = cmdRun(args[1:], stderr)
	case "validate":
		err = cmdValidate(args[1:], stdout, stderr)
	case "tail":
		err = cmdTail(args[1:], stdout, stderr)
	case "offsets":
		err = cmdOffsets(args[1:], stdout, stderr)
	case "status":
		err = cmdStatus(args[1:], stdout, stderr)
	case "broker":
		err = cmdBroker(args[1:], stderr)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "sluice", daemon.Version)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "sluice: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage), errors.Is(err, flag.ErrHelp):
		return 2
	default:
		fmt.Fprintln(stderr, "sluice:", err)
		return 1
	}
}

func configFlag(fs *flag.FlagSet) *string {
	p := fs.String("c", "", "configuration file")
	fs.StringVar(p, "config", "", "configuration file")
	return p
}

func loadConfig(path string) (*configs.Config, error) {
	if path == "" {
		return nil, fmt.Errorf("%w: -c FILE is required", errUsage)
	}
	return configs.Load(path)
}

func cmdValidate(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := configFlag(fs)
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile (pprof) of the whole run to this file")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *cpuprofile != "" {
		stopProfile, err := startCPUProfile(*cpuprofile)
		if err != nil {
			return err
		}
		defer stopProfile()
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		return err
	}
	if err := transforms.Validate(cfg); err != nil {
		return err
	}
	fmt.Fprint(stdout, cfg.String())
	fmt.Fprintf(stderr, "%s: configuration is valid (%d sources, %d sinks)\n", *path, len(cfg.Sources), len(cfg.Sinks))
	return nil
}

func cmdRun(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := configFlag(fs)
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile (pprof) of the whole run to this file")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *cpuprofile != "" {
		stopProfile, err := startCPUProfile(*cpuprofile)
		if err != nil {
			return err
		}
		defer stopProfile()
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		return err
	}
	log := newLogger(cfg.Log, stderr)
	slog.SetDefault(log)
	if err := daemon.EnsureStateDir(cfg.StateDir); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	d, err := daemon.New(cfg, log)
	if err != nil {
		return err
	}
	defer d.Close()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = d.Run(ctx)
	}()
	for ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-hup:
			reload(d, *path, log)
		}
	}
	log.Info("shutting down", "grace", time.Duration(cfg.ShutdownTimeout).String())
	select {
	case <-done:
		log.Info("stopped cleanly")
		return nil
	case <-time.After(time.Duration(cfg.ShutdownTimeout)):
		return fmt.Errorf("connectors did not stop within shutdown_timeout %s", time.Duration(cfg.ShutdownTimeout))
	}
}

// reload re-reads the configuration file on SIGHUP and applies it; a file
// that does not load is reported with its file:line errors and the running
// configuration stays.
func reload(d *daemon.Daemon, path string, log *slog.Logger) {
	log.Info("SIGHUP: reloading the configuration", "file", path)
	cfg, err := configs.Load(path)
	if err != nil {
		var errs configs.Errors
		if errors.As(err, &errs) {
			for _, e := range errs {
				log.Error("reload: configuration rejected; the running one stays", "err", e.Error())
			}
		} else {
			log.Error("reload: configuration rejected; the running one stays", "err", err)
		}
		return
	}
	if err := d.Reload(cfg); err != nil {
		log.Error("reload failed", "err", err)
	}
}

// newLogger returns a slog logger: JSON unless stderr is a terminal (or as
// configured), at the configured level.
func newLogger(lc configs.Log, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(lc.Level))
	opts := &slog.HandlerOptions{Level: level}
	format := lc.Format
	if format == "" || format == "auto" {
		format = "json"
		if f, ok := w.(*os.File); ok {
			if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
				format = "text"
			}
		}
	}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// startCPUProfile profiles the process into path until the returned
// function is called.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile %s: %w", path, err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
