"""Fault plans: deterministic, per-provider, each fault fires exactly once.

A :class:`Fault` names a provider, an *operation stream* and an ordinal in it:

``op`` (what is counted; 1-based ``nth``):
  * ``create``  — create/submit requests received (Kling ``POST /v1/videos/...``, fal queue submit, fal run,
    Replicate ``POST .../predictions``, Together ``POST /v1/images/generations``);
  * ``task``    — tasks accepted (a create that made a task); outcome faults attach to that task;
  * ``poll``    — status queries (Kling ``GET .../{task_id}`` or ``?external_task_id=``, fal ``.../status``,
    Replicate ``GET /v1/predictions/{id}``; Together is synchronous and has none);
  * ``result``  — fal result fetches (``GET .../requests/{id}``);
  * ``file``    — media downloads (``/files/...``), provider ``"files"``.

``endpoint`` (optional) restricts the fault to requests whose model/endpoint id starts with it
(``"fal-ai/flux"``, ``"image2video"``); only matching requests advance that fault's counter.

Request faults (answer instead of / after handling the request): ``rate_limit`` (Kling 429/1302, fal 429),
``concurrency`` (Kling 429/1303), ``billing`` / ``billing_1102`` (Kling 429/1102, fal 403 exhausted balance),
``billing_1101`` (Kling 429/1101), ``auth`` (Kling 401/1000, fal 401), ``content_policy`` at ``create``
(Kling 400/1301, fal 422), ``server_error`` (500/5000; fal 500), ``unavailable`` (503/5001; fal 503
``runner_scheduling_failure``), ``timeout`` (504/5002; fal 504 ``request_timeout``), ``drop`` (close the
connection without answering, nothing done), ``stall`` (hold the connection without answering until the client
gives up, nothing done), ``drop_after_accept`` / ``stall_after_accept`` (``create`` only: the task IS made,
then no answer), ``slow_after_accept`` (``create`` only, fal: the task is made and its usual answer comes
``slow_seconds`` late), ``invalid`` (Kling 400/1201, fal 422 ``detail`` list, Replicate 422 problem document,
Together 400), ``not_found`` (Kling 404/1203, fal/Replicate/Together 404 unknown model),
``unavailable_no_retry`` (as ``unavailable``; Together adds ``x-should-retry: false``).

Replicate: ``rate_limit``/``concurrency`` are 429 with ``detail`` and ``Retry-After``, ``billing*`` 402
insufficient credit, ``auth`` 401, ``content_policy`` at ``create`` accepts the prediction, which then fails
with an NSFW error (Replicate has no submit-time content check). Together: ``rate_limit`` 429 with
``retry-after``, ``billing*`` 402, ``auth`` 401, ``content_policy`` 422 safety refusal, ``timeout`` 504.

Task faults (``op="task"``): ``content_policy`` (Kling task ends ``failed`` with a risk-control message;
fal result is 422 ``content_policy_violation``), ``failed`` (Kling ``failed`` with an internal error; fal
result 500), ``stuck`` (never leaves processing / IN_PROGRESS), ``result_404`` (the media file 404s),
``bad_still`` (an under-exposed, nearly black still), ``blurry_still``, ``nsfw`` (fal: black image and
``has_nsfw_concepts: [true]``; Replicate: ``failed`` with an NSFW error; Together: a black image),
``freeze`` / ``black`` (defective clip), ``data_removed`` (Replicate: ``succeeded`` with ``output: null`` and
``data_removed: true``, the 1-hour removal).

A scenario may also change how the models behave on every request (a :class:`Drift`, not a fault that fires
once): ``drift`` is a silent model update as a calibration run sees it (``goldenchain calibrate``): Kling clips
bill 1.5x the units and take 6x as long, every still comes out at 80 % brightness, and FLUX on fal refuses
prompts that mention a cyclist for moderation.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

__all__ = [
    "NO_DRIFT",
    "REQUEST_KINDS",
    "SCENARIOS",
    "TASK_KINDS",
    "Drift",
    "Fault",
    "FaultPlan",
    "scenario_drift",
    "scenario_faults",
]

REQUEST_KINDS = frozenset(
    {
        "rate_limit", "concurrency", "billing", "billing_1101", "billing_1102", "auth", "content_policy",
        "server_error", "unavailable", "timeout", "drop", "stall", "drop_after_accept", "stall_after_accept",
        "slow_after_accept", "invalid", "not_found", "unavailable_no_retry",
    }
)  # fmt: skip
TASK_KINDS = frozenset(
    {
        "content_policy",
        "failed",
        "stuck",
        "result_404",
        "bad_still",
        "blurry_still",
        "nsfw",
        "freeze",
        "black",
        "data_removed",
    }
)
OPS = frozenset({"create", "task", "poll", "result", "file"})
PROVIDERS = frozenset({"kling", "fal", "files", "replicate", "together"})


@dataclass(frozen=True)
class Fault:
    provider: str
    op: str
    nth: int
    kind: str
    endpoint: str | None = None

    def __post_init__(self) -> None:
        if self.provider not in PROVIDERS:
            raise ValueError(f"unknown provider {self.provider!r}")
        if self.op not in OPS:
            raise ValueError(f"unknown op {self.op!r}; one of {sorted(OPS)}")
        if self.nth < 1:
            raise ValueError("nth is 1-based")
        kinds = TASK_KINDS if self.op == "task" else REQUEST_KINDS
        if self.kind not in kinds:
            raise ValueError(
                f"fault kind {self.kind!r} does not apply to op {self.op!r}; one of {sorted(kinds)}"
            )
        if self.kind.endswith("_after_accept") and self.op != "create":
            raise ValueError(f"{self.kind} only applies to op 'create'")


@dataclass
class FaultPlan:
    """Thread-safe: each fault keeps its own counter of matching events and fires once, on its nth."""

    faults: list[Fault]
    counts: dict[int, int] = field(default_factory=dict)
    fired: list[tuple[Fault, int]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def next(self, provider: str, op: str, endpoint: str = "") -> str | None:
        """Count one event; return the kind of the first fault that fires on it (if any)."""
        hit: str | None = None
        with self._lock:
            for i, fault in enumerate(self.faults):
                if fault.provider != provider or fault.op != op:
                    continue
                if fault.endpoint and not endpoint.startswith(fault.endpoint):
                    continue
                self.counts[i] = self.counts.get(i, 0) + 1
                if self.counts[i] == fault.nth and hit is None:
                    hit = fault.kind
                    self.fired.append((fault, self.counts[i]))
        return hit

    @property
    def pending(self) -> list[Fault]:
        done = {id(f) for f, _ in self.fired}
        return [f for f in self.faults if id(f) not in done]


def _demo() -> list[Fault]:
    return [
        Fault("fal", "create", 1, "rate_limit"),  # 1st fal submit: transient 429, no request made
        Fault("fal", "task", 1, "bad_still", endpoint="fal-ai/flux"),  # 1st FLUX result: nearly black
        Fault("fal", "task", 3, "content_policy", endpoint="fal-ai/flux"),  # 3rd FLUX: 422 at result
        Fault("kling", "create", 2, "concurrency"),  # 2nd Kling create: 429/1303, no task made
        Fault("kling", "task", 2, "content_policy"),  # 2nd Kling task: failed (risk control) at poll
        Fault("kling", "task", 3, "freeze"),  # 3rd Kling task: clip with a 1.6 s freeze
    ]


def _flaky() -> list[Fault]:
    return [
        Fault("kling", "create", 1, "rate_limit"),  # 429/1302, not accepted
        Fault("kling", "create", 2, "stall_after_accept"),  # accepted, then no answer: reconcile!
        Fault("kling", "create", 4, "unavailable"),  # 503/5001, not accepted
        Fault("kling", "create", 6, "drop_after_accept"),  # accepted, then the connection closes
        Fault("kling", "poll", 2, "server_error"),  # 500/5000
        Fault("kling", "poll", 4, "drop"),
        Fault("kling", "poll", 6, "stall"),
        Fault("kling", "poll", 9, "timeout"),  # 504/5002
        Fault("fal", "create", 1, "rate_limit"),  # 429
        Fault("fal", "create", 3, "unavailable"),  # 503 runner_scheduling_failure
        Fault("fal", "poll", 2, "drop"),
        Fault("fal", "poll", 4, "stall"),
        Fault("fal", "poll", 6, "server_error"),
        Fault("fal", "result", 2, "timeout"),  # 504 request_timeout on a result GET
        Fault("files", "file", 2, "drop"),
        Fault("replicate", "create", 1, "rate_limit"),  # 429 + Retry-After, not accepted
        Fault("replicate", "poll", 2, "unavailable"),  # 503 on a GET (the official client retries it)
        Fault("replicate", "poll", 4, "drop"),
        Fault("together", "create", 1, "rate_limit"),  # 429 + retry-after, not accepted
        Fault("together", "create", 3, "unavailable"),  # 503 Overloaded, not accepted
    ]


@dataclass(frozen=True)
class Drift:
    """How a scenario changes the models on every request (1.0 and no words: unchanged)."""

    price: float = 1.0  #: Kling: factor on the units a task bills
    latency: float = 1.0  #: Kling: factor on the time a task takes
    dim: float = 1.0  #: every still route: factor on a still's brightness
    refuse: tuple[str, ...] = ()  #: FLUX on fal: a prompt with one of these words is refused (moderation)

    def refuses(self, prompt: object) -> bool:
        words = set(str(prompt or "").lower().replace(",", " ").split())
        return any(w in words for w in self.refuse)


NO_DRIFT = Drift()
#: scenarios that change the models' behaviour; the others leave it as it is
DRIFTS = {"drift": Drift(price=1.5, latency=6.0, dim=0.8, refuse=("cyclist",))}


def scenario_drift(name: str) -> Drift:
    """The scenario's change in the models' behaviour (none for most)."""
    return DRIFTS.get(name, NO_DRIFT)


#: the scripted faults of each scenario; the failure rules each one turns on are in ``rules.SCENARIO_RULES``
#: (``field``: no scripted fault, only the guide's failure modes, drawn by request)
SCENARIOS = {"clean": list, "demo": _demo, "flaky": _flaky, "field": list, "drift": list}


def scenario_faults(name: str) -> list[Fault]:
    try:
        return list(SCENARIOS[name]())
    except KeyError:
        raise ValueError(f"unknown scenario {name!r}; one of {sorted(SCENARIOS)}") from None
