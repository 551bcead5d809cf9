"""orchestration-bench: the real chain's side (the project it runs) and the tiny media for the emulator."""

from __future__ import annotations

import io
import itertools
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from orch_common import _emit, _self_cpu


# --- ours: the real chain --------------------------------------------------------------------------------
async def ours_client(project_dir: str) -> None:
    from goldenchain.config import load_project
    from goldenchain.orchestration.run import run_project

    project = load_project(project_dir)
    _emit(event="start", cpu=_self_cpu())
    t0 = time.monotonic()
    result = await run_project(project)
    wall = time.monotonic() - t0
    bad = [s for s in result.shots if s["status"] != "done"]
    _emit(event="done", wall=wall, ok=result.ok, failed=bad[:3], cpu=_self_cpu())


PROJECT_TOML = """\
[project]
name = "{name}"
client = "bench"

[stills]
provider = "fal"
model = "fal-ai/flux/dev"
width = 576
height = 320
max_takes = 1

[video]
provider = "kling"
model = "kling-v1-5"
mode = "pro"
max_takes = 1

[gate]
enabled = false

[qc]
enabled = false

[engine]
poll_interval = {poll}
poll_timeout = 1800.0

[engine.concurrency]
fal = {k}
kling = {k}
"""

SHOT_YAML = """\
  - id: {id}
    prompt: "Medium shot of a lighthouse keeper on a cliff, neutral overcast lighting, simple background, 35mm lens"
    video_prompt: "The keeper turns slowly towards the sea"
    scene: portrait
    duration: 5
    aspect: "16:9"
    motion: 15
    camera: {{horizontal: 3, vertical: 0, zoom: 0, rotation: 0}}
    seed: {seed}
"""


#: explicit seeds below 2**31: a shot without one gets a 32-bit default seed, which overflows the takes' INTEGER
#: seed column on PostgreSQL ("integer out of range"); that is a bug of the chain, not something to time here.
def write_project(root: Path, n: int, k: int, poll: float) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    name = f"bench-{uuid.uuid4().hex[:8]}"
    (root / "goldenchain.toml").write_text(PROJECT_TOML.format(name=name, poll=poll, k=k), encoding="utf-8")
    shots = "shots:\n" + "".join(SHOT_YAML.format(id=f"s{i:05d}", seed=1000 + 7 * i) for i in range(n))
    (root / "shots.yaml").write_text(shots, encoding="utf-8")
    return root


# --- tiny media for the emulator (this process only) -----------------------------------------------------
_counter = itertools.count(1)
_media_lock = threading.Lock()


def _tiny_still(prompt: str, seed: int, width: int, height: int, *_: Any, **__: Any) -> Any:
    from PIL import Image

    with _media_lock:
        n = next(_counter)
    img = Image.new("RGB", (width, height), ((seed >> 16) & 255, (seed >> 8) & 255, seed & 255))
    img.putpixel((0, 0), ((n >> 16) & 255, (n >> 8) & 255, n & 255))  # unique bytes per render
    return img


def _tiny_clip(image_bytes: bytes, duration: int, *_: Any, **__: Any) -> bytes:
    import av
    import numpy as np

    with _media_lock:
        n = next(_counter)
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp4") as c:
        c.metadata["comment"] = f"bench-{n}-{uuid.uuid4().hex}"  # unique bytes per render
        s = c.add_stream("libx264", rate=24)
        s.width, s.height, s.pix_fmt = 32, 32, "yuv420p"
        for i in range(2):
            frame = av.VideoFrame.from_ndarray(np.full((32, 32, 3), 40 * i, np.uint8), format="rgb24")
            for pkt in s.encode(frame):
                c.mux(pkt)
        for pkt in s.encode():
            c.mux(pkt)
    return buf.getvalue()


def patch_emulator_media() -> None:
    import goldenchain.emulator.fal as fal_mod
    import goldenchain.emulator.kling as kling_mod
    import goldenchain.emulator.media as media_mod

    for mod in (media_mod, fal_mod, kling_mod):
        mod.render_still = _tiny_still  # type: ignore[attr-defined]
        mod.render_clip = _tiny_clip  # type: ignore[attr-defined]
