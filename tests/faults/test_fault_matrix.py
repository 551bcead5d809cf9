"""Provider × fault matrix on the real take steps: every fault of providers.md §5.5, at create, poll, task and
download time where the real API has it, each one take through ``start_take`` and ``poll_take`` (and so
``_submit``, ``_reconcile`` and ``_download``) of ``goldenchain.orchestration.steps``, on a real SQLite ledger,
against the emulator with the fault scripted (see :mod:`tests.faults.harness`).

Each row asserts what the steps answered first, the take's state in the ledger, the outcome, and from the
emulator's request log the create requests for the take (accepted or not) and the accepted (paid) ones. Every row
also holds the money rules: at most one paid create; every create request has its own intent in the ledger
(nothing resent inside an adapter); one request body and our own id for the take; a resend only after a
refusal or a proof of absence the ledger recorded; a take held for review was sent once; a later run sends
nothing more.

``docs/fault-matrix.md`` is written by ``scripts/gen_fault_matrix.py`` from a run of these rows (it runs the
same steps and renders what it saw); this module fails when the file differs from the rows it checks.
"""

from __future__ import annotations

import asyncio
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from goldenchain.emulator import Fault
from tests.faults.harness import Seen, Take, run_take

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "fault-matrix.md"
CONCURRENCY = 8  # rows run side by side: most of a row is waiting on the emulator

# -- the table --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    provider: str  # emulator provider (the log's "provider")
    adapter: str  # key of harness.ROUTES
    op: str  # "create" | "poll" | "task" | "result" | "file" | "-"
    kind: str  # fault kind, "clean" for none
    wire: str  # what the emulator answers
    first: str  # the first trouble the steps report
    ledger: str  # the take's state in the ledger at the end
    outcome: str  # ok | failed | invalid | stop | blocked | raised
    sent: int  # create requests for the take, accepted or not
    paid: int  # accepted (paid) creates
    lookup: str | None = None  # a fault on the first lookup by our id (Kling), during the reconcile

    @property
    def id(self) -> str:
        return f"{self.adapter}-{self.op}-{self.kind}" + (f"-lookup_{self.lookup}" if self.lookup else "")

    @property
    def seen(self) -> Seen:
        return Seen(self.first, self.ledger, self.outcome, self.sent, self.paid)

    @property
    def create_attempts(self) -> int | None:
        """A rate limit on create is sent once by the adapter, so that it reaches the start step (as shipped,
        the adapter waits and sends again: nothing was accepted). Everything else: the shipped policy."""
        return 1 if self.op == "create" and self.kind in ("rate_limit", "concurrency") else None

    def faults(self) -> list[Fault]:
        if self.op == "-":
            return []
        provider = "files" if self.op == "file" else self.provider
        out = [Fault(provider, self.op, 1, self.kind)]
        if self.lookup:
            out.append(Fault("kling", "poll", 1, self.lookup))  # a lookup by external_task_id is a query
        return out


