"""Real-browser fixtures for the review app: a demo project with real takes (one ``goldenchain run`` against the
in-package emulator), the app started as ``python -m goldenchain review`` on a free loopback port, and Debian's
Chromium driven by Playwright (``GOLDENCHAIN_TEST_CHROMIUM``; no browser is downloaded).

Every page is watched: a console error, an uncaught page error or any ``alert()``/``confirm()`` dialog fails the
test. Screenshots go to ``test-artifacts/screenshots/`` at the repository root."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from goldenchain.config import load_project
from goldenchain.emulator import Emulator
from goldenchain.store.db import Database
from goldenchain.store.ledger import Ledger
from tests.conftest import ENV_NAMES
from tests.integration.helpers import make_project

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
XSS = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "</textarea><script>alert(3)</script>"]
XSS_SHOT = "s02"
# the payloads come after the card's three lines of prompt, so the grid's screenshot (docs/img) shows none
XSS_PROMPT = (
    "Medium shot of a potter shaping a bowl at a wheel, soft window light from the left, calm studio, "
    f"neutral background, 35mm lens {XSS[0]} {XSS[1]} {XSS[2]}"
)
TOKEN = ("alice", "review-token-of-alice-0123456789")
REBIND_HOST = "rebind.test"  # resolved to 127.0.0.1 inside the browser only: a DNS-rebinding stand-in


def chromium_path() -> str | None:
    given = os.environ.get("GOLDENCHAIN_TEST_CHROMIUM")
    if given:
        return given if os.access(given, os.X_OK) else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


def clean_env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a ``goldenchain`` subprocess: no developer keys, base URLs, database or plugins."""
    env = {k: v for k, v in os.environ.items() if k not in ENV_NAMES}
    env.update(GOLDENCHAIN_HOME=str(home), GOLDENCHAIN_LOAD_PLUGINS="0", COLUMNS="200")
    env.update(extra or {})
    return env


