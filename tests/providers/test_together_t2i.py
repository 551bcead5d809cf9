from __future__ import annotations

import base64
import json
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
    UsageError,
)
from goldenchain.providers import TogetherFluxTextToImage
from goldenchain.providers.base import CapabilityError, Provider, StillRequest, Submitted, Succeeded
from goldenchain.providers.dataurl import decode_data_url
from goldenchain.providers.http import parse_retry_after
from goldenchain.providers.testing import RecordingSleep, Script, json_response

KEY = "tgp_v1_secret-key-0123456789abcdef"
B = "https://api.together.test"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def together(script: Script, sleeps: RecordingSleep, **kw: Any) -> TogetherFluxTextToImage:
    return TogetherFluxTextToImage(KEY, base_url=B, client=script.client(), sleep=sleeps, **kw)


def still(**kw: Any) -> StillRequest:
    base: dict[str, Any] = {"prompt": "a lighthouse at dusk", "width": 1280, "height": 720, "seed": 42,
                            "model": "black-forest-labs/FLUX.1-dev", "external_id": "gc-abc"}  # fmt: skip
    return StillRequest(**{**base, **kw})


def ok(item: dict[str, Any] | None = None) -> httpx.Response:
    item = item or {"index": 0, "type": "url", "url": "https://api.together.test/imgproxy/a.png"}
    return json_response(200, {"id": "gen-1", "model": "black-forest-labs/FLUX.1-dev", "object": "list",
                               "data": [item]})  # fmt: skip


def err(status: int, message: str, kind: str = "invalid_request_error", **headers: str) -> httpx.Response:
    return json_response(status, {"error": {"message": message, "type": kind, "param": None, "code": None}},
                         headers)  # fmt: skip


def test_is_a_provider(sleeps: RecordingSleep) -> None:
    p = together(Script(ok()), sleeps)
    assert isinstance(p, Provider)
    assert (p.name, p.kind, p.lookup_by_external_id) == ("together", "t2i", False)
    assert active_catalog().get("together", "black-forest-labs/FLUX.1-schnell", "t2i") is not None


@pytest.mark.parametrize(
    ("model", "steps"),
    [("black-forest-labs/FLUX.1-schnell", 4), ("black-forest-labs/FLUX.1-dev", 28),
     ("black-forest-labs/FLUX.1.1-pro", None)],
)  # fmt: skip
async def test_submit_body_and_result(sleeps: RecordingSleep, model: str, steps: int | None) -> None:
    script = Script(ok())
    p = together(script, sleeps)
    sub = await p.submit(still(model=model))
    (sent,) = script.requests
    assert sent.method == "POST" and str(sent.url) == f"{B}/v1/images/generations"
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    body = {"model": model, "prompt": "a lighthouse at dusk", "width": 1280, "height": 720, "seed": 42, "n": 1,
            "response_format": "url", "output_format": "png"}  # fmt: skip
    if steps is not None:
        body["steps"] = steps
    assert json.loads(sent.content) == body
    assert (sub.provider, sub.task_id) == ("together", "gen-1")
    done = await p.poll(sub)
    assert isinstance(done, Succeeded) and done.urls == ["https://api.together.test/imgproxy/a.png"]
    assert done.unit == "megapixels" and done.billed_units == pytest.approx(0.9216) and done.seed == 42
    assert len(script.requests) == 1  # poll makes no call


async def test_base64_becomes_a_data_url(sleeps: RecordingSleep) -> None:
    item = {"index": 0, "type": "b64_json", "b64_json": base64.b64encode(PNG).decode()}
    script = Script(ok(item))
    p = together(script, sleeps, response_format="base64")
    sub = await p.submit(still())
    assert json.loads(script.requests[0].content)["response_format"] == "base64"
    assert sub.handle["url"].startswith("data:image/png;base64,")
    assert decode_data_url(sub.handle["url"]) == (PNG, "image/png")
    done = await p.poll(sub)
    assert isinstance(done, Succeeded)
    assert await p.download(done.urls[0]) == PNG
    assert len(script.requests) == 1


@pytest.mark.parametrize(
    ("change", "words"),
    [({"width": 1000}, "multiple of 16"), ({"height": 4096}, "height"), ({"model": "flux"}, "unknown"),
     ({"prompt": ""}, "empty"), ({"external_id": ""}, "external_id")],
)  # fmt: skip
async def test_check_inputs(sleeps: RecordingSleep, change: dict[str, Any], words: str) -> None:
    script = Script(ok())
    with pytest.raises(CapabilityError, match=words):
        await together(script, sleeps).submit(still(**change))
    assert script.requests == []


