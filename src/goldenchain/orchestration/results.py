"""What the durable steps and workflows return: frozen, typed, with ``Literal`` outcomes.

The engine records each step's result and hands the same value back when a workflow is replayed after a crash,
so these are plain data: no ledger objects, nothing that reads the database.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

#: a start step's outcome: ``ok`` (downloaded before), ``submitted`` (polling follows), ``retry`` (the environment
#: failed; try the create again later), ``blocked`` (the environment failed for good: the take is not used up),
#: ``failed`` / ``invalid`` (the take is used up), ``stop`` (a budget: nothing more is spent this run)
StartOutcome = Literal["ok", "submitted", "retry", "blocked", "failed", "invalid", "stop"]
#: a poll's state: ``pending`` (ask again), ``downloaded``, ``failed``, ``blocked`` (the environment), ``stop``
PollState = Literal["pending", "downloaded", "failed", "blocked", "stop"]
#: a paid take's end, as its shot sees it
TakeOutcome = Literal["ok", "blocked", "failed", "invalid", "stop"]
#: a check's verdict on a take; a person's review is one too (``by="review"``)
Verdict = Literal["pass", "warn", "reject"]
#: environment failures that may pass while a take waits
EnvClass = Literal["network", "rate_limit", "outage"]


@dataclass(frozen=True, slots=True)
class TaskRef:
    """What polling and the download need of an accepted create, carried in the start step's recorded result
    so that a poll reads nothing from the ledger. ``hook``: the receiver route whose callbacks wake the polls
    (None: polling alone)."""

    provider: str
    kind: str
    stage: str
    model: str
    task_id: str | None
    handle: dict[str, Any]
    estimate_usd: float
    accepted_at: float
    hook: str | None = None


@dataclass(frozen=True, slots=True)
class StartResult:
    outcome: StartOutcome
    take_id: int | None = None
    sha256: str | None = None  # outcome ok
    task: TaskRef | None = None  # outcome submitted
    failure_class: str | None = None
    reason: str | None = None
    detail: str | None = None  # outcome blocked: why, and what a person can do
    provider: str | None = None
    retry_after: float | None = None  # outcome retry
    at: float | None = None  # outcome retry: when the environment failed


@dataclass(frozen=True, slots=True)
class PollResult:
    state: PollState
    at: float | None = None  # pending: when it asked
    sha256: str | None = None  # downloaded
    failure_class: str | None = None
    reason: str | None = None
    env: EnvClass | None = None  # pending because the environment failed (not because the task runs)


@dataclass(frozen=True, slots=True)
class PrepareResult:
    """A take's ledger row, found or created without sending anything."""

    take_id: int
    state: str
    failure_class: str | None
    reason: str | None


@dataclass(frozen=True, slots=True)
class DraftPick:
    """The draft a final still is made from, and why: ``chosen`` by a person, or the newest that passed the
    ``gate``."""

    take_id: int
    take_no: int
    how: Literal["chosen", "gate"]

    def describe(self) -> str:
        why = "chosen in review" if self.how == "chosen" else "the newest that passed the gate"
        return f"final still from draft {self.take_no} ({why})"


@dataclass(frozen=True, slots=True)
class TakeResult:
    take_no: int
    outcome: TakeOutcome
    take_id: int | None = None
    sha256: str | None = None
    failure_class: str | None = None
    reason: str | None = None
    detail: str | None = None

    @property
    def retakeable(self) -> bool:
        """A take's own failure after which another take may succeed (anything else ends the shot)."""
        return self.failure_class in RETAKE_CLASSES

    def describe(self, stage: str) -> str:
        return f"{stage} take {self.take_no}: {self.failure_class}: {self.reason}"


#: take failures after which another take may succeed
RETAKE_CLASSES = ("moderation", "provider_error", "ambiguous", "timeout", "rate_limit")


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The image gate's or the clip check's verdict on a take (or a person's, ``by="review"``)."""

    verdict: Verdict
    reasons: tuple[str, ...] = ()
    by: Literal["review"] | None = None
    detail: str | None = None  # on a reject: the shot's detail, saying which take and why

    @property
    def rejected(self) -> bool:
        return self.verdict == "reject"


ShotStatus = Literal["done", "stills_done", "drafts_ready", "failed", "blocked", "stopped", "needs_review"]


@dataclass(frozen=True, slots=True)
class ShotResult:
    """A shot workflow's end (``run`` reports these)."""

    shot: str
    status: ShotStatus
    stage: str
    detail: str | None = None
    still_take_id: int | None = None
    clip_take_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        return {k: v for k, v in out.items() if v is not None or k == "detail"}

    @classmethod
    def of(cls, value: Any) -> ShotResult:
        """A recorded shot result: this class, or the dict an older release recorded."""
        if isinstance(value, ShotResult):
            return value
        known = {
            k: value.get(k) for k in ("shot", "status", "stage", "detail", "still_take_id", "clip_take_id")
        }
        return cls(**known)
