"""The ledger's paid boundary, field by field: what begin_submit reserves and refuses (every cap, its scope
and its edge, quotes), and exactly what each record_* method writes to the take, the spend row and the
provider-call log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from goldenchain.core.checks import Check, CheckReport
from goldenchain.errors import BudgetExceeded, LedgerError
from goldenchain.store.db import Database
from goldenchain.store.ledger import BudgetCaps, Ledger
from goldenchain.store.takes import today


@pytest.fixture
def led(tmp_path: Path) -> Ledger:
    led = Ledger(Database(f"sqlite:///{tmp_path / 'state.db'}"))
    led.ensure_project("p", "acme", str(tmp_path), [{"id": "s01", "prompt": "x"}])
    return led


def take(led: Ledger, key: str, usd: float = 0.5, project: str = "p") -> int:
    return led.get_or_create_take(
        key,
        project_id=project,
        shot_id="s01",
        stage="clip",
        take_no=1,
        provider="kling",
        model="kling-v1-5",
        request={"k": key},
        estimate_usd=usd,
    ).id


def calls(led: Ledger, take_id: int) -> list[tuple[Any, ...]]:
    with led.db.read() as c:
        rows = c.exec_driver_sql(
            "select op, outcome, provider_task_id, detail from gc_provider_calls where take_id = ? order by id",
            (take_id,),
        )
        return [tuple(r) for r in rows]


def spend(led: Ledger, take_id: int) -> dict[str, Any]:
    with led.db.read() as c:
        row = c.exec_driver_sql("select * from gc_spend where take_id = ?", (take_id,)).mappings().one()
        return dict(row)


# -- begin_submit ---------------------------------------------------------------------------------------------


def test_begin_submit_reserves_the_estimate_with_every_field(led: Ledger) -> None:
    tid = take(led, "a", 0.75)
    t = led.begin_submit(tid, "run-1", "acme", BudgetCaps())
    assert (t.state, t.submit_attempts, t.failure_class, t.failure_reason) == ("submitting", 1, None, None)
    sp = spend(led, tid)
    assert (sp["state"], sp["usd"], sp["run_id"], sp["project_id"], sp["client"]) == (
        "reserved",
        0.75,
        "run-1",
        "p",
        "acme",
    )
    assert (sp["shot_id"], sp["provider"], sp["model"], sp["day"]) == ("s01", "kling", "kling-v1-5", today())
    assert calls(led, tid) == [("intent", "submitting", None, "attempt 1")]


def test_a_second_submit_after_a_refusal_reuses_the_spend_row(led: Ledger) -> None:
    tid = take(led, "a", 0.5)
    led.begin_submit(tid, "run-1", "acme", BudgetCaps())
    led.record_not_accepted(tid, "rate_limit", "busy", final=False)
    t = led.begin_submit(tid, "run-2", "acme", BudgetCaps())
    assert t.submit_attempts == 2 and t.state == "submitting"
    sp = spend(led, tid)
    assert (sp["state"], sp["usd"], sp["run_id"]) == ("reserved", 0.5, "run-2")
    with led.db.read() as c:
        assert c.exec_driver_sql("select count(*) from gc_spend").scalar() == 1
    assert calls(led, tid)[-1] == ("intent", "submitting", None, "attempt 2")


@pytest.mark.parametrize("state", ["submitting", "submitted", "failed", "needs_review"])
def test_begin_submit_refuses_a_take_past_pending(led: Ledger, state: str) -> None:
    tid = take(led, "a")
    led.begin_submit(tid, None, "acme", BudgetCaps())
    if state == "submitted":
        led.record_submitted(tid, "task-1", {})
    elif state == "failed":
        led.record_not_accepted(tid, "invalid_input", "bad", final=True)
    elif state == "needs_review":
        led.record_needs_review(tid, "lost")
    key = led.take(tid).idempotency_key
    with pytest.raises(LedgerError, match=rf"^take {key} is {state}; refusing to submit it again$"):
        led.begin_submit(tid, None, "acme", BudgetCaps())


def test_begin_submit_of_an_unknown_take(led: Ledger) -> None:
    with pytest.raises(LedgerError, match=r"^unknown take 999$"):
        led.begin_submit(999, None, "acme", BudgetCaps())


@pytest.mark.parametrize(
    ("caps", "scope"),
    [
        (BudgetCaps(project_usd=1.0), "project p"),
        (BudgetCaps(client_usd=1.0), "client acme"),
        (BudgetCaps(daily_usd=1.0), "day {today}"),
        (BudgetCaps(monthly_usd=1.0), "month {month}"),
        (BudgetCaps(run_usd=1.0), "--max-cost of this run"),
    ],
)
def test_each_cap_blocks_with_its_scope_and_figures(led: Ledger, caps: BudgetCaps, scope: str) -> None:
    day = today()  # when the test runs, not when it was collected (a run may pass midnight)
    scope = scope.format(today=day, month=day[:7])
    a, b = take(led, "a", 0.75), take(led, "b", 0.5)
    led.begin_submit(a, "r", "acme", caps)
    with pytest.raises(BudgetExceeded) as info:
        led.begin_submit(b, "r", "acme", caps)
    e = info.value
    assert (e.scope, e.cap_usd, e.committed_usd, e.needed_usd) == (scope, 1.0, 0.75, 0.5)
    t = led.take(b)
    assert (t.state, t.failure_class, t.failure_reason) == (
        "budget_blocked",
        "budget",
        f"budget {scope} would be exceeded",
    )
    assert t.submit_attempts == 0
    assert calls(led, b) == [("intent", "budget_blocked", None, f"{scope}: 0.7500+0.5000>1.0")]
    with led.db.read() as c:
        assert c.exec_driver_sql("select count(*) from gc_spend where take_id = ?", (b,)).scalar() == 0


def test_a_cap_counts_only_its_own_scope(led: Ledger, tmp_path: Path) -> None:
    led.ensure_project("q", "other", str(tmp_path), [{"id": "s01", "prompt": "x"}])
    a = take(led, "a", 0.75, project="q")
    led.begin_submit(a, "r", "other", BudgetCaps())
    b = take(led, "b", 0.5)
    # another project, another client: nothing of theirs counts against p or acme
    assert (
        led.begin_submit(b, "r2", "acme", BudgetCaps(project_usd=1.0, client_usd=1.0)).state == "submitting"
    )


def test_the_run_cap_needs_a_run(led: Ledger) -> None:
    a, b = take(led, "a", 0.75), take(led, "b", 0.5)
    led.begin_submit(a, None, "acme", BudgetCaps(run_usd=1.0))
    assert led.begin_submit(b, None, "acme", BudgetCaps(run_usd=1.0)).state == "submitting"


def test_a_reservation_that_exactly_fills_the_cap_is_allowed(led: Ledger) -> None:
    a, b, c = take(led, "a", 0.5), take(led, "b", 0.5), take(led, "c", 0.01)
    led.begin_submit(a, "r", "acme", BudgetCaps(project_usd=1.0))
    assert led.begin_submit(b, "r", "acme", BudgetCaps(project_usd=1.0)).state == "submitting"
    with pytest.raises(BudgetExceeded):
        led.begin_submit(c, "r", "acme", BudgetCaps(project_usd=1.0))


def test_a_blocked_take_may_be_submitted_once_money_is_free(led: Ledger) -> None:
    a, b = take(led, "a", 0.75), take(led, "b", 0.5)
    led.begin_submit(a, "r", "acme", BudgetCaps(project_usd=1.0))
    with pytest.raises(BudgetExceeded):
        led.begin_submit(b, "r", "acme", BudgetCaps(project_usd=1.0))
    led.record_not_accepted(a, "rate_limit", "busy", final=False)
    t = led.begin_submit(b, "r", "acme", BudgetCaps(project_usd=1.0))
    assert (t.state, t.failure_class, t.failure_reason, t.submit_attempts) == ("submitting", None, None, 1)


def test_quotes_gate_every_paid_call(led: Ledger) -> None:
    pending = led.add_quote("p", 5.0, ["s01"], "h", ttl_s=600)
    a = take(led, "a", 0.5)
    with pytest.raises(BudgetExceeded) as info:
        led.begin_submit(a, "r", "acme", BudgetCaps(project_usd=10.0, quote_id=pending.id))
    e = info.value
    assert (e.scope, e.cap_usd, e.committed_usd, e.needed_usd) == (
        f"quote {pending.id} (not approved or expired)",
        0.0,
        0.0,
        0.5,
    )
    t = led.take(a)
    assert (t.state, t.failure_class, t.failure_reason) == (
        "budget_blocked",
        "budget",
        f"quote {pending.id} not approved or expired",
    )
    assert calls(led, a) == [
        ("intent", "budget_blocked", None, f"quote {pending.id} not approved or expired")
    ]

    led.decide_quote(pending.id, "approved", "ana")
    assert led.begin_submit(a, "r", "acme", BudgetCaps(quote_id=pending.id)).state == "submitting"

    b = take(led, "b", 0.5)
    led.decide_quote(pending.id, "revoked", "ana")
    with pytest.raises(BudgetExceeded, match="revoked"):
        led.begin_submit(b, "r", "acme", BudgetCaps(quote_id=pending.id))
    assert led.take(b).failure_reason == f"quote {pending.id} revoked"

    with pytest.raises(BudgetExceeded, match="not approved or expired"):
        led.begin_submit(take(led, "c", 0.5), "r", "acme", BudgetCaps(quote_id="q-none"))


def test_an_approved_quote_still_obeys_the_caps(led: Ledger) -> None:
    q = led.add_quote("p", 5.0, ["s01"], "h", ttl_s=600)
    led.decide_quote(q.id, "approved", "ana")
    a, b = take(led, "a", 0.75), take(led, "b", 0.5)
    led.begin_submit(a, "r", "acme", BudgetCaps(project_usd=1.0, quote_id=q.id))
    with pytest.raises(BudgetExceeded) as info:
        led.begin_submit(b, "r", "acme", BudgetCaps(project_usd=1.0, quote_id=q.id))
    assert info.value.scope == "project p"


def test_an_expired_quote_blocks(led: Ledger) -> None:
    q = led.add_quote("p", 5.0, ["s01"], "h", ttl_s=600)
    led.decide_quote(q.id, "approved", "ana")
    with led.db.write() as c:
        c.exec_driver_sql("update gc_quotes set expires_at = 0 where id = ?", (q.id,))
    with pytest.raises(BudgetExceeded, match="not approved or expired"):
        led.begin_submit(take(led, "a"), "r", "acme", BudgetCaps(quote_id=q.id))


# -- record_* -------------------------------------------------------------------------------------------------


def submitted(led: Ledger, key: str = "a", usd: float = 0.5) -> int:
    tid = take(led, key, usd)
    led.begin_submit(tid, "r", "acme", BudgetCaps())
    return tid


def test_record_submitted_keeps_the_task_id_and_handle(led: Ledger) -> None:
    tid = submitted(led)
    led.record_submitted(tid, "task-1", {"poll": "/v1/task-1"})
    t = led.take(tid)
    assert (t.state, t.provider_task_id, t.handle) == ("submitted", "task-1", {"poll": "/v1/task-1"})
    assert calls(led, tid)[-1] == ("create", "accepted", "task-1", None)
    led2 = submitted(led, "b")
    led.record_submitted(led2, "task-2", {}, how="reconcile")
    assert calls(led, led2)[-1] == ("reconcile", "accepted", "task-2", None)


@pytest.mark.parametrize(("final", "state"), [(True, "failed"), (False, "pending")])
def test_record_not_accepted_releases_the_reservation(led: Ledger, final: bool, state: str) -> None:
    tid = submitted(led)
    led.record_not_accepted(tid, "rate_limit", "too many", final=final)
    t = led.take(tid)
    assert (t.state, t.failure_class, t.failure_reason) == (state, "rate_limit", "too many")
    assert spend(led, tid)["state"] == "released"
    assert calls(led, tid)[-1] == ("create", "rejected:rate_limit", None, "too many")


def test_record_needs_review_keeps_the_reservation(led: Ledger) -> None:
    tid = submitted(led)
    led.record_needs_review(tid, "no answer")
    t = led.take(tid)
    assert (t.state, t.failure_class, t.failure_reason, t.result_url) == (
        "needs_review",
        "ambiguous",
        "no answer",
        None,
    )
    assert spend(led, tid)["state"] == "reserved"
    assert calls(led, tid)[-1] == ("create", "ambiguous", None, "no answer")
    other = submitted(led, "b")
    led.record_needs_review(other, "download failed", result_url="http://x/r.mp4")
    assert led.take(other).result_url == "http://x/r.mp4"
    # held again without a url: the one already known is kept
    led.record_needs_review(other, "still failing")
    assert led.take(other).result_url == "http://x/r.mp4"


def test_record_task_failed_releases_and_logs_the_task(led: Ledger) -> None:
    tid = submitted(led)
    led.record_submitted(tid, "task-1", {})
    led.record_task_failed(tid, "moderation", "flagged")
    t = led.take(tid)
    assert (t.state, t.failure_class, t.failure_reason) == ("failed", "moderation", "flagged")
    assert spend(led, tid)["state"] == "released"
    assert calls(led, tid)[-1] == ("poll", "failed:moderation", "task-1", "flagged")


def test_a_committed_spend_is_never_released(led: Ledger) -> None:
    tid = submitted(led)
    led.record_submitted(tid, "task-1", {})
    download(led, tid)
    led.record_not_accepted(tid, "rate_limit", "late", final=True)
    assert spend(led, tid)["state"] == "committed"


def download(led: Ledger, tid: int, result_url: str | None = "http://x/1.mp4", sha: str = "ab" * 32) -> str:
    return led.record_downloaded(
        tid,
        sha256=sha,
        rel_path="clips/a.mp4",
        size=1234,
        mime="video/mp4",
        meta={"fps": 24},
        kind="clip",
        cost_usd=0.49,
        credits=3.5,
        billed_units=3.5,
        unit="credits",
        result_url=result_url,
    )


def test_record_downloaded_commits_the_actual_cost(led: Ledger) -> None:
    tid = submitted(led, usd=0.7)
    led.record_submitted(tid, "task-1", {})
    assert download(led, tid) == "ab" * 32
    t = led.take(tid)
    assert (t.state, t.artifact_sha256, t.cost_usd, t.billed_units, t.unit, t.result_url) == (
        "downloaded",
        "ab" * 32,
        0.49,
        3.5,
        "credits",
        "http://x/1.mp4",
    )
    sp = spend(led, tid)
    assert (sp["state"], sp["usd"], sp["credits"]) == ("committed", 0.49, 3.5)
    art = led.artifact("ab" * 32)
    assert art is not None
    assert (art.kind, art.path, art.size_bytes, art.mime) == ("clip", "clips/a.mp4", 1234, "video/mp4")
    assert art.meta == {"fps": 24}
    assert calls(led, tid)[-2:] == [
        ("poll", "succeeded", "task-1", None),
        ("download", "stored", "task-1", "ab" * 32),
    ]


def test_record_downloaded_without_a_new_url_keeps_the_known_one(led: Ledger) -> None:
    tid = submitted(led)
    led.record_submitted(tid, "task-1", {})
    led.record_needs_review(tid, "download failed", result_url="http://x/known.mp4")
    with led.db.write() as c:  # a person retried the download
        c.exec_driver_sql("update gc_takes set state = 'submitted' where id = ?", (tid,))
    download(led, tid, result_url=None)
    assert led.take(tid).result_url == "http://x/known.mp4"
    assert calls(led, tid)[-1] == ("download", "stored", "task-1", "ab" * 32)
    assert ("poll", "succeeded", "task-1", None) not in calls(led, tid)


def check(name: str, verdict: str, score: float = 0.5, message: str | None = None) -> Check:
    return Check(
        name=name,
        verdict=verdict,  # type: ignore[arg-type]
        score=score,
        threshold=0.4,
        direction="lower_is_worse",
        message=message or f"{name} m",
    )


def report(*checks: Check, verdict: str | None = None) -> CheckReport:
    worst = verdict or CheckReport.combine(list(checks))
    return CheckReport("a.png", worst, 0.1, list(checks))  # type: ignore[arg-type]


def test_record_checks_writes_every_check_and_the_verdict(led: Ledger) -> None:
    tid = submitted(led)
    led.record_checks(tid, "image", report(check("sharp", "pass", 1), check("faces", "pass", 2)))
    rows = led.checks(tid)
    assert sorted(
        (r.kind, r.name, r.verdict, r.score, r.threshold, r.direction, r.message) for r in rows
    ) == [
        ("image", "faces", "pass", 2.0, 0.4, "lower_is_worse", "faces m"),
        ("image", "sharp", "pass", 1.0, 0.4, "lower_is_worse", "sharp m"),
    ]
    t = led.take(tid)
    assert (t.verdict, t.failure_class, t.failure_reason) == ("pass", None, None)
    # checked again: the old rows of that kind are replaced, not added to
    led.record_checks(tid, "image", report(check("sharp", "pass")))
    assert [r.name for r in led.checks(tid)] == ["sharp"]


@pytest.mark.parametrize(("kind", "cls"), [("image", "gate_reject"), ("clip", "qc_reject")])
def test_a_rejecting_check_names_its_reasons(led: Ledger, kind: str, cls: str) -> None:
    tid = submitted(led)
    led.record_checks(tid, kind, report(check("sharp", "reject"), check("faces", "warn")))
    t = led.take(tid)
    assert (t.verdict, t.failure_class) == ("reject", cls)
    assert t.failure_reason == "sharp: sharp m; faces: faces m"
    # and a pass on the next check of that take clears the reject it left
    led.record_checks(tid, kind, report(check("sharp", "pass")))
    t = led.take(tid)
    assert (t.verdict, t.failure_class, t.failure_reason) == ("pass", None, None)


def test_a_reject_reason_is_cut_at_2000_characters(led: Ledger) -> None:
    tid = submitted(led)
    led.record_checks(tid, "clip", report(check("flicker", "reject", message="x" * 3000)))
    reason = led.take(tid).failure_reason
    assert reason is not None and len(reason) == 2000 and reason.startswith("flicker: xxx")


def test_an_erroring_check_counts_as_a_reject(led: Ledger) -> None:
    tid = submitted(led)
    led.record_checks(tid, "clip", report(check("decode", "pass"), verdict="error"))
    assert (led.take(tid).verdict, led.take(tid).failure_class) == ("reject", "qc_reject")


def test_a_recheck_that_passes_keeps_an_unrelated_failure(led: Ledger) -> None:
    tid = submitted(led)
    led.record_needs_review(tid, "lost")
    led.record_checks(tid, "image", report(check("sharp", "pass")))
    t = led.take(tid)
    assert (t.failure_class, t.failure_reason) == ("ambiguous", "lost")


def test_record_checks_moves_the_shot_in_the_same_write(led: Ledger) -> None:
    tid = submitted(led)
    led.record_checks(
        tid, "image", report(check("sharp", "pass")), shot=("p", "s01", {"detail": "gate passed"})
    )
    assert led.shot("p", "s01").detail == "gate passed"
    with pytest.raises(LedgerError, match="unknown shot"):
        led.record_checks(tid, "image", report(check("sharp", "pass")), shot=("p", "nope", {}))


def test_only_a_downloaded_take_keeps_its_first_artifact(led: Ledger) -> None:
    """The hash alone does not make a take done: one that holds a hash but was put back (a person asked for
    the download again) records the new file and cost."""
    tid = submitted(led)
    led.record_submitted(tid, "task-1", {})
    download(led, tid, sha="aa" * 32)
    with led.db.write() as c:
        c.exec_driver_sql("update gc_takes set state = 'submitted' where id = ?", (tid,))
    assert download(led, tid, sha="bb" * 32) == "bb" * 32
    assert (led.take(tid).state, led.take(tid).artifact_sha256) == ("downloaded", "bb" * 32)


def test_the_cap_allows_float_noise_up_to_its_tolerance(led: Ledger) -> None:
    # sums of float prices drift by a few ulps; the cap allows 1e-9 over and refuses anything beyond
    tid = take(led, "a", 1.0 + 1e-9)
    assert led.begin_submit(tid, "r", "acme", BudgetCaps(project_usd=1.0)).state == "submitting"
    over = take(led, "b", 1.0 + 1e-8)
    with pytest.raises(BudgetExceeded):
        led.begin_submit(over, "r2", "acme", BudgetCaps(run_usd=1.0))  # nothing spent yet in run r2
