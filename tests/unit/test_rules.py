from __future__ import annotations

import ast
import inspect
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from goldenchain.config import CameraSpec, ShotSpec
from goldenchain.core import models, rules
from goldenchain.core.rules import lint_shot

GOOD = "Medium shot of a potter at a wheel, neutral overcast lighting, simple background, 35mm lens"


def _lint(shot: ShotSpec, model: str = "kling-v1-5", mode: str = "pro", **more: Any) -> dict[str, str]:
    """rule -> severity of every finding (a rule found twice must agree with itself)."""
    fs = lint_shot(
        shot,
        still_provider=more.pop("still_provider", "fal"),
        still_model=more.pop("still_model", "fal-ai/flux/dev"),
        video_provider="kling",
        video_model_id=model,
        video_mode=mode,
        **more,
    )
    return {f.rule: f.severity for f in fs}


def test_golden_prompt_is_clean() -> None:
    assert _lint(ShotSpec(id="a", prompt=GOOD, motion=15, camera=CameraSpec(horizontal=3))) == {}


BARE = "Medium shot of a potter at a wheel"  # GOOD without its light, background and lens
LINT_CASES: list[tuple[str, dict[str, Any], dict[str, str], dict[str, str]]] = [
    # (case, shot fields over GOOD / motion 15, lint_shot arguments, every finding expected)
    *[
        (f"still-image-phrase:{phrase}", {"prompt": f"{GOOD}, {phrase}"}, {}, {"still-image-phrase": "error"})
        for phrase in (
            "trending on ArtStation",
            "highly detailed",
            "8k",
            "4k",
            "intricate",
            "masterpiece",
            "ultra-detailed",
            "ultra detailed",
        )
    ],
    ("lens", {"prompt": f"{BARE}, neutral overcast lighting, simple background"}, {}, {"lens": "warning"}),
    ("soft-light", {"prompt": f"{BARE}, simple background, 35mm lens"}, {}, {"soft-light": "warning"}),
    *[
        (f"harsh-light:{phrase}", {"prompt": f"{GOOD}, {phrase}"}, {}, {"harsh-light": "warning"})
        for phrase in (
            "harsh shadows",
            "multiple light sources",
            "neon lights",
            "strobe",
            "dramatic rim light",
            "backlit",
        )
    ],
    (
        "extreme-close-up",
        {"prompt": f"{GOOD}, extreme close-up of the hands"},
        {},
        {"extreme-close-up": "warning"},
    ),
    ("shot-type", {"prompt": GOOD.replace("Medium shot of a", "A")}, {}, {"shot-type": "info"}),
    (
        "simple-background",
        {"prompt": f"{BARE}, neutral overcast lighting, 35mm lens", "scene": "product"},
        {},
        {"simple-background": "warning"},
    ),
    (
        "empty-prompt",
        {"prompt": "   "},
        {},  # nothing asked for is there either
        {
            "empty-prompt": "error",
            "lens": "warning",
            "soft-light": "warning",
            "shot-type": "info",
            "simple-background": "warning",
        },
    ),
    ("capability:duration", {"duration": 7}, {}, {"capability": "error"}),
    ("capability:mode", {}, {"mode": "ultra"}, {"capability": "error"}),
    ("capability:model", {}, {"model": "kling-v9"}, {"capability": "error"}),
    ("prompt-too-long:video", {"video_prompt": "slow pan " * 300}, {}, {"prompt-too-long": "error"}),
    ("prompt-too-long:still", {"prompt": GOOD + ", a quiet studio" * 200}, {}, {"prompt-too-long": "error"}),
    ("camera-horizontal", {"camera": CameraSpec(horizontal=-3)}, {}, {"camera-horizontal": "warning"}),
    ("camera-vertical", {"camera": CameraSpec(vertical=2)}, {}, {"camera-vertical": "warning"}),
    ("camera-zoom", {"camera": CameraSpec(zoom=7)}, {}, {"camera-zoom": "warning"}),
    ("camera-rotation", {"camera": CameraSpec(rotation=2)}, {}, {"camera-rotation": "error"}),
    ("motion-too-high", {"scene": "environment", "motion": 70}, {}, {"motion-too-high": "error"}),
    ("motion-band:high", {"motion": 45}, {}, {"motion-band": "warning"}),
    ("motion-band:low", {"scene": "action", "motion": 15}, {}, {"motion-band": "warning"}),
    (
        "camera-unsupported",
        {"camera": CameraSpec(horizontal=3)},
        {"model": "kling-v1-6"},
        {"camera-unsupported": "error"},
    ),
    ("camera-one-axis", {"camera": CameraSpec(horizontal=3, zoom=2)}, {}, {"camera-one-axis": "error"}),
    # an aspect-ratio model makes about one megapixel: smaller than the 1824x1024 asked for
    (
        "still-size",
        {},
        {
            "still_model": "black-forest-labs/flux-dev",
            "still_provider": "replicate",
            "still_width": 1920,
            "still_height": 1080,
        },
        {"still-size": "warning"},
    ),
    # Kling v2.x accepts cfg_scale and ignores it: said, not refused
    ("ignored-parameter", {}, {"model": "kling-v2-1", "cfg_scale": 0.8}, {"ignored-parameter": "warning"}),
]


