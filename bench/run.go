package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/internal/api"
	"github.com/sluice-cdc/sluice/internal/harness"
	"github.com/sluice-cdc/sluice/internal/kafka"
	"github.com/sluice-cdc/sluice/internal/runtime"
)

// env is what the scenarios share: the throwaway servers, the sluice
// binary under test and the sizes.
type env struct {
	sz      sizes
	bin     string
	binSize int64
	tmp     string // removed by close
	pg      *harness.Postgres
	my      *harness.MariaDB

	footprint *footprint // set by benchFootprint

	profileDir string // -sluice-profile: each sluice run writes a CPU profile here
	runs       int    // sluice runs started, numbering the profiles
}

// profileName names a run's profile after its first connector.
func profileName(body string) string {
	_, rest, ok := strings.Cut(body, "name: ")
	if !ok {
		return "run"
	}
	name, _, _ := strings.Cut(rest, "\n")
	return strings.Trim(strings.TrimSpace(name), `"',}{`)
}

// selected reports whether scenario group name runs.
func (sz sizes) selected(name string) bool {
	if sz.ScenarioFilter == "" {
		return true
	}
	for _, s := range strings.Split(sz.ScenarioFilter, ",") {
		if strings.TrimSpace(s) == name {
			return true
		}
	}
	return false
}

// snapshotAndStreaming runs a source's snapshot scenario, then its
// streaming scenarios.
func snapshotAndStreaming(ctx context.Context, e *env, snap func(context.Context, *env) (result, error),
	stream func(context.Context, *env) ([]result, error)) ([]result, error) {
	s, err := snap(ctx, e)
	if err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	rs, err := stream(ctx, e)
	if err != nil {
		return nil, fmt.Errorf("streaming: %w", err)
	}
	return append([]result{s}, rs...), nil
}

// newEnv builds sluice (unless bin is given) and starts the servers the
// selected scenarios need, all at once.
func newEnv(ctx context.Context, sz sizes, bin string) (*env, error) {
	tmp, err := os.MkdirTemp("", "sluice-bench-")
	if err != nil {
		return nil, fmt.Errorf("temp dir: %w", err)
	}
	e := &env{sz: sz, bin: bin, tmp: tmp, profileDir: sluiceProfileDir}
	for _, name := range strings.Split(sz.ScenarioFilter, ",") {
		if name = strings.TrimSpace(name); name != "" && !slices.ContainsFunc(scenarioGroups, func(g scenarioGroup) bool { return g.name == name }) {
			return nil, fmt.Errorf("-only: unknown scenario group %q", name)
		}
	}
	needPG := sz.selected("pg") || sz.selected("latency") || sz.selected("sinks") || sz.selected("footprint")
	needMy := sz.selected("mysql") || sz.selected("sinks")
	var wg sync.WaitGroup
	var buildErr, pgErr, myErr error
	wg.Add(3)
	go func() {
		defer wg.Done()
		if e.bin == "" {
			e.bin, buildErr = buildSluice(ctx, tmp)
		}
	}()
	go func() {
		defer wg.Done()
		if needPG {
			e.pg, pgErr = harness.NewPostgres(ctx, harness.PGConfig{})
		}
	}()
	go func() {
		defer wg.Done()
		if needMy {
			e.my, myErr = harness.NewMariaDB(ctx, harness.MariaDBConfig{})
		}
	}()
	wg.Wait()
	if err := errors.Join(buildErr, pgErr, myErr); err != nil {
		e.close()
		return nil, err
	}
	st, err := os.Stat(e.bin)
	if err != nil {
		e.close()
		return nil, fmt.Errorf("sluice binary: %w", err)
	}
	e.binSize = st.Size()
	return e, nil
}

func (e *env) close() {
	if e.pg != nil {
		e.pg.Close()
	}
	if e.my != nil {
		e.my.Close()
	}
	os.RemoveAll(e.tmp)
}

