// Package harness starts, waits for and tears down throwaway database servers
// (PostgreSQL and MariaDB) for tests, end-to-end suites, benchmarks and dev
// scripts.
//
// It owns test infrastructure only: every server lives in its own temporary
// directory, listens on a free 127.0.0.1 port, runs as the database's OS user
// when the caller is root (postgres, mysql), is placed in its own process group
// and is killed by the kernel (Pdeathsig) if the process that started it dies,
// so a crashed test never leaks a server. Close stops the server and removes
// its directory; directories left behind by a process that was killed are
// swept by the next server start.
//
// Missing server binaries or OS users are reported as errors (test failures
// via StartPostgres / StartMariaDB), never as skips: scripts/install-deps.sh
// installs them.
//
// Pdeathsig fires when the OS thread that started the server exits. Go keeps
// its threads, except one whose goroutine returns while locked with
// runtime.LockOSThread: do not start servers from such a goroutine.
//
// It is imported only by tests, e2e, bench and dev scripts (cmd/devdb); runtime
// packages and cmd/sluice must not import it. It imports nothing from sluice.
// It is Linux-only (Pdeathsig, /proc).
package harness
