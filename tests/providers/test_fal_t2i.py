from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

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
from goldenchain.providers import FalFluxTextToImage
from goldenchain.providers.base import (
    CapabilityError,
    Failed,
    Pending,
    Provider,
    StillRequest,
    Submitted,
    Succeeded,
)
from goldenchain.providers.fal.queue import queue_urls, split_endpoint
from goldenchain.providers.testing import RecordingSleep, Script, json_response

KEY = "fal-key-id:fal-key-secret-0123456789"
Q = "https://queue.fal.test"


def fal(script: Script, sleeps: RecordingSleep) -> FalFluxTextToImage:
    return FalFluxTextToImage(KEY, queue_url=Q, client=script.client(), sleep=sleeps)


def still(**kw: Any) -> StillRequest:
    base: dict[str, Any] = {
        "prompt": "a lighthouse at dusk",
        "width": 1280,
        "height": 720,
        "seed": 42,
        "model": "fal-ai/flux/dev",
        "external_id": "gc-abc",
    }
    return StillRequest(**{**base, **kw})


def submitted_body(endpoint_root: str = "fal-ai/flux", rid: str = "req-1") -> dict[str, Any]:
    base = f"{Q}/{endpoint_root}/requests/{rid}"
    return {
        "request_id": rid,
        "status": "IN_QUEUE",
        "queue_position": 0,
        "status_url": f"{base}/status",
        "response_url": base,
        "cancel_url": f"{base}/cancel",
    }


def result_body(**kw: Any) -> dict[str, Any]:
    return {
        "images": [
            {
                "url": "https://v3.fal.test/files/a.png",
                "width": 1280,
                "height": 720,
                "content_type": "image/png",
            }
        ],
        "seed": 42,
        "has_nsfw_concepts": [False],
        "prompt": "a lighthouse at dusk",
        **kw,
    }


def test_is_a_provider(sleeps: RecordingSleep) -> None:
    p = fal(Script(json_response(200, {})), sleeps)
    assert isinstance(p, Provider)
    assert (p.name, p.kind, p.lookup_by_external_id) == ("fal", "t2i", False)


def test_endpoint_urls_drop_the_path_segment() -> None:
    assert split_endpoint("fal-ai/flux/dev") == ("fal-ai", "flux", "dev")
    assert split_endpoint("fal-ai/flux-pro/v1.1") == ("fal-ai", "flux-pro", "v1.1")
    urls = queue_urls(Q, "fal-ai/kling-video/v1.6/pro/image-to-video", "r9")
    assert urls == {
        "status_url": f"{Q}/fal-ai/kling-video/requests/r9/status",
        "response_url": f"{Q}/fal-ai/kling-video/requests/r9",
        "cancel_url": f"{Q}/fal-ai/kling-video/requests/r9/cancel",
    }
    with pytest.raises(ValueError):
        split_endpoint("flux")


@pytest.mark.parametrize(
    ("model", "extra"),
    [
        ("fal-ai/flux/dev", {"num_inference_steps": 28, "guidance_scale": 3.5}),
        ("fal-ai/flux/schnell", {"num_inference_steps": 4, "guidance_scale": 3.5}),
        ("fal-ai/flux-pro/v1.1", {"safety_tolerance": "2"}),
    ],
)
async def test_submit_body_and_handle(sleeps: RecordingSleep, model: str, extra: dict[str, Any]) -> None:
    root = "/".join(model.split("/")[:2])
    script = Script(json_response(200, submitted_body(root)))
    sub = await fal(script, sleeps).submit(still(model=model))
    (sent,) = script.requests
    assert str(sent.url) == f"{Q}/{model}" and sent.method == "POST"
    assert sent.headers["authorization"] == f"Key {KEY}"
    assert json.loads(sent.content) == {
        "prompt": "a lighthouse at dusk",
        "image_size": {"width": 1280, "height": 720},
        "seed": 42,
        "num_images": 1,
        "output_format": "png",
        "enable_safety_checker": True,
        **extra,
    }
    assert sub.task_id == "req-1"
    assert sub.handle["status_url"] == f"{Q}/{root}/requests/req-1/status"
    assert sub.handle["response_url"] == f"{Q}/{root}/requests/req-1"


