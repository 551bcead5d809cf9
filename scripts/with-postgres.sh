#!/usr/bin/env bash
# Runs "$@" with a throwaway PostgreSQL cluster from the Debian binaries on 127.0.0.1 and a free port,
# exported as GOLDENCHAIN_TEST_PG_URL; stops and removes it afterwards. Installs the Debian package when the
# binaries are missing (as root, with apt-get). When PostgreSQL cannot be installed or started it exits 1
# without running "$@": the PostgreSQL tests are part of the suite, never quietly left out.
# A server given in GOLDENCHAIN_TEST_PG_URL already is used as it is.
# GOLDENCHAIN_TEST_PG_CTL names a script that stops, starts or restarts this cluster ("$CTL stop -m fast",
# "$CTL start"): the tests of a database restart use it (with a server given from outside, set it yourself).
set -uo pipefail

fail() { echo "with-postgres: $*" >&2; exit 1; }

if [ -n "${GOLDENCHAIN_TEST_PG_URL:-}" ]; then
  echo "with-postgres: using $GOLDENCHAIN_TEST_PG_URL" >&2
  exec "$@"
fi

find_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
PGBIN=$(find_bin)
if [ -z "$PGBIN" ]; then
  command -v apt-get >/dev/null 2>&1 || fail "no PostgreSQL binaries and no apt-get to install them"
  [ "$(id -u)" = 0 ] || fail "no PostgreSQL binaries; install the Debian package postgresql (needs root)"
  echo "with-postgres: installing postgresql from Debian" >&2
  LOG=$(mktemp /tmp/gc-apt.XXXXXX)
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; } >"$LOG" 2>&1
  then
    tail -n 20 "$LOG" >&2; rm -f "$LOG"
    fail "apt-get could not install postgresql"
  fi
  rm -f "$LOG"
  PGBIN=$(find_bin)
  [ -n "$PGBIN" ] || fail "postgresql installed but no binaries under /usr/lib/postgresql/*/bin"
fi

DIR=$(mktemp -d /tmp/gc-pg.XXXXXX)
# a free port below the kernel's ephemeral range: while a test has the server stopped, no outgoing connection
# can take its port, so the server always starts again on it
PORT=$(python3 - <<'PY'
import random, socket
try:
    low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
except (OSError, ValueError, IndexError):
    low = 32768
ports = list(range(max(1025, low - 12000), low))
random.shuffle(ports)
for port in ports[:200]:
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    break
PY
) && [ -n "$PORT" ] || fail "no free port on 127.0.0.1"
AS=()
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  chown postgres "$DIR"
  AS=(runuser -u postgres --)
fi
"${AS[@]}" "$PGBIN/initdb" -D "$DIR/data" -U postgres --auth=trust -E UTF8 >"$DIR/initdb.log" 2>&1 || {
  cat "$DIR/initdb.log" >&2; rm -rf "$DIR"; fail "initdb failed"; }
OPTS="-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off"
"${AS[@]}" "$PGBIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 -o "$OPTS" start >/dev/null || {
  cat "$DIR/server.log" >&2; rm -rf "$DIR"; fail "the server did not start"; }
# this cluster's pg_ctl, for tests that stop and start the server mid-run (start gets the same options)
cat >"$DIR/pg_ctl" <<CTL
#!/usr/bin/env bash
set -u
[ "\${1:-}" = start ] && { shift; set -- start -o "$OPTS" "\$@"; }
exec ${AS[*]} "$PGBIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 "\$@"
CTL
chmod 755 "$DIR/pg_ctl"
stop() { "${AS[@]}" "$PGBIN/pg_ctl" -D "$DIR/data" -m immediate stop >/dev/null 2>&1; rm -rf "$DIR"; }
trap stop EXIT
export GOLDENCHAIN_TEST_PG_URL="postgresql://postgres@127.0.0.1:$PORT/postgres"
export GOLDENCHAIN_TEST_PG_CTL="$DIR/pg_ctl"
echo "with-postgres: $GOLDENCHAIN_TEST_PG_URL" >&2
"$@"
