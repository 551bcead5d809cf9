from __future__ import annotations

import base64
import json
import logging
from typing import Any

import httpx
import jwt
import pytest

from goldenchain.errors import (
    AuthError,
    BillingError,
    InvalidInput,
    ModerationError,
    ProviderError,
    ProviderFailed,
    RateLimited,
    ResultExpired,
    SubmissionUncertain,
)
from goldenchain.providers import KLING_CHINA_URL, KlingImageToVideo
from goldenchain.providers.base import (
    Camera,
    CapabilityError,
    ClipRequest,
    Failed,
    Pending,
    Submitted,
    Succeeded,
)
from goldenchain.providers.testing import RecordingSleep, Script, json_response

AK, SK = "ak-kling-test-AK", "sk-kling-test-secret-0123456789-abcdef"
BASE = "https://kling.test"
PATH = "/v1/videos/image2video"
EXT = "gc-0123456789abcdef0123456789abcdef"


def ok(data: Any) -> httpx.Response:
    return json_response(200, {"code": 0, "message": "SUCCEED", "request_id": "rq-1", "data": data})


def err(status: int, code: int, message: str = "kling says no") -> httpx.Response:
    return json_response(status, {"code": code, "message": message, "request_id": "rq-err"})


def task(status: str, **extra: Any) -> dict[str, Any]:
    return {"task_id": "t-1", "task_status": status, "task_info": {"external_task_id": EXT}, **extra}


def kling(script: Script, sleeps: RecordingSleep, **kw: Any) -> KlingImageToVideo:
    return KlingImageToVideo(AK, SK, base_url=BASE, client=script.client(), sleep=sleeps, **kw)


def with_(clip: ClipRequest, **kw: Any) -> ClipRequest:
    return ClipRequest(**{**clip.__dict__, **kw})


# -- submit -----------------------------------------------------------------------------------------------


async def test_submit_body_and_headers(clip: ClipRequest, sleeps: RecordingSleep) -> None:
    script = Script(
        ok({"task_id": "t-1", "task_status": "submitted", "task_info": {"external_task_id": EXT}})
    )
    provider = kling(script, sleeps)
    req = with_(clip, negative_prompt="blur", cfg_scale=0.7)
    submitted = await provider.submit(req)
    assert submitted == Submitted(provider="kling", task_id="t-1", handle={"external_task_id": EXT})
    (sent,) = script.requests
    assert sent.method == "POST" and str(sent.url) == BASE + PATH
    body = json.loads(sent.content)
    assert body == {
        "model_name": "kling-v1-6",
        "image": base64.b64encode(clip.image).decode(),
        "prompt": "slow push-in on the lighthouse",
        "negative_prompt": "blur",
        "cfg_scale": 0.7,
        "mode": "pro",
        "duration": "5",
        "external_task_id": EXT,
    }
    assert not body["image"].startswith("data:")
    assert base64.b64decode(body["image"]) == clip.image
    assert sent.headers["content-type"] == "application/json"
    scheme, token = sent.headers["authorization"].split(" ")
    assert scheme == "Bearer"
    assert jwt.decode(token, SK, algorithms=["HS256"])["iss"] == AK


async def test_submit_camera_mapping(clip: ClipRequest, sleeps: RecordingSleep) -> None:
    script = Script(ok({"task_id": "t-9"}))
    req = with_(clip, model="kling-v1-5", mode="pro", duration=10 - 5, camera=Camera(rotation=-3.5))
    await kling(script, sleeps).submit(req)
    body = json.loads(script.requests[0].content)
    assert body["duration"] == "5"
    assert body["camera_control"] == {
        "type": "simple",
        "config": {"horizontal": 0, "vertical": 0, "pan": 0, "tilt": 0, "roll": -3.5, "zoom": 0},
    }


async def test_china_base_url(clip: ClipRequest, sleeps: RecordingSleep) -> None:
    script = Script(ok({"task_id": "t-1"}))
    provider = KlingImageToVideo(AK, SK, base_url=KLING_CHINA_URL, client=script.client(), sleep=sleeps)
    await provider.submit(clip)
    assert script.requests[0].url.host == "api-beijing.klingai.com"


