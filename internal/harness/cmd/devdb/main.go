// Command devdb starts a throwaway database server for development and the
// quickstart script:
//
//	go run ./internal/harness/cmd/devdb -kind postgres|mariadb [-env-file FILE] [-db NAME] [-port N]
//
// Once the server accepts connections it prints SLUICE_PG_DSN=... (or
// SLUICE_MYSQL_DSN=...) on stdout and writes the same line to the env file,
// then blocks until SIGINT or SIGTERM, stops the server, removes its files
// and the env file. If devdb itself is killed, the server dies with it. Unless
// -exit-with-parent=false, devdb also shuts down cleanly when its parent
// process exits: `go run` does not forward SIGTERM to the program it runs, so
// killing a backgrounded `go run` still stops the server.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/sluice-cdc/sluice/internal/harness"
)

func main() {
	if err := run(); err != nil {
		slog.Error("devdb failed", "err", err)
		os.Exit(1)
	}
}

type server interface {
	Close() error
}

func run() error {
	kind := flag.String("kind", "", "server to start: postgres or mariadb")
	envFile := flag.String("env-file", "", "also write the DSN line to this file once ready (removed on exit)")
	db := flag.String("db", "", "database to create and put in the DSN (default: postgres for postgres, none for mariadb)")
	port := flag.Int("port", 0, "TCP port on 127.0.0.1 (default: a free one)")
	exitWithParent := flag.Bool("exit-with-parent", true, "shut down (as on SIGTERM) when the parent process exits")
	flag.Parse()
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", flag.Args())
	}
	if *exitWithParent {
		ppid := os.Getppid()
		if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_PDEATHSIG, uintptr(syscall.SIGTERM), 0); errno != 0 {
			return fmt.Errorf("set parent-death signal: %w", errno)
		}
		if os.Getppid() != ppid {
			return errors.New("parent exited before devdb started")
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	startCtx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()

	var (
		srv  server
		line string
	)
	switch *kind {
	case "postgres", "pg":
		p, err := harness.NewPostgres(startCtx, harness.PGConfig{Port: *port})
		if err != nil {
			return err
		}
		srv = p
		name := *db
		if name == "" {
			name = "postgres"
		} else if err := p.CreateDatabase(startCtx, name); err != nil {
			_ = p.Close()
			return err
		}
		line = "SLUICE_PG_DSN=" + p.DSN(name)
		slog.Info("postgres ready", "port", p.Port(), "dir", p.Dir())
	case "mariadb", "mysql":
		m, err := harness.NewMariaDB(startCtx, harness.MariaDBConfig{Port: *port})
		if err != nil {
			return err
		}
		srv = m
		if *db != "" {
			if err := m.CreateDatabase(startCtx, *db); err != nil {
				_ = m.Close()
				return err
			}
		}
		line = "SLUICE_MYSQL_DSN=" + m.DSN(*db)
		slog.Info("mariadb ready", "port", m.Port(), "dir", m.Dir())
	default:
		return fmt.Errorf("-kind must be postgres or mariadb, got %q", *kind)
	}

	var err error
	if *envFile != "" {
		err = writeEnvFile(*envFile, line)
	}
	if err == nil {
		fmt.Println(line)
		<-ctx.Done()
		slog.Info("stopping", "kind", *kind)
	}
	if *envFile != "" {
		if rerr := os.Remove(*envFile); rerr != nil && !errors.Is(rerr, os.ErrNotExist) && err == nil {
			err = rerr
		}
	}
	return errors.Join(err, srv.Close())
}

// writeEnvFile writes line atomically, so a script polling for the file never
// reads half of it.
func writeEnvFile(path, line string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write env file %s: %w", path, err)
	}
	_, err = tmp.WriteString(line + "\n")
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("write env file %s: %w", path, err)
	}
	return nil
}
