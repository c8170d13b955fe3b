#!/usr/bin/env bash
# Make PostgreSQL and Redis reachable on 127.0.0.1 for the test suite, and Chromium present
# for the browser tests; install them with apt-get and start the services when they are
# not (a fresh Debian machine has none of them).
set -euo pipefail

pg_up() { (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; }
redis_up() { (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; }

need_apt=()
pg_up || command -v pg_ctlcluster >/dev/null || need_apt+=(postgresql)
redis_up || command -v redis-server >/dev/null || need_apt+=(redis-server)
# Browser tests drive Debian's Chromium through Playwright (never `playwright install`).
[ -x /usr/bin/chromium ] || need_apt+=(chromium chromium-driver)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if ! pg_up; then
  echo "starting PostgreSQL"
  version=$(ls /etc/postgresql | sort -V | tail -1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  conf="/etc/postgresql/$version/main/pg_hba.conf"
  # Tests connect as postgres over TCP without a password (trust on loopback only).
  if ! grep -q "mcp-index trust" "$conf"; then
    sed -i '1i host all all 127.0.0.1/32 trust # mcp-index trust\nhost all all ::1/128 trust # mcp-index trust' "$conf"
    pg_ctlcluster --skip-systemctl-redirect "$version" main reload
  fi
fi
if ! redis_up; then
  echo "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/mcp-index.log
fi

for _ in $(seq 1 30); do
  if pg_up && redis_up; then echo "PostgreSQL and Redis are up"; exit 0; fi
  sleep 1
done
echo "PostgreSQL or Redis did not come up" >&2
exit 1
