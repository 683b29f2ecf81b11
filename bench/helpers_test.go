package main

import (
	"encoding/json"
	"os"
	"strings"
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
		{Elapsed: 3 * s, CPU: 3, PeakRSS: 90 << 20, RSSHalves: [2]int64{80 << 20, 82 << 20}},
		{Elapsed: 2 * s, CPU: 2.5, PeakRSS: 95 << 20, RSSHalves: [2]int64{60 << 20, 90 << 20}},
		{Elapsed: 4 * s, CPU: 4, PeakRSS: 80 << 20, RSSHalves: [2]int64{70 << 20, 70 << 20}},
	}
	r := newRunsResult("x", 1_000_000, "rows", us, []time.Duration{s, 2 * s, 1500 * time.Millisecond}, "b", 0.5)
	// Medians: sluice 3 s (its run's CPU), baseline 1.5 s; the highest RSS.
	if r.SluiceSec != 3 || r.BaselineSec != 1.5 || r.Ratio != 0.5 || r.SluiceCPU != 3 || r.PeakRSS != 95<<20 {
		t.Errorf("newRunsResult = %+v", r)
	}
	if len(r.SluiceRunsSec) != 3 || r.SluiceRunsSec[1] != 2 || len(r.BaselineRunsSec) != 3 || r.Note == "" {
		t.Errorf("runs not listed: %+v", r)
	}
	// The RSS halves are those of the run whose second half grew most
	// (60 → 90 MB), and that run is not flat.
	if r.RSSFirstHalf != 60<<20 || r.RSSSecondHalf != 90<<20 || !strings.Contains(r.targets(), "RSS flat (60 → 90 MB) **miss**") {
		t.Errorf("RSS halves: %d, %d; targets %s", r.RSSFirstHalf>>20, r.RSSSecondHalf>>20, r.targets())
	}
	one := newRunsResult("x", 10, "rows", us[:1], []time.Duration{s}, "b", 0.5)
	if one.Note != "" || one.SluiceRunsSec != nil || one.SluiceSec != 3 {
		t.Errorf("a single run: %+v", one)
	}
}

func TestRSSGrowth(t *testing.T) {
	const mb = 1 << 20
	for _, tc := range []struct {
		first, second int64
		flat          bool
	}{
		{100 * mb, 100 * mb, true},
		{100 * mb, 80 * mb, true},
		{100 * mb, 115 * mb, true},  // within 10% + 5 MB
		{100 * mb, 116 * mb, false}, // beyond
		{40 * mb, 49 * mb, true},
		{40 * mb, 50 * mb, false},
	} {
		if got := rssGrowth([2]int64{tc.first, tc.second}) <= 0; got != tc.flat {
			t.Errorf("%d → %d MB: flat %t, want %t", tc.first/mb, tc.second/mb, got, tc.flat)
		}
	}
}

func TestDecodeLatencyValue(t *testing.T) {
	schema := `{"type":"struct","fields":[{"type":"struct","fields":[{"type":"int64","optional":false,"field":"ts_us"}],"optional":true,"name":"lat.public.orders.Value","field":"after"}],"name":"lat.public.orders.Envelope"}`
	for _, tc := range []struct {
		value       string
		wantUs      int64
		wantWritten bool
	}{
		{`{"schema":` + schema + `,"payload":{"before":null,"after":{"id":1,"ts_us":1700000000123456},"source":{"ts_ms":1700000000124,"ts_us":1700000000124000},"op":"c"}}`, 1700000000123456, true},
		{`{"schema":` + schema + `,"payload":{"before":{"id":1,"ts_us":5},"after":null,"source":{"ts_ms":1700000000124,"ts_us":1700000000124999},"op":"d"}}`, 1700000000124999, true},
		{`{"schema":` + schema + `,"payload":{"before":null,"after":null,"source":{"ts_ms":1700000000124},"op":"d"}}`, 1700000000124000, true},
		// No schema block: the whole record is decoded.
		{`{"payload":{"after":{"ts_us":42},"source":{}}}`, 42, true},
		{`{"schema":` + schema + `,"payload":{"before":null,"after":null,"source":{},"op":"t"}}`, 0, false},
	} {
		v, err := decodeLatencyValue([]byte(tc.value))
		if err != nil {
			t.Fatalf("%s: %v", tc.value, err)
		}
		at, ok := v.writtenAt()
		if ok != tc.wantWritten || (ok && at.UnixMicro() != tc.wantUs) {
			t.Errorf("%s: written at %d (%v), want %d (%v)", tc.value, at.UnixMicro(), ok, tc.wantUs, tc.wantWritten)
		}
		var full struct {
			Payload latencyValue `json:"payload"`
		}
		if err := json.Unmarshal([]byte(tc.value), &full); err != nil {
			t.Fatal(err)
		}
		if fat, fok := full.Payload.writtenAt(); fok != ok || !fat.Equal(at) {
			t.Errorf("%s: the payload alone gives %v (%v), the whole record %v (%v)", tc.value, at, ok, fat, fok)
		}
	}
	if _, err := decodeLatencyValue([]byte(`{"schema":{},"payload":{"after":`)); err == nil {
		t.Error("a cut record decoded without an error")
	}
}
