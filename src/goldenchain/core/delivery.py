"""The delivery spec: what every delivered file must be (``[delivery]`` in ``goldenchain.toml``).

Pure: the section's model, its cross-field rules (each a ``(field, reason)`` pair the config loader turns
into a one-line ConfigError naming the file, the field and the line), file names from the naming pattern,
and the encoder settings the spec implies. ``docs/delivery.md`` describes every key.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from datetime import date
from pathlib import PurePosixPath
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "CODECS",
    "NAME_FIELDS",
    "PIXEL_FORMATS",
    "DeliverySection",
    "clip_name",
    "project_issues",
    "spec_issues",
]

Codec = Literal["h264", "hevc", "prores"]
CODECS: tuple[str, ...] = ("h264", "hevc", "prores")
#: pixel formats each codec is delivered in (the first is the default)
PIXEL_FORMATS: dict[str, tuple[str, ...]] = {
    "h264": ("yuv420p", "yuv422p", "yuv444p"),
    "hevc": ("yuv420p", "yuv420p10le", "yuv422p10le"),
    "prores": ("yuv422p10le", "yuv444p10le"),
}
#: quality when neither crf nor bitrate is set (prores: the profile follows the pixel format)
DEFAULT_CRF = {"h264": 18, "hevc": 22}
NAME_FIELDS = ("client", "project", "shot", "take", "date")
CORNERS = ("top-left", "top-right", "bottom-left", "bottom-right")
AUDIO_WORDS = ("none", "silence")


class DeliverySection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: frame size; ``resolution = "1280x720"`` says the same in one key
    width: int = Field(1920, ge=16, le=8192)
    height: int = Field(1080, ge=16, le=8192)
    resolution: str | None = Field(None, pattern=r"^[0-9]{2,5}x[0-9]{2,5}$")
    fps: float = Field(24, gt=0, le=120)
    codec: Codec = "h264"
    #: default: the codec's first (yuv420p for h264/hevc, yuv422p10le for prores)
    pixel_format: str | None = None
    #: constant quality (h264/hevc; default 18/22) or a target bitrate such as "8M": one of the two
    crf: int | None = Field(None, ge=0, le=51)
    bitrate: str | None = Field(None, pattern=r"^[0-9]+(\.[0-9]+)?[kM]$")
    #: "none" (no audio stream), "silence" (a silent AAC track), or an audio file (relative to the project)
    #: laid under the final cut (trimmed, or padded with silence); clips then carry a silent track
    audio: str = "none"
    audio_bitrate: str = Field("192k", pattern=r"^[0-9]+k$")
    #: a delivered clip's file name; fields: {client} {project} {shot} {take} {date}
    naming: str = "{shot}.mp4"
    #: seconds of cross-dissolve between two clips of the final cut (0: hard cuts)
    crossfade: float = Field(0.0, ge=0, le=10)
    #: seconds of title card (client, project, date) before the final cut (0: none)
    slate: float = Field(0.0, ge=0, le=30)
    slate_title: str | None = None
    #: a PNG logo (relative to the project) over the final cut, in a corner, at an opacity
    logo: str | None = None
    logo_corner: Literal["top-left", "top-right", "bottom-left", "bottom-right"] = "bottom-right"
    logo_opacity: float = Field(0.8, ge=0, le=1)
    #: the logo's width as a share of the frame's
    logo_width: float = Field(0.12, gt=0, le=1)
    #: sign every delivered file with a C2PA manifest (needs the c2pa extra), with this key and chain (PEM)
    c2pa: bool = False
    c2pa_key: str | None = None
    c2pa_cert: str | None = None
    c2pa_alg: Literal["es256", "es384", "es512", "ps256", "ed25519"] = "es256"
    #: probe every delivered file against this spec after writing it (a mismatch fails the run)
    check: bool = True

    # --- what the spec resolves to ----------------------------------------------------------------------

    @property
    def size(self) -> tuple[int, int]:
        if self.resolution:
            w, h = self.resolution.split("x")
            return int(w), int(h)
        return self.width, self.height

    @property
    def pix_fmt(self) -> str:
        return self.pixel_format or PIXEL_FORMATS[self.codec][0]

    @property
    def extension(self) -> str:
        return PurePosixPath(self.naming).suffix.lower()

    @property
    def final_name(self) -> str:
        """``final.mp4`` (``final.mov`` when the clips are QuickTime files, as ProRes must be)."""
        return "final" + (self.extension or ".mp4")

    @property
    def has_audio(self) -> bool:
        return self.audio != "none"

    @property
    def audio_file(self) -> str | None:
        return None if self.audio in AUDIO_WORDS else self.audio

    def video_args(self) -> list[str]:
        """ffmpeg output options for the video stream."""
        fmt = self.pix_fmt
        if self.codec == "prores":
            profile = "4" if fmt.startswith("yuv444") else "3"  # 4444 or HQ
            return ["-c:v", "prores_ks", "-profile:v", profile, "-vendor", "apl0", "-pix_fmt", fmt]
        enc = ["-c:v", "libx264"] if self.codec == "h264" else ["-c:v", "libx265", "-tag:v", "hvc1"]
        enc += ["-preset", "veryfast", "-pix_fmt", fmt]
        if self.codec == "hevc":
            enc += ["-x265-params", "log-level=error"]
        if self.bitrate:
            return [*enc, "-b:v", self.bitrate, "-maxrate", self.bitrate, "-bufsize", _double(self.bitrate)]
        return [*enc, "-crf", str(self.crf if self.crf is not None else DEFAULT_CRF[self.codec])]

    def public(self) -> dict[str, object]:
        """The spec as the report shows it: the resolved values, paths as written."""
        w, h = self.size
        out: dict[str, object] = self.model_dump(exclude={"c2pa_key"})  # where the key lives stays private
        out.update(width=w, height=h, pixel_format=self.pix_fmt, final=self.final_name)
        if self.codec != "prores" and self.bitrate is None and self.crf is None:
            out["crf"] = DEFAULT_CRF[self.codec]
        return out


def _double(rate: str) -> str:
    return f"{float(rate[:-1]) * 2:g}{rate[-1]}"


def _pattern_fields(pattern: str) -> list[str] | str:
    """The fields a naming pattern uses, or why it is not one."""
    try:
        parsed = list(string.Formatter().parse(pattern))
    except ValueError as e:
        return f"not a naming pattern: {e}"
    names = []
    for _lit, name, spec, conv in parsed:
        if name is None:
            continue
        if name not in NAME_FIELDS:
            return f"unknown field {{{name}}} (fields: {', '.join('{' + n + '}' for n in NAME_FIELDS)})"
        if spec or conv:
            return f"{{{name}}} takes no format or conversion"
        names.append(name)
    return names


def spec_issues(d: DeliverySection) -> list[tuple[str, str]]:
    """Rules across the section's keys: (field, reason), the first of which refuses the project file."""
    out: list[tuple[str, str]] = []
    if d.resolution and {"width", "height"} & d.model_fields_set and (d.width, d.height) != d.size:
        out.append(("resolution", f"{d.resolution} disagrees with width/height {d.width}x{d.height}"))
    w, h = d.size
    if w % 2 or h % 2:
        out.append(("resolution" if d.resolution else "width", f"{w}x{h}: both sides must be even"))
    allowed = PIXEL_FORMATS[d.codec]
    if d.pixel_format is not None and d.pixel_format not in allowed:
        out.append(("pixel_format", f"{d.codec} is delivered in {', '.join(allowed)}, not {d.pixel_format}"))
    if d.crf is not None and d.bitrate is not None:
        out.append(("bitrate", "set crf or bitrate, not both"))
    if d.codec == "prores" and (d.crf is not None or d.bitrate is not None):
        field = "crf" if d.crf is not None else "bitrate"
        out.append((field, "prores takes no crf or bitrate (its profile follows the pixel format)"))
    fields = _pattern_fields(d.naming)
    if isinstance(fields, str):
        out.append(("naming", fields))
    elif "shot" not in fields:
        out.append(("naming", "the pattern must contain {shot} (two clips would get one name)"))
    elif "/" in d.naming or "\\" in d.naming or d.naming.startswith("."):
        out.append(("naming", "a file name, not a path"))
    elif d.extension not in (".mp4", ".mov"):
        out.append(("naming", "the name must end in .mp4 or .mov"))
    elif d.codec == "prores" and d.extension != ".mov":
        out.append(("naming", "prores is delivered in QuickTime files: end the name in .mov"))
    if d.c2pa and not (d.c2pa_key and d.c2pa_cert):
        out.append(("c2pa", "c2pa = true needs c2pa_key and c2pa_cert (PEM files)"))
    return out


