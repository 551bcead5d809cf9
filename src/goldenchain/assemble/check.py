"""Does a delivered file meet the delivery spec? Probed with PyAV: codec, size, frame rate, pixel format, audio
present or not (AAC when present) and duration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from goldenchain.core.delivery import DeliverySection

__all__ = ["check_delivered", "probe_delivered"]

#: the codec names PyAV reports for the spec's codecs
_DECODER = {"h264": "h264", "hevc": "hevc", "prores": "prores"}


def probe_delivered(path: Path) -> dict[str, Any]:
    import av

    with av.open(str(path), mode="r") as c:
        vs = c.streams.video[0]
        audio = c.streams.audio[0] if c.streams.audio else None
        return {
            "codec": vs.codec_context.name,
            "width": vs.width,
            "height": vs.height,
            "fps": round(float(vs.average_rate or 0), 3),
            "pixel_format": vs.codec_context.pix_fmt,
            "audio": audio.codec_context.name if audio is not None else None,
            "duration": round(float(c.duration / 1_000_000), 3) if c.duration else None,
        }


def check_delivered(
    path: Path, spec: DeliverySection, *, duration: float | None, name: str | None = None
) -> dict[str, Any]:
    """One delivered file against the spec: ``{"file", "ok", "reason", "facts"}``; ``reason`` is one line
    naming every mismatch. ``duration``: what the file should last (seconds), None to skip that check."""
    shown = name or path.name
    try:
        facts = probe_delivered(path)
    except Exception as e:  # an unreadable file fails the check; it never stops the report
        return {"file": shown, "ok": False, "reason": f"{shown}: not a readable video ({e})", "facts": None}
    w, h = spec.size
    diffs: list[str] = []
    if facts["codec"] != _DECODER[spec.codec]:
        diffs.append(f"codec {facts['codec']} (spec {spec.codec})")
    if (facts["width"], facts["height"]) != (w, h):
        diffs.append(f"size {facts['width']}x{facts['height']} (spec {w}x{h})")
    if abs(facts["fps"] / spec.fps - 1.0) > 0.002:
        diffs.append(f"{facts['fps']:g} fps (spec {spec.fps:g})")
    if facts["pixel_format"] != spec.pix_fmt:
        diffs.append(f"pixel format {facts['pixel_format']} (spec {spec.pix_fmt})")
    if spec.has_audio and facts["audio"] is None:
        diffs.append(
            "no audio track (spec: " + ("silence" if spec.audio == "silence" else "an audio track") + ")"
        )
    elif spec.has_audio and facts["audio"] != "aac":
        diffs.append(f"audio {facts['audio']} (spec aac)")
    elif not spec.has_audio and facts["audio"] is not None:
        diffs.append(f"an audio track ({facts['audio']}) the spec does not have")
    if duration is not None:
        got = facts["duration"]
        tolerance = max(0.1, 2.0 / spec.fps)
        if got is None or abs(got - duration) > tolerance:
            shown_got = "unknown" if got is None else f"{got:.2f} s"
            diffs.append(f"duration {shown_got} (expected {duration:.2f} s ± {tolerance:.2f})")
    reason = f"{shown}: " + "; ".join(diffs) if diffs else None
    return {"file": shown, "ok": not diffs, "reason": reason, "facts": facts}
