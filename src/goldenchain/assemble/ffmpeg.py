"""Join clips with the ffmpeg binary of the imageio-ffmpeg wheel."""

from __future__ import annotations

import subprocess
from pathlib import Path

from goldenchain.assemble.timeline import Cut
from goldenchain.errors import GoldenchainError


def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def concat(cuts: list[Cut], out: Path, *, width: int, height: int, fps: int) -> Path:
    """Scale/pad every clip to the delivery spec and join them in order: H.264 High, yuv420p, +faststart."""
    if not cuts:
        raise GoldenchainError("no accepted clips to assemble")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.stem + ".part.mp4")
    args = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y"]
    for c in cuts:
        args += ["-i", c.path]
    chains = []
    for i in range(len(cuts)):
        chains.append(
            f"[{i}:v]scale={width}:{height}:force_original_aspect_ratio=decrease,"
            f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2,setsar=1,fps={fps},format=yuv420p[v{i}]"
        )
    joined = "".join(f"[v{i}]" for i in range(len(cuts)))
    graph = ";".join(chains) + f";{joined}concat=n={len(cuts)}:v=1:a=0[out]"
    args += [
        "-filter_complex",
        graph,
        "-map",
        "[out]",
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-crf",
        "18",
        "-profile:v",
        "high",
        "-pix_fmt",
        "yuv420p",
        "-r",
        str(fps),
        "-movflags",
        "+faststart",
        str(tmp),
    ]
    proc = subprocess.run(args, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise GoldenchainError(f"ffmpeg failed to assemble the cut: {proc.stderr.strip()[-300:]}")
    tmp.replace(out)
    return out
