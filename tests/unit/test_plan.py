"""The shot plan: typed, checked where it is built, frozen, and with an identity that only what the shot asks
for changes; the step results are frozen too."""

from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path

import pytest
from pydantic import ValidationError

from goldenchain.config import load_project
from goldenchain.orchestration.plan import ShotPlan, build_plan, default_seed
from goldenchain.orchestration.results import ShotResult, StartResult, TakeResult
from goldenchain.templates import write_example


def _plan(root: Path, **kw: object) -> ShotPlan:
    project = load_project(root)
    args: dict[str, object] = {"run_id": "r1", "max_cost": None, "only": None, **kw}
    return build_plan(project, project.shots.shots[0].id, **args)  # type: ignore[arg-type]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    write_example(tmp_path / "p")
    return tmp_path / "p"


def test_plan_reads_the_project(root: Path) -> None:
    plan = _plan(root, max_cost=4.5, quote_id="q1")
    project = load_project(root)
    shot = project.shots.shots[0]
    assert plan.shot_id == shot.id and plan.shot.prompt == shot.prompt
    assert plan.stills.model == project.config.stills.model and plan.video.mode == project.config.video.mode
    assert plan.caps.run_usd == 4.5 and plan.caps.quote_id == "q1"
    assert plan.caps.budget().run_usd == 4.5
    assert plan.provider_for("still") == project.config.stills.provider
    assert plan.provider_for("clip") == project.config.video.provider


def test_a_shot_without_a_seed_gets_one_from_its_id(root: Path) -> None:
    text = (root / "shots.yaml").read_text()
    (root / "shots.yaml").write_text("\n".join(ln for ln in text.splitlines() if "seed:" not in ln) + "\n")
    plan = _plan(root)
    assert plan.seed == default_seed(plan.shot_id)


def test_identity_ignores_run_caps_and_engine_but_not_the_work(root: Path) -> None:
    a = _plan(root)
    assert _plan(root, run_id="other", max_cost=1.0, quote_id="q").identity() == a.identity()
    slower = a.model_copy(update={"engine": a.engine.model_copy(update={"poll_interval": 60.0})})
    assert slower.identity() == a.identity()
    other_prompt = a.model_copy(update={"shot": a.shot.model_copy(update={"prompt": "something else"})})
    assert other_prompt.identity() != a.identity()
    assert _plan(root, only="stills").identity() != a.identity()
    review = a.model_copy(update={"qc": a.qc.model_copy(update={"on_reject": "review"})})
    assert review.identity() != a.identity()


def test_more_takes_is_a_new_plan(root: Path) -> None:
    a = _plan(root)
    b = a.with_takes(2, 1)
    assert (b.stills.max_takes, b.video.max_takes) == (a.stills.max_takes + 2, a.video.max_takes + 1)
    assert a.with_takes(0, 0) is a
    assert b.identity() != a.identity()


def test_plan_is_checked_and_frozen(root: Path) -> None:
    with pytest.raises(ValidationError):
        _plan(root, only="everything")
    plan = _plan(root)
    with pytest.raises(ValidationError):
        plan.run_id = "x"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        ShotPlan.model_validate({**plan.model_dump(), "surprise": 1})


def test_plan_and_results_survive_the_engine_s_recording(root: Path) -> None:
    plan = _plan(root)
    assert pickle.loads(pickle.dumps(plan)) == plan
    res = TakeResult(1, "failed", 7, failure_class="moderation", reason="nsfw")
    assert pickle.loads(pickle.dumps(res)) == res
    assert res.retakeable and res.describe("still") == "still take 1: moderation: nsfw"
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.outcome = "ok"  # type: ignore[misc]
    start = StartResult("retry", retry_after=2.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        start.retry_after = 0  # type: ignore[misc]


def test_shot_result_reads_an_older_release_s_dict() -> None:
    old = {
        "shot": "s01",
        "status": "done",
        "stage": "done",
        "detail": None,
        "still_take_id": 3,
        "clip_take_id": 4,
    }
    res = ShotResult.of(old)
    assert res == ShotResult("s01", "done", "done", None, 3, 4)
    assert res.to_json() == old
    assert ShotResult("s02", "failed", "gate", "why").to_json() == {
        "shot": "s02", "status": "failed", "stage": "gate", "detail": "why",
    }  # fmt: skip


def test_draft_settings_count_only_in_a_draft_run(root: Path) -> None:
    """A plain plan's identity does not move when the draft settings change (its shot keeps its workflow); a
    draft run's plan is another work, with the route's draft model resolved in it."""
    a = _plan(root)
    more = a.model_copy(update={"stills": a.stills.model_copy(update={"draft_takes": 5})})
    assert more.identity() == a.identity()
    d = _plan(root, drafts=True)
    assert d.drafts and d.stills.draft_model == "fal-ai/flux/schnell"
    assert d.identity() != a.identity()
    assert d.provider_for("draft") == d.stills.provider
    five = d.model_copy(update={"stills": d.stills.model_copy(update={"draft_takes": 5})})
    assert five.identity() != d.identity()
