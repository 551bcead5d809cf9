"""Stills follow the prompt: the prompt is read into a scene, each kind of scene looks like itself (measured),
the light words change the light, the seed changes the composition, and every clean still passes the gate."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from goldenchain.emulator.media import encode_image, render_still
from goldenchain.emulator.scene import parse_prompt
from goldenchain.gates.image import check_image

NIGHT_STREET = "Wide shot of a rainy city street at night, neon signs, 35mm lens"
PORTRAIT_CLOSE = "Close-up portrait of a woman, soft studio lighting, plain background, 85mm lens"
PORTRAIT_WIDE = "Wide shot of a man standing in a park, golden hour, 35mm lens"
PROMPTS = {
    "street": NIGHT_STREET,
    "portrait": PORTRAIT_CLOSE,
    "product": "Medium shot of a red perfume bottle on a wooden table, soft studio lighting, plain background",
    "landscape": "Wide shot of a green valley with a river, soft overcast light, 35mm lens",
    "interior": "Medium shot of a cosy living room interior, candles, evening",
    "action": "Medium shot of a cyclist racing on a coastal road, overcast",
}


def _arr(img: Image.Image) -> np.ndarray:
    return np.asarray(img, dtype=np.float64)


def _luma(a: np.ndarray) -> np.ndarray:
    return a @ np.array([0.299, 0.587, 0.114])


def _skin(a: np.ndarray) -> np.ndarray:
    """Skin-toned pixels (a classic RGB rule: red over green over blue, warm, not grey)."""
    r, g, b = a[..., 0], a[..., 1], a[..., 2]
    return (r > 95) & (g > 40) & (b > 20) & (r > g) & (g > b) & (r - b > 15) & (a.max(-1) - a.min(-1) > 15)


def test_prompts_are_read_into_scenes() -> None:
    assert {k: parse_prompt(p).kind for k, p in PROMPTS.items()} == {k: k for k in PROMPTS}
    street = parse_prompt(NIGHT_STREET)
    assert (street.light, street.shot, street.rain, street.busy) == ("neon", "wide", True, True)
    assert street.lights >= 2
    assert parse_prompt(PORTRAIT_CLOSE).shot == "close" and parse_prompt(PORTRAIT_WIDE).shot == "wide"
    assert parse_prompt("a teapot, golden hour").light == "golden"
    assert parse_prompt("a red car on a quiet road").colour == "red"
    assert parse_prompt("a castle, trending on ArtStation").clutter
    assert not parse_prompt("a castle on a hill, overcast").clutter
    assert parse_prompt("a kitchen with candles").lights >= 2 and parse_prompt("a desk lamp").lights == 1


def test_the_night_street_is_dark_with_saturated_highlights() -> None:
    a = _arr(render_still(NIGHT_STREET, 1, 1024, 576))
    y = _luma(a)
    chroma = a.max(-1) - a.min(-1)
    assert np.median(y) < 60  # a dark picture
    bright = y > np.percentile(y, 99)
    assert chroma[bright].mean() > 80  # whose brightest parts are coloured lights, not white
    day = _arr(render_still("Wide shot of a city street, daylight, 35mm lens", 1, 1024, 576))
    assert np.median(_luma(day)) > np.median(y) + 40


def test_a_portrait_has_a_central_skin_region_framed_by_shot_type() -> None:
    close = _arr(render_still(PORTRAIT_CLOSE, 2, 1024, 576))
    h, w = close.shape[:2]
    centre = _skin(close[h // 4 : 3 * h // 4, w // 3 : 2 * w // 3]).mean()
    border = _skin(close[:, : w // 8]).mean()
    assert centre > 0.2 and centre > 5 * border
    medium = _arr(
        render_still(PORTRAIT_CLOSE.replace("Close-up portrait", "Medium shot portrait"), 2, 1024, 576)
    )
    wide = _arr(render_still(PORTRAIT_CLOSE.replace("Close-up portrait", "Wide shot portrait"), 2, 1024, 576))
    sizes = [float(_skin(x).mean()) for x in (close, medium, wide)]
    assert sizes[0] > 1.8 * sizes[1] > 1.8 * sizes[2] > 0  # the face fills less of the frame as it widens


def test_light_words_change_the_light() -> None:
    base = "Medium shot of a ceramic teapot on a wooden table, plain background"
    lit = {k: _arr(render_still(f"{base}, {k}", 4, 768, 432)) for k in ("golden hour", "overcast", "studio")}
    warmth = {k: float((a[..., 0] - a[..., 2]).mean()) for k, a in lit.items()}
    sat = {k: float((a.max(-1) - a.min(-1)).mean()) for k, a in lit.items()}
    assert warmth["golden hour"] > warmth["studio"] + 10
    assert sat["overcast"] < sat["studio"]


@pytest.mark.parametrize("kind", sorted(PROMPTS))
def test_the_seed_changes_the_composition(kind: str) -> None:
    prompt = PROMPTS[kind]
    a, b = (_luma(_arr(render_still(prompt, s, 768, 432))) for s in (10, 11))
    assert np.abs(a - b).mean() > 8
    # the layout moved, not just the tint: the picture's structure (its edges) differs place by place
    ea, eb = (np.abs(np.diff(x, axis=1)) > 12 for x in (a, b))
    assert (ea ^ eb).mean() > 0.5 * min(ea.mean(), eb.mean())
    again = render_still(prompt, 10, 768, 432)
    assert np.array_equal(np.asarray(again), _arr(render_still(prompt, 10, 768, 432)).astype(np.uint8))


def test_scene_kinds_differ_from_each_other() -> None:
    feats = {}
    for kind, prompt in PROMPTS.items():
        a = _arr(render_still(prompt, 3, 512, 288))
        feats[kind] = np.concatenate(
            [_luma(a).reshape(9, 32, 16, 32).mean(axis=(1, 3)).ravel(), a.mean((0, 1))]
        )
    kinds = sorted(feats)
    for i, k in enumerate(kinds):
        for other in kinds[i + 1 :]:
            assert np.abs(feats[k] - feats[other]).mean() > 8, (k, other)


def test_every_kind_passes_the_gate_and_renders_fast(tmp_path: Path) -> None:
    paths = []
    for kind, prompt in PROMPTS.items():
        for seed in (1, 2):
            for ext in ("jpg", "png"):
                path = tmp_path / f"{kind}-{seed}.{ext}"
                path.write_bytes(encode_image(render_still(prompt, seed, 1824, 1024), ext))
                paths.append(path)
    for path in paths:  # each on its own: a PNG and a JPEG of one still are near-duplicates of each other
        report = check_image(path, aspect="16:9")
        assert report.verdict in ("pass", "warn"), (report.path, report.checks)
        assert [c.name for c in report.checks if c.verdict == "reject"] == []
    render_still("warm-up", 0, 1024, 1024)
    worst = 0.0
    for prompt in PROMPTS.values():
        t = time.process_time()  # CPU time of this process, not the wall clock of a busy machine
        render_still(prompt, 5, 1024, 1024)
        worst = max(worst, time.process_time() - t)
    assert worst < 1.5  # 0.07-0.19 s measured on one core
