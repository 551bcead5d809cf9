"""Lint a whole project: prompt rules, camera and motion policy, what the chosen models can do; before any
spend. The CLI, the API and the MCP server all call :func:`lint_project`."""

from __future__ import annotations

from goldenchain.config import Project
from goldenchain.core.rules import Finding, PromptRule, lint_shot

__all__ = ["lint_project"]


def lint_project(p: Project) -> list[Finding]:
    c = p.config
    extra = tuple(
        PromptRule(r.id, r.severity, r.message, r.hint, r.pattern, r.mode, tuple(r.scenes))
        for r in c.lint.rules
    )
    out: list[Finding] = []
    if not c.gate.enabled or not c.qc.enabled:
        off = " and ".join(
            n for n, on in (("image gate", c.gate.enabled), ("clip check", c.qc.enabled)) if not on
        )
        out.append(
            Finding(
                "*",
                "checks-disabled",
                "warning",
                f"the {off} is off: bad takes reach video and delivery",
                "set [gate] enabled = true / [qc] enabled = true for client work",
            )
        )
    for s in p.shots.shots:
        out += lint_shot(
            s,
            still_provider=c.stills.provider,
            still_model=c.stills.model,
            video_provider=c.video.provider,
            video_model_id=c.video.model,
            video_mode=c.video.mode,
            disabled=frozenset(c.lint.disable),
            extra_rules=extra,
            still_width=c.stills.width,
            still_height=c.stills.height,
            cfg_scale=c.video.cfg_scale,
            negative_prompt=c.video.negative_prompt or None,
            video_kind=c.video.kind,
            stills=c.video.source == "still",
        )
    return out
