#!/usr/bin/env bash
# The whole test suite, with a throwaway PostgreSQL cluster for the team-mode tests.
set -euo pipefail
cd "$(dirname "$0")/.."
exec scripts/with-postgres.sh .venv/bin/pytest -q -p no:cacheprovider "$@"
