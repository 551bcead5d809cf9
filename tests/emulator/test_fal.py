from __future__ import annotations

import io
import time

import httpx
import pytest
from PIL import Image

from goldenchain.emulator import Emulator

from .conftest import HeldClock, fal_client


def _wait(c: httpx.Client, status_url: str, logs: str = "1", limit: float = 30) -> list[dict]:
    seen: list[dict] = []
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        body = c.get(status_url, params={"logs": logs}).json()
        seen.append(body)
        if body["status"] == "COMPLETED":
            return seen
        time.sleep(0.02)
    raise AssertionError("not completed")


def test_auth_required(clean: Emulator) -> None:
    url = clean.env()["FAL_QUEUE_URL"] + "/fal-ai/flux/dev"
    assert httpx.post(url, json={"prompt": "x"}).status_code == 401
    r = httpx.post(url, json={"prompt": "x"}, headers={"Authorization": "Key wrong"})
    assert r.status_code == 401 and "detail" in r.json()
    assert clean.count(provider="fal", accepted_creates=True) == 0


def test_queue_flow_flux(clean: Emulator) -> None:
    clock = HeldClock(clean)
    base = clean.env()["FAL_QUEUE_URL"]
    with fal_client(clean) as c:
        r = c.post("/fal-ai/flux/dev", json={"prompt": "a red fox in snow", "seed": 42, "output_format": "png",
                                             "image_size": {"width": 1824, "height": 1024}, "num_images": 2})  # fmt: skip
        assert r.status_code == 200, r.text
        sub = r.json()
        rid = sub["request_id"]
        assert sub["status"] == "IN_QUEUE" and sub["queue_position"] == 0
        assert sub["status_url"] == f"{base}/fal-ai/flux/requests/{rid}/status"  # path segment dropped
        assert sub["response_url"] == f"{base}/fal-ai/flux/requests/{rid}"
        assert sub["cancel_url"] == f"{base}/fal-ai/flux/requests/{rid}/cancel"
        seen = []
        for step in (0.0, clean.latency / 2, clean.latency):  # 0, 1/2 and 3/2 of the latency after acceptance
            clock.advance(step)
            seen.append(c.get(sub["status_url"], params={"logs": "true"}).json())
        assert [s["status"] for s in seen] == ["IN_QUEUE", "IN_PROGRESS", "COMPLETED"]
        assert seen[0]["queue_position"] == 0 and "logs" not in seen[0]
        assert all("logs" in s and "queue_position" not in s for s in seen[1:])
        assert isinstance(seen[-1]["metrics"]["inference_time"], float)
        assert seen[-1]["logs"] and c.get(sub["status_url"], params={"logs": "0"}).json()["logs"] is None
        out = c.get(sub["response_url"]).json()
        assert out["seed"] == 42 and out["has_nsfw_concepts"] == [False, False] and out["prompt"]
        assert len(out["images"]) == 2
        img0 = out["images"][0]
        assert (img0["width"], img0["height"], img0["content_type"]) == (1824, 1024, "image/png")
        data = httpx.get(img0["url"], timeout=60).content
        assert c.put(sub["cancel_url"]).json()["status"] == "ALREADY_COMPLETED"
    with Image.open(io.BytesIO(data)) as img:
        assert img.format == "PNG" and img.size == (1824, 1024)
    assert clean.count(provider="fal", accepted_creates=True) == 1


@pytest.mark.parametrize(("size", "expect"), [("landscape_16_9", (1024, 576)), ("portrait_4_3", (768, 1024))])
def test_run_sync_enum_size_jpeg(clean: Emulator, size: str, expect: tuple[int, int]) -> None:
    with fal_client(clean, run=True) as c:
        out = c.post("/fal-ai/flux/schnell", json={"prompt": "a bridge", "image_size": size}).json()
    img = out["images"][0]
    assert (img["width"], img["height"]) == expect and img["content_type"] == "image/jpeg"
    with Image.open(io.BytesIO(httpx.get(img["url"], timeout=60).content)) as decoded:
        assert decoded.format == "JPEG" and decoded.size == expect


def test_invalid_input_is_422_at_result(clean: Emulator) -> None:
    with fal_client(clean) as c:
        sub = c.post("/fal-ai/flux/dev", json={"image_size": "huge"}).json()
        _wait(c, sub["status_url"])
        r = c.get(sub["response_url"])
    assert r.status_code == 422
    fields = {tuple(d["loc"]) for d in r.json()["detail"]}
    assert ("body", "prompt") in fields and ("body", "image_size") in fields
    with fal_client(clean, run=True) as c:
        assert c.post("/fal-ai/flux/dev", json={}).status_code == 422
        assert c.post("/fal-ai/nope/v1", json={"prompt": "x"}).status_code == 404


def test_cancel(clean: Emulator) -> None:
    with fal_client(clean) as c:
        sub = c.post("/fal-ai/flux/dev", json={"prompt": "x"}).json()
        r = c.put(sub["cancel_url"])
        assert (r.status_code, r.json()["status"]) == (202, "CANCELLATION_REQUESTED")
        assert c.get(sub["status_url"]).json()["status"] == "COMPLETED"
        assert c.get(sub["response_url"]).status_code == 400
        assert c.put(sub["cancel_url"].replace(sub["request_id"], "nope")).status_code == 404


def test_kling_on_fal(clean: Emulator) -> None:
    with fal_client(clean, run=True) as c:
        still = c.post("/fal-ai/flux/dev", json={"prompt": "a tree", "image_size": "landscape_16_9"}).json()
    with fal_client(clean, timeout=60) as c:
        sub = c.post("/fal-ai/kling-video/v1.6/standard/image-to-video",
                     json={"prompt": "wind", "image_url": still["images"][0]["url"], "duration": "5"}).json()  # fmt: skip
        assert sub["status_url"].endswith(f"/fal-ai/kling-video/requests/{sub['request_id']}/status")
        _wait(c, sub["status_url"])
        video = c.get(sub["response_url"]).json()["video"]
    assert video["content_type"] == "video/mp4" and video["file_size"] > 10_000
    assert len(httpx.get(video["url"], timeout=60).content) == video["file_size"]
