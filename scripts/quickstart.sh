#!/usr/bin/env bash
# The quickstart: a throwaway PostgreSQL with a small inventory database,
# sluice with its embedded Kafka broker, a few changes, the events they
# produced, and the tables the SQL sink replicated into SQLite. Nothing else to install or configure; everything is removed at
# the end.
set -euo pipefail
cd "$(dirname "$0")/.."

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

say "Starting a throwaway PostgreSQL (wal_level=logical)"
"$work/devdb" -kind postgres -db inventory -env-file "$work/pg.env" >"$work/devdb.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 600); do [ -s "$work/pg.env" ] && break; sleep 0.1; done
[ -s "$work/pg.env" ] || { cat "$work/devdb.log"; echo "PostgreSQL did not start" >&2; exit 1; }
# shellcheck disable=SC1091
. "$work/pg.env"
export SLUICE_PG_DSN
echo "    $SLUICE_PG_DSN"

say "Loading the inventory database (customers, products, orders)"
psql -q -v ON_ERROR_STOP=1 "$SLUICE_PG_DSN" -f scripts/quickstart/inventory.sql

export SLUICE_STATE_DIR="$work/state"
export SLUICE_KAFKA_LISTEN="${SLUICE_KAFKA_LISTEN:-127.0.0.1:9092}"
export SLUICE_API_LISTEN="${SLUICE_API_LISTEN:-127.0.0.1:8083}"
export SLUICE_SQLITE_PATH="$work/replica.db"
say "Running: sluice run -c configs/examples/quickstart.yaml (embedded broker on $SLUICE_KAFKA_LISTEN)"
bin/sluice run -c configs/examples/quickstart.yaml >"$work/sluice.log" 2>&1 &
sluice_pid=$!
pids+=($sluice_pid)

tail_topic() { bin/sluice tail -brokers "$SLUICE_KAFKA_LISTEN" -f=false -summary "$@"; }

# Wait for the snapshot: the orders topic holds its 4 rows.
for _ in $(seq 1 300); do
	if ! kill -0 "$sluice_pid" 2>/dev/null; then cat "$work/sluice.log"; echo "sluice exited" >&2; exit 1; fi
	n=$(tail_topic inventory.public.orders 2>/dev/null | wc -l || true)
	[ "${n:-0}" -ge 4 ] && break
	sleep 0.2
done

say "Snapshot of public.customers (op r):"
tail_topic inventory.public.customers

say "Making changes: an insert, updates, a primary-key change and a delete"
sed -n 's/^\([A-Z].*\)/    \1/p' scripts/quickstart/changes.sql
psql -q -v ON_ERROR_STOP=1 "$SLUICE_PG_DSN" -f scripts/quickstart/changes.sql

# Wait until the delete has arrived.
for _ in $(seq 1 300); do
	tail_topic inventory.public.orders | grep -q '"op":"d"' && break
	sleep 0.2
done

for t in customers products orders; do
	say "Events on inventory.public.$t"
	tail_topic "inventory.public.$t"
done

say "One full event, as a Debezium consumer receives it (last event on inventory.public.products):"
bin/sluice tail -brokers "$SLUICE_KAFKA_LISTEN" -f=false inventory.public.products | tail -n 1 | cut -c1-1500
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
