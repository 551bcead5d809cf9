"""One autouse fixture isolates every test: all user state under a temporary GOLDENCHAIN_HOME, no provider
keys or base URLs from the developer's environment, no third-party plugins."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ENV_NAMES = (
    "FAL_KEY",
    "FAL_API_KEY",
    "KLING_ACCESS_KEY",
    "KLING_SECRET_KEY",
    "REPLICATE_API_TOKEN",
    "TOGETHER_API_KEY",
    "KLING_BASE_URL",
    "FAL_QUEUE_URL",
    "FAL_RUN_URL",
    "REPLICATE_BASE_URL",
    "TOGETHER_BASE_URL",
    "GOLDENCHAIN_DATABASE_URL",
    "IMAGE_MODEL_PROVIDER",
    "IMAGE_MODEL_ID",
    "VIDEO_MODEL_PROVIDER",
    "VIDEO_MODEL_ID",
)


@pytest.fixture(autouse=True)
def _isolate(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("gc-home")
    monkeypatch.setenv("GOLDENCHAIN_HOME", str(home))
    monkeypatch.setenv("GOLDENCHAIN_LOAD_PLUGINS", "0")
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    yield home


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