@pytest.mark.parametrize(
    ("answer", "cls"),
    [
        (err(401, "Invalid API key provided", "invalid_api_key"), AuthError),
        (err(402, "Credit limit exceeded. Please add credits."), BillingError),
        (err(403, "Your account has insufficient balance"), BillingError),
        (err(403, "Model access denied"), AuthError),
        (err(400, "Input width must be positive"), InvalidInput),
        (err(404, "Unable to access model flux"), InvalidInput),
        (err(422, "Prompt was flagged as NSFW by the safety checker"), ModerationError),
        (err(400, "This request violates our content policy"), ModerationError),
        (err(500, "Internal error", "server_error"), ProviderFailed),
        (err(503, "Overloaded", "server_error"), ProviderFailed),
    ],
)
async def test_errors(sleeps: RecordingSleep, answer: httpx.Response, cls: type) -> None:
    script = Script(answer)
    with pytest.raises(cls) as info:
        await together(script, sleeps).submit(still())
    assert type(info.value) is cls and len(script.requests) == 1
    assert info.value.reason == answer.json()["error"]["message"] and KEY not in str(info.value)


async def test_secret_scrubbed_from_provider_message(sleeps: RecordingSleep) -> None:
    with pytest.raises(AuthError) as info:
        await together(Script(err(401, f"bad key {KEY}")), sleeps).submit(still())
    assert KEY not in str(info.value) and "***" in info.value.reason


async def test_5xx_retryable_unless_should_retry_false(sleeps: RecordingSleep) -> None:
    with pytest.raises(ProviderFailed) as info:
        await together(Script(err(503, "Overloaded")), sleeps).submit(still())
    assert info.value.retryable
    with pytest.raises(ProviderFailed) as info:
        await together(Script(err(500, "broken", **{"x-should-retry": "false"})), sleeps).submit(still())
    assert not info.value.retryable


@pytest.mark.parametrize(
    ("headers", "wait"), [({"retry-after": "2"}, 2.0), ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5)]
)
async def test_429_retried_honouring_retry_after(
    sleeps: RecordingSleep, headers: dict[str, str], wait: float
) -> None:
    limited = err(429, "rate limit exceeded", "rate_limit", **headers)
    assert parse_retry_after(limited) == wait
    script = Script(limited, ok())
    assert (await together(script, sleeps).submit(still())).task_id == "gen-1"
    assert len(script.requests) == 2 and sleeps.delays == [max(wait, 1.0)]
    script = Script(limited)
    with pytest.raises(RateLimited) as info:
        await together(script, sleeps).submit(still())
    assert info.value.retry_after == wait and len(script.requests) == 3


async def test_429_with_should_retry_false_is_sent_once(sleeps: RecordingSleep) -> None:
    script = Script(err(429, "quota", "rate_limit", **{"x-should-retry": "false"}), ok())
    with pytest.raises(RateLimited) as info:
        await together(script, sleeps).submit(still())
    assert len(script.requests) == 1 and not info.value.retryable


async def test_connect_error_retried(sleeps: RecordingSleep) -> None:
    script = Script(httpx.ConnectError, ok())
    assert (await together(script, sleeps).submit(still())).task_id == "gen-1"
    assert len(script.requests) == 2


@pytest.mark.parametrize(
    "answer",
    [httpx.ReadTimeout, httpx.RemoteProtocolError, err(504, "Timeout", "timeout"), json_response(200, {"data": []}),
     httpx.Response(200, text="<html>")],
)  # fmt: skip
async def test_sent_once_then_uncertain(sleeps: RecordingSleep, answer: Any) -> None:
    script = Script(answer, ok())
    with pytest.raises(SubmissionUncertain) as info:
        await together(script, sleeps).submit(still())
    assert len(script.requests) == 1 and KEY not in str(info.value)


async def test_download_url_and_expiry(sleeps: RecordingSleep) -> None:
    script = Script(httpx.ReadTimeout, httpx.Response(200, content=PNG))
    p = together(script, sleeps)
    assert await p.download("https://api.together.test/imgproxy/a.png") == PNG
    assert all("authorization" not in r.headers for r in script.requests)
    with pytest.raises(ResultExpired):
        await together(Script(httpx.Response(404)), sleeps).download(
            "https://api.together.test/imgproxy/a.png"
        )
    with pytest.raises(ProviderFailed):
        await p.download("data:image/png;base64,@@@")
    with pytest.raises(NotImplementedError):
        await p.find_by_external_id("gc-abc")


async def test_poll_without_result(sleeps: RecordingSleep) -> None:
    with pytest.raises(ProviderFailed):
        await together(Script(ok()), sleeps).poll(Submitted("together", "gen-1", {}))


def test_bad_settings() -> None:
    with pytest.raises(UsageError):
        TogetherFluxTextToImage("")
    with pytest.raises(UsageError):
        TogetherFluxTextToImage(KEY, response_format="b64")  # type: ignore[arg-type]
