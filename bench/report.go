package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strings"
	"time"
)

// Targets of issue 10.
const (
	targetStreaming = 0.70 // PG/MySQL streaming, of the baseline's rate
	targetSnapshot  = 0.50
	targetSink      = 0.50
	targetP99       = 100 * time.Millisecond
	targetRSS       = 150 << 20
)

// result is one scenario's measurement beside its baseline.
type result struct {
	Scenario     string  `json:"scenario"`
	Units        int64   `json:"units"`
	Unit         string  `json:"unit"`
	SluiceSec    float64 `json:"sluice_seconds"`
	BaselineSec  float64 `json:"baseline_seconds,omitempty"`
	SluiceRate   float64 `json:"sluice_per_second"`
	BaselineRate float64 `json:"baseline_per_second,omitempty"`
	Ratio        float64 `json:"ratio,omitempty"`
	MinRatio     float64 `json:"target_ratio,omitempty"`
	Baseline     string  `json:"baseline,omitempty"`
	// Footprint of the sluice process (a separate process; the broker runs
	// in the bench process and is not counted).
	SluiceCPU     float64 `json:"sluice_cpu_seconds"`
	CPUPerMillion float64 `json:"cpu_seconds_per_million"`
	PeakRSS       int64   `json:"peak_rss_bytes"`
	// The highest RSS sampled in the first and second half of the run (of
	// the run whose second half grew most, when there are several): RSS
	// is flat with the backlog when the second is within 10% and 5 MB of
	// the first (rssGrowth).
	RSSFirstHalf  int64 `json:"rss_first_half_bytes,omitempty"`
	RSSSecondHalf int64 `json:"rss_second_half_bytes,omitempty"`
	// Scenarios measured several times: every run's seconds, in order
	// (sluice's and the baseline's runs alternate).
	SluiceRunsSec   []float64 `json:"sluice_runs_seconds,omitempty"`
	BaselineRunsSec []float64 `json:"baseline_runs_seconds,omitempty"`
	// Latency scenario only.
	Latency *latencyStats `json:"latency,omitempty"`
	Note    string        `json:"note,omitempty"`
}

// newResult is a throughput row: sluice's run beside the baseline's time
// for the same units.
func newResult(name string, units int64, unit string, u usage, base time.Duration, baseline string, minRatio float64) result {
	r := result{Scenario: name, Units: units, Unit: unit, SluiceSec: u.Elapsed.Seconds(), BaselineSec: base.Seconds(),
		Baseline: baseline, MinRatio: minRatio}
	r.SluiceRate = float64(units) / u.Elapsed.Seconds()
	r.BaselineRate = float64(units) / base.Seconds()
	r.Ratio = r.SluiceRate / r.BaselineRate
	r.setUsage(u, units)
	return r
}

// newRunsResult is a throughput row from several runs of sluice and of
// the baseline: the median of each, with the CPU of sluice's median run
// and the highest peak RSS of all its runs.
func newRunsResult(name string, units int64, unit string, us []usage, bases []time.Duration, baseline string, minRatio float64) result {
	byTime := slices.Clone(us)
	slices.SortFunc(byTime, func(a, b usage) int { return cmp.Compare(a.Elapsed, b.Elapsed) })
	med := byTime[(len(byTime)-1)/2]
	for _, u := range us {
		med.PeakRSS = max(med.PeakRSS, u.PeakRSS)
		if rssGrowth(u.RSSHalves) > rssGrowth(med.RSSHalves) {
			med.RSSHalves = u.RSSHalves
		}
	}
	sorted := slices.Sorted(slices.Values(bases))
	r := newResult(name, units, unit, med, sorted[(len(sorted)-1)/2], baseline, minRatio)
	if len(us) > 1 {
		r.Note = fmt.Sprintf("median of %d runs, alternating with the baseline's", len(us))
		for _, u := range us {
			r.SluiceRunsSec = append(r.SluiceRunsSec, u.Elapsed.Seconds())
		}
		for _, b := range bases {
			r.BaselineRunsSec = append(r.BaselineRunsSec, b.Seconds())
		}
	}
	return r
}

// joinNotes joins a row's notes with "; ", leaving out empty ones.
func joinNotes(notes ...string) string {
	return strings.Join(slices.DeleteFunc(notes, func(n string) bool { return n == "" }), "; ")
}

func (r *result) setUsage(u usage, units int64) {
	r.SluiceCPU = u.CPU
	r.PeakRSS = u.PeakRSS
	r.RSSFirstHalf, r.RSSSecondHalf = u.RSSHalves[0], u.RSSHalves[1]
	if units > 0 {
		r.CPUPerMillion = u.CPU / float64(units) * 1e6
	}
}

// targets says which targets the row meets: the ratio (or p99) and RSS.
func (r result) targets() string {
	var parts []string
	if r.MinRatio > 0 {
		parts = append(parts, fmt.Sprintf("ratio ≥ %.2f %s", r.MinRatio, passMiss(r.Ratio >= r.MinRatio)))
	}
	if r.Latency != nil {
		parts = append(parts, fmt.Sprintf("p99 < %d ms %s", targetP99.Milliseconds(), passMiss(r.Latency.P99 < float64(targetP99.Milliseconds()))))
	}
	parts = append(parts, fmt.Sprintf("RSS < %d MB %s", targetRSS>>20, passMiss(r.PeakRSS < targetRSS)))
	if h := [2]int64{r.RSSFirstHalf, r.RSSSecondHalf}; h[0] > 0 && h[1] > 0 {
		parts = append(parts, fmt.Sprintf("RSS flat (%.0f → %.0f MB) %s", float64(h[0])/(1<<20), float64(h[1])/(1<<20), passMiss(rssGrowth(h) <= 0)))
	}
	return strings.Join(parts, "; ")
}

