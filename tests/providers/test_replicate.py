from __future__ import annotations

import base64
import json
from dataclasses import replace
from typing import Any

import httpx
import pytest

from goldenchain.core.models import active_catalog
from goldenchain.errors import (
    AuthError,
    BillingError,
    InvalidInput,
    ModerationError,
    ProviderFailed,
    RateLimited,
    ResultExpired,
    SubmissionUncertain,
)
from goldenchain.providers import ReplicateFluxTextToImage, ReplicateKlingImageToVideo
from goldenchain.providers.base import (
    Camera,
    CapabilityError,
    ClipRequest,
    Failed,
    Pending,
    Provider,
    StillRequest,
    Submitted,
    Succeeded,
)
from goldenchain.providers.testing import RecordingSleep, Script, json_response

TOKEN = "r8_secret-token-0123456789abcdef"
B = "https://api.replicate.test"
KLING16 = "kwaivgi/kling-v1.6-pro"


def flux(script: Script, sleeps: RecordingSleep, **kw: Any) -> ReplicateFluxTextToImage:
    return ReplicateFluxTextToImage(TOKEN, base_url=B, client=script.client(), sleep=sleeps, **kw)


def kling(script: Script, sleeps: RecordingSleep) -> ReplicateKlingImageToVideo:
    return ReplicateKlingImageToVideo(TOKEN, base_url=B, client=script.client(), sleep=sleeps)


def still(**kw: Any) -> StillRequest:
    base: dict[str, Any] = {"prompt": "a lighthouse at dusk", "width": 1280, "height": 720, "seed": 42,
                            "model": "black-forest-labs/flux-dev", "external_id": "gc-abc"}  # fmt: skip
    return StillRequest(**{**base, **kw})


def prediction(status: str = "starting", **kw: Any) -> dict[str, Any]:
    return {"id": "p-1", "status": status, "input": {"prompt": "x"}, "output": None, "error": None,
            "logs": "", "data_removed": False, "urls": {"get": f"{B}/v1/predictions/p-1"}, **kw}  # fmt: skip


def test_providers_and_matrix(sleeps: RecordingSleep) -> None:
    t2i, i2v = flux(Script(json_response(200, {})), sleeps), kling(Script(json_response(200, {})), sleeps)
    assert isinstance(t2i, Provider) and isinstance(i2v, Provider)
    assert (t2i.name, t2i.kind, t2i.lookup_by_external_id) == ("replicate", "t2i", False)
    assert (i2v.name, i2v.kind, i2v.lookup_by_external_id) == ("replicate-kling", "i2v", False)
    assert active_catalog().get("replicate", "black-forest-labs/flux-schnell", "t2i") is not None
    assert active_catalog().get("replicate-kling", "kwaivgi/kling-v2.1", "i2v") is not None


@pytest.mark.parametrize(
    ("model", "req", "expected"),
    [
        ("black-forest-labs/flux-dev", {},
         {"aspect_ratio": "16:9", "num_outputs": 1, "num_inference_steps": 28, "guidance": 3.5}),
        ("black-forest-labs/flux-schnell", {"width": 1024, "height": 1024},
         {"aspect_ratio": "1:1", "num_outputs": 1, "num_inference_steps": 4}),
        ("black-forest-labs/flux-1.1-pro", {"width": 1440, "height": 800},
         {"aspect_ratio": "custom", "width": 1440, "height": 800, "safety_tolerance": 2}),
    ],
)  # fmt: skip
async def test_flux_create(
    sleeps: RecordingSleep, model: str, req: dict[str, Any], expected: dict[str, Any]
) -> None:
    script = Script(json_response(201, prediction()))
    sub = await flux(script, sleeps).submit(still(model=model, output_format="jpeg", **req))
    (sent,) = script.requests
    assert sent.method == "POST" and str(sent.url) == f"{B}/v1/models/{model}/predictions"
    assert sent.headers["authorization"] == f"Bearer {TOKEN}" and "prefer" not in sent.headers
    assert json.loads(sent.content) == {
        "input": {"prompt": "a lighthouse at dusk", "seed": 42, "output_format": "jpg", **expected}
    }
    assert (sub.provider, sub.task_id, sub.handle["model"]) == ("replicate", "p-1", model)


