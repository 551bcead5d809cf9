"""Shared HTTP plumbing for provider adapters: explicit timeouts, outcome classification, two send loops.

* :func:`send_create` sends a **paid** create. It resends only when
  :func:`~goldenchain.core.retry.create_may_retry` allows it (nothing was sent, or the provider explicitly
  refused before accepting). A request that left without an answer raises
  :class:`~goldenchain.errors.SubmissionUncertain`.
* :func:`send_read` sends an idempotent read (poll, result, download); it retries transport errors, 429, 5xx.

Both return the last :class:`httpx.Response` whenever one arrived (the adapter maps error bodies to the
exception tree) and raise only for transport failures. Messages carry exception *type names*, never request
headers, and are raised outside ``except`` blocks so no httpx exception (whose ``.request`` holds the
Authorization header) is chained to them.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from goldenchain.core.retry import Outcome, backoff_delay, create_may_retry, read_may_retry
from goldenchain.errors import (
    ProviderError,
    ProviderFailed,
    ProviderTimeout,
    ProviderUnreachable,
    SubmissionUncertain,
)
from goldenchain.providers.transport import AiohttpTransport

__all__ = [
    "CREATE_POLICY",
    "DEFAULT_TIMEOUT",
    "READ_POLICY",
    "RequestFactory",
    "ResponseClassifier",
    "RetryPolicy",
    "Sleep",
    "classify",
    "make_client",
    "parse_retry_after",
    "response_outcome",
    "scrub",
    "send_create",
    "send_read",
]

logger = logging.getLogger("goldenchain.providers")

#: never unbounded: connect fast, allow slow reads (downloads of clips), bounded pool wait
DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=60.0, write=60.0, pool=30.0)
#: A bounded pool: a burst of polls reuses a few connections instead of leaving dozens of idle sockets; a
#: request waits for a free one instead (a create that times out waiting for the pool was never sent:
#: ``classify`` calls that a connect error).
DEFAULT_LIMITS = httpx.Limits(max_connections=16, max_keepalive_connections=8)

Sleep = Callable[[float], Awaitable[object]]
RequestFactory = Callable[[], httpx.Request]
ResponseClassifier = Callable[[httpx.Response], "Outcome | None"]


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds of one send loop."""

    max_attempts: int = 4
    base: float = 0.5
    cap: float = 30.0
    #: a Retry-After longer than this ends the loop: the caller raises RateLimited and schedules durably
    max_retry_after: float = 60.0
    #: the least wait after a rate-limit answer (Kling asks >= 1 s on 1303)
    min_rate_limit_delay: float = 1.0


CREATE_POLICY = RetryPolicy(max_attempts=3)
READ_POLICY = RetryPolicy(max_attempts=5)


def make_client(
    base_url: str,
    *,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """An ``AsyncClient`` with explicit connect/read/write/pool timeouts and no default auth headers
    (adapters add credentials per request, so downloads from CDNs never carry them)."""
    if timeout.connect is None or timeout.read is None or timeout.write is None or timeout.pool is None:
        raise ValueError("every timeout (connect, read, write, pool) must be set")
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=timeout,
        transport=transport or AiohttpTransport(DEFAULT_LIMITS),
        follow_redirects=True,
        limits=DEFAULT_LIMITS,
    )


def response_outcome(response: httpx.Response) -> Outcome | None:
    """``None`` for a non-error answer, else its outcome by HTTP status alone."""
    status = response.status_code
    if status < 400:
        return None
    if status == 429:
        return "rate_limited"
    if status >= 500:
        return "server_error"
    return "client_error"


def classify(exc_or_response: BaseException | httpx.Response) -> Outcome:
    """Map an httpx exception or an error response to a :data:`~goldenchain.core.retry.Outcome`.

    Unknown transport failures count as ``sent_no_answer``: for a create, doubt means "maybe billed"."""
    if isinstance(exc_or_response, httpx.Response):
        outcome = response_outcome(exc_or_response)
        if outcome is None:
            raise ValueError(f"HTTP {exc_or_response.status_code} is not a failure")
        return outcome
    exc = exc_or_response
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return "connect_error"  # no connection, so nothing was sent
    if isinstance(exc, httpx.UnsupportedProtocol):
        return "client_error"  # refused locally before connecting; resending cannot help
    return "sent_no_answer"  # ReadTimeout, WriteTimeout, ReadError, WriteError, RemoteProtocolError, ...


def parse_retry_after(response: httpx.Response, *, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP date), or ``None``.

    A ``retry-after-ms`` header (Together) is read first when present and readable."""
    millis = response.headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis.strip()) / 1000.0)
        except ValueError:
            pass
    value = response.headers.get("retry-after")
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def scrub(text: str, secrets: Iterable[str | None]) -> str:
    """Replace every known secret (key, secret key, token) in ``text`` with ``***``."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


def _factory(request: httpx.Request | RequestFactory) -> RequestFactory:
    if isinstance(request, httpx.Request):
        return lambda: request
    return request


def _wait(
    policy: RetryPolicy, attempt: int, response: httpx.Response | None, rng: random.Random | None
) -> float:
    retry_after = None
    if response is not None:
        retry_after = max(parse_retry_after(response) or 0.0, policy.min_rate_limit_delay)
    return backoff_delay(attempt, base=policy.base, cap=policy.cap, retry_after=retry_after, rng=rng)


