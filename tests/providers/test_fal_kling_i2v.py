from __future__ import annotations

import base64
import json
from dataclasses import replace
from typing import Any

import httpx
import pytest

from goldenchain.core.models import active_catalog
from goldenchain.errors import (
    BillingError,
    InvalidInput,
    ModerationError,
    ProviderFailed,
    RateLimited,
    ResultExpired,
    SubmissionUncertain,
)
from goldenchain.providers import FalKlingImageToVideo
from goldenchain.providers.base import (
    Camera,
    CapabilityError,
    ClipRequest,
    Failed,
    Pending,
    Provider,
    Submitted,
    Succeeded,
)
from goldenchain.providers.testing import RecordingSleep, Script, json_response

KEY = "fal-key-id:fal-key-secret-0123456789"
Q = "https://queue.fal.test"
V16 = "fal-ai/kling-video/v1.6/pro/image-to-video"


def ep(version: str) -> str:
    return f"fal-ai/kling-video/{version}/pro/image-to-video"


def fal(script: Script, sleeps: RecordingSleep) -> FalKlingImageToVideo:
    return FalKlingImageToVideo(KEY, queue_url=Q, client=script.client(), sleep=sleeps)


def req(clip: ClipRequest, **kw: Any) -> ClipRequest:
    return replace(clip, **{"model": V16, **kw})


def submitted_body(rid: str = "req-1") -> dict[str, Any]:
    base = f"{Q}/fal-ai/kling-video/requests/{rid}"
    return {"request_id": rid, "status": "IN_QUEUE", "queue_position": 0, "status_url": f"{base}/status",
            "response_url": base, "cancel_url": f"{base}/cancel"}  # fmt: skip


VIDEO = {"video": {"url": "https://v3.fal.test/files/c.mp4", "content_type": "video/mp4",
                   "file_name": "c.mp4", "file_size": 1234}}  # fmt: skip


def test_is_a_provider_and_in_the_matrix(sleeps: RecordingSleep) -> None:
    p = fal(Script(json_response(200, {})), sleeps)
    assert isinstance(p, Provider)
    assert (p.name, p.kind, p.lookup_by_external_id) == ("fal-kling", "i2v", False)
    specs = active_catalog().route("fal-kling", "i2v")
    assert len(specs) >= 4
    for row in specs:
        assert row.modes == ("pro",) and row.camera == () and row.price.basis == "second"


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("v1.6", {"image_url": True, "aspect_ratio": "16:9", "cfg_scale": 0.5}),
        ("v2.1", {"image_url": True, "cfg_scale": 0.5}),
        ("v2.5-turbo", {"image_url": True, "cfg_scale": 0.5}),
        ("v2.6", {"start_image_url": True, "generate_audio": False}),
    ],
)
async def test_submit_body_per_version(
    sleeps: RecordingSleep, clip: ClipRequest, version: str, expected: dict[str, Any]
) -> None:
    script = Script(json_response(200, submitted_body()))
    sub = await fal(script, sleeps).submit(req(clip, model=ep(version), negative_prompt="blur"))
    (sent,) = script.requests
    assert sent.method == "POST" and str(sent.url) == f"{Q}/{ep(version)}"
    assert sent.headers["authorization"] == f"Key {KEY}"
    data_uri = "data:image/png;base64," + base64.b64encode(clip.image).decode()
    body = {"prompt": clip.prompt, "duration": "5", "negative_prompt": "blur"}
    for field, value in expected.items():
        body[field] = data_uri if value is True else value
    assert json.loads(sent.content) == body
    assert sub.provider == "fal-kling" and sub.task_id == "req-1"
    assert sub.handle["duration"] == 5 and sub.handle["status_url"].endswith(
        "/kling-video/requests/req-1/status"
    )


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"camera": Camera(zoom=5)}, "camera"),
        ({"mode": "std"}, "mode"),
        ({"duration": 7}, "duration"),
        ({"model": ep("v2.6"), "cfg_scale": 0.7}, "cfg_scale"),
        ({"model": "fal-ai/kling-video/v9/pro/image-to-video"}, "unknown"),
        ({"model": "kling-v1-6"}, "unknown"),
        ({"motion": 50}, "motion"),
        ({"aspect": "9:16"}, "aspect"),
        ({"image": b"not an image"}, "readable"),
        ({"image_mime": "image/jpeg"}, "image_mime"),
    ],
)
async def test_check_inputs(
    sleeps: RecordingSleep, clip: ClipRequest, change: dict[str, Any], words: str
) -> None:
    script = Script(json_response(200, submitted_body()))
    with pytest.raises(CapabilityError, match=words):
        await fal(script, sleeps).submit(req(clip, **change))
    assert script.requests == []


