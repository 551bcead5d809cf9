"""The create path's exact behaviour: the errors it raises (provider, words, retryability), the waits it asks
for, what it logs, and the Retry-After and scrubbing helpers it relies on."""

from __future__ import annotations

import logging
import random
from datetime import UTC, datetime

import httpx
import pytest

from goldenchain.errors import ProviderFailed, ProviderUnreachable, SubmissionUncertain
from goldenchain.providers.http import RetryPolicy, classify, parse_retry_after, scrub, send_create
from goldenchain.providers.testing import RecordingSleep, Script, json_response

URL = "https://api.example.test/v1/create"


class FixedRandom(random.Random):
    """``random()`` always returns the same number, so backoff delays are exact."""

    def __init__(self, value: float) -> None:
        super().__init__(0)
        self.value = value

    def random(self) -> float:
        return self.value


def post(client: httpx.AsyncClient) -> httpx.Request:
    return client.build_request("POST", URL, json={"x": 1})


# -- parse_retry_after and scrub ----------------------------------------------------------------------------


def test_retry_after_ms_is_read_first_in_milliseconds() -> None:
    assert parse_retry_after(httpx.Response(429, headers={"retry-after-ms": "1500"})) == 1.5
    assert parse_retry_after(httpx.Response(429, headers={"retry-after-ms": " 250 "})) == 0.25
    assert parse_retry_after(httpx.Response(429, headers={"retry-after-ms": "-200"})) == 0.0
    both = httpx.Response(429, headers={"retry-after-ms": "2000", "retry-after": "9"})
    assert parse_retry_after(both) == 2.0
    unreadable = httpx.Response(429, headers={"retry-after-ms": "soon", "retry-after": "3"})
    assert parse_retry_after(unreadable) == 3.0


def test_retry_after_seconds_below_one_and_negative() -> None:
    assert parse_retry_after(httpx.Response(429, headers={"Retry-After": "0.5"})) == 0.5
    assert parse_retry_after(httpx.Response(429, headers={"Retry-After": "-5"})) == 0.0


def test_retry_after_http_date_without_a_zone_is_utc_and_never_negative() -> None:
    now = datetime(2025, 1, 1, 0, 0, 0, tzinfo=UTC)
    naive = httpx.Response(429, headers={"Retry-After": "Wed, 01 Jan 2025 00:00:30 -0000"})
    assert parse_retry_after(naive, now=now) == 30.0
    past = httpx.Response(429, headers={"Retry-After": "Tue, 31 Dec 2024 23:59:00 GMT"})
    assert parse_retry_after(past, now=now) == 0.0


def test_retry_after_http_date_against_the_clock() -> None:
    far = httpx.Response(429, headers={"Retry-After": "Fri, 01 Jan 2100 00:00:00 GMT"})
    seconds = parse_retry_after(far)
    assert seconds is not None and 0 < seconds < 100 * 366 * 86400


def test_scrub_hides_secrets_of_four_characters_or_more() -> None:
    assert scrub("key abcd and abc", ["abcd", "abc", None, ""]) == "key *** and abc"


def test_classify_names_the_status_it_refuses() -> None:
    with pytest.raises(ValueError, match=r"^HTTP 204 is not a failure$"):
        classify(httpx.Response(204))


# -- errors raised by send_create ---------------------------------------------------------------------------


async def test_uncertain_create_names_provider_and_why(sleeps: RecordingSleep) -> None:
    script = Script(httpx.ReadTimeout)
    async with script.client() as client:
        with pytest.raises(SubmissionUncertain) as info:
            await send_create(client, post(client), provider="kling", sleep=sleeps)
    assert info.value.provider == "kling"
    assert info.value.reason == (
        "the create request was sent and no answer came (ReadTimeout); it may have been accepted and "
        "billed: reconcile by external id before any resubmit"
    )


