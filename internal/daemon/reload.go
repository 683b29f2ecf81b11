package daemon

import (
	"errors"
	"fmt"
	"reflect"

	"github.com/sluice-cdc/sluice/configs"
	"github.com/sluice-cdc/sluice/internal/runtime"
	"github.com/sluice-cdc/sluice/transforms"
)

// Reload applies a new configuration: connectors that were added are
// started, removed ones stopped, changed ones restarted with their new
// configuration; unchanged ones keep running untouched. When a new or
// changed connector cannot be built, nothing changes and the error is
// returned. Settings outside the connectors (kafka, api, state_dir, log)
// need a process restart; a change to them is logged and ignored.
func (d *Daemon) Reload(cfg *configs.Config) error {
	if err := transforms.Validate(cfg); err != nil {
		return fmt.Errorf("reload: %w", err)
	}
	d.reloadMu.Lock()
	defer d.reloadMu.Unlock()
	d.mu.Lock()
	old := d.cfg
	current := make(map[string]*connector, len(d.conns))
	for n, c := range d.conns {
		current[n] = c
	}
	d.mu.Unlock()

	for _, s := range []struct {
		key      string
		old, new any
	}{
		{"kafka", old.Kafka, cfg.Kafka},
		{"api", old.API, cfg.API},
		{"state_dir", old.StateDir, cfg.StateDir},
		{"log", old.Log, cfg.Log},
		{"shutdown_timeout", old.ShutdownTimeout, cfg.ShutdownTimeout},
	} {
		if !reflect.DeepEqual(s.old, s.new) {
			d.log.Warn("reload: a change to this section needs a restart of sluice; it is ignored until then", "section", s.key)
		}
	}

	var (
		add, replace []*connector
		keep         = map[string]bool{}
	)
	for i := range cfg.Sources {
		sc := &cfg.Sources[i]
		keep[sc.Name] = true
		if c := current[sc.Name]; c != nil && c.source != nil && sameSource(*c.source, *sc) {
			continue
		}
		c, err := d.sourceConnector(sc)
		if err != nil {
			return fmt.Errorf("reload: %w", err)
		}
		if current[sc.Name] != nil {
			replace = append(replace, c)
		} else {
			add = append(add, c)
		}
	}
	for i := range cfg.Sinks {
		sc := &cfg.Sinks[i]
		keep[sc.Name] = true
		if c := current[sc.Name]; c != nil && c.sink != nil && sameSink(*c.sink, *sc) {
			continue
		}
		rc, err := d.sinkConnector(sc)
		if err != nil {
			return fmt.Errorf("reload: %w", err)
		}
		c := &connector{name: sc.Name, c: rc, sink: sc}
		if current[sc.Name] != nil {
			replace = append(replace, c)
		} else {
			add = append(add, c)
		}
	}

	var errs []error
	for name := range current {
		if keep[name] {
			continue
		}
		d.log.Info("reload: stopping removed connector", "connector", name)
		if err := d.sup.Remove(name); err != nil && !errors.Is(err, runtime.ErrNotFound) {
			errs = append(errs, err)
		}
		d.metrics.Forget(name)
		d.mu.Lock()
		delete(d.conns, name)
		d.mu.Unlock()
	}
	for _, c := range replace {
		d.log.Info("reload: restarting changed connector", "connector", c.name)
		d.mu.Lock()
		d.conns[c.name] = c
		d.mu.Unlock()
		if err := d.sup.Replace(c.c); err != nil {
			errs = append(errs, err)
		}
	}
	for _, c := range add {
		d.log.Info("reload: starting new connector", "connector", c.name)
		d.mu.Lock()
		d.conns[c.name] = c
		d.mu.Unlock()
		if err := d.sup.Add(c.c); err != nil {
			errs = append(errs, err)
		}
	}
	d.mu.Lock()
	d.cfg = cfg
	d.mu.Unlock()
	d.log.Info("configuration reloaded", "added", len(add), "restarted", len(replace), "removed", len(current)-countKept(current, keep))
	return errors.Join(errs...)
}

func countKept(current map[string]*connector, keep map[string]bool) int {
	n := 0
	for name := range current {
		if keep[name] {
			n++
		}
	}
	return n
}

// sameSource compares two source configurations, ignoring where their
// transforms were written in the file.
func sameSource(a, b configs.Source) bool {
	a.Transforms, b.Transforms = unplaced(a.Transforms), unplaced(b.Transforms)
	return reflect.DeepEqual(a, b)
}

func sameSink(a, b configs.Sink) bool {
	a.Transforms, b.Transforms = unplaced(a.Transforms), unplaced(b.Transforms)
	return reflect.DeepEqual(a, b)
}

func unplaced(ts []configs.Transform) []configs.Transform {
	if len(ts) == 0 {
		return nil
	}
	out := make([]configs.Transform, len(ts))
	for i, t := range ts {
		out[i] = configs.Transform{Type: t.Type, Options: t.Options}
	}
	return out
}
