#!/usr/bin/env bash
# Runs "$@" with Debian's Chromium for the browser tests, exported as GOLDENCHAIN_TEST_CHROMIUM: Playwright
# drives it through executable_path, no browser is ever downloaded. Installs the Debian package chromium when it
# is missing (as root, with apt-get). When Chromium cannot be installed or does not start it exits 1 without
# running "$@": the browser tests are part of the suite, never quietly left out.
# A browser given in GOLDENCHAIN_TEST_CHROMIUM already is used as it is.
set -uo pipefail

fail() { echo "with-browser: $*" >&2; exit 1; }

find_chromium() {
  local c
  for c in "${GOLDENCHAIN_TEST_CHROMIUM:-}" /usr/bin/chromium; do
    if [ -n "$c" ] && [ -x "$c" ]; then echo "$c"; return 0; fi
  done
  return 1
}

if [ -n "${GOLDENCHAIN_TEST_CHROMIUM:-}" ]; then
  [ -x "$GOLDENCHAIN_TEST_CHROMIUM" ] || fail "GOLDENCHAIN_TEST_CHROMIUM=$GOLDENCHAIN_TEST_CHROMIUM is not an executable"
fi
CHROMIUM=$(find_chromium)
if [ -z "$CHROMIUM" ]; then
  command -v apt-get >/dev/null 2>&1 || fail "no Chromium and no apt-get to install it"
  [ "$(id -u)" = 0 ] || fail "no Chromium; install the Debian package chromium (needs root)"
  echo "with-browser: installing chromium from Debian" >&2
  LOG=$(mktemp /tmp/gc-apt.XXXXXX)
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >"$LOG" 2>&1
  then
    tail -n 20 "$LOG" >&2; rm -f "$LOG"
    fail "apt-get could not install chromium"
  fi
  rm -f "$LOG"
  CHROMIUM=$(find_chromium) || fail "chromium installed but no /usr/bin/chromium"
fi
VERSION=$("$CHROMIUM" --version 2>/dev/null | head -n 1)
[ -n "$VERSION" ] || fail "$CHROMIUM does not start (--version printed nothing)"
export GOLDENCHAIN_TEST_CHROMIUM="$CHROMIUM"
echo "with-browser: $GOLDENCHAIN_TEST_CHROMIUM ($VERSION)" >&2
exec "$@"
