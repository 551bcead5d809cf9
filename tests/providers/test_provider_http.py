"""The create-safe and read send loops, outcome classification, and the pure retry functions they use."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from goldenchain.core.retry import backoff_delay, create_may_retry, read_may_retry
from goldenchain.errors import ProviderFailed, ProviderTimeout, SubmissionUncertain
from goldenchain.providers.http import (
    RetryPolicy,
    classify,
    make_client,
    parse_retry_after,
    scrub,
    send_create,
    send_read,
)
from goldenchain.providers.testing import RecordingSleep, Script, json_response

OUTCOMES = ["connect_error", "sent_no_answer", "rate_limited", "server_error", "client_error"]
URL = "https://api.example.test/v1/create"


def post(client: httpx.AsyncClient) -> httpx.Request:
    return client.build_request("POST", URL, json={"x": 1}, headers={"Authorization": "Bearer SECRET-TOKEN"})


# -- classify ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exc", "outcome"),
    [
        (httpx.ConnectError, "connect_error"),
        (httpx.ConnectTimeout, "connect_error"),
        (httpx.PoolTimeout, "connect_error"),
        (httpx.ReadTimeout, "sent_no_answer"),
        (httpx.WriteTimeout, "sent_no_answer"),
        (httpx.ReadError, "sent_no_answer"),
        (httpx.WriteError, "sent_no_answer"),
        (httpx.RemoteProtocolError, "sent_no_answer"),
        (httpx.UnsupportedProtocol, "client_error"),
    ],
)
def test_classify_exceptions(exc: type[httpx.RequestError], outcome: str) -> None:
    request = httpx.Request("POST", URL)
    assert classify(exc("x", request=request)) == outcome


@pytest.mark.parametrize(
    ("status", "outcome"),
    [(429, "rate_limited"), (500, "server_error"), (503, "server_error"), (400, "client_error")],
)
def test_classify_responses(status: int, outcome: str) -> None:
    assert classify(httpx.Response(status)) == outcome


def test_classify_rejects_success() -> None:
    with pytest.raises(ValueError):
        classify(httpx.Response(200))


def test_make_client_has_explicit_timeouts() -> None:
    client = make_client("https://api.example.test")
    t = client.timeout
    assert None not in (t.connect, t.read, t.write, t.pool)
    with pytest.raises(ValueError):
        make_client("https://x.test", timeout=httpx.Timeout(None))


def test_parse_retry_after() -> None:
    assert parse_retry_after(httpx.Response(429, headers={"Retry-After": "7"})) == 7.0
    assert parse_retry_after(httpx.Response(429)) is None
    assert parse_retry_after(httpx.Response(429, headers={"Retry-After": "soon"})) is None
    now = datetime(2025, 1, 1, 0, 0, 0, tzinfo=UTC)
    dated = httpx.Response(429, headers={"Retry-After": "Wed, 01 Jan 2025 00:00:30 GMT"})
    assert parse_retry_after(dated, now=now) == 30.0


def test_scrub() -> None:
    assert scrub("bad key abcd1234 here", ["abcd1234", None]) == "bad key *** here"


# -- send_create ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "exc", [httpx.ReadTimeout, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError]
)
async def test_create_sent_once_then_uncertain(exc: type[Exception], sleeps: RecordingSleep) -> None:
    script = Script(exc, json_response(200, {"ok": True}))
    async with script.client() as client:
        with pytest.raises(SubmissionUncertain) as info:
            await send_create(client, post(client), provider="p", sleep=sleeps)
    assert len(script.requests) == 1
    assert sleeps.delays == []
    err = info.value
    assert err.failure_class == "ambiguous"
    assert "SECRET-TOKEN" not in str(err) and "SECRET-TOKEN" not in repr(err)
    assert err.__cause__ is None and err.__context__ is None  # no httpx exception (with headers) attached


@pytest.mark.parametrize("exc", [httpx.ConnectError, httpx.ConnectTimeout])
async def test_create_retried_after_connect_error(exc: type[Exception], sleeps: RecordingSleep) -> None:
    script = Script(exc, json_response(200, {"ok": True}))
    async with script.client() as client:
        response = await send_create(client, post(client), provider="p", sleep=sleeps)
    assert response.status_code == 200
    assert len(script.requests) == 2
    assert len(sleeps.delays) == 1


async def test_create_connect_errors_are_bounded(sleeps: RecordingSleep) -> None:
    script = Script(httpx.ConnectError)
    async with script.client() as client:
        with pytest.raises(ProviderFailed) as info:
            await send_create(
                client, post(client), provider="p", policy=RetryPolicy(max_attempts=3), sleep=sleeps
            )
    assert len(script.requests) == 3
    assert info.value.retryable is True  # nothing was ever sent


async def test_create_retried_after_429_honouring_retry_after(sleeps: RecordingSleep) -> None:
    script = Script(json_response(429, {}, {"Retry-After": "4"}), json_response(200, {"ok": True}))
    async with script.client() as client:
        response = await send_create(client, post(client), provider="p", sleep=sleeps)
    assert response.status_code == 200 and len(script.requests) == 2
    assert sleeps.delays[0] >= 4.0


async def test_create_429_with_long_retry_after_is_returned(sleeps: RecordingSleep) -> None:
    script = Script(json_response(429, {}, {"Retry-After": "3600"}))
    async with script.client() as client:
        response = await send_create(client, post(client), provider="p", sleep=sleeps)
    assert response.status_code == 429 and len(script.requests) == 1 and sleeps.delays == []


@pytest.mark.parametrize("status", [400, 401, 500, 502, 503, 504])
async def test_create_never_resent_after_other_answers(status: int, sleeps: RecordingSleep) -> None:
    script = Script(json_response(status, {}), json_response(200, {}))
    async with script.client() as client:
        response = await send_create(client, post(client), provider="p", sleep=sleeps)
    assert response.status_code == status
    assert len(script.requests) == 1


async def test_create_429_bounded(sleeps: RecordingSleep) -> None:
    script = Script(json_response(429, {}))
    async with script.client() as client:
        response = await send_create(
            client, post(client), provider="p", policy=RetryPolicy(max_attempts=4), sleep=sleeps
        )
    assert response.status_code == 429 and len(script.requests) == 4 and len(sleeps.delays) == 3


async def test_create_classifier_can_veto_a_429(sleeps: RecordingSleep) -> None:
    script = Script(json_response(429, {"code": 1102}), json_response(200, {}))
    async with script.client() as client:
        response = await send_create(
            client, post(client), provider="p", classify_response=lambda r: "client_error", sleep=sleeps
        )
    assert response.status_code == 429 and len(script.requests) == 1


# -- send_read --------------------------------------------------------------------------------------------


async def test_read_retries_through_5xx_and_transport_errors(sleeps: RecordingSleep) -> None:
    script = Script(
        json_response(500, {}),
        httpx.ReadTimeout,
        json_response(503, {}),
        httpx.RemoteProtocolError,
        json_response(200, {"ok": True}),
    )
    async with script.client() as client:
        response = await send_read(client, client.build_request("GET", URL), provider="p", sleep=sleeps)
    assert response.status_code == 200 and len(script.requests) == 5 and len(sleeps.delays) == 4


async def test_read_gives_up_with_timeout(sleeps: RecordingSleep) -> None:
    script = Script(httpx.ReadTimeout)
    async with script.client() as client:
        with pytest.raises(ProviderTimeout):
            await send_read(client, client.build_request("GET", URL), provider="p", sleep=sleeps)
    assert len(script.requests) == 5


async def test_read_does_not_retry_4xx(sleeps: RecordingSleep) -> None:
    script = Script(json_response(404, {}), json_response(200, {}))
    async with script.client() as client:
        response = await send_read(client, client.build_request("GET", URL), provider="p", sleep=sleeps)
    assert response.status_code == 404 and len(script.requests) == 1


# -- the pure retry functions -----------------------------------------------------------------------------


@given(
    attempt=st.integers(min_value=1, max_value=60),
    base=st.floats(min_value=0.001, max_value=10),
    cap=st.floats(min_value=0.01, max_value=120),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_backoff_bounded_by_cap(attempt: int, base: float, cap: float, seed: int) -> None:
    delay = backoff_delay(attempt, base=base, cap=cap, rng=random.Random(seed))
    assert 0 < delay <= cap
    assert delay >= min(cap, base * 2 ** (attempt - 1)) / 2  # full jitter keeps at least half the ceiling


@given(
    attempt=st.integers(min_value=1, max_value=60),
    cap=st.floats(min_value=0.01, max_value=120),
    retry_after=st.floats(min_value=0, max_value=10_000),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_backoff_never_less_than_retry_after(attempt: int, cap: float, retry_after: float, seed: int) -> None:
    delay = backoff_delay(attempt, cap=cap, retry_after=retry_after, rng=random.Random(seed))
    assert delay >= retry_after
    assert delay <= max(cap, retry_after)


def test_backoff_rejects_attempt_zero() -> None:
    with pytest.raises(ValueError):
        backoff_delay(0)


@given(st.sampled_from(OUTCOMES))
def test_create_may_retry_only_when_nothing_was_accepted(outcome: str) -> None:
    assert create_may_retry(outcome) == (outcome in ("connect_error", "rate_limited"))  # type: ignore[arg-type]
    if create_may_retry(outcome):  # type: ignore[arg-type]
        assert read_may_retry(outcome)  # type: ignore[arg-type]
    assert not create_may_retry("sent_no_answer")
