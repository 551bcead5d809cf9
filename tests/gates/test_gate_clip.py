"""The clip check: a good clip passes; black frames, freezes, wrong spec, wrong start, overlays are caught."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from goldenchain.core.checks import Check, CheckReport
from goldenchain.errors import UsageError
from goldenchain.gates import CLIP_CHECKS, check_clip

W, H, FPS, SECONDS = 640, 360, 24, 5


def by_name(report: CheckReport, name: str) -> Check:
    return next(c for c in report.checks if c.name == name)


def write_clip(path: Path, frames: list[np.ndarray], fps: int = FPS) -> Path:
    h, w = frames[0].shape[:2]
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=fps)
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        s.options = {"preset": "ultrafast", "crf": "18"}
        for f in frames:
            for pkt in s.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                c.mux(pkt)
        for pkt in s.encode():
            c.mux(pkt)
    return path


@pytest.fixture(scope="module")
def scene(natural) -> np.ndarray:
    return natural(W + 2 * FPS * SECONDS + 16, H + 16, seed=11)


def pan(scene: np.ndarray, n: int = FPS * SECONDS) -> list[np.ndarray]:
    return [np.ascontiguousarray(scene[8 : 8 + H, 2 * i : 2 * i + W]) for i in range(n)]


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory, scene: np.ndarray) -> Callable[[str], Path]:
    root = tmp_path_factory.mktemp("clips")
    made: dict[str, Path] = {}

    def build(kind: str) -> Path:
        if kind in made:
            return made[kind]
        frames = pan(scene)
        if kind == "black":
            for i in range(40, 52):  # 12 frames = 0.5 s
                frames[i] = np.zeros_like(frames[i])
        elif kind == "freeze":
            for i in range(60, 78):  # 18 identical frames = 0.75 s
                frames[i] = frames[60]
        elif kind == "logo":
            for f in frames:
                f[H - 40 : H - 16, W - 120 : W - 16] = 255
                f[H - 34 : H - 22, W - 110 : W - 26] = 0
        elif kind == "short":
            frames = frames[: FPS * 3]
        made[kind] = write_clip(root / f"{kind}.mp4", frames)
        return made[kind]

    return build


@pytest.fixture(scope="module")
def still(tmp_path_factory: pytest.TempPathFactory, scene: np.ndarray) -> Path:
    p = tmp_path_factory.mktemp("still") / "still.png"
    Image.fromarray(pan(scene, 1)[0]).resize((1280, 720), Image.Resampling.LANCZOS).save(p)
    return p


def test_good_clip_passes(clips, still):
    r = check_clip(clips("good"), still=still, duration=SECONDS, size=(W, H), fps=FPS)
    assert r.verdict == "pass", r.reasons
    assert [c.name for c in r.checks] == list(CLIP_CHECKS)
    assert by_name(r, "first_frame").score > 0.75


def test_black_frames_rejected(clips):
    c = by_name(check_clip(clips("black"), duration=SECONDS, size=(W, H), fps=FPS), "black_frames")
    assert c.verdict == "reject" and c.score >= c.threshold == 0.25
    assert "1.67" in c.message  # starts at frame 40


def test_freeze_rejected(clips):
    r = check_clip(clips("freeze"), duration=SECONDS, size=(W, H), fps=FPS)
    c = by_name(r, "freeze")
    assert r.verdict == "reject" and c.verdict == "reject" and c.score >= 0.5


def test_wrong_size_rejected(clips):
    c = by_name(check_clip(clips("good"), duration=SECONDS, size=(1280, 720), fps=FPS), "spec")
    assert c.verdict == "reject" and "640x360" in c.message and "1280x720" in c.message


def test_wrong_duration_rejected(clips):
    r = check_clip(clips("short"), duration=SECONDS, size=(W, H), fps=FPS)
    c = by_name(r, "spec")
    assert r.verdict == "reject" and c.verdict == "reject"
    assert "duration 3.00 s" in c.message and "frames" in c.message


def test_wrong_fps_rejected(clips):
    c = by_name(check_clip(clips("good"), fps=30), "spec")
    assert c.verdict == "reject" and "fps" in c.message


def test_first_frame_from_another_still_rejected(clips, tmp_path: Path, natural):
    other = tmp_path / "other.png"
    Image.fromarray(natural(1280, 720, seed=99)).save(other)
    c = by_name(check_clip(clips("good"), still=other), "first_frame")
    assert c.verdict == "reject" and c.score < c.threshold


def test_static_overlay_rejected(clips, still):
    c = by_name(check_clip(clips("logo"), still=still), "watermark")
    assert c.verdict == "reject" and "bottom-right" in c.message and c.score >= c.threshold


def test_overlay_in_the_still_too_passes(clips, tmp_path: Path):
    logo_still = tmp_path / "logo_still.png"
    first = np.asarray(av.open(str(clips("logo"))).decode(video=0).__next__().to_ndarray(format="rgb24"))
    Image.fromarray(first).resize((1280, 720), Image.Resampling.LANCZOS).save(logo_still)
    r = check_clip(clips("logo"), still=logo_still)
    assert by_name(r, "watermark").verdict == "pass"
    assert by_name(r, "warp").verdict == "pass"  # the static logo is not read as a warp of the scene


def test_flicker_flagged(tmp_path: Path, scene):
    frames = pan(scene, 48)
    frames[20] = np.clip(frames[20].astype(np.int16) + 30, 0, 255).astype(np.uint8)
    c = by_name(check_clip(write_clip(tmp_path / "fl.mp4", frames)), "flicker")
    assert c.verdict == "reject" and c.score >= c.threshold


def test_three_frame_dip_is_flicker(tmp_path: Path, scene):
    frames = pan(scene, 48)
    for i in range(20, 23):  # a 5-frame running median would follow a 3-frame dip and miss it
        frames[i] = (frames[i].astype(np.float32) * 0.88).astype(np.uint8)
    c = by_name(check_clip(write_clip(tmp_path / "dip.mp4", frames)), "flicker")
    assert c.verdict == "reject"


def test_unreadable_clip_is_error(tmp_path: Path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42 not really a video" * 4)
    for p in (bad, tmp_path / "missing.mp4"):
        r = check_clip(p)
        assert r.verdict == "error" and r.message and r.checks == []


def test_unreadable_still_is_usage_error(clips, tmp_path: Path):
    junk = tmp_path / "junk.png"
    junk.write_text("no")
    with pytest.raises(UsageError):
        check_clip(clips("good"), still=junk)


def test_watermark_not_measured_when_the_first_frame_is_another_picture(clips, tmp_path: Path, natural):
    other = tmp_path / "other.png"
    Image.fromarray(natural(1280, 720, seed=99)).save(other)
    c = by_name(check_clip(clips("logo"), still=other), "watermark")
    assert c.verdict == "pass" and "first frame is not the still" in c.message


def _busy_pan_with_badge(n: int, badge: bool) -> list[np.ndarray]:
    """High-contrast bars and blocks sweeping under a 35 % white badge with dark text (top left)."""
    import cv2

    rng = np.random.default_rng(3)
    wide = np.full((H, W + 4 * FPS * SECONDS), 90, np.uint8)
    for _ in range(260):
        x, y = int(rng.integers(0, wide.shape[1] - 40)), int(rng.integers(0, H - 40))
        wide[y : y + int(rng.integers(8, 60)), x : x + int(rng.integers(4, 40))] = (
            int(rng.integers(0, 2)) * 230
        )
    out = []
    for i in range(n):
        f = np.ascontiguousarray(np.repeat(wide[:, 4 * i : 4 * i + W, None], 3, axis=2))
        if badge:
            layer = f.copy()
            cv2.circle(layer, (60, 60), 40, (255, 255, 255), -1, cv2.LINE_AA)
            cv2.putText(layer, "AI", (38, 72), cv2.FONT_HERSHEY_DUPLEX, 1.0, (0, 0, 0), 2, cv2.LINE_AA)
            cv2.addWeighted(layer, 0.35, f, 0.65, 0, dst=f)
        out.append(f)
    return out


def test_translucent_badge_over_a_busy_moving_background_rejected(tmp_path: Path):
    """Scene edges keep passing under the badge, so the mean-and-spread rule alone does not see it (asserted,
    so that this test keeps testing the robust rule); the per-pixel median of the gradients does."""
    from goldenchain.gates import clip_checks as cc
    from goldenchain.gates.decode import decode_clip

    n = FPS * SECONDS
    clean_still = tmp_path / "still.png"
    Image.fromarray(_busy_pan_with_badge(1, badge=False)[0]).save(clean_still)
    clip = write_clip(tmp_path / "badge.mp4", _busy_pan_with_badge(n, badge=True))
    c = by_name(check_clip(clip, still=clean_still), "watermark")
    assert c.verdict == "reject" and "top-left" in c.message, c.message

    decoded = decode_clip(clip)
    sx = decoded.frames[0].shape[1] / W
    ys, xs = np.mgrid[: decoded.frames[0].shape[0], : decoded.frames[0].shape[1]]
    ring = np.abs(np.hypot(xs - 60 * sx, ys - 60 * sx) - 40 * sx) < 2 * sx
    mean_rule = cc.static_structure(decoded)[ring].mean()
    robust = cc.consensus_static(decoded, ring)[ring].mean()
    assert robust > 2 * mean_rule and robust > 0.2, (mean_rule, robust)

    # the same busy pan without the badge, against its own first frame, passes
    plain = write_clip(tmp_path / "plain.mp4", _busy_pan_with_badge(n, badge=False))
    assert by_name(check_clip(plain, still=clean_still), "watermark").verdict == "pass"
