"""The guide's failure modes as data: which requests go wrong, how often, with what defect, and which of the
product's checks should catch it.

:data:`RULES` is the one table (the manual's ``emulator.md`` shows it, and a test keeps the two equal). A rule
has a condition on the request (:class:`Ask`: the prompt, the scene the prompt or the submitted still shows,
the camera, the duration) and a probability that may grow with the request's settings. :class:`RuleBook`
draws each rule that applies from an RNG seeded by the request and by how many times the same request was
made before (a re-roll is a new task: a new draw), so a run is reproducible and a re-roll may come out fine.
Which rules a scenario turns on is in :data:`SCENARIO_RULES` (``clean``, ``flaky`` and ``drift``: none).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .scene import CLUTTER_PHRASES, SceneSpec, has_phrase, parse_prompt

__all__ = [
    "RULES",
    "SCENARIO_RULES",
    "Ask",
    "FailureRule",
    "RuleBook",
    "clip_ask",
    "draw",
    "rules_for",
    "rules_markdown",
    "still_ask",
]

_MOVES = ("horizontal", "vertical", "pan", "tilt", "zoom")


@dataclass(frozen=True)
class Ask:
    """A create request as the failure rules see it."""

    stage: str  #: ``still`` or ``clip``
    prompt: str  #: the still's prompt, or the clip's (motion) prompt
    scene: SceneSpec  #: what the picture shows (the submitted still's scene when the emulator made it)
    camera: Mapping[str, float]  #: camera axis -> value in -10..10 (rotation is read as roll)
    duration: float  #: seconds (0 for a still)
    key: str  #: the request's own hash (without our ids): the same request, the same key

    @property
    def move(self) -> float:
        """The largest translation or zoom camera value (absolute, 0..10)."""
        return max((abs(self.camera.get(a, 0.0)) for a in _MOVES), default=0.0)

    @property
    def roll(self) -> float:
        return abs(self.camera.get("roll", 0.0))

    @property
    def clutter_phrases(self) -> int:
        text = " ".join(self.prompt.lower().split())
        found = [p for p in CLUTTER_PHRASES if has_phrase(text, p)]
        # "artstation" inside "trending on artstation" is one phrase
        return len([p for p in found if not any(p != q and p in q for q in found)])


def _key(parts: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def camera_values(camera: Any) -> dict[str, float]:
    """Kling's ``camera_control`` (``{"type": "simple", "config": {...}}``) or a flat dict -> axis values."""
    if not isinstance(camera, dict):
        return {}
    config = camera.get("config")
    if not isinstance(config, dict):
        config = camera
    out: dict[str, float] = {}
    for axis, value in config.items():
        if isinstance(value, int | float) and not isinstance(value, bool) and value:
            out["roll" if axis == "rotation" else str(axis)] = max(-10.0, min(10.0, float(value)))
    return out


def still_ask(prompt: str, seed: int, width: int, height: int) -> Ask:
    key = _key({"stage": "still", "prompt": prompt, "seed": seed, "size": [width, height]})
    return Ask("still", prompt, parse_prompt(prompt), {}, 0.0, key)


def clip_ask(
    prompt: str, camera: Any, duration: float, image_sha256: str | None, scene: SceneSpec | None
) -> Ask:
    """``scene``: the submitted still's scene when the emulator rendered it; else the prompt's."""
    cam = camera_values(camera)
    seen = scene if scene is not None else parse_prompt(prompt)
    key = _key(
        {"stage": "clip", "prompt": prompt, "camera": cam, "duration": duration, "image": image_sha256}
    )
    return Ask("clip", prompt, seen, cam, float(duration), key)


@dataclass(frozen=True)
class FailureRule:
    """One failure mode: when it can happen, how likely, what it does, and the check that catches it."""

    name: str
    stage: str  #: ``still`` or ``clip``
    condition: str  #: the condition on the request, in words
    probability: str  #: the probability, in words
    defect: str  #: the defect the emulator renders
    check: str  #: the product check (gate or clip check) that should reject it
    applies: Callable[[Ask], bool] = field(repr=False, compare=False)
    chance: Callable[[Ask], float] = field(repr=False, compare=False)

    @property
    def renders(self) -> str:
        """The defect's name for the renderers (``melt``, ``clutter``, ...)."""
        return self.defect.split(":", 1)[0]


def _clamp(p: float, hi: float = 0.9) -> float:
    return max(0.0, min(hi, p))


