from __future__ import annotations

import io
import time

import httpx
import pytest
from PIL import Image

from goldenchain.emulator import Emulator, Fault
from goldenchain.emulator.replicate import version_id

from .conftest import HeldClock

FLUX = "black-forest-labs/flux-dev"


def rep(emu: Emulator, timeout: float = 10.0) -> httpx.Client:
    env = emu.env()
    headers = {"Authorization": f"Bearer {env['REPLICATE_API_TOKEN']}"}
    return httpx.Client(base_url=env["REPLICATE_BASE_URL"], headers=headers, timeout=timeout)


def _wait(c: httpx.Client, pid: str, limit: float = 30) -> list[dict]:
    seen: list[dict] = []
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        body = c.get(f"/v1/predictions/{pid}").json()
        seen.append(body)
        if body["status"] in ("succeeded", "failed", "canceled"):
            return seen
        time.sleep(0.02)
    raise AssertionError("not finished")


def test_auth_required(clean: Emulator) -> None:
    url = clean.env()["REPLICATE_BASE_URL"] + f"/v1/models/{FLUX}/predictions"
    r = httpx.post(url, json={"input": {"prompt": "x"}})
    assert r.status_code == 401 and r.json()["title"] == "Unauthenticated"
    assert clean.count(provider="replicate", accepted_creates=True) == 0


def test_lifecycle_and_outputs(clean: Emulator) -> None:
    clock = HeldClock(clean)
    with rep(clean) as c:
        r = c.post(f"/v1/models/{FLUX}/predictions",
                   json={"input": {"prompt": "a fox", "megapixels": "0.25", "num_outputs": 2, "output_format": "jpg"}})  # fmt: skip
        assert r.status_code == 201
        p = r.json()
        assert p["status"] == "starting" and p["output"] is None and p["version"] == version_id(FLUX)
        assert p["urls"]["get"].endswith(f"/replicate/v1/predictions/{p['id']}")
        states = []
        for step in (0.0, clean.latency / 2, clean.latency):  # 0, 1/2 and 3/2 of the latency after acceptance
            clock.advance(step)
            states.append(c.get(f"/v1/predictions/{p['id']}").json()["status"])
        assert states == ["starting", "processing", "succeeded"]
        done = c.get(f"/v1/predictions/{p['id']}").json()
        assert len(done["output"]) == 2 and done["metrics"]["predict_time"] > 0 and not done["data_removed"]
        with Image.open(io.BytesIO(httpx.get(done["output"][0], timeout=60).content)) as img:
            assert img.format == "JPEG" and img.size == (512, 512)
        assert c.post(f"/v1/predictions/{p['id']}/cancel").json()["status"] == "succeeded"
    assert clean.count(provider="replicate", accepted_creates=True) == 1


def test_prefer_wait(clean: Emulator) -> None:
    with rep(clean) as c:
        r = c.post(f"/v1/models/{FLUX}/predictions", json={"input": {"prompt": "x", "megapixels": "0.25"}},
                   headers={"Prefer": "wait=5"})  # fmt: skip
        assert r.status_code == 201 and r.json()["status"] == "succeeded" and r.json()["output"]


def test_prefer_wait_expiry_answers_starting() -> None:
    faults = [Fault("replicate", "task", 1, "stuck")]
    # the task never ends: an answer at all (the client waits up to 30 s) is the answer on expiry
    with Emulator(scenario="clean", latency=0.1, faults=faults) as emu, rep(emu, timeout=30.0) as c:
        t0 = time.monotonic()
        r = c.post(f"/v1/models/{FLUX}/predictions", json={"input": {"prompt": "x"}},
                   headers={"Prefer": "wait=1"})  # fmt: skip
        assert time.monotonic() - t0 >= 0.99  # held for the wait asked for (a lower bound: load only adds)
        assert r.json()["status"] == "starting"  # never "processing" (the official client would not poll)
        pid = r.json()["id"]
        assert c.post(f"/v1/predictions/{pid}/cancel").json()["status"] == "canceled"


def test_kling_output_is_one_url(clean: Emulator, still_b64: str) -> None:
    with rep(clean) as c:
        body = {"version": "kwaivgi/kling-v1.6-standard",
                "input": {"prompt": "push in", "start_image": f"data:image/png;base64,{still_b64}", "duration": 5}}  # fmt: skip
        r = c.post("/v1/predictions", json=body)
        assert r.status_code == 201, r.text
        done = _wait(c, r.json()["id"])[-1]
    assert isinstance(done["output"], str) and done["output"].endswith(".mp4")
    assert httpx.get(done["output"], timeout=30).content[4:8] == b"ftyp"


@pytest.mark.parametrize(
    ("fault", "status"),
    [("rate_limit", 429), ("billing", 402), ("invalid", 422), ("not_found", 404), ("server_error", 500)],
)
def test_create_faults(fault: str, status: int) -> None:
    with Emulator(scenario="clean", latency=0.05, faults=[Fault("replicate", "create", 1, fault)]) as emu:
        with rep(emu) as c:
            r = c.post(f"/v1/models/{FLUX}/predictions", json={"input": {"prompt": "x"}})
        assert r.status_code == status and r.json()["detail"]
        if status == 429:
            assert r.headers["retry-after"] == "1" and "throttled" in r.json()["detail"]
        assert emu.count(provider="replicate", accepted_creates=True) == 0


def test_task_faults() -> None:
    faults = [Fault("replicate", "task", 1, "nsfw"), Fault("replicate", "task", 2, "data_removed")]
    with Emulator(scenario="clean", latency=0.05, faults=faults) as emu, rep(emu) as c:
        a = c.post(f"/v1/models/{FLUX}/predictions", json={"input": {"prompt": "x"}}).json()["id"]
        b = c.post(f"/v1/models/{FLUX}/predictions", json={"input": {"prompt": "x"}}).json()["id"]
        failed, removed = _wait(c, a)[-1], _wait(c, b)[-1]
    assert failed["status"] == "failed" and "NSFW" in failed["error"]
    assert removed["status"] == "succeeded" and removed["output"] is None and removed["data_removed"] is True


def test_validation(clean: Emulator) -> None:
    with rep(clean) as c:
        r = c.post(f"/v1/models/{FLUX}/predictions", json={"input": {"aspect_ratio": "7:3"}})
        assert r.status_code == 422
        fields = {f["field"] for f in r.json()["invalid_fields"]}
        assert fields == {"input.prompt", "input.aspect_ratio"}
        r = c.post("/v1/models/black-forest-labs/flux-1.1-pro/predictions",
                   json={"input": {"prompt": "x", "aspect_ratio": "custom", "width": 250, "height": 256}})  # fmt: skip
        assert r.status_code == 422
        assert c.post("/v1/predictions", json={"version": "nope", "input": {}}).status_code == 422
