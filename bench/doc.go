// Command bench measures sluice against the raw ceiling of each path, in
// one run on this machine, with its own throwaway servers:
//
//   - PG snapshot: sluice's initial snapshot of a table → topics, beside
//     COPY (SELECT ...) TO STDOUT into /dev/null (the native dump rate);
//   - PG streaming: sluice draining a backlog of small pgbench transactions
//     from its slot → topics (exactly-once, JSON with schemas), beside
//     pg_recvlogical with pgoutput draining the same backlog from a twin
//     slot into /dev/null (the server's own decoding ceiling).
//
// It prints a table and writes bench/results/<date>.md and .json. Run it
// with `make bench` or `go run ./bench -rows 1000000 -changes 1000000`.
package main