RULES: tuple[FailureRule, ...] = (
    FailureRule(
        "busy-camera-melt",
        "clip",
        "a busy scene (street, crowd, market, action) and a camera move over 50 % of its range (a value beyond ±5)",
        "0.45 + 0.09 per step over 5, at most 0.9",
        "melt: the background swirls and smears, growing through the clip",
        "warp",
        applies=lambda a: a.scene.busy and a.move > 5,
        chance=lambda a: _clamp(0.45 + 0.09 * (a.move - 5)),
    ),
    FailureRule(
        "light-flicker",
        "clip",
        "several light sources in the picture (neon signs, candles, several lamps)",
        "0.35 + 0.1 per light source, at most 0.85",
        "flicker: the light pumps for a frame or two at a time",
        "flicker",
        applies=lambda a: a.scene.lights >= 2,
        chance=lambda a: _clamp(0.35 + 0.1 * a.scene.lights, 0.85),
    ),
    FailureRule(
        "artstation-clutter",
        "still",
        'still-image phrases in the prompt ("trending on ArtStation", "highly detailed", "8k", "intricate", ...)',
        "0.6 + 0.1 per further phrase, at most 0.9",
        "clutter: a posterised pile of flat shapes in a handful of tones instead of a photo",
        "low_information",
        applies=lambda a: a.clutter_phrases > 0,
        chance=lambda a: _clamp(0.6 + 0.1 * (a.clutter_phrases - 1)),
    ),
    FailureRule(
        "roll-warp",
        "clip",
        "a rotation (roll) camera move",
        "0.3 + 0.06 per step, at most 0.9",
        "swirl: the picture twists about its centre beyond the camera's roll",
        "warp",
        applies=lambda a: a.roll > 0,
        chance=lambda a: _clamp(0.3 + 0.06 * a.roll),
    ),
    FailureRule(
        "long-drift",
        "clip",
        "a 10 s clip",
        "0.35, or 0.5 on a busy scene",
        "drift: the scene loses coherence in the second half, bulging and sliding",
        "warp",
        applies=lambda a: a.duration >= 10,
        chance=lambda a: 0.5 if a.scene.busy else 0.35,
    ),
)

#: the rules each scenario turns on (a scenario not named here has none)
SCENARIO_RULES: dict[str, tuple[str, ...]] = {
    "clean": (),
    "flaky": (),
    "demo": tuple(r.name for r in RULES),
    "field": tuple(r.name for r in RULES),
    "drift": (),  # a clean run on changed models (scenarios.DRIFTS): what a calibration must flag is the change
}


def rules_for(scenario: str) -> tuple[FailureRule, ...]:
    names = SCENARIO_RULES.get(scenario, ())
    return tuple(r for r in RULES if r.name in names)


def draw(rule: str, key: str, nth: int) -> float:
    """The uniform draw in [0, 1) of ``rule`` for the ``nth`` (0-based) task of the request ``key``."""
    digest = hashlib.sha256(f"{rule}\x00{key}\x00{nth}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


class RuleBook:
    """The rules in force and a counter of tasks per request; thread-safe. :meth:`decide` is one task."""

    def __init__(self, rules: tuple[FailureRule, ...] = ()) -> None:
        self.rules = tuple(rules)
        self.fired: list[tuple[str, str, int]] = []  #: (rule, request key, task number)
        self._seen: Counter[str] = Counter()
        self._lock = threading.Lock()

    def decide(self, ask: Ask) -> tuple[FailureRule | None, int]:
        """(the rule that fired or None, the task's number among the same request's tasks). The first rule
        that applies and whose draw falls under its probability wins; every rule has its own draw."""
        with self._lock:
            nth = self._seen[ask.key]
            self._seen[ask.key] += 1
        for rule in self.rules:
            if (
                rule.stage == ask.stage
                and rule.applies(ask)
                and draw(rule.name, ask.key, nth) < rule.chance(ask)
            ):
                with self._lock:
                    self.fired.append((rule.name, ask.key, nth))
                return rule, nth
        return None, nth


def rules_markdown() -> str:
    """The rule table as the manual shows it (``docs/emulator.md``)."""
    on = {r.name: [s for s, names in SCENARIO_RULES.items() if r.name in names] for r in RULES}
    lines = [
        "| rule | stage | condition on the request | probability | defect | caught by | scenarios |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in RULES:
        scenarios = ", ".join(f"`{s}`" for s in on[r.name])
        lines.append(
            f"| `{r.name}` | {r.stage} | {r.condition} | {r.probability} | {r.defect} | `{r.check}` | {scenarios} |"
        )
    return "\n".join(lines) + "\n"
