"""Prompt rules and camera/motion policy as data, checked before any spend. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from goldenchain.core.models import Catalog, active_catalog

Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True)
class Finding:
    shot: str
    rule: str
    severity: Severity
    message: str
    hint: str

    def to_json(self) -> dict[str, str]:
        return {
            "shot": self.shot,
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
            "hint": self.hint,
        }


@dataclass(frozen=True)
class PromptRule:
    id: str
    severity: Severity
    message: str
    hint: str
    #: regex that must match (``require``) or must not match (``forbid``)
    pattern: str
    mode: Literal["forbid", "require"]
    scenes: tuple[str, ...] = ()  # empty = every scene


PROMPT_RULES: tuple[PromptRule, ...] = (
    PromptRule(
        "still-image-phrase",
        "error",
        "still-image phrase {match!r} adds noise to a video model's input",
        "remove it: describe the subject, light and lens instead",
        r"trending on artstation|highly detailed|\b8k\b|\b4k\b|intricate|masterpiece|ultra[- ]detailed",
        "forbid",
    ),
    PromptRule(
        "lens",
        "warning",
        "no camera lens named",
        "name one, e.g. '35mm lens' or '50mm lens'",
        r"\b\d{2,3}\s?mm\b",
        "require",
    ),
    PromptRule(
        "soft-light",
        "warning",
        "no soft, neutral lighting words",
        "add 'neutral overcast lighting' or 'soft studio lighting'",
        r"overcast|soft (studio )?light|diffuse|neutral light|soft box|softbox",
        "require",
    ),
    PromptRule(
        "harsh-light",
        "warning",
        "{match!r}: several light sources or harsh shadows melt in motion",
        "use one soft key light",
        r"harsh shadows?|multiple light sources|neon lights|strobe|dramatic rim light|backlit",
        "forbid",
    ),
    PromptRule(
        "extreme-close-up",
        "warning",
        "extreme close-up: faces deform in image-to-video",
        "prefer a medium shot",
        r"extreme close[- ]?up",
        "forbid",
    ),
    PromptRule(
        "shot-type",
        "info",
        "no shot type named",
        "start with 'Medium shot of ...'",
        r"\b(medium|wide|close[- ]?up|full|long) shot\b",
        "require",
    ),
    PromptRule(
        "simple-background",
        "warning",
        "no simple background asked for",
        "add 'simple background' or 'plain background'",
        r"simple background|plain background|clean background|minimal background|studio backdrop",
        "require",
        scenes=("portrait", "product"),
    ),
)

#: motion amplitude (percent) by scene type: (low, high) of the recommended band
MOTION_BANDS = {
    "portrait": (10, 20),
    "product": (10, 30),
    "landscape": (20, 40),
    "environment": (30, 40),
    "action": (30, 50),
}


def lint_shot(
    shot: Any,
    *,
    still_provider: str,
    still_model: str,
    video_provider: str,
    video_model_id: str,
    video_mode: str,
    disabled: frozenset[str] = frozenset(),
    extra_rules: tuple[PromptRule, ...] = (),
    still_width: int = 1824,
    still_height: int = 1024,
    cfg_scale: float = 0.5,
    negative_prompt: str | None = None,
    video_kind: str = "i2v",
    catalog: Catalog | None = None,
    stills: bool = True,
) -> list[Finding]:
    """The findings on one shot; ``stills=False`` for a text-to-video project (no still model to check)."""
    out: list[Finding] = []
    sid = shot.id
    prompt = shot.prompt or ""

    def add(rule: str, sev: Severity, msg: str, hint: str) -> None:
        if rule not in disabled:
            out.append(Finding(sid, rule, sev, msg, hint))

    if not prompt.strip():
        add("empty-prompt", "error", "the prompt is empty", "describe subject, light, lens")
    for r in (*PROMPT_RULES, *extra_rules):
        if r.scenes and shot.scene not in r.scenes:
            continue
        m = re.search(r.pattern, prompt, re.IGNORECASE)
        if r.mode == "forbid" and m:
            add(r.id, r.severity, r.message.format(match=m.group(0)), r.hint)
        elif r.mode == "require" and not m:
            add(r.id, r.severity, r.message, r.hint)
    models = catalog if catalog is not None else active_catalog()
    im = models.get(still_provider, still_model, "t2i") if stills else None
    if stills and im is None:
        add(
            "capability",
            "error",
            f"no model spec for still model {still_provider}:{still_model}",
            "pick one from goldenchain providers, or add it under [models] in goldenchain.toml",
        )
    elif im is not None:
        for issue in im.still_issues(prompt, still_width, still_height) if prompt.strip() else ():
            add(issue.rule, issue.severity, issue.message, issue.hint)
    # camera policy
    cam = shot.camera
    if cam.horizontal < 0 or cam.horizontal > 10:
        add(
            "camera-horizontal",
            "warning",
            f"horizontal {cam.horizontal}: keep pans subtle (0..10)",
            "use 0..5",
        )
    if cam.vertical != 0:
        add(
            "camera-vertical", "warning", f"vertical {cam.vertical}: vertical moves warp backgrounds", "set 0"
        )
    if cam.zoom < 0 or cam.zoom > 5:
        add("camera-zoom", "warning", f"zoom {cam.zoom}: keep zoom within 0..5", "use 0..5")
    if cam.rotation != 0:
        add(
            "camera-rotation",
            "error",
            f"rotation {cam.rotation}: rotation melts the scene",
            "set rotation to 0",
        )
    lo, hi = MOTION_BANDS.get(shot.scene, (10, 40))
    if shot.motion > 50 and shot.scene in ("environment", "landscape", "action"):
        add(
            "motion-too-high",
            "error",
            f"motion {shot.motion}% on a complex {shot.scene} scene",
            f"use {lo}-{hi}%",
        )
    elif shot.motion > hi or shot.motion < lo:
        add(
            "motion-band",
            "warning",
            f"motion {shot.motion}% is outside {lo}-{hi}% for {shot.scene}",
            f"use {lo}-{hi}%",
        )
    vm = models.get(video_provider, video_model_id, video_kind)
    if vm is None:
        add(
            "capability",
            "error",
            f"no model spec for video model {video_provider}:{video_model_id}",
            "pick one from goldenchain providers, or add it under [models] in goldenchain.toml",
        )
        return out
    motion_prompt = getattr(shot, "video_prompt", None) or prompt
    nz = {
        k: float(getattr(cam, k)) for k in ("horizontal", "vertical", "zoom", "rotation") if getattr(cam, k)
    }
    for issue in vm.clip_issues(
        prompt=motion_prompt if prompt.strip() else "x",
        mode=video_mode,
        duration=shot.duration,
        aspect=shot.aspect,
        camera=nz,
        cfg_scale=cfg_scale,
        negative_prompt=getattr(shot, "negative_prompt", None) or negative_prompt,
        camera_models=models.camera_models(video_kind),
    ):
        add(issue.rule, issue.severity, issue.message, issue.hint)
    return out