def _rows() -> list[Row]:
    R = Row
    return [
        # kling
        R("kling", "kling", "-", "clean", "200, submitted → succeed",
          "—", "downloaded", "ok", 1, 1),
        R("kling", "kling", "create", "rate_limit", "429/1302",
          "start: retry, rate_limit", "downloaded", "ok", 2, 1),
        R("kling", "kling", "create", "concurrency", "429/1303",
          "start: retry, rate_limit", "downloaded", "ok", 2, 1),
        R("kling", "kling", "create", "billing_1101", "429/1101 arrears",
          "start: blocked, billing", "pending", "blocked", 1, 0),
        R("kling", "kling", "create", "billing_1102", "429/1102 pack depleted",
          "start: blocked, billing", "pending", "blocked", 1, 0),
        R("kling", "kling", "create", "auth", "401/1000",
          "start: blocked, auth", "pending", "blocked", 1, 0),
        R("kling", "kling", "create", "content_policy", "400/1301",
          "start: failed, moderation", "failed", "failed", 1, 0),
        R("kling", "kling", "create", "invalid", "400/1201",
          "start: invalid, invalid_input", "failed", "invalid", 1, 0),
        R("kling", "kling", "create", "not_found", "404/1203",
          "start: invalid, invalid_input", "failed", "invalid", 1, 0),
        R("kling", "kling", "create", "server_error", "500/5000 → lookup: none → resubmit",
          "start: retry, ambiguous", "downloaded", "ok", 2, 1),
        R("kling", "kling", "create", "unavailable", "503/5001 → lookup: none → resubmit",
          "start: retry, ambiguous", "downloaded", "ok", 2, 1),
        R("kling", "kling", "create", "timeout", "504/5002 → lookup: none → resubmit",
          "start: retry, ambiguous", "downloaded", "ok", 2, 1),
        R("kling", "kling", "create", "drop", "connection closed, no task → lookup → resubmit",
          "start: retry, ambiguous", "downloaded", "ok", 2, 1),
        R("kling", "kling", "create", "stall", "no answer, no task → lookup → resubmit",
          "start: retry, ambiguous", "downloaded", "ok", 2, 1),
        R("kling", "kling", "create", "drop_after_accept", "task made, connection closed → lookup finds it",
          "start: submitted, found by our id", "downloaded", "ok", 1, 1),
        R("kling", "kling", "create", "stall_after_accept", "task made, no answer → lookup finds it",
          "start: submitted, found by our id", "downloaded", "ok", 1, 1),
        R("kling", "kling", "create", "drop_after_accept", "task made, connection closed; the lookup by our id answers 500 → next run: "
          "lookup finds it",
          "start: raised provider_error, take stays submitting", "downloaded", "ok", 1, 1, lookup="server_error"),
        R("kling", "kling", "create", "drop", "connection closed, no task; the lookup's connection drops → next run: "
          "lookup: none → resubmit",
          "start: raised provider_error, take stays submitting", "downloaded", "ok", 2, 1, lookup="drop"),
        R("kling", "kling", "poll", "rate_limit", "429/1302 on a query",
          "poll: pending, provider's error noted", "downloaded", "ok", 1, 1),
        R("kling", "kling", "poll", "server_error", "500/5000 on a query",
          "poll: pending, provider's error noted", "downloaded", "ok", 1, 1),
        R("kling", "kling", "poll", "unavailable", "503/5001 on a query",
          "poll: pending, provider's error noted", "downloaded", "ok", 1, 1),
        R("kling", "kling", "poll", "timeout", "504/5002 on a query",
          "poll: pending, provider's error noted", "downloaded", "ok", 1, 1),
        R("kling", "kling", "poll", "drop", "query connection closed",
          "poll: pending, provider's error noted", "downloaded", "ok", 1, 1),
        R("kling", "kling", "poll", "stall", "query never answered",
          "poll: pending, provider's error noted", "downloaded", "ok", 1, 1),
        R("kling", "kling", "poll", "auth", "401/1000 on a query",
          "poll: blocked, auth", "submitted", "blocked", 1, 1),
        R("kling", "kling", "task", "content_policy", "failed: risk control",
          "poll: failed, moderation", "failed", "failed", 1, 1),
        R("kling", "kling", "task", "failed", "failed: internal error",
          "poll: failed, provider_error", "failed", "failed", 1, 1),
        R("kling", "kling", "task", "stuck", "processing forever",
          "poll: timeout", "submitted", "failed", 1, 1),
        R("kling", "kling", "task", "result_404", "result URL 404 (30-day expiry)",
          "poll: failed, provider_error", "needs_review", "failed", 1, 1),
        R("kling", "kling", "file", "drop", "download connection closed once",
          "poll: raised provider_error, take stays submitted", "downloaded", "ok", 1, 1),
        # fal
        R("fal", "fal", "-", "clean", "IN_QUEUE → IN_PROGRESS → COMPLETED",
          "—", "downloaded", "ok", 1, 1),
        R("fal", "fal", "create", "rate_limit", "429 on submit",
          "start: retry, rate_limit", "downloaded", "ok", 2, 1),
        R("fal", "fal", "create", "billing", "403 Exhausted balance",
          "start: blocked, billing", "pending", "blocked", 1, 0),
        R("fal", "fal", "create", "auth", "401",
          "start: blocked, auth", "pending", "blocked", 1, 0),
        R("fal", "fal", "create", "content_policy", "422 content_policy_violation",
          "start: failed, moderation", "failed", "failed", 1, 0),
        R("fal", "fal", "create", "invalid", "422 detail list",
          "start: invalid, invalid_input", "failed", "invalid", 1, 0),
        R("fal", "fal", "create", "not_found", "404 unknown application",
          "start: invalid, invalid_input", "failed", "invalid", 1, 0),
        R("fal", "fal", "create", "unavailable", "503 runner_scheduling_failure (not queued)",
          "start: retry, outage", "downloaded", "ok", 2, 1),
        R("fal", "fal", "create", "timeout", "504 request_timeout (not queued)",
          "start: retry, outage", "downloaded", "ok", 2, 1),
        R("fal", "fal", "create", "server_error", "500 without error_type",
          "start: failed, ambiguous", "needs_review", "failed", 1, 0),
        R("fal", "fal", "create", "stall", "no answer",
          "start: failed, ambiguous", "needs_review", "failed", 1, 0),
        R("fal", "fal", "create", "drop_after_accept", "queued, connection closed",
          "start: failed, ambiguous", "needs_review", "failed", 1, 1),
        R("fal", "fal", "create", "stall_after_accept", "queued, no answer",
          "start: failed, ambiguous", "needs_review", "failed", 1, 1),
        R("fal", "fal", "poll", "rate_limit", "429 on status",
          "poll: pending, provider's error noted", "downloaded", "ok", 1, 1),
        R("fal", "fal", "poll", "server_error", "500 on status",
          "poll: pending, provider's error noted", "downloaded", "ok", 1, 1),
        R("fal", "fal", "poll", "unavailable", "503 on status",
          "poll: pending, provider's error noted", "downloaded", "ok", 1, 1),
        R("fal", "fal", "poll", "drop", "status connection closed",
          "poll: pending, provider's error noted", "downloaded", "ok", 1, 1),
        R("fal", "fal", "poll", "stall", "status never answered",
          "poll: pending, provider's error noted", "downloaded", "ok", 1, 1),
        R("fal", "fal", "result", "timeout", "504 request_timeout on the result GET",
          "poll: failed, provider_error", "failed", "failed", 1, 1),
        R("fal", "fal", "task", "content_policy", "COMPLETED, result 422 content_policy_violation",
          "poll: failed, moderation", "failed", "failed", 1, 1),
        R("fal", "fal", "task", "nsfw", "has_nsfw_concepts: [true]",
          "poll: failed, moderation", "failed", "failed", 1, 1),
        R("fal", "fal", "task", "failed", "COMPLETED, result 500",
          "poll: failed, provider_error", "failed", "failed", 1, 1),
        R("fal", "fal", "task", "stuck", "IN_PROGRESS forever",
          "poll: timeout", "submitted", "failed", 1, 1),
        R("fal", "fal", "task", "result_404", "CDN 404",
          "poll: failed, provider_error", "needs_review", "failed", 1, 1),
        R("fal", "fal-kling", "-", "clean", "Kling on fal: COMPLETED with a video",
          "—", "downloaded", "ok", 1, 1),
        R("fal", "fal-kling", "task", "content_policy", "result 422 content_policy_violation",
          "poll: failed, moderation", "failed", "failed", 1, 1),
        # replicate
        R("replicate", "replicate", "-", "clean", "201 starting → processing → succeeded",
          "—", "downloaded", "ok", 1, 1),
        R("replicate", "replicate-wait", "-", "clean", "Prefer: wait → 201 succeeded",
          "—", "downloaded", "ok", 1, 1),
        R("replicate", "replicate", "create", "rate_limit", "429 detail + Retry-After",
          "start: retry, rate_limit", "downloaded", "ok", 2, 1),
        R("replicate", "replicate", "create", "billing", "402 Insufficient credit",
          "start: blocked, billing", "pending", "blocked", 1, 0),
        R("replicate", "replicate", "create", "auth", "401",
          "start: blocked, auth", "pending", "blocked", 1, 0),
        R("replicate", "replicate", "create", "invalid", "422 Input validation failed",
          "start: invalid, invalid_input", "failed", "invalid", 1, 0),
        R("replicate", "replicate", "create", "not_found", "404 unknown model",
          "start: invalid, invalid_input", "failed", "invalid", 1, 0),
        R("replicate", "replicate", "create", "server_error", "500 on create",
          "start: failed, ambiguous", "needs_review", "failed", 1, 0),
        R("replicate", "replicate", "create", "unavailable", "503 on create",
          "start: failed, ambiguous", "needs_review", "failed", 1, 0),
        R("replicate", "replicate", "create", "stall", "no answer",
          "start: failed, ambiguous", "needs_review", "failed", 1, 0),
        R("replicate", "replicate", "create", "drop_after_accept", "created, connection closed",
          "start: failed, ambiguous", "needs_review", "failed", 1, 1),
        R("replicate", "replicate", "create", "stall_after_accept", "created, no answer",
          "start: failed, ambiguous", "needs_review", "failed", 1, 1),
        R("replicate", "replicate", "poll", "rate_limit", "429 + Retry-After on GET",
          "poll: pending, provider's error noted", "downloaded", "ok", 1, 1),
        R("replicate", "replicate", "poll", "server_error", "500 on GET",
          "poll: pending, provider's error noted", "downloaded", "ok", 1, 1),
        R("replicate", "replicate", "poll", "unavailable", "503 on GET",
          "poll: pending, provider's error noted", "downloaded", "ok", 1, 1),
        R("replicate", "replicate", "poll", "timeout", "504 on GET",
          "poll: pending, provider's error noted", "downloaded", "ok", 1, 1),
        R("replicate", "replicate", "poll", "drop", "GET connection closed",
          "poll: pending, provider's error noted", "downloaded", "ok", 1, 1),
        R("replicate", "replicate", "poll", "stall", "GET never answered",
          "poll: pending, provider's error noted", "downloaded", "ok", 1, 1),
        R("replicate", "replicate", "task", "nsfw", "failed: NSFW content detected",
          "poll: failed, moderation", "failed", "failed", 1, 1),
        R("replicate", "replicate", "task", "failed", "failed: model error",
          "poll: failed, provider_error", "failed", "failed", 1, 1),
        R("replicate", "replicate", "task", "stuck", "processing forever",
          "poll: timeout", "submitted", "failed", 1, 1),
        R("replicate", "replicate", "task", "data_removed", "succeeded, output null, data_removed",
          "poll: failed, provider_error", "failed", "failed", 1, 1),
        R("replicate", "replicate", "task", "result_404", "delivery URL 404",
          "poll: failed, provider_error", "needs_review", "failed", 1, 1),
        R("replicate", "replicate-kling", "-", "clean", "Kling on Replicate: one URL string",
          "—", "downloaded", "ok", 1, 1),
        R("replicate", "replicate-kling", "task", "nsfw", "failed: NSFW content detected",
          "poll: failed, moderation", "failed", "failed", 1, 1),
        # together
        R("together", "together", "-", "clean", "200 data[].url",
          "—", "downloaded", "ok", 1, 1),
        R("together", "together-b64", "-", "clean", "200 data[].b64_json",
          "—", "downloaded", "ok", 1, 1),
        R("together", "together", "create", "rate_limit", "429 + retry-after",
          "start: retry, rate_limit", "downloaded", "ok", 2, 1),
        R("together", "together", "create", "billing", "402 insufficient credits",
          "start: blocked, billing", "pending", "blocked", 1, 0),
        R("together", "together", "create", "auth", "401 invalid_api_key",
          "start: blocked, auth", "pending", "blocked", 1, 0),
        R("together", "together", "create", "content_policy", "422 safety refusal",
          "start: failed, moderation", "failed", "failed", 1, 0),
        R("together", "together", "create", "invalid", "400 invalid_request_error",
          "start: invalid, invalid_input", "failed", "invalid", 1, 0),
        R("together", "together", "create", "not_found", "404 model_not_available",
          "start: invalid, invalid_input", "failed", "invalid", 1, 0),
        R("together", "together", "create", "server_error", "500 (not generated)",
          "start: retry, outage", "downloaded", "ok", 2, 1),
        R("together", "together", "create", "unavailable", "503 Overloaded",
          "start: retry, outage", "downloaded", "ok", 2, 1),
        R("together", "together", "create", "unavailable_no_retry", "503 + x-should-retry: false",
          "start: retry, outage", "downloaded", "ok", 2, 1),
        R("together", "together", "create", "timeout", "504 Timeout",
          "start: failed, ambiguous", "needs_review", "failed", 1, 0),
        R("together", "together", "create", "stall", "no answer",
          "start: failed, ambiguous", "needs_review", "failed", 1, 0),
        R("together", "together", "create", "stall_after_accept", "generated, no answer",
          "start: failed, ambiguous", "needs_review", "failed", 1, 1),
        R("together", "together", "create", "drop_after_accept", "generated, connection closed",
          "start: failed, ambiguous", "needs_review", "failed", 1, 1),
        R("together", "together", "task", "nsfw", "200 with a blank image (not detectable here)",
          "—", "downloaded", "ok", 1, 1),
        R("together", "together", "task", "result_404", "image URL 404",
          "poll: failed, provider_error", "needs_review", "failed", 1, 1),
    ]  # fmt: skip