// buildSluice builds cmd/sluice as `make build` does, into dir.
func buildSluice(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "sluice")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/sluice-cdc/sluice/cmd/sluice")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/sluice: %w: %s", err, out)
	}
	return bin, nil
}

// newBroker starts an embedded broker in the bench process for one
// scenario: sluice runs as a client of it, so the broker's memory and CPU
// are not counted as sluice's. Its log is in a directory of e.tmp. The
// caller closes it.
func (e *env) newBroker() (*kafka.Embedded, error) {
	dir, err := os.MkdirTemp(e.tmp, "broker-")
	if err != nil {
		return nil, fmt.Errorf("broker dir: %w", err)
	}
	// The log on disk, written to the page cache without a sync per batch,
	// as a Kafka broker does by default. (kfake's in-memory log copies a
	// whole segment each time it grows, costing the bench process more CPU
	// than sluice itself on a large topic.)
	b, err := kafka.StartEmbedded(kafka.EmbeddedOptions{Listen: "127.0.0.1:0", DataDir: dir, NoSync: true,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, fmt.Errorf("embedded broker: %w", err)
	}
	return b, nil
}

// status is a connector's status as the REST API reports it.
type status = api.ConnectorStatus

// failed is an error when the connector failed or is restarting.
func failed(st status) error {
	if s := st.Connector.State; s == runtime.StateFailed || s == runtime.StateRestarting {
		trace := st.LastError
		if len(st.Tasks) > 0 && st.Tasks[0].Trace != "" {
			trace = st.Tasks[0].Trace
		}
		return fmt.Errorf("connector %s: %s", s, trace)
	}
	return nil
}

// usage is what one sluice process used until its connector was done.
type usage struct {
	Elapsed time.Duration // process start to done
	CPU     float64       // utime+stime seconds from /proc/<pid>/stat
	PeakRSS int64         // VmHWM bytes from /proc/<pid>/status
	// RSSHalves are the highest resident set sizes sampled (every
	// rssEvery) in the first and in the second half of the time from
	// process start to the reading: memory that grows with the work done
	// shows as a second half above the first.
	RSSHalves [2]int64
}

// rssEvery is how often a sluice process's resident set is sampled.
const rssEvery = 10 * time.Millisecond

// rssSample is the resident set size at a time since process start.
type rssSample struct {
	at  time.Duration
	rss int64
}

// sluiceRun is one `sluice run -c <yaml>` process.
type sluiceRun struct {
	cmd    *exec.Cmd
	api    string
	start  time.Time
	exited chan struct{}
	err    error // of Wait, after exited
	stderr *tailBuffer

	mu  sync.Mutex
	rss []rssSample
}

// sampleRSS records the process's resident set size every rssEvery until
// it exits.
func (r *sluiceRun) sampleRSS() {
	statm := fmt.Sprintf("/proc/%d/statm", r.cmd.Process.Pid)
	page := int64(os.Getpagesize())
	t := time.NewTicker(rssEvery)
	defer t.Stop()
	for {
		select {
		case <-r.exited:
			return
		case <-t.C:
		}
		b, err := os.ReadFile(statm)
		if err != nil {
			continue // exiting
		}
		// size resident shared text lib data dt, in pages.
		f := strings.Fields(string(b))
		if len(f) < 2 {
			continue
		}
		pages, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			continue
		}
		r.mu.Lock()
		r.rss = append(r.rss, rssSample{time.Since(r.start), pages * page})
		r.mu.Unlock()
	}
}

// usage reads the process's CPU and peak RSS, and the highest RSS sampled
// in each half of its life so far (Elapsed is left to the caller).
func (r *sluiceRun) usage() (usage, error) {
	u, err := procUsage(r.cmd.Process.Pid)
	half := time.Since(r.start) / 2
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.rss {
		i := 0
		if s.at >= half {
			i = 1
		}
		u.RSSHalves[i] = max(u.RSSHalves[i], s.rss)
	}
	return u, err
}

