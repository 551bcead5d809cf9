"""Every failure rule's defect, rendered, is rejected by the product check the table names; a re-rolled clip of
the same request is a different clip that still passes."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import av
import httpx
import numpy as np
import pytest

from goldenchain.emulator import Emulator
from goldenchain.emulator.media import encode_image, render_clip, render_still
from goldenchain.emulator.rules import RULES
from goldenchain.gates import check_clip, check_image

from .conftest import kling_client, wait_kling

#: for each rule, a request it applies to (prompt, camera, duration)
REQUESTS = {
    "busy-camera-melt": ("Wide shot of a crowded market street, overcast", {"horizontal": 8}, 5),
    "light-flicker": ("Medium shot of a street at night, neon signs, rain", None, 5),
    "artstation-clutter": ("A castle on a cliff, trending on ArtStation, 8k", None, 0),
    "roll-warp": ("Wide shot of a mountain valley, golden hour", {"roll": 5}, 5),
    "long-drift": ("Wide shot of a quiet lake, overcast", None, 10),
}


@pytest.mark.parametrize("rule", RULES, ids=[r.name for r in RULES])
def test_each_defect_is_caught_by_its_check(rule, tmp_path: Path) -> None:
    prompt, camera, duration = REQUESTS[rule.name]
    if rule.stage == "still":
        for seed in (1, 2):
            for ext in ("jpg", "png"):
                path = tmp_path / f"s{seed}.{ext}"
                path.write_bytes(encode_image(render_still(prompt, seed, 1824, 1024, rule.renders), ext))
                clean = tmp_path / f"c{seed}.{ext}"
                clean.write_bytes(encode_image(render_still(prompt, seed, 1824, 1024), ext))
                got = {c.name: c.verdict for c in check_image(path, aspect="16:9").checks}
                assert got[rule.check] == "reject", (ext, got)
                assert check_image(clean, aspect="16:9").verdict != "reject"  # the same prompt, clean
        return
    still = tmp_path / "still.png"
    png = encode_image(render_still(prompt, 3, 1280, 720), "png")
    still.write_bytes(png)
    for variant in (11, 12):
        clip = tmp_path / f"{variant}.mp4"
        clip.write_bytes(render_clip(png, duration, 1280, 720, 24, camera, rule.renders, variant))
        report = check_clip(clip, still=still, duration=duration, size=(1280, 720), fps=24)
        got = {c.name: c.verdict for c in report.checks}
        assert got[rule.check] == "reject", report.checks
        others = [n for n, v in got.items() if v == "reject" and n != rule.check]
        assert others == [], report.checks  # the defect it was given, not another one
        plain = tmp_path / f"plain{variant}.mp4"
        plain.write_bytes(render_clip(png, duration, 1280, 720, 24, camera, None, variant))
        assert check_clip(plain, still=still, duration=duration, size=(1280, 720), fps=24).verdict != "reject"


def _frames(mp4: bytes) -> list[np.ndarray]:
    with av.open(io.BytesIO(mp4)) as c:
        return [f.to_ndarray(format="gray").astype(np.int16) for f in c.decode(video=0)]


def test_a_rerolled_clip_differs_and_passes(tmp_path: Path) -> None:
    png = encode_image(render_still("Wide shot of a green valley, overcast", 5, 1280, 720), "png")
    (tmp_path / "still.png").write_bytes(png)
    body = {
        "model_name": "kling-v1-6",
        "image": base64.b64encode(png).decode(),
        "prompt": "slow pan across the valley",
        "mode": "std",
        "duration": "5",
        "camera_control": {"type": "simple", "config": {"horizontal": 4}},
    }
    clips = []
    with Emulator(scenario="clean", latency=0.1) as emu, kling_client(emu) as c:
        for i in range(2):  # the same request, sent twice: two tasks (only our own id differs)
            r = c.post("/v1/videos/image2video", json={**body, "external_task_id": f"reroll-{i}"})
            assert r.status_code == 200, r.text
            done = wait_kling(c, r.json()["data"]["task_id"])
            clips.append(httpx.get(done["task_result"]["videos"][0]["url"], timeout=60).content)
    assert clips[0] != clips[1]
    a, b = _frames(clips[0]), _frames(clips[1])
    assert np.abs(a[0] - b[0]).mean() < 2  # both start from the submitted still
    assert np.abs(a[-1] - b[-1]).mean() > 2  # and end elsewhere: the move itself differs
    for i, data in enumerate(clips):
        path = tmp_path / f"{i}.mp4"
        path.write_bytes(data)
        report = check_clip(path, still=tmp_path / "still.png", duration=5, size=(1280, 720), fps=24)
        assert report.verdict != "reject", report.checks
    # a plain render of the same inputs, without a task, is reproducible
    once, again = (render_clip(png, 1, 640, 360, 24, None, None, 5) for _ in range(2))
    assert once == again