@pytest.mark.parametrize(
    ("shot", "args", "expected"), [c[1:] for c in LINT_CASES], ids=[c[0] for c in LINT_CASES]
)
def test_each_rule_on_its_own_prompt(
    shot: dict[str, Any], args: dict[str, str], expected: dict[str, str]
) -> None:
    # one fault per shot: the rule it breaks fires, with its severity, and nothing else does
    assert _lint(ShotSpec(**{"id": "a", "prompt": GOOD, "motion": 15, **shot}), **args) == expected


def _rule_ids() -> set[str]:
    """Every rule id lint_shot can report: the prompt rules, each ``add("id", ...)`` in its body, and each
    issue a model's spec reports (``Issue("id", ...)`` / ``err("id", ...)`` in ``ModelSpec``)."""
    added = set()
    for source, calls in ((rules.lint_shot, ("add",)), (models.ModelSpec, ("Issue", "err"))):
        tree = ast.parse(
            inspect.getsource(source).strip() if source is rules.lint_shot else inspect.getsource(source)
        )
        added |= {
            node.args[0].value
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in calls
            and node.args
            and isinstance(node.args[0], ast.Constant)
        }
    return {r.id for r in rules.PROMPT_RULES} | added


def test_every_rule_has_a_case() -> None:
    ids = _rule_ids()
    assert len(ids) >= 18  # the prompt rules and the camera, motion and capability rules
    assert {c[0].split(":")[0] for c in LINT_CASES} == ids


def test_a_rule_for_other_scenes_stays_quiet() -> None:
    # simple-background is asked of portraits and products only
    shot = ShotSpec(
        id="a", prompt=f"{BARE}, neutral overcast lighting, 35mm lens", scene="landscape", motion=25
    )
    assert _lint(shot) == {}


@given(
    h=st.integers(-10, 10),
    v=st.integers(-10, 10),
    z=st.integers(-10, 10),
    rot=st.integers(-10, 10),
    motion=st.integers(0, 100),
)
def test_policy_property_more_than_one_axis_is_never_accepted(
    h: int, v: int, z: int, rot: int, motion: int
) -> None:
    shot = ShotSpec(
        id="a", prompt=GOOD, motion=motion, camera=CameraSpec(horizontal=h, vertical=v, zoom=z, rotation=rot)
    )
    r = _lint(shot)
    nonzero = sum(1 for x in (h, v, z, rot) if x)
    if nonzero > 1:
        assert r.get("camera-one-axis") == "error"
    else:
        assert "camera-one-axis" not in r


def test_video_prompt_limit_from_the_matrix() -> None:
    shot = ShotSpec(id="a", prompt=GOOD, motion=15, video_prompt="slow pan " * 300)
    assert _lint(shot)["prompt-too-long"] == "error"