// startSluice writes a configuration with the broker, a fresh state_dir
// and a REST API on a free port ahead of body, and starts sluice on it.
func (e *env) startSluice(ctx context.Context, broker, body string) (*sluiceRun, error) {
	dir, err := os.MkdirTemp(e.tmp, "run-")
	if err != nil {
		return nil, fmt.Errorf("state dir: %w", err)
	}
	apiAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	kafkaExtra := ""
	if benchCompression != "" {
		kafkaExtra = ", compression: " + benchCompression
	}
	yaml := fmt.Sprintf("state_dir: %s\nkafka: {brokers: [%s]%s}\napi: {listen: %s}\nlog: {level: %s, format: text}\n%s",
		dir, broker, kafkaExtra, apiAddr, benchLogLevel(), body)
	cfg := filepath.Join(dir, "sluice.yaml")
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		return nil, fmt.Errorf("write config: %w", err)
	}
	r := &sluiceRun{api: apiAddr, exited: make(chan struct{}), stderr: &tailBuffer{max: 16 << 10}}
	args := []string{"run", "-c", cfg}
	if e.profileDir != "" {
		e.runs++
		args = append(args, "-cpuprofile", filepath.Join(e.profileDir, fmt.Sprintf("sluice-%02d-%s.pprof", e.runs, profileName(body))))
	}
	r.cmd = exec.CommandContext(ctx, e.bin, args...)
	r.cmd.Stdout, r.cmd.Stderr = r.stderr, r.stderr
	if benchLogLevel() != "warn" {
		r.cmd.Stderr = os.Stderr
	}
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	r.start = time.Now()
	if err := r.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start sluice: %w", err)
	}
	go func() { r.err = r.cmd.Wait(); close(r.exited) }()
	go r.sampleRSS()
	return r, nil
}

// runSluice runs sluice on body until done reports true for connector
// name, then stops it (SIGTERM) and returns what it used until done.
func (e *env) runSluice(ctx context.Context, broker, name, body string, done func(status) (bool, error)) (usage, error) {
	ctx, cancel := context.WithTimeout(ctx, runTimeout)
	defer cancel()
	r, err := e.startSluice(ctx, broker, body)
	if err != nil {
		return usage{}, err
	}
	defer r.stop()
	return r.waitFor(ctx, name, done)
}

// runTimeout bounds one sluice run, so that a stuck connector fails the
// benchmark instead of hanging it.
const runTimeout = 10 * time.Minute

// runSluiceAlone is runSluice against a fresh broker of its own.
func (e *env) runSluiceAlone(ctx context.Context, name, body string, done func(status) (bool, error)) (usage, error) {
	broker, err := e.newBroker()
	if err != nil {
		return usage{}, err
	}
	defer broker.Close()
	return e.runSluice(ctx, broker.Addr(), name, body, done)
}

// waitFor polls connector name's status until done reports true, and
// measures the process at that moment.
func (r *sluiceRun) waitFor(ctx context.Context, name string, done func(status) (bool, error)) (usage, error) {
	hc := &http.Client{Timeout: 2 * time.Second}
	url := "http://" + r.api + "/connectors/" + name + "/status"
	for {
		// Poll often enough that the timing is within 0.5%, and no more
		// (each status is served by sluice and counted in its CPU).
		every := min(max(time.Since(r.start)/200, 5*time.Millisecond), 100*time.Millisecond)
		select {
		case <-r.exited:
			return usage{}, fmt.Errorf("sluice exited before %s was done: %w: %s", name, r.err, r.stderr)
		case <-ctx.Done():
			return usage{}, ctx.Err()
		case <-time.After(every):
		}
		st, ok := getStatus(hc, url)
		if !ok {
			continue // not listening yet
		}
		ok, err := done(st)
		if err != nil {
			return usage{}, fmt.Errorf("%w: %s", err, r.stderr)
		}
		if ok {
			el := time.Since(r.start)
			u, err := r.usage()
			u.Elapsed = el
			return u, err
		}
	}
}