def _too_long(policy: RetryPolicy, response: httpx.Response) -> bool:
    retry_after = parse_retry_after(response)
    return retry_after is not None and retry_after > policy.max_retry_after


async def send_create(
    client: httpx.AsyncClient,
    request: httpx.Request | RequestFactory,
    *,
    provider: str,
    policy: RetryPolicy = CREATE_POLICY,
    classify_response: ResponseClassifier = response_outcome,
    sleep: Sleep = asyncio.sleep,
    rng: random.Random | None = None,
) -> httpx.Response:
    """Send a paid create request; resend only where :func:`create_may_retry` allows.

    ``request`` may be a factory, called once per attempt (fresh auth headers). ``classify_response``
    decides what an error answer means: Kling's returns ``client_error`` for 429 + billing codes, so they
    are never resent.

    Returns the last response. Raises :class:`SubmissionUncertain` when the request was sent and no answer
    came; :class:`ProviderFailed` (``retryable=True``) when no connection was made in ``max_attempts``."""
    build = _factory(request)
    for attempt in range(1, policy.max_attempts + 1):
        req = build()
        failure: ProviderError | None = None
        response: httpx.Response | None = None
        try:
            response = await client.send(req)
        except httpx.RequestError as exc:
            outcome = classify(exc)
            name = type(exc).__name__
            logger.warning(
                "%s create %s %s: %s %s (attempt %d/%d)",
                provider, req.method, req.url.path, outcome, name, attempt, policy.max_attempts,
            )  # fmt: skip
            if outcome == "sent_no_answer":
                failure = SubmissionUncertain(
                    provider,
                    f"the create request was sent and no answer came ({name}); it may have been accepted "
                    "and billed: reconcile by external id before any resubmit",
                )
            elif not create_may_retry(outcome):
                failure = ProviderFailed(provider, f"the create request could not be sent ({name})")
            elif attempt == policy.max_attempts:
                failure = ProviderUnreachable(
                    provider, f"could not connect after {attempt} attempts ({name})"
                )
        if failure is not None:
            raise failure  # outside the except block: no chained httpx exception
        if response is None:
            await sleep(_wait(policy, attempt, None, rng))
            continue
        outcome_or_none = classify_response(response)
        if outcome_or_none is None or not create_may_retry(outcome_or_none):
            return response
        if attempt == policy.max_attempts or _too_long(policy, response):
            return response
        logger.warning(
            "%s create %s %s: HTTP %d %s (attempt %d/%d)",
            provider, req.method, req.url.path, response.status_code, outcome_or_none, attempt,
            policy.max_attempts,
        )  # fmt: skip
        await sleep(_wait(policy, attempt, response, rng))
    raise AssertionError("unreachable")  # pragma: no cover


async def send_read(
    client: httpx.AsyncClient,
    request: httpx.Request | RequestFactory,
    *,
    provider: str,
    policy: RetryPolicy = READ_POLICY,
    classify_response: ResponseClassifier = response_outcome,
    sleep: Sleep = asyncio.sleep,
    rng: random.Random | None = None,
) -> httpx.Response:
    """Send an idempotent read, retrying transport errors, 429 and 5xx with backoff and jitter, bounded.

    Returns the last response (maybe still a 429/5xx when attempts ran out). Raises :class:`ProviderTimeout`
    or :class:`ProviderFailed` (``retryable=True``) when every attempt failed in transport."""
    build = _factory(request)
    for attempt in range(1, policy.max_attempts + 1):
        req = build()
        failure: ProviderError | None = None
        response: httpx.Response | None = None
        try:
            response = await client.send(req)
        except httpx.RequestError as exc:
            outcome = classify(exc)
            name = type(exc).__name__
            logger.info(
                "%s read %s %s: %s %s (attempt %d/%d)",
                provider, req.method, req.url.path, outcome, name, attempt, policy.max_attempts,
            )  # fmt: skip
            if not read_may_retry(outcome) or attempt == policy.max_attempts:
                reason = f"no answer after {attempt} attempt(s) ({name})"
                if outcome == "connect_error":
                    failure = ProviderUnreachable(provider, reason)
                elif isinstance(exc, httpx.TimeoutException):
                    failure = ProviderTimeout(provider, reason)
                else:
                    failure = ProviderFailed(provider, reason, retryable=read_may_retry(outcome))
        if failure is not None:
            raise failure
        if response is None:
            await sleep(_wait(policy, attempt, None, rng))
            continue
        outcome_or_none = classify_response(response)
        if outcome_or_none is None or not read_may_retry(outcome_or_none):
            return response
        if attempt == policy.max_attempts or _too_long(policy, response):
            return response
        logger.info(
            "%s read %s %s: HTTP %d %s (attempt %d/%d)",
            provider, req.method, req.url.path, response.status_code, outcome_or_none, attempt,
            policy.max_attempts,
        )  # fmt: skip
        rate = response if outcome_or_none == "rate_limited" else None
        await sleep(_wait(policy, attempt, rate, rng))
    raise AssertionError("unreachable")  # pragma: no cover