async def test_foreign_urls_are_not_trusted(sleeps: RecordingSleep) -> None:
    body = submitted_body() | {"status_url": "https://evil.test/steal/status", "response_url": None}
    sub = await fal(Script(json_response(200, body)), sleeps).submit(still())
    assert sub.handle["status_url"] == f"{Q}/fal-ai/flux/requests/req-1/status"
    assert sub.handle["response_url"] == f"{Q}/fal-ai/flux/requests/req-1"


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"model": "fal-ai/flux/ultra"}, "unknown fal image model"),
        ({"width": 10}, "width"),
        ({"seed": -1}, "seed"),
        ({"prompt": "  "}, "empty"),
        ({"output_format": "webp"}, "output_format"),
    ],
)
async def test_check_inputs(sleeps: RecordingSleep, change: dict[str, Any], words: str) -> None:
    script = Script(json_response(200, submitted_body()))
    with pytest.raises(CapabilityError, match=words):
        await fal(script, sleeps).submit(still(**change))
    assert script.requests == []


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (401, {"detail": "Invalid key"}, AuthError),
        (
            403,
            {
                "detail": "User is locked. Reason: Exhausted balance. Top up your balance at fal.ai/dashboard/billing"
            },
            BillingError,
        ),
        (403, {"detail": "Forbidden"}, AuthError),
        (
            422,
            {"detail": [{"loc": ["body", "prompt"], "msg": "field required", "type": "value_error.missing"}]},
            InvalidInput,
        ),
        (
            422,
            {"detail": [{"loc": ["body", "prompt"], "msg": "flagged", "type": "content_policy_violation"}]},
            ModerationError,
        ),
        (
            503,
            {"detail": "Runner scheduling failure", "error_type": "runner_scheduling_failure"},
            ProviderFailed,
        ),
        (504, {"detail": "Request timed out", "error_type": "request_timeout"}, ProviderFailed),
    ],
)
async def test_submit_errors(sleeps: RecordingSleep, status: int, body: dict[str, Any], cls: type) -> None:
    script = Script(json_response(status, body))
    with pytest.raises(cls) as info:
        await fal(script, sleeps).submit(still())
    assert type(info.value) is cls
    assert len(script.requests) == 1
    assert KEY not in str(info.value)


async def test_billing_reason_preserved(sleeps: RecordingSleep) -> None:
    script = Script(json_response(403, {"detail": "User is locked. Reason: Exhausted balance."}))
    with pytest.raises(BillingError) as info:
        await fal(script, sleeps).submit(still())
    assert info.value.reason == "User is locked. Reason: Exhausted balance."


async def test_submit_429_retried_then_rate_limited(sleeps: RecordingSleep) -> None:
    script = Script(json_response(429, {"detail": "concurrency"}), json_response(200, submitted_body()))
    assert (await fal(script, sleeps).submit(still())).task_id == "req-1"
    assert len(script.requests) == 2
    script = Script(json_response(429, {"detail": "concurrency"}))
    with pytest.raises(RateLimited):
        await fal(script, sleeps).submit(still())
    assert len(script.requests) == 3


@pytest.mark.parametrize(
    "answer", [httpx.ReadTimeout, httpx.RemoteProtocolError, httpx.Response(502, text="bad gateway")]
)
async def test_submit_sent_once_then_uncertain(sleeps: RecordingSleep, answer: Any) -> None:
    script = Script(answer, json_response(200, submitted_body()))
    with pytest.raises(SubmissionUncertain) as info:
        await fal(script, sleeps).submit(still())
    assert len(script.requests) == 1
    assert KEY not in str(info.value) and KEY not in repr(info.value)


async def test_submit_retried_after_connect_error(sleeps: RecordingSleep) -> None:
    script = Script(httpx.ConnectError, json_response(200, submitted_body()))
    assert (await fal(script, sleeps).submit(still())).task_id == "req-1"
    assert len(script.requests) == 2


