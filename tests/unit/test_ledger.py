from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from goldenchain.errors import BudgetExceeded, LedgerError
from goldenchain.store.artifacts import ArtifactStore, sniff_mime
from goldenchain.store.db import Database
from goldenchain.store.ledger import BudgetCaps, Ledger


def _ledger(tmp_path: Path) -> Ledger:
    led = Ledger(Database(f"sqlite:///{tmp_path / 'state.db'}"))
    led.ensure_project("p", "acme", str(tmp_path), [{"id": "s01", "prompt": "x"}])
    return led


def _take(led: Ledger, key: str, usd: float = 0.5) -> int:
    return led.get_or_create_take(
        key,
        project_id="p",
        shot_id="s01",
        stage="clip",
        take_no=1,
        provider="kling",
        model="kling-v1-5",
        request={"k": key},
        estimate_usd=usd,
    ).id


def test_migrations_and_wal(tmp_path: Path) -> None:
    led = _ledger(tmp_path)
    with led.db.engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert c.exec_driver_sql("select version_num from gc_alembic_version").scalar() == "0010"


def test_intent_then_task_id_then_commit(tmp_path: Path) -> None:
    led = _ledger(tmp_path)
    tid = _take(led, "k1")
    assert _take(led, "k1") == tid  # same key, same take
    t = led.begin_submit(tid, "run1", "acme", BudgetCaps(project_usd=1.0))
    assert t.state == "submitting" and t.submit_attempts == 1
    with pytest.raises(LedgerError, match="refusing to submit"):
        led.begin_submit(tid, "run1", "acme", BudgetCaps())
    led.record_submitted(tid, "task-9", {"x": 1})
    assert led.take(tid).provider_task_id == "task-9"
    led.record_downloaded(
        tid,
        sha256="ab" * 32,
        rel_path="a.mp4",
        size=3,
        mime="video/mp4",
        meta={},
        kind="clip",
        cost_usd=0.49,
        credits=3.5,
        billed_units=3.5,
        unit="credits",
        result_url="http://x/y.mp4",
    )
    (sp,) = led.spend("p")
    assert (sp.state, sp.usd, sp.credits) == ("committed", 0.49, 3.5)
    t = led.take(tid)
    assert (t.state, t.result_url, t.artifact_sha256, t.cost_usd) == (
        "downloaded",
        "http://x/y.mp4",
        "ab" * 32,
        0.49,
    )
    assert t.updated_at is not None and t.created_at is not None
    assert led.artifact("ab" * 32) is not None


def test_budget_blocks_before_the_call(tmp_path: Path) -> None:
    led = _ledger(tmp_path)
    a, b = _take(led, "a", 0.6), _take(led, "b", 0.6)
    led.begin_submit(a, "r", "acme", BudgetCaps(project_usd=1.0))
    with pytest.raises(BudgetExceeded) as ei:
        led.begin_submit(b, "r", "acme", BudgetCaps(project_usd=1.0))
    assert "project p" in str(ei.value)
    assert led.take(b).state == "budget_blocked"
    led.record_task_failed(a, "moderation", "flagged")  # released: the money is free again
    assert led.begin_submit(b, "r", "acme", BudgetCaps(project_usd=1.0)).state == "submitting"


def test_run_cap_counts_only_this_run(tmp_path: Path) -> None:
    led = _ledger(tmp_path)
    a, b = _take(led, "a", 0.6), _take(led, "b", 0.6)
    led.begin_submit(a, "r1", "acme", BudgetCaps(run_usd=1.0))
    assert led.begin_submit(b, "r2", "acme", BudgetCaps(run_usd=1.0)).state == "submitting"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    cap=st.floats(0.5, 5.0),
    ops=st.lists(
        st.tuples(st.floats(0.01, 2.0), st.sampled_from(["commit", "release", "hold"])), max_size=12
    ),
)
def test_property_reservations_never_exceed_cap(
    tmp_path_factory: pytest.TempPathFactory, cap: float, ops: list
) -> None:
    led = _ledger(tmp_path_factory.mktemp("prop"))
    for i, (usd, what) in enumerate(ops):
        tid = _take(led, f"k{i}", usd)
        try:
            led.begin_submit(tid, "r", "acme", BudgetCaps(project_usd=cap))
        except BudgetExceeded:
            continue
        if what == "commit":
            led.record_downloaded(
                tid,
                sha256=f"{i:064d}",
                rel_path="x",
                size=1,
                mime="image/png",
                meta={},
                kind="still",
                cost_usd=usd,
                credits=None,
                billed_units=None,
                unit=None,
            )
        elif what == "release":
            led.record_task_failed(tid, "provider_error", "boom")
        active = sum(s.usd for s in led.spend("p") if s.state in ("reserved", "committed"))
        assert active <= cap + 1e-9
    led.db.dispose()


