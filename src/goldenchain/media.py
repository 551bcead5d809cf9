"""Reading media facts (PyAV for video, Pillow for stills): one place for the ledger's artifact metadata and
the deliverables' report."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any


def probe_video(source: str | Path | bytes, *, count_frames: bool = False) -> dict[str, Any]:
    """codec, width, height, fps and duration (seconds, None when the container says nothing) of the first
    video stream; with ``count_frames``, also the number of frames (demuxed when the header lacks it)."""
    import av

    src: Any = io.BytesIO(source) if isinstance(source, bytes) else str(source)
    with av.open(src, mode="r") as c:
        vs = c.streams.video[0]
        out: dict[str, Any] = {
            "codec": vs.codec_context.name,
            "width": vs.width,
            "height": vs.height,
            "fps": float(vs.average_rate or 0),
            "duration": float(c.duration / 1_000_000) if c.duration else None,
        }
        if count_frames:
            out["frames"] = vs.frames or sum(1 for p in c.demux(vs) if p.size)
        return out


def media_meta(data: bytes, mime: str) -> dict[str, Any]:
    """The metadata the ledger keeps for an artifact: size for a still, the video facts for a clip."""
    if mime.startswith("image/"):
        from PIL import Image

        with Image.open(io.BytesIO(data)) as im:
            return {"width": im.width, "height": im.height}
    return probe_video(data)
