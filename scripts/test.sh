#!/usr/bin/env bash
# The whole test suite, with a throwaway PostgreSQL cluster for the team-mode tests.
# Strict: no PostgreSQL -> exit 1 before any test runs; a PostgreSQL or browser test that skips fails with its
# reason (GOLDENCHAIN_TEST_STRICT, tests/conftest.py). Every skip that remains (GPU tests) is listed (-rs).
# Test order is random (pytest-randomly; the seed is printed at the end): `--randomly-seed=N` repeats an order,
# `-p no:randomly` keeps the files' order. Tests run in GOLDENCHAIN_TEST_WORKERS processes (pytest-xdist; default
# 2, one per core of the reference machine; 0 runs them in this process); the tests on the shared PostgreSQL
# cluster all run in one of them (tests/conftest.py), since one of them restarts it. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOLDENCHAIN_TEST_STRICT=1
workers="${GOLDENCHAIN_TEST_WORKERS:-2}"
exec scripts/with-browser.sh scripts/with-postgres.sh .venv/bin/pytest -q -rs -p no:cacheprovider -n "$workers" --dist loadgroup "$@"
