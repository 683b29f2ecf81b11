package main

import (
	"context"
	"fmt"
	"time"
)

// benchFootprint measures how long sluice takes from process start to the
// first event readable in Kafka: a snapshot of a small table, seen by a
// read_committed consumer. The binary's size is measured by newEnv, and
// every scenario reports its process's peak RSS and CPU.
func benchFootprint(ctx context.Context, e *env) ([]result, error) {
	const db = "startup"
	if err := createPGOrders(ctx, e.pg, db, e.sz.StartupRows); err != nil {
		return nil, err
	}
	broker, err := e.newBroker()
	if err != nil {
		return nil, err
	}
	defer broker.Close()
	cl, err := consumer(broker.Addr(), db+".public.orders")
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	logf("footprint: process start to first event in Kafka")
	r, err := e.startSluice(ctx, broker.Addr(), pgSnapshotYAML(db, e.pg.DSN(db)))
	if err != nil {
		return nil, err
	}
	defer r.stop()
	pctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	var first time.Duration
	for first == 0 {
		fs := cl.PollRecords(pctx, 1)
		if err := pctx.Err(); err != nil {
			return nil, fmt.Errorf("no event in Kafka: %w: %s", err, r.stderr)
		}
		if len(fs.Records()) > 0 {
			first = time.Since(r.start)
		}
	}
	u, err := r.waitFor(ctx, db, finished)
	if err != nil {
		return nil, err
	}
	e.footprint = &footprint{StartupToFirstEvent: first, StartupRSS: u.PeakRSS}
	return nil, nil
}
