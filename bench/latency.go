package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// latencyStats are end-to-end latencies in milliseconds.
type latencyStats struct {
	Events int     `json:"events"`
	P50    float64 `json:"p50_ms"`
	P99    float64 `json:"p99_ms"`
	Max    float64 `json:"max_ms"`
}

func newLatencyStats(ms []float64) *latencyStats {
	slices.Sort(ms)
	q := func(p float64) float64 { return ms[min(len(ms)-1, int(math.Ceil(p*float64(len(ms))))-1)] }
	return &latencyStats{Events: len(ms), P50: q(0.50), P99: q(0.99), Max: ms[len(ms)-1]}
}

// latencyValue is the part of a change record the latency consumer reads:
// the envelope's payload.
type latencyValue struct {
	After *struct {
		TsUs int64 `json:"ts_us"`
	} `json:"after"`
	Source struct {
		TsMs int64 `json:"ts_ms"`
		TsUs int64 `json:"ts_us"`
	} `json:"source"`
}

// payloadKey starts the envelope's last member, after the schema block.
var payloadKey = []byte(`,"payload":`)

// decodeLatencyValue decodes the payload of a change record. The consumer
// shares two cores with the system it measures: decoding the whole record,
// most of it the schema block (~3 KB), took three quarters of the bench
// process's CPU (17% of a core at 5,000 events/s), so it decodes the
// payload only: the envelope {"schema":{...},"payload":{...}} ends with it,
// and a literal `,"payload":` later in the record would be a column of that
// name, which the bench's tables do not have.
func decodeLatencyValue(b []byte) (latencyValue, error) {
	var v latencyValue
	if i := bytes.LastIndex(b, payloadKey); i >= 0 && bytes.HasSuffix(b, []byte("}")) {
		return v, json.Unmarshal(b[i+len(payloadKey):len(b)-1], &v)
	}
	var env struct {
		Payload latencyValue `json:"payload"`
	}
	err := json.Unmarshal(b, &env)
	return env.Payload, err
}

// writtenAt is when the change was made: the row's ts_us column
// (clock_timestamp() in the writing statement) for inserts and updates,
// the source's commit timestamp for deletes.
func (v latencyValue) writtenAt() (time.Time, bool) {
	switch {
	case v.After != nil && v.After.TsUs > 0:
		return time.UnixMicro(v.After.TsUs), true
	case v.Source.TsUs > 0:
		return time.UnixMicro(v.Source.TsUs), true
	case v.Source.TsMs > 0:
		return time.UnixMilli(v.Source.TsMs), true
	}
	return time.Time{}, false
}

// benchLatency runs the streaming workload at a fixed rate through sluice
// and measures, in a read_committed consumer, how long after the write
// each change became readable in Kafka.
func benchLatency(ctx context.Context, e *env) ([]result, error) {
	const db, name = "lat", "lat"
	if err := preparePGStream(ctx, e.pg, db, "sluice_"+name); err != nil {
		return nil, err
	}
	broker, err := e.newBroker()
	if err != nil {
		return nil, err
	}
	defer broker.Close()
	r, err := e.startSluice(ctx, broker.Addr(), pgStreamYAML(name, e.pg.DSN(db), true))
	if err != nil {
		return nil, err
	}
	defer r.stop()
	if _, err := r.waitFor(ctx, name, func(st status) (bool, error) {
		return st.Phase == "streaming", failed(st)
	}); err != nil {
		return nil, err
	}
	cl, err := consumer(broker.Addr(), name+".public.orders", name+".public.bench_marker")
	if err != nil {
		return nil, err
	}
	defer cl.Close()

	// The consumer gives up two minutes after the workload should have ended.
	cctx, cancel := context.WithTimeout(ctx, e.sz.LatencyFor+2*time.Minute)
	defer cancel()
	type consumed struct {
		ms  []float64
		err error
	}
	got := make(chan consumed, 1)
	go func() {
		ms, err := consumeLatencies(cctx, cl)
		got <- consumed{ms, err}
	}()

	secs := max(int(e.sz.LatencyFor.Seconds()), 1)
	logf("latency: %d transactions/s for %ds through sluice", e.sz.LatencyRate, secs)
	start := time.Now()
	n, err := e.pgbench(ctx, db, "-c", "2", "-j", "2", "-R", strconv.Itoa(e.sz.LatencyRate), "-T", strconv.Itoa(secs))
	el := time.Since(start)
	if err != nil {
		return nil, err
	}
	if _, err := pgMarker(ctx, e.pg, db); err != nil {
		return nil, err
	}
	c := <-got
	if c.err != nil {
		return nil, c.err
	}
	if len(c.ms) == 0 {
		return nil, fmt.Errorf("latency: no change consumed of %d transactions", n)
	}
	u, err := r.usage()
	if err != nil {
		return nil, err
	}
	u.Elapsed = el
	res := result{Scenario: fmt.Sprintf("PG latency at %d tx/s, commit → readable (read_committed)", e.sz.LatencyRate),
		Units: int64(len(c.ms)), Unit: "events", SluiceSec: el.Seconds(), SluiceRate: float64(n) / el.Seconds(),
		Latency: newLatencyStats(c.ms), Note: fmt.Sprintf("%d transactions", n)}
	res.setUsage(u, int64(len(c.ms)))
	return []result{res}, nil
}

// consumeLatencies reads the orders and marker topics until shortly after
// the marker's record and returns, for each change, how long after it was
// written it was readable (ms).
func consumeLatencies(ctx context.Context, cl *kgo.Client) ([]float64, error) {
	var ms []float64
	var markerAt time.Time
	for markerAt.IsZero() || time.Since(markerAt) < 300*time.Millisecond {
		// Short polls: after the marker, an empty poll ends the loop.
		pctx, pcancel := context.WithTimeout(ctx, 100*time.Millisecond)
		fs := cl.PollFetches(pctx)
		pcancel()
		now := time.Now()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("latency consumer: the marker was not consumed: %w", ctx.Err())
		}
		var err error
		fs.EachError(func(t string, p int32, ferr error) {
			if !errors.Is(ferr, context.DeadlineExceeded) {
				err = fmt.Errorf("consume %s/%d: %w", t, p, ferr)
			}
		})
		if err != nil {
			return nil, err
		}
		for _, rec := range fs.Records() {
			if strings.HasSuffix(rec.Topic, ".bench_marker") {
				markerAt = now
				continue
			}
			if rec.Value == nil {
				continue // tombstone
			}
			v, err := decodeLatencyValue(rec.Value)
			if err != nil {
				return nil, fmt.Errorf("decode %s@%d: %w", rec.Topic, rec.Offset, err)
			}
			if at, ok := v.writtenAt(); ok {
				ms = append(ms, float64(now.Sub(at).Microseconds())/1000)
			}
		}
	}
	return ms, nil
}