async def test_prefer_wait_header(sleeps: RecordingSleep) -> None:
    script = Script(json_response(201, prediction("succeeded", output=["https://r.test/a.png"])))
    await flux(script, sleeps, wait=30).submit(still())
    assert script.requests[0].headers["prefer"] == "wait=30"


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"width": 1000, "height": 700}, "10:7"),
        ({"model": "black-forest-labs/flux-1.1-pro", "width": 1000}, "multiple of 32"),
        ({"model": "black-forest-labs/flux-2"}, "unknown"),
        ({"prompt": "x" * 2001}, "characters"),
        ({"seed": -1}, "seed"),
    ],
)
async def test_flux_check_inputs(sleeps: RecordingSleep, change: dict[str, Any], words: str) -> None:
    script = Script(json_response(201, prediction()))
    with pytest.raises(CapabilityError, match=words):
        await flux(script, sleeps).submit(still(**change))
    assert script.requests == []


@pytest.mark.parametrize(
    ("model", "mode", "expected"),
    [
        (KLING16, "pro", {"cfg_scale": 0.5, "aspect_ratio": "16:9"}),
        ("kwaivgi/kling-v2.1", "std", {"mode": "standard"}),
        ("kwaivgi/kling-v2.1", "pro", {"mode": "pro"}),
    ],
)
async def test_kling_create(
    sleeps: RecordingSleep, clip: ClipRequest, model: str, mode: str, expected: dict[str, Any]
) -> None:
    script = Script(json_response(201, prediction()))
    sub = await kling(script, sleeps).submit(replace(clip, model=model, mode=mode, negative_prompt="blur"))
    (sent,) = script.requests
    assert str(sent.url) == f"{B}/v1/models/{model}/predictions"
    start = "data:image/png;base64," + base64.b64encode(clip.image).decode()
    assert json.loads(sent.content) == {
        "input": {
            "prompt": clip.prompt,
            "start_image": start,
            "duration": 5,
            "negative_prompt": "blur",
            **expected,
        }
    }
    assert sub.provider == "replicate-kling" and sub.handle["duration"] == 5


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"camera": Camera(horizontal=3)}, "camera"),
        ({"mode": "std"}, "mode"),
        ({"model": "kwaivgi/kling-v2.1", "cfg_scale": 0.8}, "cfg_scale"),
        ({"model": "kling-v1-6"}, "unknown"),
    ],
)
async def test_kling_check_inputs(
    sleeps: RecordingSleep, clip: ClipRequest, change: dict[str, Any], words: str
) -> None:
    script = Script(json_response(201, prediction()))
    with pytest.raises(CapabilityError, match=words):
        await kling(script, sleeps).submit(replace(clip, **{"model": KLING16, **change}))
    assert script.requests == []


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (401, {"title": "Unauthenticated", "detail": "You did not pass a valid authentication token"}, AuthError),
        (402, {"title": "Insufficient credit", "detail": "You have insufficient credit to run this model."},
         BillingError),
        (404, {"title": "Not found", "detail": "The requested resource could not be found."}, InvalidInput),
        (422, {"title": "Input validation failed", "detail": "- input.seed: Invalid type."}, InvalidInput),
    ],
)  # fmt: skip
async def test_create_refusals(sleeps: RecordingSleep, status: int, body: dict[str, Any], cls: type) -> None:
    script = Script(json_response(status, body))
    with pytest.raises(cls) as info:
        await flux(script, sleeps).submit(still())
    assert type(info.value) is cls and len(script.requests) == 1
    assert info.value.reason == body["detail"] and TOKEN not in str(info.value)


async def test_create_429_retried_honouring_retry_after(sleeps: RecordingSleep) -> None:
    throttled = json_response(429, {"detail": "Request was throttled. Your rate limit resets in ~3s."},
                              {"Retry-After": "3"})  # fmt: skip
    script = Script(throttled, json_response(201, prediction()))
    assert (await flux(script, sleeps).submit(still())).task_id == "p-1"
    assert len(script.requests) == 2 and sleeps.delays == [3.0]
    script = Script(throttled)
    with pytest.raises(RateLimited) as info:
        await flux(script, sleeps).submit(still())
    assert info.value.retry_after == 3.0 and len(script.requests) == 3


async def test_create_retried_after_connect_error(sleeps: RecordingSleep) -> None:
    script = Script(httpx.ConnectError, json_response(201, prediction()))
    assert (await flux(script, sleeps).submit(still())).task_id == "p-1"
    assert len(script.requests) == 2


@pytest.mark.parametrize(
    "answer",
    [httpx.ReadTimeout, httpx.RemoteProtocolError, json_response(500, {"detail": "oops"}),
     json_response(503, {}), json_response(201, {"status": "starting"})],
)  # fmt: skip
async def test_create_sent_once_then_uncertain(sleeps: RecordingSleep, answer: Any) -> None:
    script = Script(answer, json_response(201, prediction()))
    with pytest.raises(SubmissionUncertain) as info:
        await flux(script, sleeps).submit(still())
    assert len(script.requests) == 1
    assert TOKEN not in str(info.value) and TOKEN not in repr(info.value)


