from __future__ import annotations

import io
import itertools
import json
import time

import av
import httpx
import numpy as np
import pytest
from PIL import Image

from goldenchain.emulator import Emulator, Fault
from goldenchain.emulator.scenarios import FaultPlan

from .conftest import fal_client, kling_client, wait_kling


def test_fault_plan_fires_once_per_fault() -> None:
    plan = FaultPlan(
        [Fault("kling", "create", 2, "rate_limit"), Fault("fal", "task", 1, "bad_still", "fal-ai/flux")]
    )
    assert [plan.next("kling", "create") for _ in range(4)] == [None, "rate_limit", None, None]
    assert plan.next("fal", "task", "fal-ai/kling-video/v1.6/pro/image-to-video") is None  # filtered out
    assert plan.next("fal", "task", "fal-ai/flux/dev") == "bad_still"
    assert plan.next("fal", "task", "fal-ai/flux/dev") is None
    assert plan.pending == []
    with pytest.raises(ValueError):
        Fault("kling", "poll", 1, "freeze")
    with pytest.raises(ValueError):
        Emulator(scenario="nope")


def _i2v(still_b64: str, ext: str) -> dict:
    return {
        "model_name": "kling-v1-6",
        "image": still_b64,
        "mode": "std",
        "duration": "5",
        "external_task_id": ext,
    }


def test_demo_plan(still_b64: str, tmp_path) -> None:
    log = tmp_path / "emu.jsonl"
    with Emulator(scenario="demo", latency=0.1, log_path=log) as emu:
        with fal_client(emu, run=True) as c:
            first = c.post("/fal-ai/flux/dev", json={"prompt": "p", "image_size": "square_hd"})
            assert first.status_code == 429  # 1st fal submit: transient
            outs = [c.post("/fal-ai/flux/dev", json={"prompt": "p", "seed": i}) for i in range(4)]
        assert [o.status_code for o in outs] == [200, 200, 422, 200]
        assert outs[2].json()["detail"][0]["type"] == "content_policy_violation"
        lumas = []
        for o in (outs[0], outs[1]):
            png = httpx.get(o.json()["images"][0]["url"], timeout=60).content
            img = Image.open(io.BytesIO(png)).convert("L")
            lumas.append(np.percentile(np.asarray(img), 99))
        assert lumas[0] < 0.25 * 255 < 0.32 * 255 < lumas[1]  # 1st FLUX result is dark, 2nd is fine
        with kling_client(emu) as c:
            codes = []
            tasks = []
            for i in range(4):
                r = c.post("/v1/videos/image2video", json=_i2v(still_b64, f"demo-{i}"))
                codes.append(r.status_code)
                if r.status_code == 200:
                    tasks.append(r.json()["data"]["task_id"])
            assert codes == [200, 429, 200, 200]
            results = [wait_kling(c, t) for t in tasks]
        assert [r["task_status"] for r in results] == ["succeed", "failed", "succeed"]
        assert "risk control" in results[1]["task_status_msg"]
        assert emu.count(provider="kling", accepted_creates=True) == 3
        assert emu.count(provider="fal", accepted_creates=True) == 3  # sync runs: a 422 is not accepted
        assert emu.plan.pending == []  # every fault of the plan fired, each once
        clip = httpx.get(results[2]["task_result"]["videos"][0]["url"], timeout=60).content
        with av.open(io.BytesIO(clip)) as container:
            frames = [f.to_ndarray(format="gray") for f in container.decode(video=0)]
        run = longest = 0
        for a, b in itertools.pairwise(frames):
            run = run + 1 if np.abs(a.astype(np.int16) - b).mean() < 0.5 else 0
            longest = max(longest, run)
        assert len(frames) == 120 and longest + 1 >= 36  # 3rd Kling clip: >= 1.5 s frozen
    lines = [json.loads(x) for x in log.read_text().splitlines()]
    assert len(lines) == len(emu.requests) and lines[0]["provider"] == "fal" and lines[0]["status"] == 429
    create = next(e for e in lines if e.get("external_task_id") == "demo-0" and e["method"] == "POST")
    assert create["accepted"] is True and create["task_id"] and len(create["body_sha256"]) == 64