def project_issues(
    d: DeliverySection, shot_durations: Iterable[tuple[str, float]], exists: dict[str, bool]
) -> list[tuple[str, str]]:
    """Rules that need the shot list and the project's files: ``exists`` says which paths the section names
    are files (the caller looks, this module does no I/O)."""
    out: list[tuple[str, str]] = []
    if d.crossfade > 0:
        for shot, secs in shot_durations:
            if d.crossfade >= secs:
                why = f"{d.crossfade:g} s is not shorter than shot {shot}'s {secs:g} s clip"
                out.append(("crossfade", why))
                break
    files = (("audio", d.audio_file), ("logo", d.logo), ("c2pa_key", d.c2pa_key), ("c2pa_cert", d.c2pa_cert))
    for field, path in files:
        if path and not exists.get(path, False):
            out.append((field, f"{path}: no such file"))
    if d.logo and not d.logo.lower().endswith(".png"):
        out.append(("logo", "the logo must be a PNG (its alpha channel is kept)"))
    return out


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def clip_name(d: DeliverySection, *, client: str, project: str, shot: str, take: int, day: date) -> str:
    """A delivered clip's file name from the naming pattern; every field is made file-name safe."""
    values = {"client": client, "project": project, "shot": shot, "take": str(take), "date": day.isoformat()}
    safe = {k: _UNSAFE.sub("-", v).strip("-") or "x" for k, v in values.items()}
    return d.naming.format(**safe)