def test_artifact_store_is_content_addressed(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path / "artifacts")
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 10
    sha, path, mime = store.put(png)
    assert mime == "image/png" and path.suffix == ".png"
    assert path.parent.name == sha[:2] and path.stem == sha[2:]
    assert store.put(png)[1] == path
    assert store.verify(sha, mime)
    assert sniff_mime(b"\x00\x00\x00\x18ftypmp42") == "video/mp4"


def test_recheck_that_passes_clears_the_old_reject(tmp_path: Path) -> None:
    from goldenchain.core.checks import Check, CheckReport

    led = _ledger(tmp_path)
    tid = _take(led, "k1")
    bad = Check("freeze", "reject", 5.0, 0.5, "higher_is_worse", "frozen")
    led.record_checks(tid, "clip", CheckReport("c.mp4", "reject", 0.1, [bad]))
    assert led.take(tid).failure_class == "qc_reject"
    ok = Check("freeze", "pass", 0.0, 0.5, "higher_is_worse", "moves")
    led.record_checks(tid, "clip", CheckReport("c.mp4", "pass", 0.1, [ok]))
    t = led.take(tid)
    assert (t.verdict, t.failure_class, t.failure_reason) == ("pass", None, None)
    assert [c.name for c in led.checks(tid)] == ["freeze"]


def test_reads_do_not_wait_for_the_write_lock(tmp_path: Path) -> None:
    from sqlalchemy import text

    led = _ledger(tmp_path)
    tid = _take(led, "k1")
    with led.db.session() as w, w.begin():  # a writer holds the lock (BEGIN IMMEDIATE)
        w.execute(text("UPDATE gc_takes SET seed = 7 WHERE id = :i"), {"i": tid})
        # a snapshot read: a read that waited for the lock would never get it (this thread holds it) and would
        # fail with "database is locked" when the busy timeout ran out
        assert led.take(tid).seed is None
    assert led.take(tid).seed == 7


def test_records_mirror_their_tables() -> None:
    """``Take`` and ``Artifact`` are built from whole rows: a column added by a migration must be added there."""
    from dataclasses import fields

    from goldenchain.store.schema import ArtifactRow, TakeRow
    from goldenchain.store.takes import Artifact, Take

    assert [f.name for f in fields(Take)] == [c.name for c in TakeRow.__table__.columns]
    assert [f.name for f in fields(Artifact)] == [c.name for c in ArtifactRow.__table__.columns]


def test_a_failed_poll_recorded_twice_logs_once(tmp_path: Path) -> None:
    led = _ledger(tmp_path)
    tid = _take(led, "k1")
    led.begin_submit(tid, "r", "acme", BudgetCaps(project_usd=1.0))
    led.record_submitted(tid, "task-1", {})
    led.record_task_failed(tid, "provider_error", "boom")
    led.record_task_failed(tid, "provider_error", "boom")  # the poll step ran again after a crash
    (sp,) = led.spend("p")
    assert sp.state == "released"
    with led.db.read() as c:
        outcomes = [
            r[0] for r in c.exec_driver_sql("select outcome from gc_provider_calls where take_id = ?", (tid,))
        ]
    assert outcomes == ["submitting", "accepted", "failed:provider_error"]


def test_a_download_recorded_twice_keeps_the_first(tmp_path: Path) -> None:
    """A poll step that ran again after a crash downloads again: the take keeps its first artifact and cost."""
    led = _ledger(tmp_path)
    tid = _take(led, "k1")
    led.begin_submit(tid, "r", "acme", BudgetCaps())
    led.record_submitted(tid, "task-1", {})
    common: dict = {"rel_path": "a.mp4", "size": 3, "mime": "video/mp4", "meta": {}, "kind": "clip"}
    extra: dict = {"credits": None, "billed_units": None, "unit": None}
    first = led.record_downloaded(
        tid, sha256="aa" * 32, cost_usd=0.4, result_url="http://x/1", **common, **extra
    )
    again = led.record_downloaded(
        tid, sha256="bb" * 32, cost_usd=0.9, result_url="http://x/2", **common, **extra
    )
    assert first == again == "aa" * 32
    t = led.take(tid)
    assert (t.artifact_sha256, t.cost_usd, t.result_url) == ("aa" * 32, 0.4, "http://x/1")
    (sp,) = led.spend("p")
    assert (sp.state, sp.usd) == ("committed", 0.4)
