"""Provider × fault matrix: every fault of providers.md §5.5, at submit and at poll time where the real API
allows it, run through the real adapters against the emulator with a money-safe driver that follows the
orchestration's rules (``orchestration/steps.py``: ``start_take``, ``poll_take`` and its download).

Each row asserts: the accepted (paid) creates in the emulator's log (never more than one per take), the failure
class recorded first, the final outcome and whether the run continues (the result is downloaded).
``docs/fault-matrix.md`` is generated from :data:`ROWS` by ``scripts/gen_fault_matrix.py``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from goldenchain.emulator import Emulator, Fault
from goldenchain.emulator.media import encode_image, render_still
from goldenchain.errors import (
    InvalidInput,
    ModerationError,
    ProviderError,
    RateLimited,
    ResultExpired,
    SubmissionUncertain,
)
from goldenchain.orchestration.steps import STOP_CLASSES
from goldenchain.orchestration.workflows import MAX_SUBMIT_RETRIES
from goldenchain.providers import (
    ClipRequest,
    FalFluxTextToImage,
    FalKlingImageToVideo,
    KlingImageToVideo,
    Pending,
    ReplicateFluxTextToImage,
    ReplicateKlingImageToVideo,
    RetryPolicy,
    StillRequest,
    Submitted,
    Succeeded,
    TogetherFluxTextToImage,
)

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "fault-matrix.md"

# -- the table --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    provider: str  # emulator provider (the log's "provider")
    adapter: str  # key of ADAPTERS
    op: str  # "create" | "poll" | "task" | "result" | "file" | "-"
    kind: str  # fault kind, "clean" for none
    wire: str  # what the emulator answers
    expect: str | None  # the failure class recorded first (None: no failure seen)
    outcome: str  # "ok" | "stop" | "failed" | "needs_review"
    creates: int  # accepted (paid) creates in the emulator's log

    @property
    def id(self) -> str:
        return f"{self.adapter}-{self.op}-{self.kind}"

    @property
    def continues(self) -> bool:
        return self.outcome == "ok"

    def faults(self) -> list[Fault]:
        if self.op == "-":
            return []
        provider = "files" if self.op == "file" else self.provider
        return [Fault(provider, self.op, 1, self.kind)]


def _rows() -> list[Row]:
    R = Row
    return [
        # Kling official API: lookup by external_task_id resolves every doubtful create
        R("kling", "kling", "-", "clean", "200, submitted → succeed", None, "ok", 1),
        R("kling", "kling", "create", "rate_limit", "429/1302", "rate_limit", "ok", 1),
        R("kling", "kling", "create", "concurrency", "429/1303", "rate_limit", "ok", 1),
        R("kling", "kling", "create", "billing_1101", "429/1101 arrears", "billing", "stop", 0),
        R("kling", "kling", "create", "billing_1102", "429/1102 pack depleted", "billing", "stop", 0),
        R("kling", "kling", "create", "auth", "401/1000", "auth", "stop", 0),
        R("kling", "kling", "create", "content_policy", "400/1301", "moderation", "failed", 0),
        R("kling", "kling", "create", "invalid", "400/1201", "invalid_input", "failed", 0),
        R("kling", "kling", "create", "not_found", "404/1203", "invalid_input", "failed", 0),
        R("kling", "kling", "create", "server_error", "500/5000 → lookup: none → resubmit", "ambiguous", "ok", 1),
        R("kling", "kling", "create", "unavailable", "503/5001 → lookup: none → resubmit", "ambiguous", "ok", 1),
        R("kling", "kling", "create", "timeout", "504/5002 → lookup: none → resubmit", "ambiguous", "ok", 1),
        R("kling", "kling", "create", "drop", "connection closed, no task → lookup → resubmit", "ambiguous", "ok", 1),
        R("kling", "kling", "create", "stall", "no answer, no task → lookup → resubmit", "ambiguous", "ok", 1),
        R("kling", "kling", "create", "drop_after_accept", "task made, connection closed → lookup finds it",
          "ambiguous", "ok", 1),
        R("kling", "kling", "create", "stall_after_accept", "task made, no answer → lookup finds it",
          "ambiguous", "ok", 1),
        R("kling", "kling", "poll", "rate_limit", "429/1302 on a query", "rate_limit", "ok", 1),
        R("kling", "kling", "poll", "server_error", "500/5000 on a query", "provider_error", "ok", 1),
        R("kling", "kling", "poll", "unavailable", "503/5001 on a query", "provider_error", "ok", 1),
        R("kling", "kling", "poll", "timeout", "504/5002 on a query", "provider_error", "ok", 1),
        R("kling", "kling", "poll", "drop", "query connection closed", "provider_error", "ok", 1),
        R("kling", "kling", "poll", "stall", "query never answered", "timeout", "ok", 1),
        R("kling", "kling", "poll", "auth", "401/1000 on a query", "auth", "stop", 1),
        R("kling", "kling", "task", "content_policy", "failed: risk control", "moderation", "failed", 1),
        R("kling", "kling", "task", "failed", "failed: internal error", "provider_error", "failed", 1),
        R("kling", "kling", "task", "stuck", "processing forever", "timeout", "failed", 1),
        R("kling", "kling", "task", "result_404", "result URL 404 (30-day expiry)", "provider_error",
          "needs_review", 1),
        R("kling", "kling", "file", "drop", "download connection closed once", "provider_error", "ok", 1),
        # fal queue (FLUX): no lookup by our id, so a doubtful submit goes to review
        R("fal", "fal", "-", "clean", "IN_QUEUE → IN_PROGRESS → COMPLETED", None, "ok", 1),
        R("fal", "fal", "create", "rate_limit", "429 on submit", "rate_limit", "ok", 1),
        R("fal", "fal", "create", "billing", "403 Exhausted balance", "billing", "stop", 0),
        R("fal", "fal", "create", "auth", "401", "auth", "stop", 0),
        R("fal", "fal", "create", "content_policy", "422 content_policy_violation", "moderation", "failed", 0),
        R("fal", "fal", "create", "invalid", "422 detail list", "invalid_input", "failed", 0),
        R("fal", "fal", "create", "not_found", "404 unknown application", "invalid_input", "failed", 0),
        R("fal", "fal", "create", "unavailable", "503 runner_scheduling_failure (not queued)", "provider_error",
          "ok", 1),
        R("fal", "fal", "create", "timeout", "504 request_timeout (not queued)", "provider_error", "ok", 1),
        R("fal", "fal", "create", "server_error", "500 without error_type", "ambiguous", "needs_review", 0),
        R("fal", "fal", "create", "stall", "no answer", "ambiguous", "needs_review", 0),
        R("fal", "fal", "create", "drop_after_accept", "queued, connection closed", "ambiguous",
          "needs_review", 1),
        R("fal", "fal", "poll", "rate_limit", "429 on status", "rate_limit", "ok", 1),
        R("fal", "fal", "poll", "server_error", "500 on status", "provider_error", "ok", 1),
        R("fal", "fal", "poll", "unavailable", "503 on status", "provider_error", "ok", 1),
        R("fal", "fal", "poll", "drop", "status connection closed", "provider_error", "ok", 1),
        R("fal", "fal", "poll", "stall", "status never answered", "timeout", "ok", 1),
        R("fal", "fal", "result", "timeout", "504 request_timeout on the result GET", "provider_error",
          "failed", 1),
        R("fal", "fal", "task", "content_policy", "COMPLETED, result 422 content_policy_violation",
          "moderation", "failed", 1),
        R("fal", "fal", "task", "nsfw", "has_nsfw_concepts: [true]", "moderation", "failed", 1),
        R("fal", "fal", "task", "failed", "COMPLETED, result 500", "provider_error", "failed", 1),
        R("fal", "fal", "task", "stuck", "IN_PROGRESS forever", "timeout", "failed", 1),
        R("fal", "fal", "task", "result_404", "CDN 404", "provider_error", "needs_review", 1),
        R("fal", "fal-kling", "-", "clean", "Kling on fal: COMPLETED with a video", None, "ok", 1),
        R("fal", "fal-kling", "task", "content_policy", "result 422 content_policy_violation", "moderation",
          "failed", 1),
        # Replicate: no lookup by our id; 5xx or silence on create goes to review
        R("replicate", "replicate", "-", "clean", "201 starting → processing → succeeded", None, "ok", 1),
        R("replicate", "replicate-wait", "-", "clean", "Prefer: wait → 201 succeeded", None, "ok", 1),
        R("replicate", "replicate", "create", "rate_limit", "429 detail + Retry-After", "rate_limit", "ok", 1),
        R("replicate", "replicate", "create", "billing", "402 Insufficient credit", "billing", "stop", 0),
        R("replicate", "replicate", "create", "auth", "401", "auth", "stop", 0),
        R("replicate", "replicate", "create", "invalid", "422 Input validation failed", "invalid_input",
          "failed", 0),
        R("replicate", "replicate", "create", "not_found", "404 unknown model", "invalid_input", "failed", 0),
        R("replicate", "replicate", "create", "server_error", "500 on create", "ambiguous", "needs_review", 0),
        R("replicate", "replicate", "create", "unavailable", "503 on create", "ambiguous", "needs_review", 0),
        R("replicate", "replicate", "create", "stall", "no answer", "ambiguous", "needs_review", 0),
        R("replicate", "replicate", "create", "drop_after_accept", "created, connection closed", "ambiguous",
          "needs_review", 1),
        R("replicate", "replicate", "poll", "rate_limit", "429 + Retry-After on GET", "rate_limit", "ok", 1),
        R("replicate", "replicate", "poll", "server_error", "500 on GET", "provider_error", "ok", 1),
        R("replicate", "replicate", "poll", "unavailable", "503 on GET", "provider_error", "ok", 1),
        R("replicate", "replicate", "poll", "timeout", "504 on GET", "provider_error", "ok", 1),
        R("replicate", "replicate", "poll", "drop", "GET connection closed", "provider_error", "ok", 1),
        R("replicate", "replicate", "poll", "stall", "GET never answered", "timeout", "ok", 1),
        R("replicate", "replicate", "task", "nsfw", "failed: NSFW content detected", "moderation", "failed", 1),
        R("replicate", "replicate", "task", "failed", "failed: model error", "provider_error", "failed", 1),
        R("replicate", "replicate", "task", "stuck", "processing forever", "timeout", "failed", 1),
        R("replicate", "replicate", "task", "data_removed", "succeeded, output null, data_removed",
          "provider_error", "failed", 1),
        R("replicate", "replicate", "task", "result_404", "delivery URL 404", "provider_error", "needs_review",
          1),
        R("replicate", "replicate-kling", "-", "clean", "Kling on Replicate: one URL string", None, "ok", 1),
        R("replicate", "replicate-kling", "task", "nsfw", "failed: NSFW content detected", "moderation",
          "failed", 1),
        # Together: synchronous; no job to look up, so silence after sending goes to review
        R("together", "together", "-", "clean", "200 data[].url", None, "ok", 1),
        R("together", "together-b64", "-", "clean", "200 data[].b64_json", None, "ok", 1),
        R("together", "together", "create", "rate_limit", "429 + retry-after", "rate_limit", "ok", 1),
        R("together", "together", "create", "billing", "402 insufficient credits", "billing", "stop", 0),
        R("together", "together", "create", "auth", "401 invalid_api_key", "auth", "stop", 0),
        R("together", "together", "create", "content_policy", "422 safety refusal", "moderation", "failed", 0),
        R("together", "together", "create", "invalid", "400 invalid_request_error", "invalid_input", "failed", 0),
        R("together", "together", "create", "not_found", "404 model_not_available", "invalid_input", "failed",
          0),
        R("together", "together", "create", "server_error", "500 (not generated)", "provider_error", "ok", 1),
        R("together", "together", "create", "unavailable", "503 Overloaded", "provider_error", "ok", 1),
        R("together", "together", "create", "unavailable_no_retry", "503 + x-should-retry: false",
          "provider_error", "ok", 1),
        R("together", "together", "create", "timeout", "504 Timeout", "ambiguous", "needs_review", 0),
        R("together", "together", "create", "stall", "no answer", "ambiguous", "needs_review", 0),
        R("together", "together", "create", "stall_after_accept", "generated, no answer", "ambiguous",
          "needs_review", 1),
        R("together", "together", "create", "drop_after_accept", "generated, connection closed", "ambiguous",
          "needs_review", 1),
        R("together", "together", "task", "nsfw", "200 with a blank image (not detectable here)", None, "ok",
          1),
        R("together", "together", "task", "result_404", "image URL 404", "provider_error", "needs_review", 1),
    ]  # fmt: skip


ROWS: list[Row] = _rows()


def render_matrix(rows: list[Row] = ROWS) -> str:
    """The markdown of ``docs/fault-matrix.md``."""
    lines = [
        "# Fault matrix",
        "",
        "Generated by `scripts/gen_fault_matrix.py` from `tests/faults/test_fault_matrix.py` (`ROWS`); "
        "`tests/faults` fails when this file is stale.",
        "",
        "Each row runs the real adapter against the emulator (scenario `clean` plus one scripted fault) through a "
        "driver that follows the orchestration's rules: submit once; on `SubmissionUncertain` look the take up "
        "by our id where the provider allows it (Kling), else stop for review; resend a create only after "
        "`RateLimited` or a provider error that proves nothing was made; stop on `BillingError`/`AuthError`; "
        "keep polling on retryable errors. Adapter retry loops are set to one attempt so every fault reaches "
        "the driver.",
        "",
        "* **class**: the failure class recorded first (`—`: none).",
        "* **paid creates**: creates the emulator accepted for the take (never more than one).",
        "* **outcome**: `ok` (result downloaded, the run continues), `stop` (the run stops), `failed` (this "
        "take failed; a retake may follow), `needs_review` (paid or maybe paid, held for a human).",
        "",
        "| provider | adapter | op | fault | emulator answers | class | paid creates | outcome | continues |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.provider} | {r.adapter} | {r.op} | `{r.kind}` | {r.wire} | {r.expect or '—'} | {r.creates} "
            f"| {r.outcome} | {'yes' if r.continues else 'no'} |"
        )
    return "\n".join(lines) + "\n"


# -- the driver -------------------------------------------------------------------------------------------

ONE = RetryPolicy(max_attempts=1, base=0.01, cap=0.02, min_rate_limit_delay=0.0)
POLL_INTERVAL = 0.02
POLL_BUDGET = 1.2  # seconds; the emulator's tasks finish in LATENCY
LATENCY = 0.06


@dataclass
class Result:
    outcome: str = "ok"
    classes: list[str] = field(default_factory=list)
    final: str | None = None
    downloaded: int = 0

    def saw(self, err: ProviderError) -> None:
        self.classes.append(err.failure_class)

    def end(self, outcome: str, cls: str | None) -> Result:
        self.outcome, self.final = outcome, cls
        return self


async def _nap(seconds: float) -> None:
    await asyncio.sleep(min(seconds, 0.02))


async def drive(adapter: Any, request: Any) -> Result:
    """One take, by the rules of ``start_take`` / ``paid_take`` / ``poll_take`` (which downloads)."""
    res = Result()
    sub: Submitted | None = None
    for _ in range(MAX_SUBMIT_RETRIES):
        try:
            adapter.check_inputs(request)
        except (InvalidInput, ValueError):
            return res.end("failed", "invalid_input")
        try:
            sub = await adapter.submit(request)
            break
        except SubmissionUncertain as e:
            res.saw(e)
            if not adapter.lookup_by_external_id:
                return res.end("needs_review", "ambiguous")
            sub = await adapter.find_by_external_id(request.external_id)
            if sub is not None:
                break
        except RateLimited as e:
            res.saw(e)
        except STOP_CLASSES as e:
            res.saw(e)
            return res.end("stop", e.failure_class)
        except ModerationError as e:
            res.saw(e)
            return res.end("failed", "moderation")
        except InvalidInput as e:
            res.saw(e)
            return res.end("failed", "invalid_input")
        except ProviderError as e:  # refused before acceptance (5xx that proves nothing was made)
            res.saw(e)
            if adapter.lookup_by_external_id:
                sub = await adapter.find_by_external_id(request.external_id)
                if sub is not None:
                    break
        await _nap(1.0)
    if sub is None:
        return res.end("failed", "rate_limit")

    deadline = time.monotonic() + POLL_BUDGET
    url: str | None = None
    while time.monotonic() < deadline:
        try:
            st = await adapter.poll(sub)
        except STOP_CLASSES as e:
            res.saw(e)
            return res.end("stop", e.failure_class)
        except ProviderError as e:
            res.saw(e)
            if e.retryable:
                await _nap(POLL_INTERVAL)
                continue
            return res.end("failed", e.failure_class)
        if isinstance(st, Pending):
            await _nap(POLL_INTERVAL)
            continue
        if isinstance(st, Succeeded):
            url = st.urls[0]
            break
        res.saw(st.error)
        return res.end("failed", st.error.failure_class)
    if url is None:
        res.classes.append("timeout")
        return res.end("failed", "timeout")

    for attempt in range(3):  # a DBOS step is retried when it raises
        try:
            data = await adapter.download(url)
        except ResultExpired as e:
            res.saw(e)
            return res.end("needs_review", "provider_error")
        except ProviderError as e:
            res.saw(e)
            if e.retryable and attempt < 2:
                continue
            return res.end("failed", e.failure_class)
        res.downloaded = len(data)
        return res.end("ok", None)
    raise AssertionError("unreachable")


# -- adapters and requests --------------------------------------------------------------------------------

_PNG: dict[str, bytes] = {}


def _start_frame() -> bytes:
    if "frame" not in _PNG:
        _PNG["frame"] = encode_image(render_still("fault matrix frame", 3, 640, 360), "png")
    return _PNG["frame"]


def _still(model: str, external_id: str) -> StillRequest:
    return StillRequest("a red barn in a field, overcast", 256, 256, 7, model, external_id, "png")


def _clip(model: str, mode: str, external_id: str) -> ClipRequest:
    return ClipRequest("slow push-in", _start_frame(), "image/png", 5, "16:9", model, mode, external_id)


Factory = Callable[[dict[str, str], httpx.AsyncClient, str], tuple[Any, Any]]
KW: dict[str, Any] = {"sleep": _nap, "create_policy": ONE, "read_policy": ONE}

ADAPTERS: dict[str, Factory] = {
    "kling": lambda env, c, x: (
        KlingImageToVideo(env["KLING_ACCESS_KEY"], env["KLING_SECRET_KEY"], base_url=env["KLING_BASE_URL"],
                          client=c, **KW),
        _clip("kling-v1-6", "std", x),
    ),
    "fal": lambda env, c, x: (
        FalFluxTextToImage(env["FAL_KEY"], queue_url=env["FAL_QUEUE_URL"], client=c, **KW),
        _still("fal-ai/flux/schnell", x),
    ),
    "fal-kling": lambda env, c, x: (
        FalKlingImageToVideo(env["FAL_KEY"], queue_url=env["FAL_QUEUE_URL"], client=c, **KW),
        _clip("fal-ai/kling-video/v1.6/pro/image-to-video", "pro", x),
    ),
    "replicate": lambda env, c, x: (
        ReplicateFluxTextToImage(env["REPLICATE_API_TOKEN"], base_url=env["REPLICATE_BASE_URL"], client=c, **KW),
        _still("black-forest-labs/flux-1.1-pro", x),
    ),
    "replicate-wait": lambda env, c, x: (
        ReplicateFluxTextToImage(env["REPLICATE_API_TOKEN"], base_url=env["REPLICATE_BASE_URL"], client=c,
                                 wait=5, **KW),
        _still("black-forest-labs/flux-1.1-pro", x),
    ),
    "replicate-kling": lambda env, c, x: (
        ReplicateKlingImageToVideo(env["REPLICATE_API_TOKEN"], base_url=env["REPLICATE_BASE_URL"], client=c,
                                   **KW),
        _clip("kwaivgi/kling-v2.1", "std", x),
    ),
    "together": lambda env, c, x: (
        TogetherFluxTextToImage(env["TOGETHER_API_KEY"], base_url=env["TOGETHER_BASE_URL"], client=c, **KW),
        _still("black-forest-labs/FLUX.1-schnell", x),
    ),
    "together-b64": lambda env, c, x: (
        TogetherFluxTextToImage(env["TOGETHER_API_KEY"], base_url=env["TOGETHER_BASE_URL"], client=c,
                                response_format="base64", **KW),
        _still("black-forest-labs/FLUX.1-schnell", x),
    ),
}  # fmt: skip


def _timeout(row: Row) -> httpx.Timeout:
    """Short reads where the emulator stalls (so the hang costs little), roomy ones elsewhere (clip renders)."""
    read = 0.8 if "stall" in row.kind else 15.0
    return httpx.Timeout(connect=2.0, read=read, write=5.0, pool=2.0)


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
async def test_fault_row(row: Row) -> None:
    with Emulator(scenario="clean", latency=LATENCY, faults=row.faults(), stall_seconds=5) as emu:
        async with httpx.AsyncClient(timeout=_timeout(row)) as client:
            adapter, request = ADAPTERS[row.adapter](emu.env(), client, f"take-{row.id}")
            res = await drive(adapter, request)
        accepted = emu.count(provider=row.provider, accepted_creates=True)
        fired = [f for f, _ in emu.plan.fired]
    assert row.faults() == fired, f"the fault did not fire: {emu.plan.pending}"
    assert accepted <= 1, f"duplicate paid create: {accepted}"
    assert accepted == row.creates
    assert (res.classes[0] if res.classes else None) == row.expect, res.classes
    assert res.outcome == row.outcome, (res.outcome, res.final, res.classes)
    assert (res.downloaded > 0) == row.continues


def test_every_section_5_5_fault_is_covered() -> None:
    kinds = {(r.provider, r.op, r.kind) for r in ROWS}
    need = {
        ("kling", "create", "rate_limit"), ("kling", "create", "server_error"), ("kling", "create", "stall"),
        ("kling", "create", "content_policy"), ("kling", "task", "content_policy"), ("kling", "task", "failed"),
        ("kling", "create", "billing_1101"), ("kling", "create", "billing_1102"), ("kling", "create", "auth"),
        ("kling", "task", "result_404"), ("kling", "poll", "stall"),
        ("fal", "create", "rate_limit"), ("fal", "create", "unavailable"), ("fal", "create", "timeout"),
        ("fal", "poll", "stall"), ("fal", "task", "content_policy"), ("fal", "task", "nsfw"),
        ("fal", "task", "failed"), ("fal", "create", "billing"), ("fal", "create", "auth"),
        ("fal", "task", "result_404"),
        ("replicate", "create", "rate_limit"), ("replicate", "poll", "server_error"),
        ("replicate", "poll", "unavailable"), ("replicate", "poll", "timeout"), ("replicate", "poll", "stall"),
        ("replicate", "task", "nsfw"), ("replicate", "task", "failed"), ("replicate", "create", "billing"),
        ("replicate", "create", "auth"), ("replicate", "task", "data_removed"),
        ("together", "create", "rate_limit"), ("together", "create", "server_error"),
        ("together", "create", "unavailable"), ("together", "create", "timeout"), ("together", "create", "stall"),
        ("together", "create", "content_policy"), ("together", "create", "billing"),
        ("together", "create", "auth"), ("together", "task", "result_404"),
    }  # fmt: skip
    assert need <= kinds, sorted(need - kinds)
    assert len({r.id for r in ROWS}) == len(ROWS)


def test_doc_is_current() -> None:
    assert DOC.read_text(encoding="utf-8") == render_matrix(), (
        "docs/fault-matrix.md is stale: run .venv/bin/python scripts/gen_fault_matrix.py"
    )
