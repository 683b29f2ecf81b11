// Command bench measures sluice against the raw ceiling of each path, in
// one run on this machine, with its own throwaway servers (internal/harness
// PostgreSQL and MariaDB, an in-process embedded broker per scenario with
// its log on disk and, as a Kafka broker by default, no sync per batch, the
// internal/esemu search server). sluice is built with `go build` and runs
// as its own process (`sluice run -c <generated yaml>`, a client of the
// bench's broker), so each row reports that process's peak RSS (VmHWM) and
// CPU seconds (utime+stime) per million units, without the broker's.
//
// One file per scenario group, each measured beside a baseline in the same
// run:
//
//   - pg.go: PG snapshot → topics beside psql's COPY (SELECT ...) TO
//     STDOUT into /dev/null (the native client, as the MariaDB row's); PG
//     streaming, a backlog of small pgbench transactions drained from a
//     slot (exactly_once on and off) beside pg_recvlogical draining a twin
//     slot into /dev/null. Every drain has a slot of its own, all created
//     before the backlog.
//   - latency.go: the same pgbench workload at a fixed rate (-R); a
//     read_committed franz-go consumer in the bench measures from the row's
//     ts_us column (clock_timestamp() in the writing statement; the
//     commit timestamp source.ts_us for deletes) to the record being
//     readable: p50, p99, max. It decodes each record's payload only,
//     not the schema block, to take as little as it can of the two cores
//     it shares with what it measures.
//   - mysql.go: MariaDB snapshot beside `mariadb --quick -e 'SELECT ...'`
//     into /dev/null; MariaDB streaming, a backlog of autocommit changes
//     read after a restart, beside a bare go-mysql BinlogSyncer loop reading
//     and discarding the same binlog range. Every drain by sluice restarts
//     on a broker of its own, where a first run stored the position the
//     backlog starts at.
//   - sinks.go: a topic (a sluice snapshot) written by the SQL sink into
//     PostgreSQL, MariaDB and SQLite and by the Elasticsearch sink into the
//     emulator, beside the target's native bulk path loading the same rows
//     (read back from sluice's table): pgx CopyFrom, multi-row INSERTs (one
//     transaction for SQLite), _bulk from a plain HTTP client. Each run
//     writes into a fresh database (SQLite file, emulator), removed after
//     the run's baseline.
//   - footprint.go: process start to the first event readable in Kafka;
//     the binary's size.
//   - report.go: targets (streaming ≥ 0.70 of the baseline, snapshot and
//     sinks ≥ 0.50, p99 < 100 ms, RSS < 150 MB and flat) and the table,
//     printed and written to bench/results/<date>.md and .json. RSS is
//     sampled every 10 ms through each run; it is flat when the highest
//     sample of the run's second half is within 10% and 5 MB of the first
//     half's: memory that grew with the backlog or table done would show
//     there, as the second half does as much work again.
//   - probe.go: before each group and at the end, a fixed task timed
//     (SHA-256 on one core, on every core at once, bytes through a pipe),
//     so that runs on days when the VM's host gave it less can be told
//     apart from a slower sluice.
//
// run.go holds what the scenarios share: the servers, the sluice process
// and its status (REST API), /proc readings, the broker.
//
// `make bench` (go run ./bench) runs everything at full size; flags size
// each scenario (-rows, -changes, -latency-rate, -latency-duration,
// -mysql-rows, -mysql-changes, -sink-records) or pick groups (-only pg,sinks).
// Each snapshot and its baseline run -snapshot-runs times (3; 1 with
// -smoke), alternating, and the row reports the median of each: a single
// run of either moved the ratio by a fifth on this machine. Each sink
// target and its baseline run -sink-runs times (3; 2 with -smoke) for the
// same reason: single runs of the PostgreSQL sink's pair gave ratios from
// 0.36 to 0.45 on the same build. Each streaming drain and its baseline run
// -stream-runs times (3; 2 with -smoke): single runs of the MariaDB pair
// gave 0.62 to 0.90.
// -smoke runs tiny sizes in seconds and writes its results to a temporary
// directory; TestSmoke runs it under `make test`. Results of smoke runs are
// not to be committed.
package main
