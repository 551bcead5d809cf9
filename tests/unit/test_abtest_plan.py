"""An A/B test's plan: variants and settings parsed (bad ones refused with one line), each pair's shot and
settings (one take per stage, the routes kept, the budget's room as the cap, no near-duplicate comparison
between variants that share a seed), paired seeds, and a blind order of a person's own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from goldenchain.config import Project, load_project
from goldenchain.core import abtest as ab
from goldenchain.core.keys import canonical_hash
from goldenchain.errors import UsageError
from goldenchain.orchestration.plan import build_plan
from goldenchain.templates import write_example


@pytest.fixture
def project(tmp_path: Path) -> Project:
    write_example(tmp_path / "p")
    return load_project(tmp_path / "p")


def test_variants_and_settings_are_parsed() -> None:
    vs = ab.parse_variants(
        ["a", "b= soft  window light ", "c=x"],
        ["b:camera.zoom=6", "b:video.mode=std", "c:video.cfg_scale=0.7"],
    )
    assert [v.to_json() for v in vs] == [
        {"name": "a", "prompt": None, "settings": {}},
        {"name": "b", "prompt": "soft window light", "settings": {"camera.zoom": 6, "video.mode": "std"}},
        {"name": "c", "prompt": "x", "settings": {"video.cfg_scale": 0.7}},
    ]
    assert [ab.parse_value(x) for x in ("3", "-2.5", "true", "std")] == [3, -2.5, True, "std"]
    for items, settings, words in [
        (["a"], [], "at least two"),
        (["a", "a"], [], "twice"),
        (["a", "b="], [], "empty prompt"),
        (["a", "b-c"], [], "variant name"),
        (["a", "b"], ["b:stills.provider=replicate"], "cannot vary"),
        (["a", "b"], ["b:video.max_takes=3"], "cannot vary"),
        (["a", "b"], ["b:seed=3"], "cannot vary"),
        (["a", "b"], ["zoom=3"], "VARIANT:KEY=VALUE"),
        (["a", "b"], ["c:motion=3"], "no variant named"),
    ]:
        with pytest.raises(UsageError, match=words):
            ab.parse_variants(items, settings)


def test_each_pair_runs_one_take_per_stage_with_the_variant_settings(project: Project) -> None:
    p = project
    a, b = ab.parse_variants(
        ["a", "b=another prompt"], ["b:camera.zoom=6", "b:video.mode=std", "b:motion=40"]
    )
    base = p.shots.shots[0]
    seeds = ab.pair_seeds(2**32 - 1, 3)
    assert seeds == [2**32 - 1, 0, 1]
    sa, sb = ab.variant_shot(base, a, 2, seeds[1]), ab.variant_shot(base, b, 2, seeds[1])
    assert (sa.id, sb.id, sa.seed, sb.seed) == ("a-p002", "b-p002", 0, 0)
    assert sa.prompt == base.prompt and sb.prompt == "another prompt"
    assert sb.camera.zoom == 6 and sb.motion == 40 and sb.camera.horizontal == base.camera.horizontal
    cfg = ab.variant_config(p.config, b, ledger_project="shoot.ab.t", project_room=3.5)
    assert cfg.project.name == "shoot.ab.t" and cfg.budget.project_usd == 3.5
    assert cfg.stills.max_takes == cfg.video.max_takes == 1 and cfg.video.mode == "std"
    assert cfg.stills.provider == p.config.stills.provider and cfg.gate.near_duplicates is False
    with pytest.raises(UsageError, match=r"variant 'b': camera\.zoom"):
        ab.variant_shot(base, ab.Variant("b", None, {"camera.zoom": 11}), 1, 1)
    with pytest.raises(UsageError, match="variant 'b': mode"):
        ab.variant_config(
            p.config, ab.Variant("b", None, {"video.mode": "max"}), ledger_project="x", project_room=None
        )


def test_the_near_duplicate_setting_keeps_existing_plans_identity(project: Project) -> None:
    sid = project.shots.shots[0].id
    plan = build_plan(project, sid, run_id="r", max_cost=None, only=None)
    gate = project.config.gate.model_copy(update={"near_duplicates": False})
    other = build_plan(
        project,
        sid,
        run_id="r",
        max_cost=None,
        only=None,
        config=project.config.model_copy(update={"gate": gate}),
    )
    assert plan.identity() != other.identity() and other.gate.near_duplicates is False
    # what the identity hashed before the setting existed (the defaults that never counted left out)
    keep = plan.model_dump(mode="json", exclude={"run_id", "caps", "engine", "drafts"})
    del keep["gate"]["near_duplicates"], keep["stills"]["draft_model"], keep["stills"]["draft_takes"]
    del keep["qc"]["on_reject"], keep["video"]["source"]
    assert plan.identity() == canonical_hash(keep)[:10]


def test_blind_order_is_a_persons_own_and_not_the_variant_order() -> None:
    names = ["a", "b"]
    orders = [tuple(ab.blind_order("salt", "alice", i, names)) for i in range(1, 41)]
    assert orders == [tuple(ab.blind_order("salt", "alice", i, names)) for i in range(1, 41)]  # stable
    assert set(orders) == {("a", "b"), ("b", "a")}  # both orders occur over the pairs
    assert orders != [tuple(ab.blind_order("other salt", "alice", i, names)) for i in range(1, 41)]
    assert orders != [tuple(ab.blind_order("salt", "bob", i, names)) for i in range(1, 41)]


def test_a_tests_ledger_project_runs_in_its_projects_runtime() -> None:
    from goldenchain.orchestration.runtime import RUNTIMES, runtime

    assert ab.ledger_project("shoot", "light") == "shoot.ab.light"
    assert (
        ab.base_project("shoot.ab.light") == "shoot" and ab.base_project("my.ab.shoot.ab.x") == "my.ab.shoot"
    )
    assert ab.base_project("shoot") is None and ab.base_project(".ab.x") is None
    rt: Any = object()
    RUNTIMES["shoot"] = rt
    try:
        assert runtime("shoot.ab.light") is rt and runtime("shoot") is rt
        with pytest.raises(RuntimeError, match="not open"):
            runtime("other.ab.light")
    finally:
        del RUNTIMES["shoot"]
