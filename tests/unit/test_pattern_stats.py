"""The failure-pattern statistics: a feature that fails one way far more often than the takes without it is
flagged, with that way; a feature spread evenly over failing and passing takes, or too rare, is not."""

from __future__ import annotations

from types import SimpleNamespace

from goldenchain.reports.patterns import patterns


def _take(i: int, shot: str) -> SimpleNamespace:
    return SimpleNamespace(id=i, shot_id=shot, state="downloaded")


def test_a_feature_tied_to_one_failure_is_flagged_and_an_even_one_is_not() -> None:
    shots, takes, failed = {}, [], {}
    for i in range(40):
        neon = i < 10
        colour = "red" if i % 2 else "blue"  # spread over both halves
        strong = 20 <= i < 26
        shots[f"s{i}"] = {
            "prompt": f"a {'neon sign' if neon else 'quiet room'} with a {colour} chair",
            "scene": "environment",
            "camera": {"horizontal": 9 if strong else 2},
            "motion": 20,
        }
        takes.append(_take(i, f"s{i}"))
        if neon and i % 5 != 0:  # 8 of 10 neon takes flicker
            failed[i] = "qc_reject:flicker"
        elif i in (30, 33):  # two unrelated failures
            failed[i] = "qc_reject:warp"
    found = {p.feature: p for p in patterns(takes, shots, failed)}
    assert found["word:neon"].flagged and found["word:neon"].kind == "qc_reject:flicker"
    assert found["word:neon"].kind_failures == 8 and found["word:neon"].p_value < 0.001
    assert not found["word:red"].flagged and not found["word:blue"].flagged
    assert found["word:red"].failures + found["word:blue"].failures == 10
    assert not found["word:quiet"].flagged  # two warp failures: too few to flag
    assert [p.feature for p in patterns(takes, shots, failed) if p.flagged][:2] == ["word:neon", "word:sign"]
    assert "camera:strong (>5) & scene:environment" not in found  # no failure among those takes


def test_nothing_is_flagged_when_failures_are_spread_evenly() -> None:
    shots = {f"s{i}": {"prompt": f"word{'abc'[i % 3]} scene", "scene": "product", "camera": {}, "motion": 10}
             for i in range(60)}  # fmt: skip
    takes = [_take(i, f"s{i}") for i in range(60)]
    failed = {i: "gate_reject:blur" for i in range(0, 60, 4)}
    assert [p.feature for p in patterns(takes, shots, failed) if p.flagged] == []
