"""PostgreSQL tests run when GOLDENCHAIN_TEST_PG_URL points at a server (scripts/with-postgres.sh starts a
throwaway cluster for `make test`); each test gets a fresh database."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest


@pytest.fixture
def pg_url() -> Iterator[str]:
    base = os.environ.get("GOLDENCHAIN_TEST_PG_URL")
    if not base:
        pytest.skip("no PostgreSQL (GOLDENCHAIN_TEST_PG_URL unset)")
    import psycopg

    name = "gc_" + uuid.uuid4().hex[:10]
    with psycopg.connect(base, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    root = base.rsplit("/", 1)[0]
    yield f"{root}/{name}"
    with psycopg.connect(base, autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
