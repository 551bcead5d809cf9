"""The request log marks every create request (``op: create``), accepted or not, with our own id where the body
carries one: what the money tests count, since a create refused or unanswered may still have been sent twice."""

from __future__ import annotations

import httpx
import pytest

from goldenchain.emulator import Emulator, Fault

from .conftest import fal_client, kling_client


def _i2v(still_b64: str, ext: str) -> dict[str, str]:
    return {
        "model_name": "kling-v1-6",
        "image": still_b64,
        "mode": "std",
        "duration": "5",
        "external_task_id": ext,
    }


def test_kling_creates_are_marked_even_when_nothing_was_made(still_b64: str) -> None:
    faults = [Fault("kling", "create", 1, "drop"), Fault("kling", "create", 2, "server_error")]
    with Emulator(scenario="clean", latency=0.1, faults=faults) as emu, kling_client(emu) as c:
        with pytest.raises(httpx.RemoteProtocolError):  # dropped before the body was read: no task
            c.post("/v1/videos/image2video", json=_i2v(still_b64, "take-a"))
        assert c.post("/v1/videos/image2video", json=_i2v(still_b64, "take-a")).status_code == 500
        ok = c.post("/v1/videos/image2video", json=_i2v(still_b64, "take-a")).json()
        assert ok["code"] == 0
        dup = c.post("/v1/videos/image2video", json=_i2v(still_b64, "take-a")).json()
        assert dup["code"] == 1201  # Kling refuses a second create with the same external_task_id
        c.get("/v1/videos/image2video", params={"external_task_id": "take-a"})  # a lookup is not a create
        c.get(f"/v1/videos/image2video/{ok['data']['task_id']}")
        creates = emu.create_requests("kling")
        assert [e.get("external_task_id") for e in creates] == ["take-a"] * 4
        assert [e.get("accepted") is True for e in creates] == [False, False, True, False]
        assert len({e["body_sha256"] for e in creates}) == 1
        assert emu.count(provider="kling", creates=True) == 4
        assert emu.count(provider="kling", accepted_creates=True) == 1
        assert emu.count(provider="kling") == 6


def test_other_providers_creates_and_reads(clean: Emulator) -> None:
    env = clean.env()
    with fal_client(clean) as fal:
        sub = fal.post("/fal-ai/flux/schnell", json={"prompt": "a bridge"}).json()
        fal.get(f"/fal-ai/flux/requests/{sub['request_id']}/status")
        fal.put(f"/fal-ai/flux/requests/{sub['request_id']}/cancel")
    with fal_client(clean, run=True) as run:
        run.post("/fal-ai/flux/schnell", json={"prompt": "a bridge"})
    rep = {"Authorization": f"Bearer {env['REPLICATE_API_TOKEN']}"}
    with httpx.Client(base_url=env["REPLICATE_BASE_URL"], headers=rep, timeout=10) as r:
        p = r.post(
            "/v1/models/black-forest-labs/flux-dev/predictions", json={"input": {"prompt": "x"}}
        ).json()
        r.get(f"/v1/predictions/{p['id']}")
        r.post(f"/v1/predictions/{p['id']}/cancel")  # a POST, but not a create
    tog = {"Authorization": f"Bearer {env['TOGETHER_API_KEY']}"}
    with httpx.Client(base_url=env["TOGETHER_BASE_URL"], headers=tog, timeout=10) as t:
        t.post(
            "/v1/images/generations", json={"model": "black-forest-labs/FLUX.1-dev"}
        )  # 400, still a create
    assert [(e["provider"], e["method"]) for e in clean.create_requests()] == [
        ("fal", "POST"),
        ("fal", "POST"),
        ("replicate", "POST"),
        ("together", "POST"),
    ]
    assert all("external_task_id" not in e for e in clean.create_requests())
    assert clean.count(creates=True) == 4 and len(clean.requests) == 8