func getStatus(hc *http.Client, url string) (status, bool) {
	resp, err := hc.Get(url)
	if err != nil {
		return status{}, false
	}
	defer resp.Body.Close()
	var st status
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&st) != nil {
		return status{}, false
	}
	return st, true
}

// stop sends SIGTERM and waits for the process to exit (SIGKILL after 30s).
func (r *sluiceRun) stop() {
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.exited:
	case <-time.After(30 * time.Second):
		_ = r.cmd.Process.Kill()
		<-r.exited
	}
}

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat
// (100 on every Linux architecture Go supports).
const clockTicks = 100

// procUsage reads a live process's CPU seconds and peak RSS from /proc.
func procUsage(pid int) (usage, error) {
	var u usage
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return u, fmt.Errorf("read /proc/%d/stat: %w", pid, err)
	}
	// Fields after the command name (which may hold spaces) in parentheses:
	// state is field 3, utime 14, stime 15.
	f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	if len(f) < 13 {
		return u, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	stt, _ := strconv.ParseFloat(f[12], 64)
	u.CPU = (ut + stt) / clockTicks
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return u, fmt.Errorf("read /proc/%d/status: %w", pid, err)
	}
	for _, line := range strings.Split(string(st), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			u.PeakRSS = kb << 10
		}
	}
	return u, nil
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// tailBuffer keeps the last max bytes written to it (a process's log).
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = t.b[len(t.b)-t.max:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.b))
}

// benchLogLevel is sluice's log level: warn, or info with
// SLUICE_BENCH_LOG=1 (then its log goes to the bench's stderr, with the
// sources' own phase timings), or debug with SLUICE_BENCH_LOG=debug (with
// the steps of a connector's start).
func benchLogLevel() string {
	switch os.Getenv("SLUICE_BENCH_LOG") {
	case "":
		return "warn"
	case "debug":
		return "debug"
	}
	return "info"
}

// benchStart is when the process started, for the progress lines.
var benchStart = time.Now()

// logf prints a progress line with the time since the start.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench [%5.1fs]: "+format+"\n", append([]any{time.Since(benchStart).Seconds()}, args...)...)
}

// alternate runs baseline and sluice n times each, one after the other,
// so that a slow spell of the machine falls on both alike.
func alternate(n int, baseline func() (time.Duration, error), sluice func() (usage, error)) ([]time.Duration, []usage, error) {
	var bases []time.Duration
	var us []usage
	for i := 0; i < n; i++ {
		b, err := baseline()
		if err != nil {
			return nil, nil, err
		}
		u, err := sluice()
		if err != nil {
			return nil, nil, err
		}
		bases, us = append(bases, b), append(us, u)
	}
	return bases, us, nil
}

// timed runs fn and returns how long it took.
func timed(fn func() error) (time.Duration, error) {
	start := time.Now()
	err := fn()
	return time.Since(start), err
}

// timedDump runs a database's command-line client with its output going
// to /dev/null (exec's default for a nil Stdout) and returns how long it
// took: the snapshot rows' native dump baseline.
func timedDump(ctx context.Context, bin string, args ...string) (time.Duration, error) {
	return timed(func() error {
		cmd := exec.CommandContext(ctx, bin, args...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s: %w: %s", bin, err, stderr.String())
		}
		return nil
	})
}

// consumer is a read_committed franz-go client of broker on topics.
func consumer(broker string, topics ...string) (*kgo.Client, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker), kgo.ConsumeTopics(topics...),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(10*time.Millisecond), kgo.MetadataMinAge(50*time.Millisecond), kgo.MetadataMaxAge(200*time.Millisecond))
	if err != nil {
		return nil, fmt.Errorf("kafka consumer: %w", err)
	}
	return cl, nil
}
