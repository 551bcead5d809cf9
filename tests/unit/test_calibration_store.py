"""The ledger's calibration runs on SQLite (tests/postgres runs the same on PostgreSQL): recorded before any
spend, found again while unfinished, finished with their metrics (written again whole) and their spend."""

from __future__ import annotations

from pathlib import Path

import pytest

from goldenchain.errors import LedgerError
from goldenchain.store.db import Database
from goldenchain.store.ledger import BudgetCaps, Ledger

ROUTES = "fal:fal-ai/flux/dev -> kling:kling-v1-5:pro"


def exercise(led: Ledger) -> None:
    prompts = [{"prompt": "a", "shot": "a-r1", "seed": 7}, {"prompt": "b", "shot": "b-r1", "seed": 8}]
    run = led.start_calibration("r1", "shoot", "shoot.calibration", ROUTES, False, prompts, 1.2345)
    assert (run.status, run.estimate_usd, run.spent_usd, run.prompts) == (
        "running",
        1.2345,
        None,
        tuple(prompts),
    )
    assert led.start_calibration("r1", "shoot", "shoot.calibration", ROUTES, False, prompts, 9.0) == run
    assert led.unfinished_calibration("shoot", ROUTES, False) == run
    assert led.unfinished_calibration("shoot", ROUTES, True) is None  # a stills-only run is another
    assert led.unfinished_calibration("shoot", "other", False) is None

    # one paid still of prompt a, and one of another ledger project that must not count
    led.ensure_project("shoot.calibration", "acme", "/x", [{"id": "a-r1"}, {"id": "b-r1"}])
    led.ensure_project("other", "acme", "/y", [{"id": "a-r1"}])
    for key, project in (("k1", "shoot.calibration"), ("k2", "other")):
        t = led.get_or_create_take(
            key, project_id=project, shot_id="a-r1", stage="still", take_no=1, provider="fal", model="m",
            request={}, estimate_usd=0.05,
        )  # fmt: skip
        led.begin_submit(t.id, "run", "acme", BudgetCaps())
        led.record_submitted(t.id, "task", {})
        led.record_downloaded(
            t.id, sha256=key.ljust(64, "0"), rel_path=key, size=1, mime="image/png", meta={}, kind="still",
            cost_usd=0.04, credits=None, billed_units=None, unit=None, latency_s=3.14159,
        )  # fmt: skip
    assert [t.latency_s for t in led.takes("shoot.calibration")] == [3.142]

    rows = [("a", "gate.exposure", 0.8, 0.3), ("a", "refused", 0.0, None), ("b", "refused", 1.0, None)]
    led.finish_calibration("r1", rows[:1])
    done = led.finish_calibration("r1", rows)  # run again: the metrics are written whole, not twice
    assert done.status == "done" and done.spent_usd == pytest.approx(0.04) and done.finished_at is not None
    assert led.calibration_metrics(["r1", "r2"]) == {"r1": rows, "r2": []}
    assert led.unfinished_calibration("shoot", ROUTES, False) is None
    led.start_calibration("r2", "shoot", "shoot.calibration", ROUTES, True, prompts[:1], 0.1)
    assert [r.id for r in led.calibration_runs("shoot")] == ["r1", "r2"]
    assert led.calibration_runs("nobody") == []
    with pytest.raises(LedgerError):
        led.finish_calibration("r9", [])


def test_calibration_runs_on_sqlite(tmp_path: Path) -> None:
    led = Ledger(Database(f"sqlite:///{tmp_path / 'state.db'}"))
    try:
        exercise(led)
    finally:
        led.db.dispose()
