"""Provider webhooks: the receiver's checks, a run that polls far less with them, and a forged callback that
records nothing. Real HTTP on 127.0.0.1: the CLI in a subprocess, the emulator, the run's own receiver."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from goldenchain.config import load_project
from goldenchain.emulator import Emulator
from goldenchain.emulator.callbacks import FAL_SIGNING_SEED, REPLICATE_WEBHOOK_SECRET
from goldenchain.orchestration.hints import WebhookHub
from goldenchain.store.db import Database
from goldenchain.store.ledger import Ledger
from goldenchain.web.webhooks import MAX_BODY, WebhookKeys, WebhookReceiver
from tests.integration.helpers import make_project, run_cli

# --- the receiver ----------------------------------------------------------------------------------------


@pytest.fixture
def hub() -> WebhookHub:
    return WebhookHub()


@pytest.fixture
def base(hub: WebhookHub) -> Iterator[str]:
    with Emulator(scenario="clean") as emu:  # only for its keys, as the run gets them
        keys = WebhookKeys.from_values(emu.env())
    r = WebhookReceiver(hub, keys).start()
    yield r.base_url
    r.stop()


def _replicate_headers(
    body: bytes, ts: int | None = None, secret: str = REPLICATE_WEBHOOK_SECRET
) -> dict[str, str]:
    ts = int(time.time()) if ts is None else ts
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"msg_1.{ts}.".encode() + body, hashlib.sha256).digest()
    return {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(ts),
        "webhook-signature": "v1," + base64.b64encode(mac).decode(),
    }


def _fal_headers(
    body: bytes, rid: str, ts: int | None = None, seed: bytes = FAL_SIGNING_SEED
) -> dict[str, str]:
    ts = int(time.time()) if ts is None else ts
    msg = "\n".join([rid, "user-1", str(ts), hashlib.sha256(body).hexdigest()]).encode()
    sig = Ed25519PrivateKey.from_private_bytes(seed).sign(msg).hex()
    return {"X-Fal-Webhook-Request-Id": rid, "X-Fal-Webhook-User-Id": "user-1",
            "X-Fal-Webhook-Timestamp": str(ts), "X-Fal-Webhook-Signature": sig}  # fmt: skip


async def _not_woken(hub: WebhookHub, route: str, task: str) -> bool:
    return not await hub.wait(route, task, 0.0)


async def test_replicate_signature_accepted_and_refused(hub: WebhookHub, base: str) -> None:
    hub.expect("replicate", "p1")
    body = json.dumps({"id": "p1", "status": "succeeded"}).encode()
    async with httpx.AsyncClient(base_url=base) as c:
        bad = dict(
            _replicate_headers(body), **{"webhook-signature": "v1," + base64.b64encode(b"x" * 32).decode()}
        )
        r = await c.post("/hooks/replicate", content=body, headers=bad)
        assert r.status_code == 401 and await _not_woken(hub, "replicate", "p1")
        other = "whsec_" + base64.b64encode(b"another secret, not the account's").decode()
        r = await c.post("/hooks/replicate", content=body, headers=_replicate_headers(body, secret=other))
        assert r.status_code == 401 and await _not_woken(hub, "replicate", "p1")
        stale = _replicate_headers(body, ts=int(time.time()) - 3600)  # rightly signed, an hour old: a replay
        r = await c.post("/hooks/replicate", content=body, headers=stale)
        assert r.status_code == 401 and await _not_woken(hub, "replicate", "p1")
        tampered = body.replace(b"p1", b"p2")
        r = await c.post("/hooks/replicate", content=tampered, headers=_replicate_headers(body))
        assert r.status_code == 401
        unknown = json.dumps({"id": "p9", "status": "succeeded"}).encode()
        r = await c.post("/hooks/replicate", content=unknown, headers=_replicate_headers(unknown))
        assert r.status_code == 404 and await _not_woken(hub, "replicate", "p9")
        assert hub.stats["hints"] == 0
        r = await c.post("/hooks/replicate", content=body, headers=_replicate_headers(body))
        assert r.status_code == 200 and r.json() == {"ok": True, "hint": True}
        assert await hub.wait("replicate", "p1", 0.0)
        running = json.dumps({"id": "p1", "status": "processing"}).encode()
        r = await c.post("/hooks/replicate", content=running, headers=_replicate_headers(running))
        assert r.status_code == 200 and r.json()["hint"] is False and await _not_woken(hub, "replicate", "p1")


async def test_fal_signature_accepted_and_refused(hub: WebhookHub, base: str) -> None:
    hub.expect("fal", "r1")
    body = json.dumps({"request_id": "r1", "status": "OK", "payload": {"images": []}}).encode()
    async with httpx.AsyncClient(base_url=base) as c:
        foreign = _fal_headers(body, "r1", seed=hashlib.sha256(b"not fal").digest())
        r = await c.post("/hooks/fal", content=body, headers=foreign)
        assert r.status_code == 401 and await _not_woken(hub, "fal", "r1")
        stale = _fal_headers(body, "r1", ts=int(time.time()) + 3600)
        r = await c.post("/hooks/fal", content=body, headers=stale)
        assert r.status_code == 401 and await _not_woken(hub, "fal", "r1")
        r = await c.post("/hooks/fal", content=body + b" ", headers=_fal_headers(body, "r1"))
        assert r.status_code == 401  # the body's hash is signed
        r = await c.post("/hooks/fal", content=body, headers={"Content-Type": "application/json"})
        assert r.status_code == 401
        unknown = json.dumps({"request_id": "r9", "status": "OK"}).encode()
        r = await c.post("/hooks/fal", content=unknown, headers=_fal_headers(unknown, "r9"))
        assert r.status_code == 404 and await _not_woken(hub, "fal", "r9")
        r = await c.post(
            "/hooks/fal", content=body, headers=_fal_headers(body, "r2")
        )  # signed for another id
        assert r.status_code == 400
        assert hub.stats["hints"] == 0
        r = await c.post("/hooks/fal", content=body, headers=_fal_headers(body, "r1"))
        assert r.status_code == 200 and await hub.wait("fal", "r1", 0.0)


async def test_kling_takes_only_known_tasks_and_only_their_end(hub: WebhookHub, base: str) -> None:
    hub.expect("kling", "780001")
    async with httpx.AsyncClient(base_url=base) as c:
        r = await c.post("/hooks/kling", json={"task_id": "780999", "task_status": "succeed"})
        assert r.status_code == 404 and await _not_woken(hub, "kling", "780999")
        r = await c.post("/hooks/kling", json={"task_id": "780001", "task_status": "processing"})
        assert r.status_code == 200 and await _not_woken(hub, "kling", "780001")
        r = await c.post("/hooks/kling", content=b"not json")
        assert r.status_code == 400
        r = await c.post("/hooks/kling", content=b"x" * (MAX_BODY + 1))
        assert r.status_code == 413 and await _not_woken(hub, "kling", "780001")
        envelope = {"code": 0, "message": "SUCCEED", "data": {"task_id": "780001", "task_status": "failed"}}
        r = await c.post("/hooks/kling", json=envelope)
        assert r.status_code == 200 and await hub.wait("kling", "780001", 0.0)
        hub.forget("kling", "780001")  # the take is done with: later callbacks for it are refused
        r = await c.post("/hooks/kling", json={"task_id": "780001", "task_status": "succeed"})
        assert r.status_code == 404


async def test_unconfigured_signatures_refuse(hub: WebhookHub) -> None:
    r = WebhookReceiver(hub, WebhookKeys()).start()
    try:
        hub.expect("fal", "r1")
        hub.expect("replicate", "p1")
        body = json.dumps({"id": "p1", "status": "succeeded"}).encode()
        async with httpx.AsyncClient(base_url=r.base_url) as c:
            assert (
                await c.post("/hooks/replicate", content=body, headers=_replicate_headers(body))
            ).status_code == 503
            assert (
                await c.post("/hooks/fal", content=body, headers=_fal_headers(body, "r1"))
            ).status_code == 503
        assert hub.stats["hints"] == 0
    finally:
        r.stop()


# --- runs ------------------------------------------------------------------------------------------------

_STATUS = re.compile(r"^/(kling/v1/videos/image2video/[^/?]+|fal-queue/.+/requests/[^/]+/status)(\?|$)")


def _polls_per_take(requests: list[dict[str, Any]]) -> float:
    """Status queries per accepted create, from the emulator's request log."""
    takes = sum(1 for r in requests if r.get("accepted"))
    polls = sum(1 for r in requests if r["method"] == "GET" and _STATUS.match(r["path"]))
    assert takes > 0
    return polls / takes


