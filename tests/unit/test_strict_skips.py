"""The strict run (GOLDENCHAIN_TEST_STRICT=1, set by scripts/test.sh): a PostgreSQL or browser test that
skips fails with its reason; any other skip (a GPU test) and an expected failure stay as they are. Runs the
project's own conftest in a separate pytest on a small suite of tests that skip."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]

SUITE = {
    "pytest.ini": """[pytest]
markers =
    postgres: x
    browser: x
    gpu: x
""",
    "test_marked.py": """import pytest

@pytest.mark.postgres
def test_pg_marked():
    pytest.skip("no server here")

@pytest.mark.browser
def test_browser_marked():
    pytest.skip("no chromium here")

def test_pg_fixture(pg_url):
    pass

@pytest.mark.gpu
def test_gpu():
    pytest.skip("no accelerator here")

@pytest.mark.postgres
@pytest.mark.xfail(reason="known", strict=True)
def test_pg_xfail():
    raise AssertionError

def test_plain_passes():
    pass
""",
    "postgres/test_in_folder.py": """import pytest

def test_unmarked_in_postgres_folder():
    pytest.skip("no server here either")
""",
}


def _run(root: Path, strict: bool) -> tuple[int, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in ("GOLDENCHAIN_TEST_PG_URL", "GOLDENCHAIN_TEST_STRICT")
    }
    if strict:
        env["GOLDENCHAIN_TEST_STRICT"] = "1"
    p = subprocess.run(
        [sys.executable, "-m", "pytest", "-v", "-p", "no:randomly", "-p", "no:cacheprovider", str(root)],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return p.returncode, p.stdout + p.stderr


def _outcomes(out: str) -> dict[str, str]:
    """test name -> PASSED/FAILED/SKIPPED/XFAIL from pytest's verbose lines."""
    got: dict[str, str] = {}
    for line in out.splitlines():
        m = re.match(r"\S+::(test_\w+) (PASSED|FAILED|SKIPPED|XFAIL|ERROR)\b", line)
        if m:
            got[m.group(1)] = m.group(2)
    return got


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    shutil.copy(TESTS / "conftest.py", tmp_path / "conftest.py")
    for name, text in SUITE.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


def test_strict_run_fails_postgres_and_browser_skips(suite: Path) -> None:
    rc, out = _run(suite, strict=True)
    assert rc == 1, out
    assert _outcomes(out) == {
        "test_pg_marked": "FAILED",
        "test_browser_marked": "FAILED",
        "test_pg_fixture": "ERROR",  # its fixture skipped: a failure in setup
        "test_gpu": "SKIPPED",
        "test_pg_xfail": "XFAIL",
        "test_plain_passes": "PASSED",
        "test_unmarked_in_postgres_folder": "FAILED",
    }, out
    # each failure carries the reason the test gave for skipping
    for reason in (
        "no server here",
        "no chromium here",
        "no PostgreSQL (GOLDENCHAIN_TEST_PG_URL unset)",
        "no server here either",
    ):
        assert f"which must run it: Skipped: {reason}" in out, out


def test_without_strict_the_same_tests_skip(suite: Path) -> None:
    rc, out = _run(suite, strict=False)
    assert rc == 0, out
    got = _outcomes(out)
    assert got.pop("test_plain_passes") == "PASSED"
    assert got.pop("test_pg_xfail") == "XFAIL"
    assert set(got.values()) == {"SKIPPED"}, out
    assert len(got) == 5
