"""The example project that ``goldenchain init`` writes (and ``demo`` runs)."""

from __future__ import annotations

from pathlib import Path

from goldenchain.config import PROJECT_FILE, SHOTS_FILE
from goldenchain.errors import UsageError

EXAMPLE_TOML = """\
# goldenchain project file. Keys come from the environment or a .env file beside this file:
# FAL_KEY, KLING_ACCESS_KEY + KLING_SECRET_KEY (never put them here).

[project]
name = "{name}"
client = "example-client"

[stills]                      # prompt -> photoreal still
provider = "fal"
model = "fal-ai/flux/dev"
width = 1824                  # 16:9 at >= 1024 px on the short side
height = 1024
max_takes = 3                 # a still the gate rejects is re-rolled with a new seed, up to this many takes

[video]                       # the golden settings: Kling 1.5, pro mode, 5 s, 16:9, subtle camera
provider = "kling"
model = "kling-v1-5"
mode = "pro"
max_takes = 3
negative_prompt = "blur, distortion, warped background, low quality"
cfg_scale = 0.5

[gate]
profile = "kling-i2v"

[gate.thresholds]             # per-project overrides, by check name

[budget]
project_usd = 25.0            # the run stops before the call that would overspend

[plan]                        # your provider plan, for burn-rate reports (goldenchain costs)
kling_tier = "studio"         # a tier from `goldenchain costs prices` or from [plan.tiers] below
cycle_start_day = 1

[plan.tiers.studio]           # your own subscription, as your Kling console shows it
monthly_credits = 3000
priority = false
usd_per_credit = 0.14

[lint]                        # switch off built-in rules by id, add your own
disable = []
# [[lint.rules]]
# id = "no-logos"
# severity = "error"
# message = "brand names get moderated"
# hint = "describe the object instead"
# pattern = "(?i)coca[- ]cola|nike"

[prices]                      # override any catalog price, e.g. "kling:kling-v1-5:pro:5" = 0.49

[delivery]
width = 1920
height = 1080
fps = 24

[engine]
poll_interval = 5.0           # seconds between status polls
poll_timeout = 1800.0
# shot_concurrency = 20       # shots in flight at once (default: 1.5x the provider slots below)

[engine.concurrency]          # tasks in flight per provider account
fal = 4
kling = 3
"""

EXAMPLE_SHOTS = """\
shots:
  - id: s01
    prompt: "Medium shot of a lighthouse keeper on a cliff, neutral overcast lighting, simple background, 35mm lens"
    video_prompt: "The keeper turns slowly towards the sea, hair moving in a light breeze"
    scene: portrait
    duration: 5
    aspect: "16:9"
    motion: 15
    camera: {horizontal: 3, vertical: 0, zoom: 0, rotation: 0}
    seed: 1234
  - id: s02
    prompt: "Wide shot of a green valley with a river, soft overcast light, calm morning, 35mm lens"
    video_prompt: "Slow pan across the valley, the river glistening"
    scene: environment
    duration: 5
    aspect: "16:9"
    motion: 30
    camera: {horizontal: 5, vertical: 0, zoom: 0, rotation: 0}
    seed: 2024
  - id: s03
    prompt: "Medium shot of a ceramic teapot on a wooden table, soft studio lighting, plain background, 50mm lens"
    video_prompt: "Steam rises gently from the spout"
    scene: product
    duration: 5
    aspect: "16:9"
    motion: 10
    camera: {horizontal: 0, vertical: 0, zoom: 3, rotation: 0}
    seed: 77
  - id: s04
    prompt: "Medium shot of a cyclist on a coastal road, neutral overcast lighting, simple background, 35mm lens"
    video_prompt: "The cyclist rides forward steadily"
    scene: action
    duration: 5
    aspect: "16:9"
    motion: 40
    camera: {horizontal: 4, vertical: 0, zoom: 0, rotation: 0}
    seed: 555
"""


def write_example(root: Path, *, shots: int | None = None, overwrite: bool = False) -> None:
    root.mkdir(parents=True, exist_ok=True)
    cfg, sl = root / PROJECT_FILE, root / SHOTS_FILE
    if not overwrite and (cfg.exists() or sl.exists()):
        raise UsageError(f"{root}: already has a project file; refusing to overwrite it")
    name = "".join(c if c.isalnum() or c in "_.-" else "-" for c in root.resolve().name) or "project"
    cfg.write_text(EXAMPLE_TOML.format(name=name), encoding="utf-8")
    text = EXAMPLE_SHOTS
    if shots is not None:
        if shots < 1:
            raise UsageError("a project needs at least one shot")
        head, *blocks = text.split("\n  - id: ")
        chosen = []
        for i in range(shots):  # beyond the four examples: the same shots again with new ids and seeds
            block = blocks[i % len(blocks)].rstrip("\n")
            if i >= len(blocks):
                sid = f"s{i + 1:02d}"
                block = sid + block[block.index("\n") :]
                block = block.replace("seed: ", f"seed: {i}", 1)
            chosen.append(block)
        text = head + "".join("\n  - id: " + b for b in chosen) + "\n"
    sl.write_text(text, encoding="utf-8")
    (root / ".gitignore").write_text(".goldenchain/\nartifacts/\nout/\n.env\n", encoding="utf-8")