def _project(root: Path, *, webhooks: bool, listen: str = "127.0.0.1:0") -> Path:
    make_project(root, shots=2, poll_interval=0.1)
    cfg = root / "goldenchain.toml"
    extra = f'\nwebhooks = true\nwebhook_listen = "{listen}"' if webhooks else ""
    cfg.write_text(cfg.read_text().replace("poll_timeout = 1800.0", "poll_timeout = 1800.0" + extra))
    return root


def _log(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_run_with_webhooks_polls_far_less(tmp_path: Path) -> None:
    per_take = {}
    for on in (False, True):
        project = _project(tmp_path / f"shoot-{on}", webhooks=on)
        log = tmp_path / f"emu-{on}.log"
        with Emulator(scenario="clean", latency=2.0, log_path=log) as emu:
            r = run_cli(["run", str(project), "--quiet"], emu.env())
            assert r.returncode == 0, r.stdout + r.stderr
            if on:
                assert emu.callbacks.sent and all(c["status"] == 200 for c in emu.callbacks.sent)
        per_take[on] = _polls_per_take(_log(log))
    # off: a task of 2 s polled every 0.1 s; on: asked once, when its callback comes
    assert per_take[True] <= 1.5, per_take
    assert per_take[False] >= 4 * per_take[True], per_take


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_forged_success_for_a_running_task_records_nothing(tmp_path: Path) -> None:
    port = _free_port()
    project = _project(tmp_path / "shoot", webhooks=True, listen=f"127.0.0.1:{port}")
    latency = 6.0
    with Emulator(scenario="clean", latency=latency, log_path=tmp_path / "emu.log") as emu:
        env = {**emu.env(), "COLUMNS": "200"}
        proc = subprocess.Popen(
            [sys.executable, "-m", "goldenchain", "run", str(project), "--quiet"],
            env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            while not emu.kling.tasks:  # the first clip's create
                assert proc.poll() is None, proc.communicate()
                time.sleep(0.05)
            tid, task = next(iter(emu.kling.tasks.items()))
            forged_url = f"{emu.base_url}/files/forged.mp4"
            forged = {"task_id": tid, "task_status": "succeed", "final_unit_deduction": "0",
                      "task_result": {"videos": [{"id": "f", "url": forged_url, "duration": "5"}]}}  # fmt: skip
            while True:  # the run may not have the task id in hand yet: 404 until it does
                r = httpx.post(f"http://127.0.0.1:{port}/hooks/kling", json=forged)
                if r.status_code == 200:
                    break
                assert r.status_code == 404 and time.time() < task.created + latency / 2, r.text
                time.sleep(0.05)
            forged_at = time.time()
            assert forged_at < task.created + latency  # the task is still running

            def asked() -> list[dict[str, Any]]:
                return [e for e in emu.requests if e["method"] == "GET" and e.get("task_id") == tid
                        and e["ts"] >= forged_at - 0.01]  # fmt: skip

            while not asked():  # the hint wakes the take: it asks Kling at once (the fallback is 30 s away)
                time.sleep(0.02)
            assert asked()[0]["ts"] < task.created + latency, "woken only when the task had ended"
            db = Database(load_project(project).database_url)
            try:
                take = next(
                    t for t in Ledger(db).takes(load_project(project).id) if t.provider_task_id == tid
                )
                assert take.state == "submitted", take
                assert take.result_url is None and take.artifact_sha256 is None and take.cost_usd is None
            finally:
                db.dispose()
            out, err = proc.communicate(timeout=240)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        assert proc.returncode == 0, out + err
        db = Database(load_project(project).database_url)
        try:
            take = next(t for t in Ledger(db).takes(load_project(project).id) if t.provider_task_id == tid)
        finally:
            db.dispose()
        assert take.state == "downloaded" and take.result_url == task.results[0]["url"] != forged_url
        assert not any("forged" in e["path"] for e in emu.requests)


def test_lost_callbacks_fall_back_to_polling(tmp_path: Path) -> None:
    """fal's callbacks never arrive: its takes still finish, found by the slow fallback poll."""
    project = _project(tmp_path / "shoot", webhooks=True)
    cfg = project / "goldenchain.toml"
    cfg.write_text(cfg.read_text().replace("webhooks = true", "webhooks = true\nwebhook_poll_interval = 3.0"))
    with Emulator(scenario="clean", latency=2.0, log_path=tmp_path / "emu.log") as emu:
        emu.callbacks.drop = lambda provider: provider == "fal"
        r = run_cli(["run", str(project), "--quiet"], emu.env())
        assert r.returncode == 0, r.stdout + r.stderr
        assert {c["provider"] for c in emu.callbacks.sent} == {"kling"}
    entries = _log(tmp_path / "emu.log")
    stills = [e["task_id"] for e in entries if e.get("accepted") and e["provider"] == "fal"]
    assert len(stills) == 2
    for rid in stills:  # each still was asked for at least once, and that is how its end was found
        assert any(e.get("task_id") == rid and e["path"].split("?")[0].endswith("/status") for e in entries)
