#!/usr/bin/env bash
# Runs "$@" with a throwaway PostgreSQL cluster from the Debian binaries on 127.0.0.1 and a free port,
# exported as GOLDENCHAIN_TEST_PG_URL; stops and removes it afterwards. Installs the Debian package when the
# binaries are missing and apt-get is usable. Without PostgreSQL, runs "$@" anyway (the tests skip).
set -uo pipefail

find_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
PGBIN=$(find_bin)
if [ -z "$PGBIN" ] && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "with-postgres: installing postgresql from Debian" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) || true
  PGBIN=$(find_bin)
fi
if [ -z "$PGBIN" ]; then
  echo "with-postgres: no PostgreSQL binaries; PostgreSQL tests will be skipped" >&2
  exec "$@"
fi

DIR=$(mktemp -d /tmp/gc-pg.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
AS=()
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  chown postgres "$DIR"
  AS=(runuser -u postgres --)
fi
"${AS[@]}" "$PGBIN/initdb" -D "$DIR/data" -U postgres --auth=trust -E UTF8 >"$DIR/initdb.log" 2>&1 || {
  cat "$DIR/initdb.log" >&2; echo "with-postgres: initdb failed; PostgreSQL tests will be skipped" >&2; exec "$@"; }
"${AS[@]}" "$PGBIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
  -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off" start >/dev/null || {
  cat "$DIR/server.log" >&2; echo "with-postgres: start failed; PostgreSQL tests will be skipped" >&2; exec "$@"; }
stop() { "${AS[@]}" "$PGBIN/pg_ctl" -D "$DIR/data" -m immediate stop >/dev/null 2>&1; rm -rf "$DIR"; }
trap stop EXIT
export GOLDENCHAIN_TEST_PG_URL="postgresql://postgres@127.0.0.1:$PORT/postgres"
echo "with-postgres: $GOLDENCHAIN_TEST_PG_URL" >&2
"$@"