def goldenchain(
    args: list[str], env: dict[str, str], timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "goldenchain", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


# --- the project ------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium() -> str:
    path = chromium_path()
    if path is None:
        pytest.skip(
            "no Chromium (GOLDENCHAIN_TEST_CHROMIUM unset and no chromium on PATH): scripts/with-browser.sh"
        )
    return path


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    with Emulator(host="127.0.0.1", port=0, scenario="clean", latency=0.3) as emu:
        yield emu


@pytest.fixture(scope="session")
def gc_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("gc-browser-home")


@pytest.fixture(scope="session")
def base_project(
    chromium: str, emulator: Emulator, gc_home: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """Two shots run once to the end (a still and a clip each); shot s02's prompt holds XSS payloads."""
    root = make_project(tmp_path_factory.mktemp("gc-browser") / "shoot", shots=2)
    path = root / "shots.yaml"
    text, n = re.subn(  # that shot's prompt line, the rest of the file as written
        rf'(- id: {XSS_SHOT}\n\s+prompt: )"[^"\n]*"',
        lambda m: m.group(1) + json.dumps(XSS_PROMPT),
        path.read_text(),
    )
    assert n == 1
    path.write_text(text)
    assert next(s for s in yaml.safe_load(text)["shots"] if s["id"] == XSS_SHOT)["prompt"] == XSS_PROMPT
    r = goldenchain(["run", str(root), "--quiet"], clean_env(gc_home, emulator.env()))
    assert r.returncode == 0, r.stdout + r.stderr
    return root


@pytest.fixture
def project(base_project: Path, tmp_path: Path) -> Path:
    """A fresh copy of the run project for each test (its ledger, artifacts and deliverables)."""
    return Path(shutil.copytree(base_project, tmp_path / "shoot", symlinks=True))


@dataclass
class LedgerView:
    """What the ledger holds for a project, read by a short-lived connection (the app writes from its process)."""

    shots: dict[str, Any]
    takes: list[Any]
    events: list[Any]

    def take(self, shot: str, stage: str, take_no: int = 1) -> Any:
        return next(t for t in self.takes if (t.shot_id, t.stage, t.take_no) == (shot, stage, take_no))


def read_ledger(project_dir: Path) -> LedgerView:
    p = load_project(project_dir)
    db = Database(p.database_url)
    try:
        led = Ledger(db)
        return LedgerView(
            shots={s.shot_id: s for s in led.shots(p.id)},
            takes=led.takes(p.id),
            events=led.review_events(p.id),
        )
    finally:
        db.dispose()


def snapshot(project_dir: Path) -> list[tuple[Any, ...]]:
    """Everything a review write can change: per shot and per take, plus the review log."""
    v = read_ledger(project_dir)
    shots = [
        (
            s.shot_id,
            s.status,
            s.stage,
            s.detail,
            s.still_take_id,
            s.clip_take_id,
            s.extra_still_takes,
            s.extra_clip_takes,
        )
        for s in v.shots.values()
    ]
    takes = [(t.id, t.state, t.verdict, t.review, t.review_note) for t in v.takes]
    return [*shots, *takes, *((e.id, e.action, e.who) for e in v.events)]


# --- the app ----------------------------------------------------------------------------------------------


@dataclass
class ReviewApp:
    project: Path
    port: int
    proc: subprocess.Popen[str]
    login_link: str | None = None  # printed at start when the app needs a token

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextlib.contextmanager
def serving(project: Path, home: Path, token: str | None = None) -> Iterator[ReviewApp]:
    """``goldenchain review PROJECT --port 0`` in its own process (it binds a free port and prints it), answering
    before the block starts. With ``token`` (as ``GOLDENCHAIN_REVIEW_TOKEN``) every request needs it."""
    extra = {"PYTHONUNBUFFERED": "1"} | ({"GOLDENCHAIN_REVIEW_TOKEN": token} if token else {})
    proc = subprocess.Popen(
        [sys.executable, "-m", "goldenchain", "review", str(project), "--port", "0"],
        env=clean_env(home, extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None

    def died(why: str) -> None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
        pytest.fail(
            f"goldenchain review {why} (exit {proc.returncode}): {proc.stdout.read() if proc.stdout else ''}"
        )

    try:
        banner = [proc.stdout.readline() for _ in range(2 if token else 1)]  # printed once the port is bound
        m = re.match(r"review \S+ on http://127\.0\.0\.1:(\d+)/$", banner[0].strip())
        if m is None:
            died(f"printed no address: {banner!r}")
        assert m is not None
        app = ReviewApp(project, int(m.group(1)), proc)
        if token:
            link = re.search(r"one-time login link \(as [\w-]+\): (\S+)", banner[1])
            assert link, banner
            app.login_link = link.group(1)
        ready = 401 if token else 200  # without the token the page is refused
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                died("exited")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(app.url + "/", timeout=5).status_code == ready:
                    break
            if time.monotonic() > deadline:
                pytest.fail("goldenchain review did not answer within 60 s")
            time.sleep(0.1)
        yield app
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        proc.stdout.close()


@pytest.fixture
def review_app(project: Path, gc_home: Path) -> Iterator[ReviewApp]:
    """The app over this test's own copy of the project: for tests that write."""
    with serving(project, gc_home) as app:
        yield app


@pytest.fixture
def token_app(project: Path, gc_home: Path) -> Iterator[ReviewApp]:
    """The app with a reviewer's token (``TOKEN``): every request needs it, or the login link's cookie."""
    with serving(project, gc_home, token=":".join(TOKEN)) as app:
        yield app


@pytest.fixture(scope="session")
def shared_review_app(
    base_project: Path, gc_home: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ReviewApp]:
    """One app for the tests that only read (``reading``); each of them checks that the ledger is unchanged."""
    copy = Path(shutil.copytree(base_project, tmp_path_factory.mktemp("gc-browser-shared") / "shoot"))
    with serving(copy, gc_home) as app:
        yield app


# --- the browser ------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """This run's screenshots (the previous run's are removed)."""
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)
    return SCREENSHOTS


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[Any]:
    """Chromium, for one test module at a time: Playwright's sync API keeps its event loop running in this
    thread while it is started, which other modules' asyncio tests could not share (their order is random,
    but a module's tests stay together)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=chromium,
            args=[f"--host-resolver-rules=MAP {REBIND_HOST} 127.0.0.1", "--disable-dev-shm-usage"],
        )
        try:
            yield b
        finally:
            b.close()


@dataclass
class Watch:
    """Console errors, uncaught page errors and dialogs seen in one browser context."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    expected: list[re.Pattern[str]] = field(default_factory=list)

    def expect_console_error(self, pattern: str) -> None:
        """A console error this test provokes on purpose (say, the browser reporting a refused write)."""
        self.expected.append(re.compile(pattern))

    def problems(self) -> list[str]:
        ignored = list(self.expected)  # the pages link their own (empty) icon: no favicon probe to forgive
        unexpected = [m for m in self.console_errors if not any(p.search(m) for p in ignored)]
        return (
            [f"console error: {m}" for m in unexpected]
            + [f"page error: {m}" for m in self.page_errors]
            + [f"dialog opened: {m}" for m in self.dialogs]
        )

    def assert_clean(self) -> None:
        assert not self.problems(), "\n".join(self.problems())


@dataclass
class Browsing:
    page: Any
    context: Any
    watch: Watch
    app: ReviewApp
    name: str

    def screenshot(self, label: str = "", *, full_page: bool = True, down_to: str | None = None) -> Path:
        """The page (whole, or the viewport, or from the top down to the bottom of the ``down_to`` element)."""
        path = SCREENSHOTS / (self.name + (f"-{label}" if label else "") + ".png")
        if down_to is None:
            self.page.screenshot(path=str(path), full_page=full_page)
        else:
            box = self.page.locator(down_to).bounding_box()
            assert box is not None, down_to
            width = self.page.viewport_size["width"]
            clip = {"x": 0, "y": 0, "width": width, "height": box["y"] + box["height"] + 8}
            self.page.screenshot(path=str(path), clip=clip, full_page=True)
        return path


def _safe_name(nodeid: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid.split("::", 1)[-1]).strip("_")[:120]


@contextlib.contextmanager
def _browse(browser: Any, app: ReviewApp, name: str) -> Iterator[Browsing]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=app.url)
    context.set_default_timeout(15_000)
    watch = Watch()

    def on_console(msg: Any) -> None:
        if msg.type == "error":
            watch.console_errors.append(f"{msg.text} ({msg.location.get('url', '')})")

    def on_dialog(dialog: Any) -> None:
        watch.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def on_page(page: Any) -> None:
        page.on("pageerror", lambda err: watch.page_errors.append(str(err)))
        page.on("dialog", on_dialog)
        page.on("console", on_console)

    context.on("page", on_page)
    page = context.new_page()
    b = Browsing(page, context, watch, app, name)
    try:
        yield b
        with contextlib.suppress(Exception):
            b.screenshot()
    finally:
        context.close()
    watch.assert_clean()


@pytest.fixture
def browsing(
    browser: Any, review_app: ReviewApp, screenshots: Path, request: pytest.FixtureRequest
) -> Iterator[Browsing]:
    """A fresh browser context on the app over the test's own project copy. Fails the test on any console
    error, page error or dialog; the page as the test left it is saved as ``<test>.png``."""
    with _browse(browser, review_app, _safe_name(request.node.nodeid)) as b:
        yield b


@pytest.fixture
def browsing_with_token(
    browser: Any, token_app: ReviewApp, screenshots: Path, request: pytest.FixtureRequest
) -> Iterator[Browsing]:
    """As ``browsing``, on an app that needs a token (the browser has none yet)."""
    with _browse(browser, token_app, _safe_name(request.node.nodeid)) as b:
        yield b


@pytest.fixture
def reading(
    browser: Any, shared_review_app: ReviewApp, screenshots: Path, request: pytest.FixtureRequest
) -> Iterator[Browsing]:
    """As ``browsing``, on the app that tests which only read share; the test fails if the ledger changed."""
    before = snapshot(shared_review_app.project)
    with _browse(browser, shared_review_app, _safe_name(request.node.nodeid)) as b:
        yield b
    assert snapshot(shared_review_app.project) == before, "a reading test changed the ledger"
