"""An A/B test's plan (pure): the variants of one shot, the paired seeds, and each pair's shot and settings.

A variant is a name, a prompt (the shot's own when left out) and settings: the shot's own fields (``motion``,
``camera.zoom``, ``video_prompt``, ...) or the stills and video sections' (``video.mode``, ``stills.model``, ...).
Every variant runs once per pair with the pair's seed, one take per stage (no re-roll: a rejected still or clip
is that variant's verdict for the pair). The routes (providers) stay the project's.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from goldenchain.errors import UsageError

NAME = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
VARIANT = re.compile(r"^[A-Za-z0-9_]{1,20}$")
MAX_PAIRS, MAX_VARIANTS = 500, 8
SHOT_KEYS = ("scene", "duration", "aspect", "motion", "negative_prompt", "video_prompt")
CAMERA_KEYS = ("horizontal", "vertical", "zoom", "rotation")
#: what a variant may not change in the stills and video sections: the routes, and the takes (one per stage)
FIXED = {"provider", "source", "max_takes", "draft_model", "draft_takes"}


#: an A/B test runs in a ledger project of its own: ``<project>.ab.<name>``
LEDGER_SEP = ".ab."


def ledger_project(project_id: str, name: str) -> str:
    return f"{project_id}{LEDGER_SEP}{name}"


def base_project(ledger_id: str) -> str | None:
    """The project an A/B test's ledger project belongs to (None for any other id)."""
    base, sep, name = ledger_id.rpartition(LEDGER_SEP)
    return base if sep and base and NAME.match(name) else None


@dataclass(frozen=True)
class Variant:
    name: str
    prompt: str | None  #: None: the shot's own prompt
    settings: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "prompt": self.prompt, "settings": dict(self.settings)}


def parse_value(text: str) -> Any:
    """A setting's value: an integer, a number, true/false, or the text as written."""
    low = text.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_variants(items: list[str], settings: list[str]) -> list[Variant]:
    """``--variant NAME[=PROMPT]`` and ``--setting NAME:KEY=VALUE`` into variants (usage errors, one line)."""
    if len(items) < 2:
        raise UsageError("an A/B test needs at least two variants (--variant a=PROMPT --variant b=PROMPT)")
    if len(items) > MAX_VARIANTS:
        raise UsageError(f"at most {MAX_VARIANTS} variants")
    order: list[str] = []
    prompts: dict[str, str | None] = {}
    for item in items:
        name, eq, prompt = item.partition("=")
        name = name.strip()
        if not VARIANT.match(name):
            raise UsageError(f"variant name {name!r}: letters, digits and _ only, at most 20")
        if name in prompts:
            raise UsageError(f"variant {name!r} is given twice")
        if eq and not prompt.strip():
            raise UsageError(
                f"variant {name!r} has an empty prompt (leave out '=' for the shot's own prompt)"
            )
        order.append(name)
        prompts[name] = " ".join(prompt.split()) if eq else None
    sets: dict[str, dict[str, Any]] = {n: {} for n in order}
    for item in settings:
        name, colon, rest = item.partition(":")
        key, eq, value = rest.partition("=")
        if not colon or not eq or not key.strip():
            raise UsageError(f"--setting {item!r}: write VARIANT:KEY=VALUE, e.g. b:camera.zoom=6")
        if name not in sets:
            raise UsageError(f"--setting {item!r}: no variant named {name!r}")
        sets[name][setting_key(key.strip())] = parse_value(value.strip())
    return [Variant(n, prompts[n], sets[n]) for n in order]


def setting_key(key: str) -> str:
    """The key if a variant may set it, else a usage error naming what may be set."""
    section, dot, rest = key.partition(".")
    ok = (
        key in SHOT_KEYS
        or (section == "camera" and rest in CAMERA_KEYS)
        or (section in ("stills", "video") and dot and rest and rest not in FIXED and "." not in rest)
    )
    if not ok:
        raise UsageError(
            f"setting {key!r} cannot vary: use {', '.join(SHOT_KEYS)}, camera.{{{','.join(CAMERA_KEYS)}}}, "
            "or stills.KEY / video.KEY (not the route nor the takes)"
        )
    return key


def pair_seeds(base: int, pairs: int) -> list[int]:
    """One seed per pair, shared by every variant of the pair."""
    return [(base + i) % 2**32 for i in range(pairs)]


def pair_shot_id(variant: str, pair: int) -> str:
    return f"{variant}-p{pair:03d}"


def blind_order(salt: str, who: str, pair: int, variants: list[str]) -> list[str]:
    """The order a person sees a pair's clips in: shuffled by a secret of the test, the same on every visit of
    that person, and not to be guessed from the page."""
    return sorted(
        variants, key=lambda v: hashlib.sha256(f"{salt}\x00{who}\x00{pair}\x00{v}".encode()).digest()
    )


def variant_shot(base: Any, variant: Variant, pair: int, seed: int) -> Any:
    """The pair's shot for this variant: the base shot with the variant's prompt, shot settings and the seed."""
    data = base.model_dump()
    data.update(id=pair_shot_id(variant.name, pair), seed=seed)
    if variant.prompt is not None:
        data["prompt"] = variant.prompt
    for key, value in variant.settings.items():
        section, _, rest = key.partition(".")
        if key in SHOT_KEYS:
            data[key] = value
        elif section == "camera":
            data["camera"] = {**data["camera"], rest: value}
    try:
        return type(base).model_validate(data)
    except ValidationError as e:
        raise UsageError(f"variant {variant.name!r}: {_first(e)}") from None


def variant_config(cfg: Any, variant: Variant, *, ledger_project: str, project_room: float | None) -> Any:
    """The project's settings for this variant: its stills and video settings, one take per stage, the test's
    own ledger project, and what is left of the project budget as that project's cap."""
    stills = cfg.stills.model_dump()
    video = cfg.video.model_dump()
    for key, value in variant.settings.items():
        section, _, rest = key.partition(".")
        if section == "stills":
            stills[rest] = value
        elif section == "video":
            video[rest] = value
    stills.update(max_takes=1)
    video.update(max_takes=1)
    try:
        new_stills = type(cfg.stills).model_validate(stills)
        new_video = type(cfg.video).model_validate(video)
    except ValidationError as e:
        raise UsageError(f"variant {variant.name!r}: {_first(e)}") from None
    project = cfg.project.model_copy(update={"name": ledger_project})
    budget = cfg.budget.model_copy(update={"project_usd": project_room})
    qc = cfg.qc.model_copy(update={"on_reject": "reroll"})  # one take: a reject is the pair's verdict
    # a pair's variants share a seed: the same prompt gives the same still, which is no duplicate here
    gate = cfg.gate.model_copy(update={"near_duplicates": False})
    return cfg.model_copy(
        update={
            "project": project,
            "stills": new_stills,
            "video": new_video,
            "budget": budget,
            "qc": qc,
            "gate": gate,
        }
    )


def _first(e: ValidationError) -> str:
    err = e.errors()[0]
    where = ".".join(str(x) for x in err.get("loc", ()))
    return f"{where}: {err.get('msg', 'invalid')}" if where else str(err.get("msg", "invalid"))
