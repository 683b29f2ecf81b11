package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"time"
)

// sizes are the scenario sizes; flags set them, -smoke shrinks them.
type sizes struct {
	Rows           int           // PG snapshot rows
	Changes        int           // PG streaming backlog transactions
	LatencyRate    int           // latency workload, events/s
	LatencyFor     time.Duration // latency workload duration
	MySQLRows      int           // MariaDB snapshot rows
	MySQLChanges   int           // MariaDB streaming backlog transactions
	SinkRecords    int           // records per sink target
	StartupRows    int           // table snapshotted to time the first event
	SnapshotRuns   int           // runs of each snapshot and its baseline (the medians are reported)
	SinkRuns       int           // runs of each sink target and its baseline (the medians are reported)
	StreamRuns     int           // runs of each streaming drain and its baseline (the medians are reported)
	ScenarioFilter string        // comma-separated scenario groups; empty: all
}

// fullSizes are the sizes of `make bench` (issue 10).
var fullSizes = sizes{
	Rows: 1_000_000, Changes: 200_000, LatencyRate: 5000, LatencyFor: 30 * time.Second,
	MySQLRows: 1_000_000, MySQLChanges: 200_000, SinkRecords: 1_000_000, StartupRows: 1000, SnapshotRuns: 3, SinkRuns: 3,
	StreamRuns: 3,
}

// smokeSizes run every scenario in seconds (TestSmoke, `go run ./bench -smoke`).
var smokeSizes = sizes{
	Rows: 2000, Changes: 600, LatencyRate: 200, LatencyFor: 2 * time.Second,
	MySQLRows: 2000, MySQLChanges: 600, SinkRecords: 2500, StartupRows: 100, SnapshotRuns: 1, SinkRuns: 2,
	StreamRuns: 2,
}

func main() {
	smoke := flag.Bool("smoke", false, "tiny sizes (seconds per scenario); results go to a temporary directory unless -out is given")
	sz := fullSizes
	flag.IntVar(&sz.Rows, "rows", sz.Rows, "PG snapshot: rows in the table")
	flag.IntVar(&sz.Changes, "changes", sz.Changes, "PG streaming: pgbench transactions (one insert/update/delete each, round robin) in the backlog")
	flag.IntVar(&sz.LatencyRate, "latency-rate", sz.LatencyRate, "latency: fixed workload rate, transactions (events) per second")
	flag.DurationVar(&sz.LatencyFor, "latency-duration", sz.LatencyFor, "latency: how long the workload runs")
	flag.IntVar(&sz.MySQLRows, "mysql-rows", sz.MySQLRows, "MariaDB snapshot: rows in the table")
	flag.IntVar(&sz.MySQLChanges, "mysql-changes", sz.MySQLChanges, "MariaDB streaming: transactions (one insert/update/delete each, round robin) in the backlog")
	flag.IntVar(&sz.SinkRecords, "sink-records", sz.SinkRecords, "sinks: records in the topic written to each target")
	flag.IntVar(&sz.StartupRows, "startup-rows", sz.StartupRows, "footprint: rows of the table whose snapshot times process start to first event")
	flag.IntVar(&sz.SnapshotRuns, "snapshot-runs", sz.SnapshotRuns, "snapshots: runs of sluice and of the baseline, alternating (the median of each is reported)")
	flag.IntVar(&sz.StreamRuns, "stream-runs", sz.StreamRuns, "streaming: drains of the same backlog by sluice and by the baseline, alternating, each from its own slot or stored position (the median of each is reported)")
	flag.IntVar(&sz.SinkRuns, "sink-runs", sz.SinkRuns, "sinks: runs of each target and of its baseline, each into a fresh target (the median of each is reported)")
	flag.StringVar(&sz.ScenarioFilter, "only", "", "comma-separated scenario groups to run: pg, latency, mysql, sinks, footprint (default all)")
	out := flag.String("out", "", "directory for the result files (default bench/results; a temporary directory with -smoke)")
	bin := flag.String("sluice", "", "sluice binary to measure (default: go build ./cmd/sluice into a temporary directory)")
	flag.StringVar(&benchCompression, "compression", "", "kafka.compression of the sluice runs (default: sluice's default)")
	flag.StringVar(&sluiceProfileDir, "sluice-profile", "", "directory where each sluice run writes a CPU profile (sluice run -cpuprofile)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the bench process (servers' clients, baselines, broker) to this file")
	flag.Parse()
	if *smoke {
		filter := sz.ScenarioFilter
		sz = smokeSizes
		sz.ScenarioFilter = filter
	}
	if err := sz.validate(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	if *out == "" {
		*out = "bench/results"
		if *smoke {
			*out = os.TempDir()
		}
	}
	if err := mainErr(sz, *out, *bin, *cpuprofile); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// validate rejects sizes a scenario cannot measure (a rate over nothing).
func (sz sizes) validate() error {
	for _, f := range []struct {
		flag string
		n    int
	}{
		{"rows", sz.Rows}, {"changes", sz.Changes}, {"latency-rate", sz.LatencyRate},
		{"mysql-rows", sz.MySQLRows}, {"mysql-changes", sz.MySQLChanges},
		{"sink-records", sz.SinkRecords}, {"startup-rows", sz.StartupRows}, {"snapshot-runs", sz.SnapshotRuns},
		{"sink-runs", sz.SinkRuns}, {"stream-runs", sz.StreamRuns},
	} {
		if f.n < 1 {
			return fmt.Errorf("-%s %d: must be at least 1", f.flag, f.n)
		}
	}
	if sz.LatencyFor <= 0 {
		return fmt.Errorf("-latency-duration %s: must be positive", sz.LatencyFor)
	}
	return nil
}

func mainErr(sz sizes, out, bin, cpuprofile string) error {
	if cpuprofile != "" {
		f, err := os.Create(cpuprofile)
		if err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	rep, err := run(context.Background(), sz, bin)
	if err != nil {
		return err
	}
	return rep.write(out)
}

// sluiceProfileDir is the -sluice-profile flag.
var sluiceProfileDir string

// benchCompression is the -compression flag.
var benchCompression string

// scenarioGroup is a file's scenarios; run returns its rows of the table.
type scenarioGroup struct {
	name string
	run  func(context.Context, *env) ([]result, error)
}

// scenarioGroups run in this order; each returns its rows of the table.
var scenarioGroups = []scenarioGroup{
	{"pg", benchPG},
	{"latency", benchLatency},
	{"mysql", benchMySQL},
	{"sinks", benchSinks},
	{"footprint", benchFootprint},
}

// run starts the servers, builds sluice and runs the selected scenario groups.
func run(ctx context.Context, sz sizes, bin string) (*report, error) {
	e, err := newEnv(ctx, sz, bin)
	if err != nil {
		return nil, err
	}
	defer e.close()
	rep := &report{Started: time.Now().UTC(), Sizes: sz, BinaryBytes: e.binSize}
	for _, g := range scenarioGroups {
		if !sz.selected(g.name) {
			continue
		}
		logf("--- %s", g.name)
		rep.Probes = append(rep.Probes, probeMachine(g.name))
		rs, err := g.run(ctx, e)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", g.name, err)
		}
		rep.Results = append(rep.Results, rs...)
	}
	rep.Probes = append(rep.Probes, probeMachine("end"))
	rep.Footprint = e.footprint
	return rep, nil
}