async def test_invalid_request_is_never_sent(clip: ClipRequest, sleeps: RecordingSleep) -> None:
    script = Script(ok({"task_id": "t-1"}))
    with pytest.raises(CapabilityError):
        await kling(script, sleeps).submit(with_(clip, duration=7))
    assert script.requests == []


@pytest.mark.parametrize("exc", [httpx.ReadTimeout, httpx.RemoteProtocolError, httpx.ReadError])
async def test_create_sent_exactly_once_when_answer_lost(
    clip: ClipRequest, sleeps: RecordingSleep, exc: type
) -> None:
    script = Script(exc, ok({"task_id": "t-1"}))
    with pytest.raises(SubmissionUncertain) as info:
        await kling(script, sleeps).submit(clip)
    assert script.count("POST", PATH) == 1
    assert SK not in str(info.value) and AK not in str(info.value)


async def test_create_retried_after_connect_error(clip: ClipRequest, sleeps: RecordingSleep) -> None:
    script = Script(httpx.ConnectError, ok({"task_id": "t-1"}))
    assert (await kling(script, sleeps).submit(clip)).task_id == "t-1"
    assert script.count("POST") == 2


@pytest.mark.parametrize("code", [1302, 1303])
async def test_create_retried_after_rate_limit(clip: ClipRequest, sleeps: RecordingSleep, code: int) -> None:
    script = Script(err(429, code, "parallel task over resource pack limit"), ok({"task_id": "t-1"}))
    assert (await kling(script, sleeps).submit(clip)).task_id == "t-1"
    assert script.count("POST") == 2
    assert sleeps.delays and sleeps.delays[0] >= 1.0


async def test_create_rate_limit_exhausted(clip: ClipRequest, sleeps: RecordingSleep) -> None:
    script = Script(err(429, 1303))
    with pytest.raises(RateLimited):
        await kling(script, sleeps).submit(clip)
    assert script.count("POST") == 3


@pytest.mark.parametrize("code", [1100, 1101, 1102, 1304])
async def test_create_not_retried_after_429_billing_or_policy(
    clip: ClipRequest, sleeps: RecordingSleep, code: int
) -> None:
    script = Script(err(429, code, "resource pack exhausted"), ok({"task_id": "t-1"}))
    with pytest.raises(BillingError if code != 1304 else AuthError) as info:
        await kling(script, sleeps).submit(clip)
    assert script.count("POST") == 1 and sleeps.delays == []
    assert info.value.reason == "resource pack exhausted" and info.value.code == code


async def test_429_without_a_code_is_not_retried(clip: ClipRequest, sleeps: RecordingSleep) -> None:
    script = Script(json_response(429, {"message": "slow down"}), ok({"task_id": "t-1"}))
    with pytest.raises(ProviderFailed):
        await kling(script, sleeps).submit(clip)
    assert script.count("POST") == 1


@pytest.mark.parametrize(("status", "code"), [(500, 5000), (503, 5001), (504, 5002), (502, None)])
async def test_create_5xx_is_uncertain_not_resent(
    clip: ClipRequest, sleeps: RecordingSleep, status: int, code: int | None
) -> None:
    script = Script(err(status, code) if code else httpx.Response(status), ok({"task_id": "t-1"}))
    with pytest.raises(SubmissionUncertain, match=EXT):
        await kling(script, sleeps).submit(clip)
    assert script.count("POST") == 1


async def test_create_200_with_server_code_is_uncertain(clip: ClipRequest, sleeps: RecordingSleep) -> None:
    script = Script(err(200, 5000, "internal"))
    with pytest.raises(SubmissionUncertain):
        await kling(script, sleeps).submit(clip)
    assert script.count("POST") == 1