// rssGrowth is by how much the highest RSS of a run's second half exceeds
// that of its first half plus 10% and 5 MB (the swing of the heap between
// two garbage collections); RSS is flat when it is not positive. Memory
// that grows with the work done (a backlog, a table) shows here: the
// second half did as much work again.
func rssGrowth(h [2]int64) int64 {
	return h[1] - (h[0] + h[0]/10 + 5<<20)
}

// passed reports whether the row meets all its targets.
func (r result) passed() bool { return !strings.Contains(r.targets(), "miss") }

func passMiss(ok bool) string {
	if ok {
		return "pass"
	}
	return "**miss**"
}

// footprint is what benchFootprint measures besides the per-row figures.
type footprint struct {
	StartupToFirstEvent time.Duration `json:"startup_to_first_event_ns"`
	StartupRSS          int64         `json:"startup_peak_rss_bytes"`
}

// report is a whole run: the .md table and the .json.
type report struct {
	Started     time.Time  `json:"started"`
	Sizes       sizes      `json:"sizes"`
	Cores       int        `json:"cores"`
	BinaryBytes int64      `json:"binary_bytes"`
	Footprint   *footprint `json:"footprint,omitempty"`
	Results     []result   `json:"results"`
	// Probes time a fixed CPU task before each group and at the end.
	Probes []machineProbe `json:"machine_probes,omitempty"`
}

func (rep *report) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# sluice benchmark %s\n\n", rep.Started.Format(time.RFC3339))
	fmt.Fprintf(&b, "Machine: %d cores; servers, broker and bench on the same machine. sluice runs as its own process "+
		"(`sluice run -c <generated yaml>`) against an embedded broker in the bench process (log on disk, no fsync per batch: "+
		"Kafka's default), so its peak RSS (VmHWM) and CPU "+
		"(utime+stime, /proc/<pid>/stat) exclude the broker. Exactly-once on unless a row says otherwise; JSON with schemas. "+
		"Times run from process start (startup included) to the connector's status showing the work done.\n\n", goruntime.NumCPU())
	z := rep.Sizes
	fmt.Fprintf(&b, "Sizes: `-rows %d -changes %d -latency-rate %d -latency-duration %s -mysql-rows %d -mysql-changes %d -sink-records %d -snapshot-runs %d -stream-runs %d -sink-runs %d`.\n\n",
		z.Rows, z.Changes, z.LatencyRate, z.LatencyFor, z.MySQLRows, z.MySQLChanges, z.SinkRecords, z.SnapshotRuns, z.StreamRuns, z.SinkRuns)
	b.WriteString("| scenario | units | sluice /s | baseline /s | ratio | baseline | peak RSS MB | CPU s / M units | targets |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rep.Results {
		name := r.Scenario
		if r.Note != "" {
			name += " (" + r.Note + ")"
		}
		if r.Latency != nil {
			fmt.Fprintf(&b, "| %s | %d %s | %.0f | – | p50 %.1f ms, p99 %.1f ms, max %.1f ms | – | %.1f | %.1f | %s |\n",
				name, r.Units, r.Unit, r.SluiceRate, r.Latency.P50, r.Latency.P99, r.Latency.Max,
				float64(r.PeakRSS)/(1<<20), r.CPUPerMillion, r.targets())
			continue
		}
		fmt.Fprintf(&b, "| %s | %d %s | %.0f | %.0f | %.2f | %s | %.1f | %.1f | %s |\n",
			name, r.Units, r.Unit, r.SluiceRate, r.BaselineRate, r.Ratio, r.Baseline,
			float64(r.PeakRSS)/(1<<20), r.CPUPerMillion, r.targets())
	}
	met := 0
	for _, r := range rep.Results {
		if r.passed() {
			met++
		}
	}
	fmt.Fprintf(&b, "\nRows meeting all their targets: %d of %d.\n", met, len(rep.Results))
	fmt.Fprintf(&b, "\nBinary: %.1f MB (`go build`, CGO_ENABLED=0).", float64(rep.BinaryBytes)/(1<<20))
	if f := rep.Footprint; f != nil {
		fmt.Fprintf(&b, " Process start to first event readable in Kafka: %.0f ms (peak RSS of that run %.1f MB).",
			float64(f.StartupToFirstEvent.Microseconds())/1000, float64(f.StartupRSS)/(1<<20))
	}
	b.WriteString("\n")
	if len(rep.Probes) > 0 {
		fmt.Fprintf(&b, "\nMachine probe, to compare runs (ms: SHA-256 of %d MB on one core / on each of %d cores at once / %d MB through a pipe):", probeBytes>>20, rep.Cores, probeBytes>>20)
		for i, p := range rep.Probes {
			when := "before " + p.Before
			if p.Before == "end" {
				when = "at the end"
			}
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, " %s %.0f / %.0f / %.0f", when, ms(p.One), ms(p.All), ms(p.Pipe))
		}
		b.WriteString(".\n")
	}
	return b.String()
}

// write prints the table and writes <dir>/<date>.md and .json.
func (rep *report) write(dir string) error {
	rep.Cores = goruntime.NumCPU()
	md := rep.markdown()
	fmt.Print(md)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("results dir: %w", err)
	}
	stamp := rep.Started.Format("2006-01-02")
	if err := os.WriteFile(filepath.Join(dir, stamp+".md"), []byte(md), 0o644); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	js, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, stamp+".json"), append(js, '\n'), 0o644); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	logf("wrote %s/%s.md and .json", dir, stamp)
	return nil
}
