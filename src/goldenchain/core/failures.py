"""Two kinds of failure, kept apart everywhere.

* A **take's** failure (moderation, a gate or clip-check reject, a generation the provider failed) uses up
  that take; the shot may try another.
* An **environment's** failure (a key refused, no credit, no connection, a rate or concurrency limit that
  outlasted its retries, a provider outage) uses up nothing: the provider route is paused (a circuit breaker
  shared by every shot and worker), the shot stops as ``blocked`` with what a person can do, and the next run
  after the fix picks the same take up again. No money rule changes: an ambiguous create is still reconciled
  or held, never resent.
* The ledger's own **database** going away (class ``database``) is an environment failure too, that every
  step waits out instead: nothing is paused or blocked, and the work goes on when it is back.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ENVIRONMENT_CLASSES",
    "Breaker",
    "blocked_detail",
    "breaker_backoff",
    "fix_for",
    "is_environment",
]

#: failure classes that say nothing about the take, only about the setup or the provider's health
ENVIRONMENT_CLASSES = frozenset({"auth", "billing", "network", "rate_limit", "outage", "database"})
#: classes that no amount of waiting mends: a person has to act before the route is tried again
NEEDS_A_PERSON = frozenset({"auth", "billing"})

_FIXES = {
    "auth": "check the {provider} key (goldenchain doctor), then run again",
    "billing": "top up the {provider} account or resource pack, then run again",
    "network": "check the network and the {provider} base URL, then run again",
    "rate_limit": "run again later, or lower [engine.concurrency] {provider}",
    "outage": "{provider} is failing; run again later",
    "database": "check that the ledger's database is running (goldenchain doctor), then run again",
}


def is_environment(failure_class: str | None) -> bool:
    return failure_class in ENVIRONMENT_CLASSES


def fix_for(failure_class: str, provider: str) -> str:
    return _FIXES.get(failure_class, "see goldenchain failures").format(provider=provider)


def blocked_detail(failure_class: str, provider: str, reason: str) -> str:
    """``blocked: <why>; <what a person can do>`` (one line, the provider's own words kept)."""
    why = " ".join(reason.split())[:300]
    return f"blocked: {provider} {failure_class}: {why}; {fix_for(failure_class, provider)}"


def breaker_backoff(trips: int, *, base: float = 5.0, cap: float = 60.0) -> float:
    """Seconds a route stays paused after its ``trips``-th consecutive environment failure."""
    return min(cap, base * 2 ** max(0, trips - 1))


@dataclass(frozen=True)
class Breaker:
    """A provider route's circuit breaker as the ledger keeps it. ``until`` None: closed; ``inf``: open until
    a person acts (the next ``goldenchain run`` closes it)."""

    route: str
    failure_class: str | None
    reason: str | None
    trips: int
    until: float | None

    def open_at(self, now: float) -> bool:
        return self.until is not None and now < self.until

    def waits_for_a_person(self) -> bool:
        return self.failure_class in NEEDS_A_PERSON and self.until is not None