ROWS: list[Row] = _rows()


# -- running the rows -------------------------------------------------------------------------------------


def observe(rows: list[Row], root: Path) -> dict[str, tuple[Take, list[Fault]] | BaseException]:
    """Run every row's take, ``CONCURRENCY`` at a time, each on its own thread and event loop (a row mostly
    waits on the emulator, and the ledger's and the emulator's setup block); per row what was seen and the
    faults that fired, or the exception it raised."""

    def one(row: Row) -> tuple[Take, list[Fault]]:
        take, fired = asyncio.run(
            run_take(root / row.id, row.adapter, row.faults(), create_attempts=row.create_attempts)
        )
        return take, [f for f, _ in fired]

    out: dict[str, tuple[Take, list[Fault]] | BaseException] = {}
    with ThreadPoolExecutor(CONCURRENCY, thread_name_prefix="fault-row") as pool:
        futures = {r.id: pool.submit(one, r) for r in rows}
        for rid, fut in futures.items():
            err = fut.exception()
            out[rid] = err if err is not None else fut.result()
    return out


def render_matrix(seen: dict[str, Seen]) -> str:
    """The markdown of ``docs/fault-matrix.md``, from what each row's take did."""
    lines = [
        "# Fault matrix",
        "",
        "Generated by `scripts/gen_fault_matrix.py`, which runs every row of `tests/faults/test_fault_matrix.py` "
        "through the real take steps and writes what it saw; `tests/faults` runs the same rows and fails when a "
        "take does something else or this file is stale.",
        "",
        "Each row is one take through the real steps of `goldenchain.orchestration.steps` (`start_take`, with "
        "its `_submit` and `_reconcile`, and `poll_take`, with its `_download`) on a real SQLite ledger, against "
        "the emulator (scenario `clean` plus the scripted fault). Around the steps runs `paid_take`'s loop: "
        "start again while it answers `retry`, then poll until the take is not `pending`. A step that raises "
        "ends the attempt, as it ends the workflow; the take is then started once more, as the next run does. "
        "After the take, one more start stands for a later run and must send nothing. The adapters keep their "
        "shipped create policy (a create the rules forbid to resend would be resent, and counted), except that "
        "a 429 on create is not retried inside the adapter, so it reaches the start step; reads are sent once, "
        "so every poll and download fault reaches the steps.",
        "",
        "* **first trouble**: the first answer of a step that was not plain progress: `retry` with the class the "
        "step recorded, a failure with its class, a poll that stayed `pending` with the provider's error as a "
        "note, a take found by our own id after a doubtful create, or a step that raised (`—`: none).",
        "* **ledger**: the take's state at the end (`needs_review`: paid or maybe paid, held for a person, never "
        "sent again; `submitted`: the next run polls it again; `pending`: nothing was made, the next run may send "
        "it once the route is open again).",
        "* **outcome**: what the take's workflow would return: `ok` (downloaded, the run continues), `failed` "
        "(a retake may follow), `invalid` (the request itself is refused), `blocked` (the environment's fault: a "
        "key, credit or outage; the shot stops as blocked and the take is not used up), `raised` (a step raised "
        "twice).",
        "* **create requests**: create requests the emulator received for the take, accepted or not (its request "
        "log, by request body hash and by our own id); **paid**: the ones it accepted. A second request only "
        "ever follows a refusal before acceptance or Kling's answer that it has no task with our id.",
        "",
        "| provider | adapter | op | fault | emulator answers | first trouble | ledger | outcome | create requests "
        "| paid | continues |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in ROWS:
        s = seen[r.id]
        fault = f"`{r.kind}`" + (f", lookup `{r.lookup}`" if r.lookup else "")
        lines.append(
            f"| {r.provider} | {r.adapter} | {r.op} | {fault} | {r.wire} | {s.first} | {s.ledger} | {s.outcome} "
            f"| {s.sent} | {s.paid} | {'yes' if s.outcome == 'ok' else 'no'} |"
        )
    return "\n".join(lines) + "\n" + BREAKS


#: which tests fail when the money rules are broken on purpose (each break tried on src, then undone)
BREAKS = """
## Breaks the suite catches

Each break was put into a copy of the source on purpose, the tests named here were run against it and failed,
and the change was undone (the file back byte for byte). The matrix used to run its own copy of these rules
inside the test, so (a) to (c) passed every test there.

| break | where | what fails |
|---|---|---|
| (a) after `SubmissionUncertain`, send again without `_reconcile` | `_submit` in `orchestration/steps.py` | 17 rows of this matrix, every create that may have been accepted: Kling `drop_after_accept`, `stall_after_accept` and both lookup rows (two create requests with our id; Kling refuses the second, so the take fails); fal `server_error`, `stall`, `drop_after_accept`, `stall_after_accept`; Replicate `server_error`, `unavailable`, `stall`, `drop_after_accept`, `stall_after_accept`; Together `timeout`, `stall`, `stall_after_accept`, `drop_after_accept` (sent again, paid twice where it was accepted) |
| (b) a provider that cannot be asked by our id sends again instead of holding the take for review | `_reconcile` | the 13 fal, Replicate and Together rows of (a) |
| (c) `create_may_retry` allows a resend after the request was sent (a 5xx, no answer) | `core/retry.py` | 11 rows, every 5xx on create: Kling `server_error`, `unavailable`, `timeout`; fal `unavailable`, `timeout`, `server_error`; Replicate `server_error`, `unavailable`; Together `server_error`, `unavailable`, `timeout` (a create request without its own intent in the ledger); and `tests/providers/test_provider_http.py` (`test_create_never_resent_after_other_answers`, `test_create_may_retry_only_when_nothing_was_accepted`) |
| (d) a resume gives up a take left `submitting` (marks it failed, so the shot pays for another) | `_submit` | `tests/integration/test_crash.py` `before_create@kling` and `after_create@kling` (three clip takes for two shots: the total check; the old subset check passed), and this matrix's two lookup rows |
"""


# -- tests ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def matrix(request: pytest.FixtureRequest) -> dict[str, tuple[Take, list[Fault]] | BaseException]:
    """The selected rows, run once for the module."""
    wanted = set()
    for item in request.session.items:
        spec = getattr(item, "callspec", None)
        if spec is not None and isinstance(spec.params.get("row"), Row):
            wanted.add(spec.params["row"].id)
    rows = [r for r in ROWS if r.id in wanted]
    with tempfile.TemporaryDirectory(prefix="gc-matrix-") as tmp:
        return observe(rows, Path(tmp))


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_fault_row(row: Row, matrix: dict[str, tuple[Take, list[Fault]] | BaseException]) -> None:
    got = matrix[row.id]
    if isinstance(got, BaseException):
        raise got
    take, fired = got
    where = " > ".join(take.answers)
    assert fired == row.faults(), f"not every fault fired: {fired}"
    # the money rules, whatever the row says
    assert take.seen.paid <= 1, f"paid twice: {take.creates}"
    assert take.seen.sent == take.intents, (
        f"{take.seen.sent} create requests, {take.intents} intents: {where}"
    )
    assert len(take.by_body()) == (1 if take.seen.sent else 0), take.by_body()
    if row.provider == "kling":
        assert take.by_external_id() == ({take.key: take.seen.sent} if take.seen.sent else {})
    refusals = sum(1 for op, out in take.calls if op == "create" and out.startswith("rejected:"))
    assert take.seen.sent - 1 <= refusals, f"resent without a recorded refusal: {take.calls}"
    if take.seen.ledger == "needs_review":
        assert take.seen.sent <= 1, "a take held for review was sent again"
    assert take.sent_by_next_run == 0, f"a later run sent a create: {where}"
    # and this row's facts
    assert take.seen == row.seen, where


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
        # a create accepted, then no answer, on every provider that cannot be asked by our id
        ("fal", "create", "stall_after_accept"), ("replicate", "create", "stall_after_accept"),
        ("together", "create", "stall_after_accept"),
    }  # fmt: skip
    assert need <= kinds, sorted(need - kinds)
    assert any(r.lookup for r in ROWS if r.kind.endswith("_after_accept")), "no lookup fails on a paid create"
    assert len({r.id for r in ROWS}) == len(ROWS)


def test_doc_is_current() -> None:
    assert DOC.read_text(encoding="utf-8") == render_matrix({r.id: r.seen for r in ROWS}), (
        "docs/fault-matrix.md is stale: run .venv/bin/python scripts/gen_fault_matrix.py"
    )