async def test_a_request_refused_locally_is_failed_at_once(sleeps: RecordingSleep) -> None:
    script = Script(httpx.UnsupportedProtocol, json_response(200, {}))
    async with script.client() as client:
        with pytest.raises(ProviderFailed) as info:
            await send_create(client, post(client), provider="fal", sleep=sleeps)
    assert type(info.value) is ProviderFailed
    assert info.value.provider == "fal"
    assert info.value.reason == "the create request could not be sent (UnsupportedProtocol)"
    assert info.value.retryable is False
    assert len(script.requests) == 1 and sleeps.delays == []


async def test_unreachable_after_every_attempt(sleeps: RecordingSleep) -> None:
    script = Script(httpx.ConnectTimeout)
    async with script.client() as client:
        with pytest.raises(ProviderUnreachable) as info:
            await send_create(client, post(client), provider="together", sleep=sleeps)
    assert info.value.provider == "together"
    assert info.value.reason == "could not connect after 3 attempts (ConnectTimeout)"  # CREATE_POLICY: 3
    assert len(script.requests) == 3 and len(sleeps.delays) == 2


# -- the waits ----------------------------------------------------------------------------------------------


async def test_connect_error_waits_follow_the_policy(sleeps: RecordingSleep) -> None:
    script = Script(httpx.ConnectError, httpx.ConnectError, json_response(200, {}))
    policy = RetryPolicy(max_attempts=3, base=2.0, cap=3.0)
    async with script.client() as client:
        response = await send_create(
            client, post(client), provider="p", policy=policy, sleep=sleeps, rng=FixedRandom(0.0)
        )
    assert response.status_code == 200
    # attempt 1: ceiling min(3, 2) = 2 -> 1.0; attempt 2: ceiling min(3, 4) = 3 -> 1.5
    assert sleeps.delays == [1.0, 1.5]


async def test_rate_limit_waits_use_the_given_random_source(sleeps: RecordingSleep) -> None:
    script = Script(json_response(429, {}), json_response(429, {}), json_response(200, {}))
    policy = RetryPolicy(max_attempts=3, base=8.0, min_rate_limit_delay=0.0)
    async with script.client() as client:
        await send_create(
            client, post(client), provider="p", policy=policy, sleep=sleeps, rng=FixedRandom(0.5)
        )
    assert sleeps.delays == [6.0, 12.0]


async def test_rate_limit_without_retry_after_waits_the_backoff_only(sleeps: RecordingSleep) -> None:
    script = Script(json_response(429, {}), json_response(200, {}))
    policy = RetryPolicy(min_rate_limit_delay=0.0)
    async with script.client() as client:
        await send_create(
            client, post(client), provider="p", policy=policy, sleep=sleeps, rng=FixedRandom(0.0)
        )
    assert sleeps.delays == [0.25]  # not a second: no Retry-After and no floor


async def test_retry_after_exactly_at_the_limit_is_still_waited_for(sleeps: RecordingSleep) -> None:
    script = Script(json_response(429, {}, {"Retry-After": "60"}), json_response(200, {}))
    async with script.client() as client:
        response = await send_create(client, post(client), provider="p", sleep=sleeps, rng=FixedRandom(0.0))
    assert response.status_code == 200 and len(script.requests) == 2
    assert sleeps.delays == [60.0]


# -- what is logged -----------------------------------------------------------------------------------------


async def test_each_resend_is_logged_with_provider_request_and_outcome(
    sleeps: RecordingSleep, caplog: pytest.LogCaptureFixture
) -> None:
    script = Script(httpx.ConnectError, json_response(429, {}), json_response(200, {}))
    caplog.set_level(logging.WARNING, logger="goldenchain.providers")
    async with script.client() as client:
        await send_create(client, post(client), provider="kling", sleep=sleeps)
    messages = [r.getMessage() for r in caplog.records if r.name == "goldenchain.providers"]
    assert messages == [
        "kling create POST /v1/create: connect_error ConnectError (attempt 1/3)",
        "kling create POST /v1/create: HTTP 429 rate_limited (attempt 2/3)",
    ]
