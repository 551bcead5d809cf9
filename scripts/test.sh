#!/usr/bin/env bash
# The whole test suite. PostgreSQL tests run when a throwaway cluster can be started (see scripts/pg.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/pytest -q -p no:cacheprovider "$@"
