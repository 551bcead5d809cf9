"""Encode delivered files to the project's delivery spec with the ffmpeg of the imageio-ffmpeg wheel: each clip
on its own, and the final cut (an optional slate, the clips joined by cuts or cross-dissolves, an optional logo
over it, and its audio: none, silence or a track laid under it)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from goldenchain.assemble.ffmpeg import ffmpeg_exe
from goldenchain.core.delivery import DeliverySection
from goldenchain.errors import GoldenchainError

__all__ = ["FinalInputs", "cut_duration", "encode_clip", "encode_final"]

_SILENCE = "anullsrc=r=48000:cl=stereo"


def _fps(spec: DeliverySection) -> str:
    return f"{spec.fps:g}"


def _fit(spec: DeliverySection) -> str:
    """Scale to fit the frame, pad the rest black, square pixels, the delivery rate and pixel format."""
    w, h = spec.size
    return (
        f"scale={w}:{h}:force_original_aspect_ratio=decrease,pad={w}:{h}:(ow-iw)/2:(oh-ih)/2,setsar=1,"
        f"fps={_fps(spec)},format={spec.pix_fmt}"
    )


def _container_args(spec: DeliverySection) -> list[str]:
    return ["-r", _fps(spec), "-movflags", "+faststart"]


def _audio_args(spec: DeliverySection) -> list[str]:
    return ["-c:a", "aac", "-b:a", spec.audio_bitrate, "-ar", "48000", "-ac", "2"]


def _run(args: list[str], tmp: Path, out: Path, what: str) -> Path:
    proc = subprocess.run(args, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise GoldenchainError(f"ffmpeg failed to encode {what}: {proc.stderr.strip()[-300:]}")
    tmp.replace(out)
    return out


def _tmp(out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    return out.with_name(out.stem + ".part" + out.suffix)


def encode_clip(src: Path, out: Path, spec: DeliverySection, *, duration: float | None) -> Path:
    """One delivered clip: the provider's clip at the delivery size, rate, codec and pixel format, with a
    silent AAC track when the spec has audio. ``duration``: the source's, in seconds (the track's length);
    None when its container does not say (the silence then ends with the picture)."""
    tmp = _tmp(out)
    known = duration is not None and duration > 0
    args = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-i", str(src)]
    if spec.has_audio:
        args += ["-f", "lavfi", *(["-t", f"{duration:.3f}"] if known else []), "-i", _SILENCE]
    args += ["-vf", _fit(spec), "-map", "0:v:0"]
    if spec.has_audio:
        args += ["-map", "1:a:0", *_audio_args(spec)]
    args += [*spec.video_args(), *_container_args(spec)]
    args += ["-t", f"{duration:.3f}"] if known else ["-shortest"]
    return _run([*args, str(tmp)], tmp, out, src.name)


@dataclass(frozen=True)
class FinalInputs:
    """What the final cut is made of: encoded clips (in order, with their durations), the slate still, the
    logo and the audio file (all optional)."""

    clips: list[tuple[Path, float]]
    slate: Path | None = None
    logo: Path | None = None
    audio: Path | None = None


def cut_duration(spec: DeliverySection, durations: list[float]) -> float:
    """The final cut's length: the slate, every clip, less one crossfade per join."""
    joins = max(0, len(durations) - 1)
    slate = spec.slate if spec.slate > 0 else 0.0
    return slate + sum(durations) - joins * spec.crossfade


def _overlay_xy(corner: str, margin: int) -> str:
    x = f"{margin}" if corner.endswith("left") else f"W-w-{margin}"
    y = f"{margin}" if corner.startswith("top") else f"H-h-{margin}"
    return f"{x}:{y}"


def _video_graph(spec: DeliverySection, inp: FinalInputs, slate_i: int | None, logo_i: int | None) -> str:
    norm = f"{_fit(spec)},settb=AVTB,setpts=PTS-STARTPTS"
    parts = [f"[{i}:v]{norm}[c{i}]" for i in range(len(inp.clips))]
    if spec.crossfade > 0 and len(inp.clips) > 1:
        last, offset = "c0", 0.0
        for i in range(1, len(inp.clips)):
            offset += inp.clips[i - 1][1] - spec.crossfade
            parts.append(
                f"[{last}][c{i}]xfade=transition=fade:duration={spec.crossfade:g}:offset={offset:.4f}[x{i}]"
            )
            last = f"x{i}"
        body = last
    else:
        joined = "".join(f"[c{i}]" for i in range(len(inp.clips)))
        parts.append(f"{joined}concat=n={len(inp.clips)}:v=1:a=0[body]")
        body = "body"
    if slate_i is not None:
        parts.append(f"[{slate_i}:v]{_fit(spec)},settb=AVTB,setpts=PTS-STARTPTS[slate]")
        parts.append(f"[slate][{body}]concat=n=2:v=1:a=0[withslate]")
        body = "withslate"
    if logo_i is not None:
        w, h = spec.size
        lw = max(2, round(w * spec.logo_width) // 2 * 2)
        parts.append(
            f"[{logo_i}:v]scale={lw}:-2,format=rgba,colorchannelmixer=aa={spec.logo_opacity:g}[logo]"
        )
        xy = _overlay_xy(spec.logo_corner, max(2, round(min(w, h) * 0.04)))
        parts.append(f"[{body}][logo]overlay={xy}:format=auto,format={spec.pix_fmt}[branded]")
        body = "branded"
    parts.append(f"[{body}]null[vout]")
    return ";".join(parts)


def encode_final(inp: FinalInputs, out: Path, spec: DeliverySection) -> Path:
    """The final cut to the delivery spec."""
    if not inp.clips:
        raise GoldenchainError("no accepted clips to assemble")
    total = cut_duration(spec, [d for _, d in inp.clips])
    tmp = _tmp(out)
    args = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y"]
    for path, _ in inp.clips:
        args += ["-i", str(path)]
    n = len(inp.clips)
    slate_i = logo_i = audio_i = None
    if inp.slate is not None and spec.slate > 0:
        args += ["-loop", "1", "-framerate", _fps(spec), "-t", f"{spec.slate:g}", "-i", str(inp.slate)]
        slate_i, n = n, n + 1
    if inp.logo is not None:
        args += ["-i", str(inp.logo)]
        logo_i, n = n, n + 1
    if spec.has_audio:
        if inp.audio is not None:
            args += ["-i", str(inp.audio)]
        else:
            args += ["-f", "lavfi", "-t", f"{total:.3f}", "-i", _SILENCE]
        audio_i = n
    graph = _video_graph(spec, inp, slate_i, logo_i)
    if audio_i is not None:
        graph += f";[{audio_i}:a]aresample=48000,apad,atrim=end={total:.3f}[aout]"
    args += ["-filter_complex", graph, "-map", "[vout]"]
    if audio_i is not None:
        args += ["-map", "[aout]", *_audio_args(spec)]
    args += [*spec.video_args(), *_container_args(spec), "-t", f"{total:.3f}", str(tmp)]
    return _run(args, tmp, out, "the final cut")
