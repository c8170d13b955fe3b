#!/usr/bin/env bash
# Read-API benchmark: 66,000 versions in PostgreSQL, gunicorn with production settings,
# wrk at 32 connections against four endpoints. Prints a Markdown table for RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-66000}
DB=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/mcp_index_bench}
PORT=${BENCH_PORT:-8765}
DURATION=${DURATION:-15s}
WORKERS=${WORKERS:-4}
PY=.venv/bin/python
export DATABASE_URL=$DB DJANGO_DEBUG=0 DJANGO_SECRET_KEY=bench MCP_INDEX_JWT_PRIVATE_KEY=$(printf '22%.0s' {1..32})
export DJANGO_ALLOWED_HOSTS=127.0.0.1 LOG_LEVEL=WARNING
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
if [ -z "${SKIP_LOAD:-}" ]; then
  psql "${DB%/*}/postgres" -qc "DROP DATABASE IF EXISTS ${DB##*/}" -qc "CREATE DATABASE ${DB##*/}"
  $PY manage.py migrate -v0
  mkdir -p bench/out
  $PY bench/generate.py "$N" > bench/out/dataset.json
  $PY bench/load_dataset.py bench/out/dataset.json
fi
psql "$DB" -qc "VACUUM ANALYZE"
mkdir -p staticfiles
.venv/bin/gunicorn config.wsgi:application -b 127.0.0.1:$PORT -w "$WORKERS" --log-level warning &
GPID=$!
trap 'kill $GPID 2>/dev/null' EXIT
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$PORT/v0/ping" >/dev/null && break; sleep 0.2; done
base="http://127.0.0.1:$PORT/v0.1"
# A cursor deep in the chain: the page that starts ~90% through the name order.
deep_cursor=$($PY - "$DB" <<'PY'
import base64, json, sys, psycopg
with psycopg.connect(sys.argv[1]) as c:
    n, v = c.execute("SELECT name, version FROM registry_serverversion WHERE status <> 'deleted' "
                     "ORDER BY name, version OFFSET (SELECT count(*) * 9 / 10 FROM registry_serverversion) LIMIT 1").fetchone()
print(base64.urlsafe_b64encode(json.dumps([n, v], separators=(",", ":")).encode()).decode().rstrip("="))
PY
)
latest_name=$(psql "$DB" -tAc "SELECT replace(name, '/', '%2F') FROM registry_serverversion WHERE is_latest ORDER BY name OFFSET 500 LIMIT 1")
declare -A urls=(
  ["list first page"]="$base/servers"
  ["list deep cursor"]="$base/servers?cursor=$deep_cursor"
  ["search"]="$base/servers?search=github&limit=30"
  ["get latest"]="$base/servers/$latest_name/versions/latest"
)
echo "| endpoint | requests/s | p50 | p99 |"
echo "|---|---|---|---|"
for label in "list first page" "list deep cursor" "search" "get latest"; do
  out=$(wrk -t2 -c32 -d"$DURATION" --latency "${urls[$label]}")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  echo "| $label | $rps | $p50 | $p99 |${non2xx:+ non-2xx: $non2xx}"
done
