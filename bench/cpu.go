package main

import (
	"log/slog"
	"os"
	"runtime"
)

func numCPU() int { return runtime.NumCPU() }

// benchLogLevel is warn, or info with SLUICE_BENCH_LOG=1 (shows the
// source's own phase timings).
func benchLogLevel() slog.Level {
	if os.Getenv("SLUICE_BENCH_LOG") != "" {
		return slog.LevelInfo
	}
	return slog.LevelWarn
}
