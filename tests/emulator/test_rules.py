"""The failure rules as data: each fires at about its probability when its condition holds, never when it does
not, reproducibly; the manual's table is the code's; scenarios turn them on and off."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from goldenchain.emulator import Emulator
from goldenchain.emulator.rules import (
    RULES,
    SCENARIO_RULES,
    RuleBook,
    clip_ask,
    rules_for,
    rules_markdown,
    still_ask,
)
from goldenchain.emulator.scenarios import SCENARIOS
from goldenchain.emulator.scene import parse_prompt

DOCS = Path(__file__).resolve().parents[2] / "docs"
BY_NAME = {r.name: r for r in RULES}

# One request per rule whose condition holds, and one close to it whose condition does not.
MATCHING = {
    "busy-camera-melt": clip_ask(
        "people walk past", {"horizontal": 8}, 5, None, parse_prompt("a busy market")
    ),
    "light-flicker": clip_ask(
        "the camera holds", None, 5, None, parse_prompt("a street at night, neon signs")
    ),
    "artstation-clutter": still_ask("a castle, trending on ArtStation, 8k", 1, 1024, 576),
    "roll-warp": clip_ask("slow turn", {"type": "simple", "config": {"roll": 4}}, 5, None, None),
    "long-drift": clip_ask("a calm lake at dawn", None, 10, None, None),
}
NOT_MATCHING = {
    "busy-camera-melt": [
        # 50 % of the range is not over it
        clip_ask("people walk past", {"horizontal": 5}, 5, None, parse_prompt("a busy market")),
        clip_ask("grass sways", {"horizontal": 9}, 5, None, parse_prompt("a quiet meadow, overcast")),
    ],
    "light-flicker": [clip_ask("the camera holds", None, 5, None, parse_prompt("a woman by a lamp"))],
    "artstation-clutter": [still_ask("a castle on a hill at sunset, 35mm lens", 1, 1024, 576)],
    "roll-warp": [clip_ask("slow pan", {"horizontal": 4}, 5, None, None)],
    "long-drift": [clip_ask("a calm lake at dawn", None, 5, None, None)],
}


def test_every_rule_has_a_matching_and_a_non_matching_request() -> None:
    assert set(MATCHING) == set(BY_NAME) == set(NOT_MATCHING)
    for name, ask in MATCHING.items():
        assert BY_NAME[name].applies(ask) and BY_NAME[name].stage == ask.stage, name
        for other in NOT_MATCHING[name]:
            assert not BY_NAME[name].applies(other), (name, other)


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_rule_fires_at_its_probability_and_never_when_its_condition_is_false(name: str) -> None:
    rule = BY_NAME[name]
    ask = MATCHING[name]
    p = rule.chance(ask)
    assert 0.0 < p < 1.0
    book = RuleBook((rule,))
    n = 4000
    fired = sum(book.decide(ask)[0] is rule for _ in range(n))  # the same request again and again: re-rolls
    sd = math.sqrt(n * p * (1 - p))
    assert abs(fired - n * p) < 5 * sd, (fired, n * p)
    for other in NOT_MATCHING[name]:
        assert all(book.decide(other)[0] is None for _ in range(500))
    assert len(book.fired) == fired


def test_probability_grows_with_the_setting_that_drives_it() -> None:
    melt = BY_NAME["busy-camera-melt"]
    busy = parse_prompt("a crowded street")
    ps = [melt.chance(clip_ask("x", {"zoom": v}, 5, None, busy)) for v in (6, 8, 10)]
    assert ps == sorted(ps) and ps[0] < ps[-1] <= 0.9
    flicker = BY_NAME["light-flicker"]
    two = flicker.chance(clip_ask("x", None, 5, None, parse_prompt("a room with two lamps")))
    neon = flicker.chance(clip_ask("x", None, 5, None, parse_prompt("neon signs and candles in a bar")))
    assert two < neon


def test_draws_are_reproducible_and_depend_on_the_request_and_the_task() -> None:
    ask = MATCHING["light-flicker"]
    a, b = RuleBook(RULES), RuleBook(RULES)
    first = [a.decide(ask) for _ in range(40)]
    # the same requests in the same order: the same outcome
    assert first == [b.decide(ask) for _ in range(40)]
    assert [n for _, n in first] == list(range(40))  # each re-roll is the next task of that request
    assert len({r is None for r, _ in first}) == 2  # some re-rolls fail, some do not
    other = clip_ask("the camera holds still", None, 5, None, ask.scene)  # another request: other draws
    assert [r is None for r, _ in first] != [r is None for r, _ in (b.decide(other) for _ in range(40))]


def test_the_first_rule_that_fires_wins() -> None:
    both = clip_ask("x", {"horizontal": 10}, 5, None, parse_prompt("a crowded street at night, neon signs"))
    melt, flicker = BY_NAME["busy-camera-melt"], BY_NAME["light-flicker"]
    assert melt.applies(both) and flicker.applies(both)
    book = RuleBook(RULES)
    got = [book.decide(both)[0] for _ in range(600)]
    share_melt = sum(r is melt for r in got) / len(got)
    share_flicker = sum(r is flicker for r in got) / len(got)
    p_m, p_f = melt.chance(both), flicker.chance(both)
    assert abs(share_melt - p_m) < 0.08
    assert abs(share_flicker - (1 - p_m) * p_f) < 0.08


def test_scenarios_turn_rules_on_and_a_test_can_override_them() -> None:
    assert rules_for("clean") == () == rules_for("flaky")
    assert rules_for("field") == RULES == rules_for("demo")
    assert set(SCENARIO_RULES) == set(SCENARIOS)
    from goldenchain.cli.demo import SCENARIOS as CLI_SCENARIOS

    assert set(CLI_SCENARIOS) == set(SCENARIOS)
    assert Emulator(scenario="clean").rules.rules == ()
    assert Emulator(scenario="field").rules.rules == RULES
    assert Emulator(scenario="field").plan.faults == []  # field: no scripted fault, only the rules
    assert Emulator(scenario="clean", rules=RULES[:1]).rules.rules == RULES[:1]
    assert Emulator(scenario="demo", rules=()).rules.rules == ()


def test_the_manual_shows_the_code_table() -> None:
    page = (DOCS / "emulator.md").read_text(encoding="utf-8")
    assert rules_markdown() in page
    rows = [line for line in page.splitlines() if re.match(r"\| `[a-z-]+` \| (still|clip) \|", line)]
    assert [re.match(r"\| `([a-z-]+)`", r).group(1) for r in rows] == [r.name for r in RULES]  # type: ignore[union-attr]
    nav = (DOCS.parent / "mkdocs.yml").read_text(encoding="utf-8")
    assert "emulator.md" in nav
    for scenario in SCENARIOS:
        assert f"| `{scenario}`" in page
