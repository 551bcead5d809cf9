"""One autouse fixture isolates every test: all user state under a temporary GOLDENCHAIN_HOME, no provider
keys or base URLs from the developer's environment, no third-party plugins.

With GOLDENCHAIN_TEST_STRICT=1 (scripts/test.sh sets it) a PostgreSQL or browser test that skips fails
instead, with the skip's reason: the suite the project ships must have run them, not passed over them."""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

#: tests that must run, never skip, in a strict run: by marker, by folder, or by needing a PostgreSQL database
STRICT_MARKERS = ("postgres", "browser")
#: the local routes' CPU tests need the local extra, which the shipped suite installs
STRICT_FOLDERS = (*STRICT_MARKERS, "local")
STRICT_FIXTURES = ("pg_url", "pg_ctl")


def _must_run(item: pytest.Item) -> bool:
    if any(item.get_closest_marker(m) is not None for m in STRICT_MARKERS):
        return True
    if any(f in getattr(item, "fixturenames", ()) for f in STRICT_FIXTURES):
        return True
    try:
        folders = item.path.relative_to(item.config.rootpath).parts[:-1]
    except ValueError:
        folders = item.path.parts[:-1]
    return any(part in STRICT_FOLDERS for part in folders)


def _uses_postgres(item: pytest.Item) -> bool:
    return item.get_closest_marker("postgres") is not None or any(
        f in getattr(item, "fixturenames", ()) for f in STRICT_FIXTURES
    )


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's own hook reads the groups (--dist loadgroup)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With several test processes (scripts/test.sh, ``--dist loadgroup``), every test on the shared PostgreSQL
    cluster runs in one of them, one after another: a test that restarts the cluster must not pull it away from
    another test's run."""
    for item in items:
        if _uses_postgres(item):
            item.add_marker(pytest.mark.xdist_group("postgres"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> pytest.TestReport:
    report: pytest.TestReport = yield
    strict = os.environ.get("GOLDENCHAIN_TEST_STRICT") == "1"
    if strict and report.skipped and not hasattr(report, "wasxfail") and _must_run(item):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped in a strict run (GOLDENCHAIN_TEST_STRICT=1), which must run it: {reason}"
    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    """The random order's seed, also under -q (which hides pytest-randomly's own header line)."""
    seed = getattr(config.option, "randomly_seed", None)
    if isinstance(seed, int) and config.pluginmanager.hasplugin("randomly"):
        terminalreporter.write_line(f"random test order: --randomly-seed={seed} repeats it")


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
    "GOLDENCHAIN_WEBHOOK_URL",
    "REPLICATE_WEBHOOK_SECRET",
    "FAL_WEBHOOK_PUBLIC_KEY",
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
def pg_url(request: pytest.FixtureRequest) -> Iterator[str]:
    base = os.environ.get("GOLDENCHAIN_TEST_PG_URL")
    if not base:
        pytest.skip("no PostgreSQL (GOLDENCHAIN_TEST_PG_URL unset)")
    if getattr(request.config.option, "loadgroup", False) and not request.node.nodeid.endswith("@postgres"):
        # without its group this test may run beside a test that restarts the cluster, which pulls the server
        # away from it (pytest 9.2 no longer reads the node id that pytest-xdist marks; pyproject.toml keeps
        # pytest below it)
        pytest.fail(
            f"not in the 'postgres' group: --dist loadgroup has no effect with pytest {pytest.__version__}",
            pytrace=False,
        )
    name = "gc_" + uuid.uuid4().hex[:10]
    with _connect(base) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    root = base.rsplit("/", 1)[0]
    yield f"{root}/{name}"
    with _connect(base) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _connect(base: str, wait: float = 60.0) -> Any:
    """An admin connection to the test cluster, waiting a while for a server that a restart test just brought
    back (on a loaded machine it may still be finishing its start when the next test begins)."""
    import psycopg

    deadline = time.monotonic() + wait
    while True:
        try:
            return psycopg.connect(base, autocommit=True, connect_timeout=10)
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


@pytest.fixture
def pg_ctl(pg_url: str) -> Iterator[Callable[..., None]]:
    """``pg_ctl("stop", "-m", "fast")``, ``pg_ctl("start")``: the test's PostgreSQL server, stopped and started
    (scripts/with-postgres.sh names its control script in GOLDENCHAIN_TEST_PG_CTL)."""
    ctl = os.environ.get("GOLDENCHAIN_TEST_PG_CTL")
    if not ctl:
        pytest.skip("no control of the PostgreSQL server (GOLDENCHAIN_TEST_PG_CTL unset)")

    def run(*args: str) -> None:
        done = subprocess.run([ctl, *args], capture_output=True, text=True, timeout=120)
        if done.returncode == 0:
            return
        if args[:1] == ("stop",):  # a loaded machine may not finish a clean shutdown in pg_ctl's wait
            if subprocess.run([ctl, "status"], capture_output=True, timeout=60).returncode != 0:
                return  # it is down, which is what was asked
            if (
                subprocess.run([ctl, "stop", "-m", "immediate"], capture_output=True, timeout=120).returncode
                == 0
            ):
                return  # down at once, as a crashed server is (the same outage for the run)
        raise AssertionError(f"pg_ctl {' '.join(args)} failed: {done.stdout}{done.stderr}")

    yield run
    # a test that stopped the server leaves it running for the next one, or fails here saying so
    if subprocess.run([ctl, "status"], capture_output=True, timeout=60).returncode != 0:
        run("start")
        raise AssertionError("the test left the PostgreSQL server stopped (started again)")
    if subprocess.run([ctl, "status"], capture_output=True, timeout=60).returncode != 0:
        run("start")  # a test that failed half-way: the server runs again for the tests after it
