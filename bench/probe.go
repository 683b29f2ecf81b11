package main

import (
	"crypto/sha256"
	"io"
	"os"
	goruntime "runtime"
	"sync"
	"time"
)

// machineProbe times a fixed CPU task (SHA-256 of probeBytes) on one core,
// then on every core at once, and bytes through a pipe, before a scenario
// group. The bench runs on a VM whose host shares its cores: two runs of
// `make bench` 15 minutes apart, with the same sluice, gave 7.1 and 2.8
// CPU seconds a million PG snapshot rows and met 3 and 8 of the 10 rows
// (the first ran before there was a probe). The probe
// lets a reader of two result files tell such a machine from a slower
// sluice.
type machineProbe struct {
	Before string        `json:"before"` // the group that followed; "end" after the last
	One    time.Duration `json:"one_core_ns"`
	All    time.Duration `json:"all_cores_ns"` // the slowest core's time
	// Pipe is probeBytes through a pipe between two goroutines, in 64 KB
	// writes: system calls and wake-ups across cores, as between sluice,
	// its database and its broker.
	Pipe time.Duration `json:"pipe_ns"`
}

// probeBytes is hashed in ~0.15 s by one core of the bench machine when
// it is not contended.
const probeBytes = 256 << 20

func probeMachine(before string) machineProbe {
	buf := make([]byte, 1<<20)
	task := func() time.Duration {
		start := time.Now()
		h := sha256.New()
		for range probeBytes / len(buf) {
			h.Write(buf)
		}
		h.Sum(nil)
		return time.Since(start)
	}
	p := machineProbe{Before: before, One: task()}
	n := goruntime.NumCPU()
	times := make([]time.Duration, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			times[i] = task()
		}()
	}
	wg.Wait()
	for _, t := range times {
		p.All = max(p.All, t)
	}
	p.Pipe = pipeProbe(buf[:64<<10])
	logf("machine probe: SHA-256 of %d MB in %.0f ms on one core, %.0f ms on each of %d at once; %d MB through a pipe in %.0f ms", probeBytes>>20,
		ms(p.One), ms(p.All), n, probeBytes>>20, ms(p.Pipe))
	return p
}

// pipeProbe times probeBytes written through an os.Pipe in writes of
// len(chunk) and read on another goroutine (0 if the pipe cannot be made).
func pipeProbe(chunk []byte) time.Duration {
	r, w, err := os.Pipe()
	if err != nil {
		return 0
	}
	defer r.Close()
	start := time.Now()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = io.Copy(io.Discard, r)
	}()
	for range probeBytes / len(chunk) {
		if _, err := w.Write(chunk); err != nil {
			break
		}
	}
	w.Close()
	<-done
	return time.Since(start)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