def test_flaky_create_stall_then_reconcile(still_b64: str) -> None:
    # the stalls last until the client gives up (its read timeout); every other answer comes in milliseconds
    with Emulator(scenario="flaky", latency=0.1) as emu, kling_client(emu, timeout=2.0) as c:
        assert c.post("/v1/videos/image2video", json=_i2v(still_b64, "a")).json()["code"] == 1302
        with pytest.raises(httpx.ReadTimeout):  # held without an answer until the client gave up
            c.post("/v1/videos/image2video", json=_i2v(still_b64, "a"))
        # The create was accepted although no answer came: reconcile by external_task_id, do not resubmit.
        r = c.get("/v1/videos/image2video", params={"external_task_id": "a"})  # poll #1
        assert r.status_code == 200 and r.json()["data"]["task_info"]["external_task_id"] == "a"
        assert c.get("/v1/videos/image2video", params={"external_task_id": "a"}).json()["code"] == 5000
        assert emu.count(provider="kling", accepted_creates=True) == 1
        dup = c.post("/v1/videos/image2video", json=_i2v(still_b64, "a"))  # create #3: duplicate
        assert dup.json()["code"] == 1201
        assert c.post("/v1/videos/image2video", json=_i2v(still_b64, "b")).json()["code"] == 5001
        assert c.post("/v1/videos/image2video", json=_i2v(still_b64, "b")).json()["code"] == 0  # #5
        with pytest.raises(httpx.RemoteProtocolError):  # #6: accepted, then dropped
            c.post("/v1/videos/image2video", json=_i2v(still_b64, "c"))
        assert emu.count(provider="kling", accepted_creates=True) == 3
        c.get("/v1/videos/image2video", params={"external_task_id": "b"})  # poll #3
        with pytest.raises(httpx.RemoteProtocolError):  # poll #4: dropped
            c.get("/v1/videos/image2video", params={"external_task_id": "b"})
        assert c.get("/v1/videos/image2video", params={"external_task_id": "c"}).json()["code"] == 0
        with pytest.raises(httpx.ReadTimeout):  # poll #6: stall
            c.get("/v1/videos/image2video", params={"external_task_id": "c"})
        assert wait_kling(c, c.get("/v1/videos/image2video", params={"external_task_id": "c"}).json()["data"]
                          ["task_id"])["task_status"] == "succeed"  # fmt: skip


def test_scripted_faults(still_b64: str) -> None:
    faults = [
        Fault("kling", "create", 1, "billing_1102"),
        Fault("kling", "task", 1, "stuck"),
        Fault("kling", "task", 2, "result_404"),
        Fault("fal", "create", 1, "billing"),
        Fault("fal", "create", 2, "timeout"),
    ]
    with Emulator(scenario="clean", latency=0.05, faults=faults) as emu:
        with kling_client(emu) as c:
            r = c.post("/v1/videos/image2video", json=_i2v(still_b64, "x"))
            assert (r.status_code, r.json()["code"]) == (429, 1102)
            stuck = c.post("/v1/videos/image2video", json=_i2v(still_b64, "y")).json()["data"]["task_id"]
            gone = c.post("/v1/videos/image2video", json=_i2v(still_b64, "z")).json()["data"]["task_id"]
            done = wait_kling(c, gone)
            time.sleep(0.2)
            assert c.get(f"/v1/videos/image2video/{stuck}").json()["data"]["task_status"] == "processing"
        assert httpx.get(done["task_result"]["videos"][0]["url"]).status_code == 404
        with fal_client(emu) as c:
            r = c.post("/fal-ai/flux/dev", json={"prompt": "x"})
            assert r.status_code == 403 and "Exhausted balance" in r.json()["detail"]
            r = c.post("/fal-ai/flux/dev", json={"prompt": "x"})
            assert r.status_code == 504 and r.headers["x-fal-error-type"] == "request_timeout"
            assert r.json()["error_type"] == "request_timeout"
