"""Procedural clips: an H.264 MP4 that animates a submitted image with a Kling-style camera move.

The camera is a crop window that slides (horizontal/vertical/pan/tilt), scales (zoom) or rotates (roll) over
the image, so frame 0 is the image itself; defects (a freeze, black frames) can be injected for fault scenarios.
"""

from __future__ import annotations

import io
import math
import os
import queue
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import av
import numpy as np
from PIL import Image

from .defects import CLIP_DEFECTS, clip_defect

__all__ = ["Take", "clip_size", "render_clip"]


def clip_size(aspect: str, high: bool) -> tuple[int, int]:
    """Kling output sizes: 1080p (pro) or 720p (std) for 16:9, 9:16 and 1:1."""
    if aspect == "9:16":
        return (1080, 1920) if high else (720, 1280)
    if aspect == "1:1":
        return (1440, 1440) if high else (960, 960)
    return (1920, 1080) if high else (1280, 720)


def _cover(img: Image.Image, w: int, h: int) -> Image.Image:
    """Scale to cover (w, h) and centre-crop, like a provider fitting the input to the output aspect."""
    scale = max(w / img.width, h / img.height)
    sw, sh = max(w, round(img.width * scale)), max(h, round(img.height * scale))
    resized = img.resize((sw, sh), Image.Resampling.LANCZOS)
    left, top = (sw - w) // 2, (sh - h) // 2
    return resized.crop((left, top, left + w, top + h))


def _camera_move(camera: dict[str, Any] | None) -> tuple[str, float]:
    """(axis, amount in -1..1) of the one non-zero camera value; no camera → a slow push-in."""
    if camera:
        config = camera.get("config") if isinstance(camera.get("config"), dict) else camera
        for axis in ("horizontal", "vertical", "pan", "tilt", "roll", "zoom", "rotation"):
            value = config.get(axis) if isinstance(config, dict) else None
            if isinstance(value, int | float) and value != 0:
                return ("roll" if axis == "rotation" else axis), max(-1.0, min(1.0, float(value) / 10.0))
    return "zoom", -0.35


@dataclass(frozen=True)
class Take:
    """What makes one task's clip its own: the move's speed and a slight drift of the other axes."""

    speed: float = 1.0  # the camera move's amount, as a share of the requested one
    drift_x: float = 0.0  # drift by the end of the clip, as a share of the frame
    drift_y: float = 0.0

    @classmethod
    def of(cls, variant: int | None) -> Take:
        """``None``: the plain move; else a draw from ``variant`` (the emulator's task number and request)."""
        if variant is None:
            return cls()
        rng = np.random.default_rng(variant & 0xFFFFFFFFFFFFFFFF)
        sx, sy = rng.uniform(-0.012, 0.012, size=2)
        return cls(float(rng.uniform(0.8, 1.2)), float(sx), float(sy))


def _frames(
    src: np.ndarray, n: int, w: int, h: int, axis: str, amount: float, take: Take
) -> Iterator[av.VideoFrame]:
    """Yield n frames (yuv420p) of a camera move over the padded source; frame 0 is the unpadded image."""
    pad = (src.shape[1] - w) // 2, (src.shape[0] - h) // 2  # (x, y) margin
    amount *= take.speed
    if axis == "roll":
        # Small rotations with nearest sampling: fast, and at <= 6 degrees the stair-steps are sub-pixel.
        pil = Image.fromarray(src)
        for i in range(n):
            p = i / max(1, n - 1)
            lean = 0.5 * min(1.0, abs(amount)) * p  # the drift stays inside the zoom that hides the corners
            cx, cy = pil.width / 2 + take.drift_x * w * lean, pil.height / 2 + take.drift_y * h * lean
            ang = math.radians(6.0 * amount * p)
            zoom = 1.0 / (1.0 + 0.12 * abs(amount) * p)  # zoom in to hide the rotated corners
            ca, sa = math.cos(ang) * zoom, math.sin(ang) * zoom
            coeffs = (ca, -sa, cx - ca * w / 2 + sa * h / 2, sa, ca, cy - sa * w / 2 - ca * h / 2)
            rotated = pil.transform((w, h), Image.Transform.AFFINE, coeffs, Image.Resampling.NEAREST)
            yield av.VideoFrame.from_image(rotated).reformat(format="yuv420p")
        return
    for i in range(n):
        p = i / max(1, n - 1)
        ease = p * p * (3 - 2 * p) * 0.35 + p * 0.65  # mostly linear with soft ends
        if axis == "zoom":
            scale = 1.0 + 0.22 * amount * ease  # >1 wider (shows the padded margin), <1 closer
            dx = dy = 0.0
        else:
            scale = 1.0 - 0.10 * abs(amount) * ease  # crop window shrinks a little while it slides
            k = {"horizontal": 0.16, "vertical": 0.16, "pan": 0.12, "tilt": 0.12}[axis]
            shift = k * amount * ease
            dx = shift * w if axis in ("horizontal", "pan") else 0.0
            dy = -shift * h if axis in ("vertical", "tilt") else 0.0  # + is up
        dx += take.drift_x * w * ease
        dy += take.drift_y * h * ease
        cw, ch = min(src.shape[1], round(w * scale)), min(src.shape[0], round(h * scale))
        x0 = round(pad[0] + (w - cw) / 2 + dx)
        y0 = round(pad[1] + (h - ch) / 2 + dy)
        x0 = max(0, min(src.shape[1] - cw, x0))
        y0 = max(0, min(src.shape[0] - ch, y0))
        frame = av.VideoFrame.from_ndarray(src[y0 : y0 + ch, x0 : x0 + cw], format="rgb24")
        yield frame.reformat(width=w, height=h, format="yuv420p", interpolation="BILINEAR")