async def test_no_secret_in_logs_or_errors(
    clip: ClipRequest, sleeps: RecordingSleep, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    script = Script(
        httpx.ConnectError, err(429, 1303), err(401, 1004, f"expired {SK}"), err(401, 1004), httpx.ReadTimeout
    )
    provider = kling(script, sleeps)
    errors: list[BaseException] = []
    for _ in range(2):
        try:
            await provider.submit(clip)
        except ProviderError as e:
            errors.append(e)
    tokens = {r.headers["authorization"].split(" ")[1] for r in script.requests}
    assert len(errors) == 2 and caplog.records
    text = caplog.text + "".join(str(e) + repr(e) for e in errors)
    for secret in (AK, SK, *tokens):
        assert secret not in text


@pytest.mark.parametrize(
    "answer", [ok({"task_status": "submitted"}), httpx.Response(200, text="<html>"), httpx.Response(201)]
)
async def test_create_without_task_id_is_uncertain(
    clip: ClipRequest, sleeps: RecordingSleep, answer: httpx.Response
) -> None:
    with pytest.raises(SubmissionUncertain):
        await kling(Script(answer), sleeps).submit(clip)


async def test_expired_token_refreshed_and_resent_once(clip: ClipRequest, sleeps: RecordingSleep) -> None:
    script = Script(err(401, 1004, "token expired"), ok({"task_id": "t-1"}))
    ticks = iter(range(1_800_000_000, 1_800_000_100))
    assert (await kling(script, sleeps, clock=lambda: next(ticks)).submit(clip)).task_id == "t-1"
    assert script.count("POST") == 2
    first, second = (r.headers["authorization"] for r in script.requests)
    assert first != second


async def test_expired_token_twice_is_auth_error(clip: ClipRequest, sleeps: RecordingSleep) -> None:
    script = Script(err(401, 1004, "token expired"))
    with pytest.raises(AuthError):
        await kling(script, sleeps).submit(clip)
    assert script.count("POST") == 2


ERROR_TABLE = [
    (401, 1000, AuthError),
    (401, 1001, AuthError),
    (401, 1002, AuthError),
    (401, 1003, AuthError),
    (401, 1004, AuthError),
    (429, 1100, BillingError),
    (429, 1101, BillingError),
    (429, 1102, BillingError),
    (403, 1103, AuthError),
    (400, 1200, InvalidInput),
    (400, 1201, InvalidInput),
    (404, 1202, InvalidInput),
    (404, 1203, InvalidInput),
    (400, 1300, ModerationError),
    (400, 1301, ModerationError),
    (429, 1302, RateLimited),
    (429, 1303, RateLimited),
    (429, 1304, AuthError),
    (500, 5000, ProviderFailed),
    (503, 5001, ProviderFailed),
    (504, 5002, ProviderFailed),
]


@pytest.mark.parametrize(("status", "code", "cls"), ERROR_TABLE)
async def test_every_error_code_at_poll(
    sleeps: RecordingSleep, status: int, code: int, cls: type[ProviderError]
) -> None:
    script = Script(err(status, code, f"reason for {code}"))
    with pytest.raises(ProviderError) as info:
        await kling(script, sleeps).poll(Submitted("kling", "t-1"))
    e = info.value
    assert type(e) is cls
    assert (e.reason, e.code, e.status_code, e.request_id, e.provider) == (
        f"reason for {code}",
        code,
        status,
        "rq-err",
        "kling",
    )
    assert e.retryable == (code in (1302, 1303, 5000, 5001, 5002))


@pytest.mark.parametrize(("status", "code", "cls"), [row for row in ERROR_TABLE if row[1] < 5000])
async def test_every_error_code_at_submit(
    clip: ClipRequest, sleeps: RecordingSleep, status: int, code: int, cls: type
) -> None:
    script = Script(err(status, code, f"reason for {code}"))
    with pytest.raises(cls, match=f"reason for {code}"):
        await kling(script, sleeps).submit(clip)


async def test_reason_with_a_secret_is_scrubbed(clip: ClipRequest, sleeps: RecordingSleep) -> None:
    script = Script(err(401, 1002, f"bad header for iss={AK} signed with {SK}"))
    with pytest.raises(AuthError) as info:
        await kling(script, sleeps).submit(clip)
    assert AK not in str(info.value) and SK not in str(info.value)
    token = script.requests[0].headers["authorization"].split(" ")[1]
    assert token not in str(info.value)


# -- poll -------------------------------------------------------------------------------------------------


async def test_poll_states(sleeps: RecordingSleep) -> None:
    video = {"id": "v", "url": "https://cdn.test/out.mp4", "duration": "5"}
    script = Script(
        ok(task("submitted")),
        ok(task("processing")),
        ok(task("succeed", final_unit_deduction="3.5", task_result={"videos": [video]})),
    )
    provider = kling(script, sleeps)
    sub = Submitted("kling", "t-1")
    assert await provider.poll(sub) == Pending("queued")
    assert await provider.poll(sub) == Pending("running")
    done = await provider.poll(sub)
    assert isinstance(done, Succeeded)
    assert (done.urls, done.billed_units, done.unit) == (["https://cdn.test/out.mp4"], 3.5, "credits")
    assert script.requests[0].url.path == f"{PATH}/t-1"


@pytest.mark.parametrize(
    ("msg", "cls"),
    [
        ("Failure to pass the risk control system", ModerationError),
        ("The content may contain inappropriate content", ModerationError),
        ("internal render error", ProviderFailed),
    ],
)
async def test_poll_failed_task(sleeps: RecordingSleep, msg: str, cls: type) -> None:
    status = await kling(Script(ok(task("failed", task_status_msg=msg))), sleeps).poll(
        Submitted("kling", "t-1")
    )
    assert isinstance(status, Failed) and type(status.error) is cls
    assert status.error.reason == msg and status.error.task_id == "t-1"


async def test_poll_retries_through_5xx_and_transport_errors(sleeps: RecordingSleep) -> None:
    script = Script(
        err(500, 5000), httpx.ReadTimeout, err(503, 5001), httpx.ConnectError, ok(task("processing"))
    )
    assert await kling(script, sleeps).poll(Submitted("kling", "t-1")) == Pending("running")
    assert len(script.requests) == 5


# -- find_by_external_id ----------------------------------------------------------------------------------


async def test_find_by_external_id(sleeps: RecordingSleep) -> None:
    script = Script(ok(task("processing")))
    found = await kling(script, sleeps).find_by_external_id(EXT)
    assert found == Submitted("kling", "t-1", {"external_task_id": EXT})
    assert script.requests[0].url.params["external_task_id"] == EXT and script.requests[0].method == "GET"


@pytest.mark.parametrize("answer", [err(404, 1203, "task not found"), ok(None), ok([])])
async def test_find_by_external_id_absent(sleeps: RecordingSleep, answer: httpx.Response) -> None:
    assert await kling(Script(answer), sleeps).find_by_external_id(EXT) is None


async def test_find_by_external_id_in_a_list(sleeps: RecordingSleep) -> None:
    other = {"task_id": "t-0", "task_info": {"external_task_id": "someone-else"}}
    assert (
        await kling(Script(ok([other, task("succeed")])), sleeps).find_by_external_id(EXT)
    ).task_id == "t-1"  # type: ignore[union-attr]


async def test_find_by_external_id_cannot_prove_absence(sleeps: RecordingSleep) -> None:
    other = {"task_id": "t-0", "task_info": {"external_task_id": "someone-else"}}
    with pytest.raises(ProviderFailed, match="cannot prove absence"):
        await kling(Script(ok([other])), sleeps).find_by_external_id(EXT)


async def test_find_by_external_id_auth_error_raises(sleeps: RecordingSleep) -> None:
    with pytest.raises(AuthError):
        await kling(Script(err(401, 1000)), sleeps).find_by_external_id(EXT)


# -- download ---------------------------------------------------------------------------------------------


async def test_download_without_credentials(sleeps: RecordingSleep) -> None:
    script = Script(httpx.Response(503), httpx.Response(200, content=b"mp4"))
    assert await kling(script, sleeps).download("https://cdn.test/out.mp4") == b"mp4"
    assert all("authorization" not in r.headers for r in script.requests)


async def test_download_expired(sleeps: RecordingSleep) -> None:
    with pytest.raises(ResultExpired):
        await kling(Script(httpx.Response(404)), sleeps).download("https://cdn.test/out.mp4")
