package main

import (
	"os"
	"testing"
	"time"
)

func TestLatencyStats(t *testing.T) {
	ms := make([]float64, 0, 200)
	for i := 200; i >= 1; i-- {
		ms = append(ms, float64(i))
	}
	got := *newLatencyStats(ms)
	want := latencyStats{Events: 200, P50: 100, P99: 198, Max: 200}
	if got != want {
		t.Errorf("newLatencyStats(1..200) = %+v, want %+v", got, want)
	}
	if one := *newLatencyStats([]float64{7}); one != (latencyStats{Events: 1, P50: 7, P99: 7, Max: 7}) {
		t.Errorf("newLatencyStats([7]) = %+v", one)
	}
}

func TestLSNGE(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"0/16B3748", "0/16B3748", true},
		{"0/16B3749", "0/16B3748", true},
		{"0/16B3747", "0/16B3748", false},
		{"1/0", "0/FFFFFFFF", true},
		{"0/FFFFFFFF", "1/0", false},
	} {
		if got := lsnGE(c.a, c.b); got != c.want {
			t.Errorf("lsnGE(%s, %s) = %t, want %t", c.a, c.b, got, c.want)
		}
	}
}

func TestProcUsageSelf(t *testing.T) {
	u, err := procUsage(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if u.PeakRSS <= 0 || u.CPU < 0 {
		t.Errorf("procUsage(self) = %+v", u)
	}
}

func TestTargets(t *testing.T) {
	ok := result{MinRatio: 0.5, Ratio: 0.6, PeakRSS: 100 << 20}
	if !ok.passed() {
		t.Errorf("%+v: %s", ok, ok.targets())
	}
	slow := result{Latency: &latencyStats{P99: 120}, PeakRSS: 100 << 20}
	if slow.passed() {
		t.Errorf("p99 120 ms passed: %s", slow.targets())
	}
	fat := result{MinRatio: 0.5, Ratio: 0.9, PeakRSS: 200 << 20}
	if fat.passed() {
		t.Errorf("RSS 200 MB passed: %s", fat.targets())
	}
}

func TestSizesValidate(t *testing.T) {
	for _, sz := range []sizes{fullSizes, smokeSizes} {
		if err := sz.validate(); err != nil {
			t.Errorf("%+v: %v", sz, err)
		}
	}
	bad := fullSizes
	bad.Changes = 0
	if err := bad.validate(); err == nil || err.Error() != "-changes 0: must be at least 1" {
		t.Errorf("-changes 0: %v", err)
	}
	bad = fullSizes
	bad.LatencyFor = 0
	if err := bad.validate(); err == nil {
		t.Error("-latency-duration 0 accepted")
	}
}

func TestNewRunsResult(t *testing.T) {
	s := time.Second
	us := []usage{
		{Elapsed: 3 * s, CPU: 3, PeakRSS: 90 << 20},
		{Elapsed: 2 * s, CPU: 2.5, PeakRSS: 95 << 20},
		{Elapsed: 4 * s, CPU: 4, PeakRSS: 80 << 20},
	}
	r := newRunsResult("x", 1_000_000, "rows", us, []time.Duration{s, 2 * s, 1500 * time.Millisecond}, "b", 0.5)
	// Medians: sluice 3 s (its run's CPU), baseline 1.5 s; the highest RSS.
	if r.SluiceSec != 3 || r.BaselineSec != 1.5 || r.Ratio != 0.5 || r.SluiceCPU != 3 || r.PeakRSS != 95<<20 {
		t.Errorf("newRunsResult = %+v", r)
	}
	if len(r.SluiceRunsSec) != 3 || r.SluiceRunsSec[1] != 2 || len(r.BaselineRunsSec) != 3 || r.Note == "" {
		t.Errorf("runs not listed: %+v", r)
	}
	one := newRunsResult("x", 10, "rows", us[:1], []time.Duration{s}, "b", 0.5)
	if one.Note != "" || one.SluiceRunsSec != nil || one.SluiceSec != 3 {
		t.Errorf("a single run: %+v", one)
	}
}