def render_clip(
    image_bytes: bytes,
    duration: int,
    width: int,
    height: int,
    fps: int,
    camera: dict[str, Any] | None = None,
    defect: str | None = None,
    variant: int | None = None,
) -> bytes:
    """An H.264 MP4 (yuv420p, faststart) of exactly ``duration*fps`` frames animating the image.

    ``camera``: Kling ``camera_control`` (``{"type": "simple", "config": {...}}``) or a flat dict of the
    same keys (``rotation`` is read as roll). ``defect``: ``None``, ``"freeze"`` (≥ 1.5 s of identical
    frames mid-clip), ``"black"`` (≥ 0.5 s of black frames mid-clip) or one of the failure rules' defects
    (:data:`~goldenchain.emulator.defects.CLIP_DEFECTS`). ``variant``: the task's own draw (the move's speed,
    a slight drift, where a defect sits); ``None`` is the plain move."""
    if defect not in (None, "freeze", "black", *CLIP_DEFECTS):
        raise ValueError(f"unknown clip defect {defect!r}")
    n = int(duration * fps)
    if n <= 0 or width <= 0 or height <= 0 or width % 2 or height % 2:
        raise ValueError("bad clip spec")
    with Image.open(io.BytesIO(image_bytes)) as opened:
        still = _cover(opened.convert("RGB"), width, height)
    axis, amount = _camera_move(camera)
    mx, my = (round(width * 0.12), round(height * 0.12)) if axis == "zoom" and amount > 0 else (0, 0)
    src = np.asarray(still, dtype=np.uint8)
    if mx or my:
        src = np.pad(src, ((my, my), (mx, mx), (0, 0)), mode="reflect")

    freeze = range(n // 3, n // 3 + math.ceil(1.6 * fps)) if defect == "freeze" else range(0)
    black = range(n // 2, n // 2 + math.ceil(0.6 * fps)) if defect == "black" else range(0)
    post = clip_defect(defect, n, width, height, fps, variant or 0) if defect in CLIP_DEFECTS else None
    black_frame = av.VideoFrame.from_ndarray(np.zeros((height, width, 3), np.uint8), format="rgb24").reformat(
        format="yuv420p"
    )

    # Frames are made on a producer thread (swscale and PIL release the GIL) while x264 encodes.
    frames: queue.Queue[av.VideoFrame | BaseException | None] = queue.Queue(maxsize=8)
    stop = threading.Event()

    def produce() -> None:
        try:
            for i, frame in enumerate(_frames(src, n, width, height, axis, amount, Take.of(variant))):
                if post is not None:
                    rgb = post(i, frame.to_ndarray(format="rgb24"))
                    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
                while not stop.is_set():
                    try:
                        frames.put(frame, timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            frames.put(None)
        except BaseException as exc:  # handed to the consumer, which re-raises
            frames.put(exc)

    fd, path = tempfile.mkstemp(prefix="gc-emu-", suffix=".mp4")
    os.close(fd)
    producer = threading.Thread(target=produce, name="gc-emu-frames", daemon=True)
    producer.start()
    try:
        with av.open(path, "w", format="mp4", options={"movflags": "+faststart"}) as out:
            stream = out.add_stream("libx264", rate=fps)
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            stream.options = {"crf": "20", "preset": "ultrafast"}
            stream.codec_context.thread_count = 0
            held: av.VideoFrame | None = None
            for i in range(n):
                item = frames.get()
                if isinstance(item, BaseException):
                    raise item
                if item is None:
                    raise RuntimeError("frame producer ended early")
                frame = item
                if i in black:
                    frame = black_frame
                elif i in freeze:
                    held = held or frame
                    frame = held
                frame.pts = i
                for packet in stream.encode(frame):
                    out.mux(packet)
            for packet in stream.encode(None):
                out.mux(packet)
        with open(path, "rb") as fh:
            return fh.read()
    finally:
        stop.set()
        producer.join(timeout=5)
        os.unlink(path)
