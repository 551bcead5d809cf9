"""What one task of a provider module makes: a still's or a clip's renderer, with the scripted fault of the
fault plan first and otherwise the failure rules' draw; the same for every provider.

A still the emulator renders is remembered by its content hash with the scene its prompt describes, so that a
clip made from it later knows what the picture shows (a busy street, neon signs), as a video model would.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from PIL import ImageEnhance

from .base import Context
from .media import encode_image, render_bad_still, render_clip, render_still
from .rules import clip_ask, still_ask
from .scene import parse_prompt

__all__ = ["clip_renderer", "still_renderer"]

#: scripted task faults that change a still, and what they render
_BAD = {"bad_still": "dark", "blurry_still": "blurry", "nsfw": "black"}


def still_renderer(
    ctx: Context, prompt: str, seed: int, width: int, height: int, ext: str, fault: str | None
) -> Callable[[], bytes]:
    """The bytes of one still, as a function (rendered when first downloaded). The rules are drawn now: this
    is the task."""
    bad = _BAD.get(fault or "")
    rule = None if bad else ctx.rules.decide(still_ask(prompt, seed, width, height))[0]

    def render() -> bytes:
        if bad == "black":
            img = render_bad_still(prompt, seed, width, height, "dark").point(lambda _: 0)
        elif bad:
            img = render_bad_still(prompt, seed, width, height, bad)
        else:
            img = render_still(prompt, seed, width, height, defect=rule.renders if rule else None)
        if ctx.drift.dim != 1.0:  # the scenario's model renders darker
            img = ImageEnhance.Brightness(img).enhance(ctx.drift.dim)
        data = encode_image(img, ext)
        ctx.scenes[hashlib.sha256(data).hexdigest()] = parse_prompt(prompt)
        return data

    return render


def clip_renderer(
    ctx: Context,
    prompt: str,
    image: bytes | None,
    duration: int,
    width: int,
    height: int,
    fps: int,
    camera: Any,
    fault: str | None,
) -> Callable[[], bytes]:
    """The bytes of one clip, as a function. Without an image (text-to-video) the clip starts from a still of
    the prompt. The rules are drawn now (a scripted defect wins); the task's number among the same request's
    tasks makes each re-roll its own clip."""
    sha = hashlib.sha256(image).hexdigest() if image is not None else None
    ask = clip_ask(prompt, camera, duration, sha, ctx.scenes.get(sha) if sha else None)
    rule, nth = ctx.rules.decide(ask)
    defect = fault if fault in ("freeze", "black") else (rule.renders if rule and not fault else None)
    variant = int(ask.key[:15], 16) * 1_000_003 + nth

    def render() -> bytes:
        src = image if image is not None else encode_image(render_still(prompt, 7, width, height), "png")
        return render_clip(src, duration, width, height, fps, camera, defect, variant)

    return render
