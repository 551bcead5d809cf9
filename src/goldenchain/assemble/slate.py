"""The slate: a title card (client, project, date) drawn with Pillow at the delivery size."""

from __future__ import annotations

from datetime import date
from pathlib import Path

__all__ = ["render_slate"]


def _font(size: int) -> object:
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)  # Pillow's own scalable font (FreeType builds)
    except (TypeError, OSError):  # pragma: no cover - a Pillow without FreeType: the small bitmap font
        return ImageFont.load_default()


def render_slate(
    out: Path, size: tuple[int, int], *, client: str, project: str, day: date, title: str | None = None
) -> Path:
    """A dark card with the title (default: the project), then client, project and date, centred."""
    from PIL import Image, ImageDraw

    w, h = size
    im = Image.new("RGB", (w, h), (16, 18, 22))
    draw = ImageDraw.Draw(im)
    lines = [
        (title or project, round(h * 0.09), (245, 245, 245)),
        (f"client  {client}", round(h * 0.045), (200, 200, 205)),
        (f"project  {project}", round(h * 0.045), (200, 200, 205)),
        (day.isoformat(), round(h * 0.045), (160, 160, 170)),
    ]
    fonts = [_font(max(8, px)) for _, px, _ in lines]
    heights = [px for _, px, _ in lines]
    gap = round(h * 0.03)
    y = (h - (sum(heights) + gap * (len(lines) - 1))) / 2
    for (text, px, colour), font in zip(lines, fonts, strict=True):
        box = draw.textbbox((0, 0), text, font=font)  # type: ignore[arg-type]
        draw.text(((w - (box[2] - box[0])) / 2, y), text, fill=colour, font=font)  # type: ignore[arg-type]
        y += px + gap
    draw.rectangle(
        [round(w * 0.1), round(y), round(w * 0.9), round(y) + max(2, h // 270)], fill=(200, 160, 40)
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    im.save(out, "PNG")
    return out
