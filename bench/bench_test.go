package main

import (
	"context"
	"math"
	"testing"
	"time"
)

// TestSmoke runs every scenario with tiny sizes (part of `make test`): it
// fails when a scenario errors or reports a zero or non-finite number. It
// checks no timings against targets.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("bench smoke run starts PostgreSQL, MariaDB and sluice processes: -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rep, err := run(ctx, smokeSizes, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 10 {
		t.Errorf("%d result rows, want 10 (PG snapshot, PG streaming ×2, latency, MariaDB snapshot and streaming, 4 sinks): %+v",
			len(rep.Results), rep.Results)
	}
	sane := func(v float64) bool { return v > 0 && !math.IsInf(v, 0) && !math.IsNaN(v) }
	for _, r := range rep.Results {
		if r.Units <= 0 || !sane(r.SluiceRate) || r.PeakRSS <= 0 || r.SluiceCPU < 0 || r.RSSFirstHalf <= 0 || r.RSSSecondHalf <= 0 {
			t.Errorf("%s: implausible numbers: %+v", r.Scenario, r)
		}
		if r.Latency != nil {
			if !sane(r.Latency.P50) || r.Latency.P99 < r.Latency.P50 || r.Latency.Max < r.Latency.P99 {
				t.Errorf("%s: implausible latencies: %+v", r.Scenario, *r.Latency)
			}
		} else if !sane(r.BaselineRate) || !sane(r.Ratio) {
			t.Errorf("%s: implausible baseline: %+v", r.Scenario, r)
		}
	}
	if rep.BinaryBytes <= 0 || rep.Footprint == nil || rep.Footprint.StartupToFirstEvent <= 0 || rep.Footprint.StartupRSS <= 0 {
		t.Errorf("footprint: binary %d bytes, %+v", rep.BinaryBytes, rep.Footprint)
	}
	// A probe before each of the five groups and one at the end.
	if len(rep.Probes) != 6 {
		t.Errorf("%d machine probes, want 6: %+v", len(rep.Probes), rep.Probes)
	}
	for _, p := range rep.Probes {
		if p.One <= 0 || p.All <= 0 || p.Pipe <= 0 {
			t.Errorf("machine probe %+v", p)
		}
	}
	if err := rep.write(t.TempDir()); err != nil {
		t.Fatal(err)
	}
}
