#!/usr/bin/env bash
# The quickstart: a throwaway PostgreSQL (or, with the argument "mysql", a
# throwaway MariaDB) with a small inventory database, sluice with its
# embedded Kafka broker, a few changes, the events they produced, and the
# tables the SQL sink replicated into SQLite. Nothing else to install or
# configure; everything is removed at the end.
#
#   scripts/quickstart.sh            # PostgreSQL (make quickstart)
#   scripts/quickstart.sh mysql      # MariaDB    (make quickstart-mysql)
set -euo pipefail
cd "$(dirname "$0")/.."

case "${1:-postgres}" in
postgres)
	kind=postgres server="PostgreSQL (wal_level=logical)" config=configs/examples/quickstart.yaml
	schema=public inventory=scripts/quickstart/inventory.sql changes=scripts/quickstart/changes.sql
	;;
mysql | mariadb)
	kind=mariadb server="MariaDB (log_bin, binlog_format=ROW, GTIDs)" config=configs/examples/quickstart-mysql.yaml
	schema=inventory inventory=scripts/quickstart/inventory-mysql.sql changes=scripts/quickstart/changes-mysql.sql
	;;
*)
	echo "usage: $0 [postgres|mysql]" >&2
	exit 2
	;;
esac

work=$(mktemp -d "${TMPDIR:-/tmp}/sluice-quickstart.XXXXXX")
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

say "Building sluice"
CGO_ENABLED=0 go build -o bin/sluice ./cmd/sluice
go build -o "$work/devdb" ./internal/harness/cmd/devdb
go build -o "$work/sqlite-rows" ./scripts/quickstart/sqlite-rows

say "Starting a throwaway $server"
"$work/devdb" -kind "$kind" -db inventory -env-file "$work/db.env" >"$work/devdb.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 600); do [ -s "$work/db.env" ] && break; sleep 0.1; done
[ -s "$work/db.env" ] || { cat "$work/devdb.log"; echo "the database server did not start" >&2; exit 1; }
# shellcheck disable=SC1091
. "$work/db.env"
if [ "$kind" = postgres ]; then
	export SLUICE_PG_DSN
	echo "    $SLUICE_PG_DSN"
	run_sql() { psql -q -v ON_ERROR_STOP=1 "$SLUICE_PG_DSN" -f "$1"; }
else
	export SLUICE_MYSQL_DSN
	echo "    $SLUICE_MYSQL_DSN"
	port=${SLUICE_MYSQL_DSN##*:}
	port=${port%%/*}
	run_sql() { mariadb -h 127.0.0.1 -P "$port" -u root inventory <"$1"; }
fi

say "Loading the inventory database (customers, products, orders)"
run_sql "$inventory"

export SLUICE_STATE_DIR="$work/state"
export SLUICE_KAFKA_LISTEN="${SLUICE_KAFKA_LISTEN:-127.0.0.1:9092}"
export SLUICE_API_LISTEN="${SLUICE_API_LISTEN:-127.0.0.1:8083}"
export SLUICE_SQLITE_PATH="$work/replica.db"
say "Running: sluice run -c $config (embedded broker on $SLUICE_KAFKA_LISTEN)"
bin/sluice run -c "$config" >"$work/sluice.log" 2>&1 &
sluice_pid=$!
pids+=($sluice_pid)

tail_topic() { bin/sluice tail -brokers "$SLUICE_KAFKA_LISTEN" -f=false -summary "$@"; }

# Wait for the snapshot: the orders topic holds its 4 rows.
for _ in $(seq 1 300); do
	if ! kill -0 "$sluice_pid" 2>/dev/null; then cat "$work/sluice.log"; echo "sluice exited" >&2; exit 1; fi
	n=$(tail_topic inventory.$schema.orders 2>/dev/null | wc -l || true)
	[ "${n:-0}" -ge 4 ] && break
	sleep 0.2
done

say "Snapshot of $schema.customers (op r):"
tail_topic inventory.$schema.customers

say "Making changes: an insert, updates, a primary-key change and a delete"
sed -n 's/^\([A-Z].*\)/    \1/p' "$changes"
run_sql "$changes"

# Wait until the delete has arrived.
for _ in $(seq 1 300); do
	tail_topic inventory.$schema.orders | grep -q '"op":"d"' && break
	sleep 0.2
done

for t in customers products orders; do
	say "Events on inventory.$schema.$t"
	tail_topic "inventory.$schema.$t"
done

say "One full event, as a Debezium consumer receives it (last event on inventory.$schema.products):"
bin/sluice tail -brokers "$SLUICE_KAFKA_LISTEN" -f=false inventory.$schema.products | tail -n 1 | cut -c1-1500
echo "    ..."

say "The same tables replicated by the SQL sink into SQLite ($SLUICE_SQLITE_PATH):"
# Wait until the sink applied the last changes: the primary-key change and the delete.
"$work/sqlite-rows" -db "$SLUICE_SQLITE_PATH" -timeout 60s \
	-until "SELECT (SELECT COUNT(*) FROM customers WHERE id = 2004) = 1 AND (SELECT COUNT(*) FROM customers WHERE id = 1004) = 0 AND (SELECT COUNT(*) FROM orders WHERE id = 10004) = 0" \
	customers products orders || { tail -n 20 "$work/sluice.log"; exit 1; }

say "Connector status (GET http://$SLUICE_API_LISTEN/connectors/inventory/status and .../inventory-replica/status):"
curl -fsS "http://$SLUICE_API_LISTEN/connectors/inventory/status" 2>/dev/null || echo "(curl not installed)"
curl -fsS "http://$SLUICE_API_LISTEN/connectors/inventory-replica/status" 2>/dev/null || true

say "Stopping sluice (SIGTERM: flush, commit, acknowledge)"
kill -TERM "$sluice_pid"
wait "$sluice_pid" && echo "    sluice exited cleanly"
