"""Pure retry decisions: when a request may be sent again, and how long to wait first.

Creates (paid calls) and reads (polls, downloads) follow different rules:

* a **read** may be retried on any transport error, timeout, 429 or 5xx;
* a **create** may be retried only when the request provably never left the machine
  (``connect`` error or connect timeout) or the provider refused it *before* accepting it
  (a rate or concurrency limit). A read timeout or a dropped connection after the request was
  sent is *ambiguous*: the provider may have accepted it and will bill it.
"""

from __future__ import annotations

import random
from typing import Literal

Outcome = Literal[
    "connect_error",  # DNS failure, refused, connect timeout: nothing was sent
    "sent_no_answer",  # read timeout, dropped connection, remote closed after sending
    "rate_limited",  # 429 rate or concurrency limit, explicitly not accepted
    "server_error",  # 5xx
    "client_error",  # other 4xx
]


def create_may_retry(outcome: Outcome) -> bool:
    """May a paid create call be sent again after this outcome?"""
    return outcome in ("connect_error", "rate_limited")


def read_may_retry(outcome: Outcome) -> bool:
    """May an idempotent read (poll, result, download) be sent again?"""
    return outcome != "client_error"


def backoff_delay(
    attempt: int,
    *,
    base: float = 0.5,
    cap: float = 30.0,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait before retry number ``attempt`` (1-based): exponential with full jitter,
    never less than the provider's ``Retry-After`` and never more than ``cap`` (unless Retry-After says so)."""
    if attempt < 1:
        raise ValueError("attempt is 1-based")
    r = rng or random
    ceiling = min(cap, base * (2 ** (attempt - 1)))
    delay = ceiling / 2 + r.random() * ceiling / 2
    if retry_after is not None and retry_after > delay:
        return float(retry_after)
    return delay