async def test_poll_sequence_and_success(sleeps: RecordingSleep) -> None:
    script = Script(
        json_response(200, prediction("starting")),
        json_response(503, {"detail": "unavailable"}),  # a free read: retried
        json_response(200, prediction("processing")),
        json_response(
            200,
            prediction(
                "succeeded", output=["https://replicate.delivery/a.png"], metrics={"predict_time": 1.5}
            ),
        ),
    )
    p = flux(script, sleeps)
    sub = Submitted("replicate", "p-1", {"seed": 42})
    assert await p.poll(sub) == Pending("queued")
    assert await p.poll(sub) == Pending("running")
    done = await p.poll(sub)
    assert isinstance(done, Succeeded) and done.urls == ["https://replicate.delivery/a.png"]
    assert (done.billed_units, done.unit, done.seed) == (1.0, "images", 42)
    assert done.raw["predict_time"] == 1.5 and "input" not in done.raw
    assert {r.url.path for r in script.requests} == {"/v1/predictions/p-1"}
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in script.requests)


async def test_kling_output_is_a_single_url(sleeps: RecordingSleep) -> None:
    body = prediction("succeeded", output="https://replicate.delivery/c.mp4", metrics={"predict_time": 80.0})
    done = await kling(Script(json_response(200, body)), sleeps).poll(
        Submitted("replicate-kling", "p-1", {"duration": 10})
    )
    assert isinstance(done, Succeeded) and done.urls == ["https://replicate.delivery/c.mp4"]
    assert (done.billed_units, done.unit) == (10.0, "seconds")


@pytest.mark.parametrize(
    ("body", "cls", "reason"),
    [
        (prediction("failed", error="NSFW content detected. Try running it again, or try a different prompt."),
         ModerationError, "NSFW content detected."),
        (prediction("failed", error="The input or output was flagged as sensitive. (E005)"), ModerationError,
         "flagged"),
        (prediction("failed", error="CUDA out of memory"), ProviderFailed, "CUDA out of memory"),
        (prediction("canceled"), ProviderFailed, "canceled"),
        (prediction("succeeded", output=None, data_removed=True), ResultExpired, "removed"),
        (prediction("succeeded", output=None), ResultExpired, "removed"),
    ],
)  # fmt: skip
async def test_poll_failures(sleeps: RecordingSleep, body: dict[str, Any], cls: type, reason: str) -> None:
    result = await flux(Script(json_response(200, body)), sleeps).poll(Submitted("replicate", "p-1"))
    assert isinstance(result, Failed) and type(result.error) is cls and reason in result.error.reason


@pytest.mark.parametrize(("status", "cls"), [(401, AuthError), (404, InvalidInput), (429, RateLimited),
                                             (502, ProviderFailed)])  # fmt: skip
async def test_poll_http_errors(sleeps: RecordingSleep, status: int, cls: type) -> None:
    script = Script(json_response(status, {"detail": "nope"}))
    with pytest.raises(cls):
        await flux(script, sleeps).poll(Submitted("replicate", "p-1"))
    assert len(script.requests) == (1 if status < 429 else 5)


async def test_cancel_and_find_and_download(sleeps: RecordingSleep) -> None:
    script = Script(json_response(200, prediction("canceled")))
    p = kling(script, sleeps)
    assert await p.cancel(Submitted("replicate-kling", "p-1")) == "canceled"
    assert script.requests[0].method == "POST" and script.requests[0].url.path == "/v1/predictions/p-1/cancel"
    with pytest.raises(NotImplementedError):
        await p.find_by_external_id("gc-abc")
    script = Script(httpx.ReadTimeout, httpx.Response(200, content=b"mp4"))
    assert await kling(script, sleeps).download("https://replicate.delivery/c.mp4") == b"mp4"
    assert all("authorization" not in r.headers for r in script.requests)
    with pytest.raises(ResultExpired):
        await kling(Script(httpx.Response(404)), sleeps).download("https://replicate.delivery/c.mp4")


def test_bad_settings() -> None:
    from goldenchain.errors import UsageError

    with pytest.raises(UsageError):
        ReplicateFluxTextToImage("")
    with pytest.raises(UsageError):
        ReplicateFluxTextToImage(TOKEN, wait=0)
