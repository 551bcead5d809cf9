"""The failure-pattern report finds the failure rules the emulator was given, and nothing it was not given: a
batch of shots through the real chain against scenario ``field``, then ``goldenchain failures --patterns``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from goldenchain.emulator import Emulator
from tests.integration.helpers import make_project, run_cli

# (prompt, scene, camera) per group; "red" and "blue" are spread over every group and carry no rule.
BUSY_STRONG = [  # busy scene + camera over 50 % of its range: busy-camera-melt (warp)
    ("Wide shot of a crowded market street, red awnings, overcast", "environment", {"horizontal": 9}),
    ("Wide shot of a crowded city street at noon, daylight", "environment", {"horizontal": -10}),
    ("Medium shot of a crowded festival square, blue flags, daylight", "environment", {"zoom": 9}),
    ("Wide shot of cyclists racing through crowded traffic, overcast", "environment", {"horizontal": 10}),
    ("Wide shot of a crowded market street, daylight", "environment", {"zoom": -9}),
    (
        "Medium shot of runners sprinting along a crowded street, blue jackets",
        "environment",
        {"horizontal": 9},
    ),
]
LIGHTS = [  # several light sources: light-flicker (flicker)
    ("Medium shot of a bar interior with neon signs and candles, red booths", "environment", {"zoom": 3}),
    ("Medium shot of a quiet alley at night, neon signs and lanterns", "environment", {"horizontal": 2}),
    ("Medium shot of a dining room with neon signs, candles and lamps", "product", {"zoom": 2}),
    ("Medium shot of a cafe interior at night, neon signs, string lights, blue walls", "environment",
     {"horizontal": 3}),
    ("Medium shot of a shop window with neon signs and lamps at night", "product", {"horizontal": 2}),
]  # fmt: skip
ARTSTATION = [  # still-image phrases: artstation-clutter (gate low_information)
    ("A castle on a cliff, trending on ArtStation, highly detailed, 8k", "landscape", {"horizontal": 2}),
    ("A red dragon over a lake, trending on ArtStation, intricate, masterpiece", "landscape", {"zoom": 9}),
    ("A forest temple, highly detailed, intricate, trending on ArtStation", "environment", {"horizontal": 3}),
    ("A blue spaceship in orbit, trending on ArtStation, 8k, highly detailed", "product", {"zoom": 3}),
    ("A mountain village, trending on ArtStation, ultra detailed, 8k", "landscape", {"horizontal": -8}),
    ("An old lighthouse in a storm, trending on ArtStation, highly detailed", "product", {"zoom": 2}),
]
CONTROLS = [  # no rule applies: calm scenes with strong or subtle camera, portraits, products
    ("Medium shot portrait of a woman, red scarf, soft studio lighting, plain background", "portrait",
     {"horizontal": 2}),
    ("Close-up portrait of an old fisherman, overcast, simple background", "portrait", {"zoom": 2}),
    ("Wide shot of a green valley with a river, overcast", "landscape", {"horizontal": 9}),
    ("Wide shot of a quiet lake at dawn, overcast", "landscape", {"zoom": 2}),
    ("Medium shot of a red teapot on a wooden table, soft studio lighting", "product", {"zoom": 2}),
    ("Medium shot of a blue bottle on a table, soft studio lighting, plain background", "product",
     {"horizontal": 2}),
    ("Wide shot of a mountain meadow, golden hour", "landscape", {"horizontal": 2}),
]  # fmt: skip


def _shots() -> list[dict]:
    out = []
    for i, (prompt, scene, camera) in enumerate(BUSY_STRONG + LIGHTS + ARTSTATION + CONTROLS):
        cam = {"horizontal": 0, "vertical": 0, "zoom": 0, "rotation": 0, **camera}
        out.append({"id": f"f{i:02d}", "prompt": f"{prompt}, 35mm lens", "video_prompt": "the scene moves gently",
                    "scene": scene, "duration": 5, "aspect": "16:9", "motion": 30, "camera": cam,
                    "seed": 100 + i})  # fmt: skip
    return out


def _configure(project: Path) -> None:
    cfg = project / "goldenchain.toml"
    text = cfg.read_text()
    for old, new in (
        ("width = 1824", "width = 912"),  # small stills: the gate's size floor lowered to match below
        ("height = 1024", "height = 512"),
        ("max_takes = 3", "max_takes = 1"),  # one take per stage: every failure stays a failure
        ("project_usd = 25.0", "project_usd = 500.0"),
        ("[gate.thresholds]             # per-project overrides, by check name", "[gate.thresholds]\nresolution = 512"),
        ("disable = []", 'disable = ["still-image-phrase", "harsh-light", "camera-horizontal", "camera-zoom", '
                         '"motion-band", "lens", "soft-light", "simple-background", "shot-type"]'),
    ):  # fmt: skip
        assert old in text, old
        text = text.replace(old, new)
    text = re.sub(r"fal = 4\nkling = 3", "fal = 4\nkling = 4", text)
    cfg.write_text(text)
    (project / "shots.yaml").write_text(yaml.safe_dump({"shots": _shots()}, sort_keys=False))


@pytest.mark.timeout(1200)  # 24 shots and about 17 clips at 1080p; a loaded machine runs it slowly
def test_patterns_find_the_rules_the_emulator_was_given(tmp_path: Path) -> None:
    project = make_project(tmp_path / "field", shots=1, poll_interval=0.2)
    _configure(project)
    with Emulator(scenario="field", latency=0.2) as emu:
        env = emu.env()
        ran = run_cli(["run", str(project), "--quiet"], env, timeout=900)
        assert ran.returncode in (0, 1), ran.stderr  # 1: some shots failed, as the rules make them
        fired = {name for name, _, _ in emu.rules.fired}
        out = run_cli(["failures", str(project), "--patterns", "--json"], env)
    assert out.returncode == 0, out.stderr
    found = json.loads(out.stdout)["patterns"]
    assert fired == {"busy-camera-melt", "light-flicker", "artstation-clutter"}
    flagged = [p for p in found if p["flagged"]]
    by_feature = {p["feature"]: p for p in found}
    # the rule-bearing features are flagged, each with the failure its rule causes
    expect = {
        "camera:strong (>5) & scene:environment": "qc_reject:warp",
        "word:neon": "qc_reject:flicker",
        "word:signs": "qc_reject:flicker",
        "camera:strong (>5)": "qc_reject:warp",
        "word:artstation": "gate_reject:low_information",
        "word:trending": "gate_reject:low_information",
        "word:crowded": "qc_reject:warp",
    }
    for feature, kind in expect.items():
        assert by_feature[feature]["flagged"], (feature, by_feature[feature])
        assert by_feature[feature]["kind"] == kind, by_feature[feature]
    # ... at the top of the report, and nothing without a rule is flagged: a flagged word is one of the
    # prompts of the group whose rule fails that way, and of no control; a flagged setting is the strong camera
    groups = {"qc_reject:warp": BUSY_STRONG, "qc_reject:flicker": LIGHTS,
              "gate_reject:low_information": ARTSTATION}  # fmt: skip

    def words(group: list[tuple[str, str, dict]]) -> set[str]:
        return {w for prompt, _, _ in group for w in re.findall(r"[a-z]+", prompt.lower())}

    def carries_a_rule(p: dict) -> bool:
        feature, kind = p["feature"], p["kind"]
        if feature.startswith("word:"):
            return feature[5:] in words(groups.get(kind, [])) - words(CONTROLS)
        # the melt rule's condition is a busy scene and a strong camera: every busy shot here is an
        # environment, so that scene label stands for the busy condition in this batch
        return kind == "qc_reject:warp" and feature in (
            "camera:strong (>5)",
            "camera:strong (>5) & scene:environment",
            "scene:environment",
        )

    assert [p["feature"] for p in flagged if not carries_a_rule(p)] == []
    assert flagged == found[: len(flagged)]
    for neutral in ("word:red", "word:blue", "scene:portrait", "scene:product", "camera:subtle",
                    "camera:strong (>5) & scene:landscape"):  # fmt: skip
        assert not by_feature.get(neutral, {"flagged": False})["flagged"], by_feature.get(neutral)