async def test_poll_to_success(sleeps: RecordingSleep) -> None:
    script = Script(
        json_response(200, {"status": "IN_QUEUE", "queue_position": 2}),
        json_response(200, {"status": "IN_PROGRESS", "logs": []}),
        json_response(500, {}),  # transient, retried
        json_response(200, {"status": "COMPLETED", "logs": [], "metrics": {"inference_time": 1.2}}),
        json_response(200, result_body()),
    )
    p = fal(script, sleeps)
    sub = Submitted("fal", "req-1", submitted_body())
    assert await p.poll(sub) == Pending("queued", position=2)
    assert await p.poll(sub) == Pending("running")
    done = await p.poll(sub)
    assert isinstance(done, Succeeded)
    assert done.urls == ["https://v3.fal.test/files/a.png"] and done.seed == 42
    assert done.unit == "megapixels" and done.billed_units == pytest.approx(0.9216)
    paths = [r.url.path for r in script.requests]
    assert paths[0] == "/fal-ai/flux/requests/req-1/status" and paths[-1] == "/fal-ai/flux/requests/req-1"


async def test_poll_rebuilds_urls_without_path_segment(sleeps: RecordingSleep) -> None:
    script = Script(json_response(200, {"status": "IN_PROGRESS", "logs": None}))
    await fal(script, sleeps).poll(Submitted("fal", "req-7", {"endpoint": "fal-ai/flux/dev"}))
    assert script.requests[0].url.path == "/fal-ai/flux/requests/req-7/status"


async def test_nsfw_is_moderation(sleeps: RecordingSleep) -> None:
    script = Script(
        json_response(200, {"status": "COMPLETED", "logs": []}),
        json_response(200, result_body(has_nsfw_concepts=[True])),
    )
    status = await fal(script, sleeps).poll(Submitted("fal", "req-1", submitted_body()))
    assert isinstance(status, Failed) and isinstance(status.error, ModerationError)


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (
            422,
            {"detail": [{"loc": ["body"], "msg": "nope", "type": "content_policy_violation"}]},
            ModerationError,
        ),
        (
            422,
            {"detail": [{"loc": ["body", "image_size"], "msg": "too large", "type": "image_too_large"}]},
            InvalidInput,
        ),
        (400, {"detail": "bad request"}, InvalidInput),
        (500, {"detail": "model crashed"}, ProviderFailed),
    ],
)
async def test_result_errors_are_task_failures(
    sleeps: RecordingSleep, status: int, body: dict[str, Any], cls: type
) -> None:
    script = Script(json_response(200, {"status": "COMPLETED", "logs": []}), json_response(status, body))
    result = await fal(script, sleeps).poll(Submitted("fal", "req-1", submitted_body()))
    assert isinstance(result, Failed) and type(result.error) is cls


async def test_find_by_external_id_is_not_possible(sleeps: RecordingSleep) -> None:
    with pytest.raises(NotImplementedError):
        await fal(Script(json_response(200, {})), sleeps).find_by_external_id("gc-abc")


async def test_download(sleeps: RecordingSleep) -> None:
    script = Script(httpx.ReadTimeout, httpx.Response(200, content=b"png"))
    assert await fal(script, sleeps).download("https://v3.fal.test/files/a.png") == b"png"
    assert all("authorization" not in r.headers for r in script.requests)
    with pytest.raises(ResultExpired):
        await fal(Script(httpx.Response(404)), sleeps).download("https://v3.fal.test/files/a.png")


async def test_cancel(sleeps: RecordingSleep) -> None:
    script = Script(json_response(202, {"status": "CANCELLATION_REQUESTED"}))
    assert (
        await fal(script, sleeps).cancel(Submitted("fal", "req-1", submitted_body()))
        == "CANCELLATION_REQUESTED"
    )
    assert (
        script.requests[0].method == "PUT"
        and script.requests[0].url.path == "/fal-ai/flux/requests/req-1/cancel"
    )
