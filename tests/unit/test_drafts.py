"""Draft stills, the pure parts: the draft model a route defaults to, and which draft a final still is made
from."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from goldenchain.catalog import require_draft_model
from goldenchain.config import load_project
from goldenchain.core.drafts import choose_draft, describe_source, draft_source
from goldenchain.core.estimate import estimate_project
from goldenchain.core.models import Catalog, active_catalog
from goldenchain.errors import ConfigError, UsageError
from goldenchain.templates import write_example


@pytest.fixture
def project_root(tmp_path: Path) -> Path:
    write_example(tmp_path / "p")
    return tmp_path / "p"


def test_each_route_drafts_with_its_own_schnell(project_root: Path) -> None:
    cfg = load_project(project_root).config
    expected = {
        "fal": "fal-ai/flux/schnell",
        "replicate": "black-forest-labs/flux-schnell",
        "together": "black-forest-labs/FLUX.1-schnell",
        "local-flux": "black-forest-labs/FLUX.1-schnell",  # FLUX.1 schnell (local), on our own GPU
    }
    for route, model in expected.items():
        stills = cfg.stills.model_copy(update={"provider": route})
        assert require_draft_model(cfg.model_copy(update={"stills": stills})) == model


def test_a_route_without_a_draft_model_is_a_usage_error(project_root: Path) -> None:
    cfg = load_project(project_root).config
    no_schnell = Catalog.of(s for s in active_catalog() if not s.label.startswith("FLUX.1 schnell"))
    with pytest.raises(UsageError, match=r"fal route has no draft model.*draft_model"):
        require_draft_model(cfg, no_schnell)
    # the plain estimate still works there: the drafts' cost is simply unknown
    est = estimate_project(cfg, load_project(project_root).shots.shots, no_schnell)
    assert est["draft_usd"] is None and est["total_usd"] > 0
    named = cfg.stills.model_copy(update={"draft_model": "fal-ai/flux/dev"})
    assert require_draft_model(cfg.model_copy(update={"stills": named}), no_schnell) == "fal-ai/flux/dev"
    text = cfg.video.model_copy(update={"source": "text", "model": "kling-v1-6"})
    with pytest.raises(UsageError, match="text-to-video"):
        require_draft_model(cfg.model_copy(update={"video": text}))


def test_draft_takes_is_checked_when_the_project_loads(project_root: Path) -> None:
    cfg = project_root / "goldenchain.toml"
    cfg.write_text(cfg.read_text().replace("max_takes = 3 ", "draft_takes = 40\nmax_takes = 3 ", 1))
    with pytest.raises(ConfigError, match="draft_takes"):
        load_project(project_root)


@dataclass
class _T:
    id: int
    take_no: int
    stage: str = "draft"
    state: str = "downloaded"
    verdict: str | None = "pass"
    review: str | None = None
    parent_take_id: int | None = None


def test_a_person_s_choice_wins_else_the_newest_draft_that_passed() -> None:
    drafts = [_T(1, 1), _T(2, 2), _T(3, 3, verdict="reject")]
    assert choose_draft(drafts) == (drafts[1], "gate")
    drafts[0].review = "approved"
    assert choose_draft(drafts) == (drafts[0], "chosen")
    drafts[0].review, drafts[1].review = None, "rejected"  # a person rejected the newest that passed
    assert choose_draft(drafts) == (drafts[0], "gate")
    drafts[0].review = "rejected"
    assert choose_draft(drafts) is None
    assert choose_draft([_T(4, 1, state="failed"), _T(5, 1, stage="still")]) is None
    drafts[2].review = "approved"  # a person's choice wins over the gate's reject
    assert choose_draft(drafts) == (drafts[2], "chosen")


def test_status_says_which_draft_the_final_still_comes_from() -> None:
    takes = [_T(1, 1), _T(2, 2), _T(9, 1, stage="still", parent_take_id=1)]
    assert draft_source(takes, None) == {"take": 2, "take_id": 2, "how": "gate"}
    assert draft_source(takes, 9) == {"take": 1, "take_id": 1, "how": "made"}
    assert draft_source([_T(9, 1, stage="still")], 9) is None
    assert describe_source(draft_source(takes, 9)) == "final still made from draft 1"
    assert describe_source(None) == ""


def _paid(led: Any, stage: str, n: int, parent: int | None = None) -> int:
    """A take of ``stage`` through the paid boundary to downloaded."""
    from goldenchain.store.ledger import BudgetCaps

    tid = int(
        led.get_or_create_take(
            f"{stage}-{n}-{parent}", project_id="p", shot_id="s01", stage=stage, take_no=n, provider="fal",
            model="m", request={"prompt": "x", "seed": n}, seed=n, parent_take_id=parent, estimate_usd=0.01,
        ).id
    )  # fmt: skip
    led.begin_submit(tid, "r", "acme", BudgetCaps())
    led.record_submitted(tid, f"task-{stage}-{n}", {})
    sha = f"{stage[0]}{n}".ljust(64, "0")
    led.record_downloaded(
        tid, sha256=sha, rel_path=f"{sha}.png", size=1, mime="image/png", meta={}, kind=stage,
        cost_usd=0.01, credits=None, billed_units=None, unit=None,
    )  # fmt: skip
    return tid


def test_choosing_a_draft_in_the_ledger(tmp_path: Path) -> None:
    from goldenchain.store.db import Database
    from goldenchain.store.ledger import Ledger

    led = Ledger(Database(f"sqlite:///{tmp_path / 'state.db'}"))
    try:
        led.ensure_project("p", "acme", str(tmp_path), [{"id": "s01", "prompt": "x"}])
        d1, d2 = _paid(led, "draft", 1), _paid(led, "draft", 2)
        led.set_shot("p", "s01", status="running", stage="draft")
        led.set_shot("p", "s01", status="drafts_ready")
        led.choose_take(d2, who="ann")
        led.choose_take(d1, who="bob")  # only one draft is chosen at a time: the last choice
        assert [led.take(d).review for d in (d1, d2)] == ["approved", None]
        shot = led.shot("p", "s01")
        assert shot.status == "drafts_ready" and shot.detail is not None and "draft 1 chosen" in shot.detail
        # the final still made from draft 1 is in the cut; choosing draft 1 again changes nothing there
        still = _paid(led, "still", 1, parent=d1)
        led.set_shot("p", "s01", status="running", still_take_id=still)
        led.set_shot("p", "s01", status="done", stage="done")
        led.choose_take(d1)
        assert (led.shot("p", "s01").status, led.shot("p", "s01").still_take_id) == ("done", still)
        # another draft: the still made from draft 1 (and its clip) leave the cut, and the next run makes it again
        led.choose_take(d2, who="ann")
        shot = led.shot("p", "s01")
        assert (shot.status, shot.still_take_id, shot.clip_take_id) == ("needs_retake", None, None)
        assert (shot.extra_still_takes, shot.extra_clip_takes) == (0, 0)  # same takes, another composition
        who = [(e.action, e.who, e.take_id) for e in led.review_events("p", "s01")]
        assert who == [
            ("chosen", "ann", d2),
            ("chosen", "bob", d1),
            ("chosen", "local", d1),
            ("chosen", "ann", d2),
        ]
    finally:
        led.db.dispose()
