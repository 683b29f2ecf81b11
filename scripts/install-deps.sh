#!/usr/bin/env bash
# Installs what sluice's tests, quickstart and benchmarks need from Debian's
# packages, and only what is missing. Idempotent; needs root (or prints what to
# install and exits non-zero). With CI=true a failed install is an error.
#
#   postgresql     PostgreSQL server binaries (initdb, postgres, pg_recvlogical,
#                  pgbench under /usr/lib/postgresql/*/bin) and the postgres user
#   mariadb-server mariadbd, mariadb-install-db and the mysql user
#   mariadb-client the mariadb client the test harness drives servers with
#   kcat           Kafka command-line client (quickstart, manual checks)
#   ca-certificates TLS roots for fetching Go modules
#
# Tests start their own throwaway servers (internal/harness); no system
# service needs to run.
set -euo pipefail

missing=()
need() { # need PACKAGE CHECK...: PACKAGE is missing unless every CHECK passes
	local pkg=$1
	shift
	for check in "$@"; do
		if ! eval "$check" >/dev/null 2>&1; then
			missing+=("$pkg")
			return
		fi
	done
}

pg_bin() { # pg_bin NAME: NAME exists in some /usr/lib/postgresql/*/bin
	compgen -G "/usr/lib/postgresql/*/bin/$1" >/dev/null
}
have() { # have NAME [PATH...]: NAME on PATH or one of PATHs executable
	local name=$1
	shift
	command -v "$name" && return 0
	for p in "$@"; do [[ -x $p ]] && return 0; done
	return 1
}

check_all() {
	missing=()
	need postgresql 'pg_bin initdb' 'pg_bin postgres' 'pg_bin pg_ctl' 'pg_bin pg_recvlogical' 'pg_bin pgbench' 'id -u postgres'
	need mariadb-server 'have mariadbd /usr/sbin/mariadbd' 'have mariadb-install-db /usr/bin/mariadb-install-db' 'id -u mysql'
	need mariadb-client 'have mariadb /usr/bin/mariadb'
	need kcat 'have kcat /usr/bin/kcat'
	need ca-certificates '[[ -s /etc/ssl/certs/ca-certificates.crt ]]'
}

check_all
if ((${#missing[@]} == 0)); then
	echo "install-deps: all dependencies present"
	exit 0
fi

echo "install-deps: missing: ${missing[*]}"
if [[ $(id -u) != 0 ]]; then
	echo "install-deps: not root; install them with:" >&2
	echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
	exit 1
fi

fail() {
	echo "install-deps: $*" >&2
	if [[ ${CI:-} == true ]]; then
		exit 1
	fi
	echo "install-deps: continuing (CI is not true); tests needing them will fail" >&2
	exit 0
}

export DEBIAN_FRONTEND=noninteractive
apt_opts=(-o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
apt-get "${apt_opts[@]}" update || fail "apt-get update failed"
apt-get "${apt_opts[@]}" install -y --no-install-recommends "${missing[@]}" || fail "apt-get install ${missing[*]} failed"

# The packages create their OS users; recreate one that was removed after
# the package was installed (apt-get would not).
ensure_user() { # ensure_user NAME HOME
	id -u "$1" >/dev/null 2>&1 && return 0
	echo "install-deps: creating system user $1"
	useradd --system --user-group --home-dir "$2" --no-create-home --shell /usr/sbin/nologin "$1" ||
		fail "could not create system user $1"
}
ensure_user postgres /var/lib/postgresql
ensure_user mysql /nonexistent

check_all
if ((${#missing[@]} > 0)); then
	fail "still missing after install: ${missing[*]}"
fi
echo "install-deps: installed what was missing"
