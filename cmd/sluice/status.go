package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/sluice-cdc/sluice/internal/api"
)

// cmdStatus prints the connectors' status from a running sluice's API.
func cmdStatus(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := configFlag(fs)
	url := fs.String("api", "", "REST API URL (default: api.listen of -c FILE, or http://127.0.0.1:8083)")
	tokenFile := fs.String("token-file", "", "file holding the API's bearer token (default: api.token_file of -c FILE)")
	watch := fs.Bool("watch", false, "refresh every -interval until interrupted")
	interval := fs.Duration("interval", 2*time.Second, "refresh interval with -watch")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	base, tf := *url, *tokenFile
	if *path != "" {
		cfg, err := loadConfig(*path)
		if err != nil {
			return fmt.Errorf("%w\n(status reads only api.listen, api.tls and api.token_file from -c FILE, but the whole file must load; or pass -api URL and -token-file F)", err)
		}
		if base == "" && cfg.API.Listen != "" {
			scheme := "http"
			if cfg.API.TLS.CertFile != "" {
				scheme = "https"
			}
			base = scheme + "://" + clientAddr(cfg.API.Listen)
		}
		if tf == "" {
			tf = cfg.API.TokenFile
		}
	}
	if base == "" {
		base = "http://127.0.0.1:8083"
	}
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	cl := &api.Client{BaseURL: base}
	if tf != "" {
		tok, err := api.ReadToken(tf)
		if err != nil {
			return err
		}
		cl.Token = tok
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	for {
		sts, err := cl.Statuses(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if !*watch {
				return fmt.Errorf("status from %s: %w", base, err)
			}
		}
		var buf bytes.Buffer
		if *watch {
			buf.WriteString("\x1b[H\x1b[2J") // home, clear screen
			fmt.Fprintf(&buf, "sluice status  %s  %s\n\n", base, time.Now().Format(time.TimeOnly))
		}
		if err != nil {
			fmt.Fprintf(&buf, "error: %v\n", err)
		} else if len(sts) == 0 {
			buf.WriteString("no connectors\n")
		} else if err := api.WriteTable(&buf, sts, time.Now()); err != nil {
			return err
		}
		if _, err := stdout.Write(buf.Bytes()); err != nil {
			return err
		}
		if !*watch {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(*interval):
		}
	}
}

// clientAddr turns a listen address into one to connect to: an empty or
// unspecified host becomes the loopback address.
func clientAddr(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}
