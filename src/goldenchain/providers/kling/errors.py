"""Kling's error codes (providers.md §1.8) mapped onto :mod:`goldenchain.errors`.

HTTP 429 is shared by billing (1100-1102), throttling (1302, 1303) and IP policy (1304): every decision here
branches on Kling's ``code``, never on the HTTP status alone.
"""

from __future__ import annotations

from typing import Any

import httpx

from goldenchain.core.retry import Outcome
from goldenchain.errors import (
    AuthError,
    BillingError,
    InvalidInput,
    ModerationError,
    ProviderError,
    ProviderFailed,
    RateLimited,
)
from goldenchain.providers.http import parse_retry_after, response_outcome, scrub

__all__ = [
    "AUTH_CODES",
    "BILLING_CODES",
    "INVALID_CODES",
    "MODERATION_CODES",
    "RATE_CODES",
    "SERVER_CODES",
    "body_of",
    "kling_error",
    "kling_outcome",
    "looks_like_moderation",
]

PROVIDER = "kling"

#: 1000-1004 token/header problems, 1103 no permission for the model, 1304 IP whitelist policy
AUTH_CODES = frozenset({1000, 1001, 1002, 1003, 1004, 1103, 1304})
#: 1100 account exception (chosen as billing: an account-level stop that no key change fixes, sent with the
#: billing codes' HTTP 429), 1101 arrears, 1102 resource pack depleted or expired
BILLING_CODES = frozenset({1100, 1101, 1102})
INVALID_CODES = frozenset({1200, 1201, 1202, 1203})
MODERATION_CODES = frozenset({1300, 1301})
RATE_CODES = frozenset({1302, 1303})
SERVER_CODES = frozenset({5000, 5001, 5002})

_MODERATION_HINTS = (
    "risk control",
    "moderation",
    "inappropriate",
    "sensitive",
    "policy",
    "violat",
    "nsfw",
    "security",
    "风控",
    "审核",
    "敏感",
    "违规",
)


def body_of(response: httpx.Response) -> dict[str, Any]:
    """The JSON object of a response, or ``{}`` when there is none."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _code(body: dict[str, Any]) -> int | None:
    code = body.get("code")
    if isinstance(code, bool):
        return None
    if isinstance(code, int):
        return code
    if isinstance(code, str) and code.strip().isdigit():
        return int(code)
    return None


def kling_outcome(response: httpx.Response) -> Outcome | None:
    """The retry outcome of a Kling answer: only 1302/1303 are rate limits; 429 with any other code
    (1100-1102 billing, 1304 IP policy, or no code at all) is final."""
    outcome = response_outcome(response)
    if outcome is None:
        return None
    code = _code(body_of(response))
    if code in RATE_CODES:
        return "rate_limited"
    if outcome == "rate_limited":
        return "client_error"
    if code in SERVER_CODES:
        return "server_error"
    return outcome


def looks_like_moderation(message: str) -> bool:
    low = message.lower()
    return any(hint in low for hint in _MODERATION_HINTS)


def kling_error(
    response: httpx.Response, *, secrets: tuple[str, ...] = (), task_id: str | None = None
) -> ProviderError:
    """The exception for a Kling error answer (non-200, or 200 with a non-zero ``code``)."""
    body = body_of(response)
    code = _code(body)
    status = response.status_code
    message = body.get("message")
    reason = message if isinstance(message, str) and message else f"HTTP {status} without a message"
    reason = scrub(reason, secrets)
    request_id = body.get("request_id") if isinstance(body.get("request_id"), str) else None
    kw: dict[str, Any] = {
        "status_code": status,
        "code": code,
        "request_id": request_id,
        "task_id": task_id,
    }
    if code in AUTH_CODES:
        return AuthError(PROVIDER, reason, **kw)
    if code in BILLING_CODES:
        return BillingError(PROVIDER, reason, **kw)
    if code in INVALID_CODES:
        return InvalidInput(PROVIDER, reason, **kw)
    if code in MODERATION_CODES:
        return ModerationError(PROVIDER, reason, **kw)
    if code in RATE_CODES:
        return RateLimited(PROVIDER, reason, retry_after=parse_retry_after(response), **kw)
    if code in SERVER_CODES or status >= 500:
        return ProviderFailed(PROVIDER, reason, retryable=True, **kw)
    # an undocumented code: decide by HTTP status, never guessing "rate limit" for a 429
    if status in (401, 403):
        return AuthError(PROVIDER, reason, **kw)
    if status in (400, 404, 422):
        return InvalidInput(PROVIDER, reason, **kw)
    return ProviderFailed(PROVIDER, reason, **kw)