async def test_read_timeout_is_uncertain_and_sent_once(sleeps: RecordingSleep, clip: ClipRequest) -> None:
    script = Script(httpx.ReadTimeout, json_response(200, submitted_body()))
    with pytest.raises(SubmissionUncertain) as info:
        await fal(script, sleeps).submit(req(clip))
    assert len(script.requests) == 1 and KEY not in str(info.value)


@pytest.mark.parametrize("first", [httpx.ConnectError, json_response(429, {"detail": "concurrency"})])
async def test_retried_when_nothing_was_accepted(
    sleeps: RecordingSleep, clip: ClipRequest, first: Any
) -> None:
    script = Script(first, json_response(200, submitted_body()))
    assert (await fal(script, sleeps).submit(req(clip))).task_id == "req-1"
    assert len(script.requests) == 2


async def test_billing_never_retried(sleeps: RecordingSleep, clip: ClipRequest) -> None:
    script = Script(json_response(403, {"detail": "User is locked. Reason: Exhausted balance."}))
    with pytest.raises(BillingError) as info:
        await fal(script, sleeps).submit(req(clip))
    assert len(script.requests) == 1 and "Exhausted balance" in info.value.reason


async def test_rate_limited_after_attempts(sleeps: RecordingSleep, clip: ClipRequest) -> None:
    script = Script(json_response(429, {"detail": "slow down"}, {"Retry-After": "2"}))
    with pytest.raises(RateLimited) as info:
        await fal(script, sleeps).submit(req(clip))
    assert info.value.retry_after == 2.0 and len(script.requests) == 3 and min(sleeps.delays) >= 2.0


async def test_poll_to_success(sleeps: RecordingSleep) -> None:
    script = Script(
        json_response(200, {"status": "IN_QUEUE", "queue_position": 1}),
        json_response(200, {"status": "IN_PROGRESS", "logs": []}),
        json_response(200, {"status": "COMPLETED", "logs": []}),
        json_response(200, VIDEO),
    )
    p = fal(script, sleeps)
    sub = Submitted("fal-kling", "req-1", {**submitted_body(), "duration": 10})
    assert await p.poll(sub) == Pending("queued", position=1)
    assert await p.poll(sub) == Pending("running")
    done = await p.poll(sub)
    assert isinstance(done, Succeeded)
    assert done.urls == ["https://v3.fal.test/files/c.mp4"]
    assert (done.billed_units, done.unit) == (10.0, "seconds")
    assert script.requests[-1].url.path == "/fal-ai/kling-video/requests/req-1"


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (
            422,
            {"detail": [{"loc": ["body"], "msg": "no", "type": "content_policy_violation"}]},
            ModerationError,
        ),
        (
            422,
            {"detail": [{"loc": ["body", "image_url"], "msg": "bad", "type": "value_error"}]},
            InvalidInput,
        ),
        (500, {"detail": "model crashed"}, ProviderFailed),
        (200, {"video": None}, ProviderFailed),
    ],
)
async def test_result_failures(sleeps: RecordingSleep, status: int, body: Any, cls: type) -> None:
    script = Script(json_response(200, {"status": "COMPLETED", "logs": []}), json_response(status, body))
    result = await fal(script, sleeps).poll(Submitted("fal-kling", "req-1", submitted_body()))
    assert isinstance(result, Failed) and type(result.error) is cls
    assert result.error.provider == "fal-kling"


async def test_find_and_download(sleeps: RecordingSleep) -> None:
    p = fal(Script(httpx.ReadTimeout, httpx.Response(200, content=b"mp4")), sleeps)
    with pytest.raises(NotImplementedError):
        await p.find_by_external_id("gc-1")
    assert await p.download("https://v3.fal.test/files/c.mp4") == b"mp4"
    with pytest.raises(ResultExpired):
        await fal(Script(httpx.Response(404)), sleeps).download("https://v3.fal.test/files/c.mp4")
