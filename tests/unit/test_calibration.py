"""Calibration drift (pure): medians over the prompts measured in both runs, counts summed, each metric against
its band, a first run as the baseline; and the metrics read from a prompt's takes."""

from __future__ import annotations

import pytest

from goldenchain.config_sections import CalibrationSection
from goldenchain.core.calibration import compare, prompt_metrics, seed_for
from goldenchain.core.checks import Check
from goldenchain.core.takes import Take

BANDS = CalibrationSection()


def _rows(**per_prompt: dict[str, float]) -> list[tuple[str, str, float, float | None]]:
    thr = {"gate.exposure": 0.3, "gate.blur": 60.0}
    return [(p, m, v, thr.get(m)) for p, ms in per_prompt.items() for m, v in ms.items()]


def _by(drifts: list) -> dict:
    return {d.metric: d for d in drifts}


def test_a_first_run_is_the_baseline() -> None:
    got = compare(_rows(a={"clip.cost_usd": 0.49, "refused": 1.0}), None, BANDS)
    assert [d.flagged for d in got] == [False, False]
    assert all(d.last is None and d.drift is None for d in got)


def test_each_metric_against_its_band() -> None:
    last = _rows(
        a={"clip.cost_usd": 0.49, "clip.latency_s": 60.0, "gate.exposure": 0.80, "gate.blur": 500.0,
           "first_frame": 0.99, "refused": 0.0},
        b={"clip.cost_usd": 0.49, "clip.latency_s": 62.0, "gate.exposure": 0.82, "gate.blur": 520.0,
           "first_frame": 0.98, "refused": 0.0},
    )  # fmt: skip
    now = _rows(
        a={"clip.cost_usd": 0.5, "clip.latency_s": 100.0, "gate.exposure": 0.70, "gate.blur": 505.0,
           "first_frame": 0.88, "refused": 0.0},
        b={"clip.cost_usd": 0.5, "clip.latency_s": 101.0, "gate.exposure": 0.71, "gate.blur": 512.0,
           "first_frame": 0.97, "refused": 1.0},
    )  # fmt: skip
    d = _by(compare(now, last, BANDS))
    assert not d["clip.cost_usd"].flagged  # +2 % inside ±10 %
    assert d["clip.cost_usd"].relative == pytest.approx(0.01 / 0.49)
    assert d["clip.latency_s"].flagged  # 61 -> 100.5 s: +65 % and 39 s
    assert d["gate.exposure"].flagged and d["gate.exposure"].band == pytest.approx(0.15 * 0.3)
    assert not d["gate.blur"].flagged  # 510 -> 508.5, band 9 (15 % of 60)
    assert d["first_frame"].flagged  # median 0.985 -> 0.925, band 0.05
    assert d["refused"].flagged and (d["refused"].now, d["refused"].last) == (1.0, 0.0)


def test_bands_come_from_the_project() -> None:
    last = _rows(a={"clip.cost_usd": 0.49, "gate.exposure": 0.8, "refused": 0.0})
    now = _rows(a={"clip.cost_usd": 0.60, "gate.exposure": 0.7, "refused": 1.0})
    wide = CalibrationSection(cost=0.5, scores={"gate.exposure": 0.2}, new_failures=1)
    assert not any(d.flagged for d in compare(now, last, wide))
    assert all(d.flagged for d in compare(now, last, BANDS))


def test_a_small_latency_change_is_not_flagged() -> None:
    last = _rows(a={"still.latency_s": 1.0})
    d = _by(compare(_rows(a={"still.latency_s": 2.5}), last, BANDS))["still.latency_s"]
    assert d.relative == pytest.approx(1.5) and not d.flagged  # +150 % but 1.5 s, under latency_min_s
    d = _by(compare(_rows(a={"still.latency_s": 3.5}), last, BANDS))["still.latency_s"]
    assert d.flagged


def test_medians_pair_the_prompts_measured_in_both_runs() -> None:
    # prompt c is refused now: it has no clip, and the other prompts' median must not move
    last = _rows(a={"clip.cost_usd": 0.4}, b={"clip.cost_usd": 0.5}, c={"clip.cost_usd": 2.0})
    now = _rows(a={"clip.cost_usd": 0.4}, b={"clip.cost_usd": 0.5})
    d = _by(compare(now, last, BANDS))["clip.cost_usd"]
    assert (d.now, d.last, d.prompts, d.flagged) == (0.45, 0.45, 2, False)


def _take(tid: int, stage: str, **kw: object) -> Take:
    base: dict = dict(
        id=tid, shot="s", stage=stage, take=1, provider="p", model="m", seed=1, parent=None,
        state="downloaded", verdict="pass", review=None, review_note=None, failure_class=None, reason=None,
        provider_task_id="t", idempotency_key=f"k{tid}", estimate_usd=0.1, cost_usd=0.1, billed_units=None,
        unit=None, artifact_sha256=None, in_cut=True, checks=(),
    )  # fmt: skip
    return Take(**{**base, **kw})


def test_metrics_of_a_prompts_takes() -> None:
    still = _take(1, "still", checks=(
        Check("exposure", "pass", 0.8, 0.3, "lower_is_worse", ""),
        Check("near_duplicate", "pass", 0.0, -1.0, "lower_is_worse", ""),
    ))  # fmt: skip
    clip = _take(2, "clip", verdict="reject", cost_usd=0.49, checks=(
        Check("first_frame", "pass", 0.99, 0.8, "lower_is_worse", ""),
        Check("flicker", "reject", 2.0, 1.0, "higher_is_worse", ""),
    ))  # fmt: skip
    rows = {m: (v, t) for _, m, v, t in prompt_metrics("x", [still, clip], {1: 3.0, 2: 40.0})}
    assert rows == {
        "refused": (0.0, None), "still.rejected": (0.0, None), "still.cost_usd": (0.1, None),
        "still.latency_s": (3.0, None), "gate.exposure": (0.8, 0.3), "clip.rejected": (1.0, None),
        "clip.cost_usd": (0.49, None), "clip.latency_s": (40.0, None), "first_frame": (0.99, 0.8),
        "qc.flicker": (2.0, 1.0),
    }  # fmt: skip
    refused = _take(3, "still", state="failed", failure_class="moderation", cost_usd=None)
    assert prompt_metrics("y", [refused], {}) == [("y", "refused", 1.0, None)]


def test_seeds_are_fixed_and_distinct() -> None:
    assert seed_for("calibration-tokyo-street") == seed_for("calibration-tokyo-street")
    assert seed_for("portrait-keeper") != seed_for("landscape-valley")
    assert 0 <= seed_for("x") < 2**31
