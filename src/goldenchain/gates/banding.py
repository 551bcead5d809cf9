"""CAMBI (Netflix's banding index) through the libvmaf filter of the imageio-ffmpeg binary."""

from __future__ import annotations

import json
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np

from goldenchain.core.checks import Check
from goldenchain.gates.grading import graded, make
from goldenchain.gates.loading import Still, box_reduce

_FEATURE = r"feature='name=cambi\:max_log_contrast=5'"
_KEY = "cambi_mlc_5"


class CambiUnavailable(Exception):
    pass


@lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    try:
        import imageio_ffmpeg

        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except Exception as exc:  # the wheel or its binary is missing
        raise CambiUnavailable(f"ffmpeg binary not available: {exc}") from None


def cambi_frames(frames: list[np.ndarray], timeout: float = 60.0) -> list[float]:
    """CAMBI (max_log_contrast=5) of each 8-bit gray frame; all frames must have the same even size."""
    if not frames:
        return []
    h, w = frames[0].shape
    raw = b"".join(np.ascontiguousarray(f, dtype=np.uint8).tobytes() for f in frames)
    with tempfile.TemporaryDirectory(prefix="gc-cambi-") as tmp:
        log = Path(tmp) / "cambi.json"
        graph = (
            "[0:v]format=yuv420p,split[d][r];"
            f"[d][r]libvmaf={_FEATURE}:log_fmt=json:log_path={log}:n_threads=2"
        )
        cmd = [
            ffmpeg_exe(),
            "-hide_banner",
            "-loglevel",
            "error",
            "-nostdin",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "gray",
            "-s",
            f"{w}x{h}",
            "-r",
            "25",
            "-i",
            "pipe:0",
            "-lavfi",
            graph,
            "-f",
            "null",
            "-",
        ]
        try:
            proc = subprocess.run(cmd, input=raw, capture_output=True, timeout=timeout, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise CambiUnavailable(f"ffmpeg failed to run: {exc}") from None
        if proc.returncode != 0 or not log.exists():
            err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            raise CambiUnavailable(f"ffmpeg libvmaf failed: {err[-1] if err else proc.returncode}")
        data = json.loads(log.read_text())
    return [float(fr["metrics"][_KEY]) for fr in data.get("frames", [])]


def even_gray(y: np.ndarray, max_side: int = 3840) -> np.ndarray:
    """uint8 gray, reduced below max_side and cropped to even dimensions (yuv420p needs them)."""
    f = 1
    while max(y.shape) // f > max_side:
        f += 1
    y = box_reduce(y, f)
    h, w = y.shape[0] // 2 * 2, y.shape[1] // 2 * 2
    return np.clip(y[:h, :w] + 0.5, 0, 255).astype(np.uint8)


def banding_frame(s: Still) -> np.ndarray | None:
    """The gray frame CAMBI measures for a still (None when it is too small to measure)."""
    if min(s.width, s.height) < 64:
        return None
    return even_gray(s.luma)


def grade_banding(score: float | None, t: dict[str, float], error: str | None = None) -> Check:
    """The banding check from a CAMBI score (None: too small; ``error``: CAMBI could not run)."""
    if error is not None:
        return make("banding", "warn", 0.0, t["banding"], "higher_is_worse", f"banding not measured: {error}")
    if score is None:
        return make("banding", "pass", 0.0, t["banding"], "higher_is_worse", "too small to measure")
    return graded(
        "banding",
        score,
        "higher_is_worse",
        t["banding"],
        t["banding.warn"],
        inclusive=True,
        ok=f"no visible banding (CAMBI {score:.1f})",
        bad=(
            f"colour banding / false contours in smooth areas: CAMBI {score:.1f} (limit {{thr:g}}; "
            "5 = starts to annoy); look at the sky, backdrop or other smooth gradients: regenerate or dither"
        ),
    )


def cambi_batch(frames: list[np.ndarray | None], timeout: float = 20.0) -> list[float | str | None]:
    """CAMBI of many stills' frames with one ffmpeg run per frame size (starting ffmpeg costs as much as
    measuring a 1024² still). Per frame: the score, None for a None frame, or an error message."""
    out: list[float | str | None] = [None] * len(frames)
    groups: dict[tuple[int, ...], list[int]] = {}
    for i, f in enumerate(frames):
        if f is not None:
            groups.setdefault(f.shape, []).append(i)
    for idx in groups.values():
        try:
            scores = cambi_frames([frames[i] for i in idx], timeout=timeout * len(idx))  # type: ignore[misc]
            if len(scores) != len(idx):
                raise CambiUnavailable(f"libvmaf returned {len(scores)} scores for {len(idx)} frames")
        except (CambiUnavailable, ValueError, KeyError) as exc:
            for i in idx:
                out[i] = str(exc)
            continue
        for i, sc in zip(idx, scores, strict=True):
            out[i] = sc
    return out


def check_banding(s: Still, t: dict[str, float]) -> Check:
    res = cambi_batch([banding_frame(s)])[0]
    if isinstance(res, str):
        return grade_banding(None, t, res)
    return grade_banding(res, t)
