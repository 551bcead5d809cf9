"""One object per model: what a provider route's model can do and what it costs. Pure data and pure checks.

Each provider family declares its :class:`ModelSpec` objects in ``providers/<family>/models.py`` and registers
them with its factory (``register(name, kind, factory, models=[spec, ...])``). Lint, estimate, budgets, the
ledger's actual cost, the adapters' ``check_inputs``, the emulator and ``goldenchain providers`` / ``costs
prices`` all read the same spec: there is no second table to disagree with it."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from goldenchain.core.price_rule import (
    BILLED_UNIT,
    GPU_RATE_KEY,
    Basis,
    Price,
    PriceRule,
    UnknownPrice,
    megapixels,
)
from goldenchain.errors import UsageError

__all__ = [
    "BILLED_UNIT",
    "CLIP_PARAMS",
    "GPU_RATE_KEY",
    "Basis",
    "Catalog",
    "Issue",
    "ModelSpec",
    "Price",
    "PriceRule",
    "UnknownModel",
    "UnknownPrice",
    "active_catalog",
    "megapixels",
    "ratio_of",
    "set_catalog_loader",
    "use_project_models",
]

Kind = Literal["t2i", "i2v", "t2v"]
Severity = Literal["error", "warning", "info"]

#: request parameters a clip model may take (besides prompt, image, mode, duration)
CLIP_PARAMS = ("negative_prompt", "cfg_scale", "camera", "aspect_ratio")
VIDEO_ASPECTS = ("16:9", "9:16", "1:1")
DEFAULT_CFG = 0.5


#: the label of the model a route's drafts default to (``[stills] draft_model`` names another)
DRAFT_LABEL = "FLUX.1 schnell"


class UnknownModel(UsageError):
    """A model that no registered spec describes."""


def ratio_of(width: int, height: int) -> str:
    """``1920x1080`` -> ``"16:9"``: the exact reduced ratio."""
    d = math.gcd(width, height)
    return f"{width // d}:{height // d}"


@dataclass(frozen=True)
class Issue:
    """One thing a model cannot do as asked (lint shows it; an adapter raises the first error)."""

    rule: str
    severity: Severity
    message: str
    hint: str


@dataclass(frozen=True)
class ModelSpec:
    route: str  # the provider route: "fal", "kling", "fal-kling", "replicate", ...
    model: str  # the id sent to the provider
    kind: Kind
    price: PriceRule
    label: str = ""  # a short human name: "FLUX.1 dev", "Kling 1.5"
    # -- video --------------------------------------------------------------------------------------------
    modes: tuple[str, ...] = ()
    durations: tuple[int, ...] = ()
    #: (mode, duration) pairs where camera control is honoured; empty: none
    camera: tuple[tuple[str, int], ...] = ()
    #: (mode, duration) pairs where an end frame is honoured
    end_frame: tuple[tuple[str, int], ...] = ()
    aspects: tuple[str, ...] = VIDEO_ASPECTS
    #: mode -> the 16:9 output size
    output: tuple[tuple[str, int, int], ...] = ()
    image_min_px: int = 300
    image_max_bytes: int = 10 * 1024 * 1024
    image_ratio_min: float = 1 / 2.5
    image_ratio_max: float = 2.5
    # -- stills -------------------------------------------------------------------------------------------
    #: "pixels": width x height sent as such; "aspect": only the ratio is sent (one of ``ratios``)
    sizes: Literal["pixels", "aspect"] = "pixels"
    ratios: tuple[str, ...] = ()
    min_side: int = 64
    max_side: int = 2048
    multiple_of: int = 1
    #: aspect-ratio models: about how many megapixels (of 1024 x 1024) they make, sides a multiple of this
    megapixels: float = 1.0
    size_step: int = 64
    # -- both ---------------------------------------------------------------------------------------------
    prompt_max: int = 2500
    #: parameters the model takes (clips: from ``CLIP_PARAMS``)
    params: tuple[str, ...] = ()
    #: parameters the provider accepts but ignores: lint says so, nothing refuses them
    ignored: tuple[str, ...] = ()
    #: family-specific wire details (fixed body fields, field names); read only by the family's adapter
    wire: tuple[tuple[str, Any], ...] = ()
    notes: str = ""

    @property
    def key(self) -> str:
        return f"{self.route}:{self.model}"

    def wire_get(self, name: str, default: Any = None) -> Any:
        for k, v in self.wire:
            if k == name:
                return v
        return default

    def output_size(self, mode: str) -> tuple[int, int] | None:
        for m, w, h in self.output:
            if m == mode:
                return (w, h)
        return None

    def still_output(self, width: int, height: int) -> tuple[int, int]:
        """The size this model makes when asked for ``width`` x ``height``: the same for pixel-sized models,
        about ``megapixels`` at that ratio for aspect-ratio models (Replicate's flux-dev 16:9: 1344x768)."""
        if self.sizes == "pixels":
            return (width, height)
        area, ratio, step = self.megapixels * 1024 * 1024, width / height, self.size_step
        return (int(math.sqrt(area * ratio) // step * step), int(math.sqrt(area / ratio) // step * step))

    # -- prices -------------------------------------------------------------------------------------------

    def _rate(self, overrides: Mapping[str, float] | None) -> tuple[float, str]:
        if overrides and self.key in overrides:
            return float(overrides[self.key]), "override"
        if overrides and self.price.basis == "gpu_hour" and GPU_RATE_KEY in overrides:
            return float(overrides[GPU_RATE_KEY]), ""
        return self.price.usd, ""

    def _gpu_price(self, rate: float, note: str) -> Price:
        secs = self.price.expected_seconds
        return Price(round(rate * secs / 3600, 6), None, note or f"~{secs:g} GPU-s x ${rate:g}/GPU-h")

    def still_price(self, width: int, height: int, overrides: Mapping[str, float] | None = None) -> Price:
        rate, note = self._rate(overrides)
        rule = self.price
        if rule.basis == "image":
            return Price(round(rate, 6), None, note or "per image")
        if rule.basis == "megapixel":
            mp = megapixels(width, height) if rule.round_up else width * height / 1_000_000
            return Price(round(rate * mp, 6), None, note or f"{mp:g} MP x ${rate:g}/MP")
        if rule.basis == "compute_second":
            secs = rule.expected_seconds
            return Price(round(rate * secs, 6), None, note or f"~{secs:g} s x ${rate:g}/s")
        if rule.basis == "gpu_hour":
            return self._gpu_price(rate, note)
        raise UnknownPrice(f"{self.key} is priced per {rule.basis}, not per still")

    def clip_price(self, mode: str, duration: int, overrides: Mapping[str, float] | None = None) -> Price:
        clip_key = f"{self.key}:{mode}:{duration}"
        if overrides and clip_key in overrides:
            return Price(float(overrides[clip_key]), None, "override")
        rate, note = self._rate(overrides)
        rule = self.price
        if rule.basis == "clip":
            units = rule.unit_count(mode, duration)
            if units is None:
                raise UnknownPrice(f"no price for {self.key} {mode} {duration} s")
            return Price(round(units * rate, 6), units, note or f"{units:g} units x ${rate:g}")
        if rule.basis == "second":
            return Price(round(rate * duration, 6), None, note or f"{duration} s x ${rate:g}/s")
        if rule.basis == "compute_second":
            secs = rule.expected_seconds
            return Price(round(rate * secs, 6), None, note or f"~{secs:g} s x ${rate:g}/s")
        if rule.basis == "gpu_hour":
            return self._gpu_price(rate, note)
        raise UnknownPrice(f"{self.key} is priced per {rule.basis}, not per clip")

    def actual_usd(
        self,
        billed_units: float | None,
        unit: str | None,
        estimate: float,
        overrides: Mapping[str, float] | None = None,
    ) -> tuple[float, float | None]:
        """Dollars (and credits) from what the provider says it billed, in the unit this model is priced
        in; the estimate when it says nothing (or bills in another unit)."""
        if billed_units is None or unit != BILLED_UNIT[self.price.basis]:
            return estimate, None
        rate, _ = self._rate(overrides)
        # megapixels: what was billed, as reported (the estimate rounds up to whole megapixels)
        if self.price.basis == "clip":
            return round(billed_units * rate, 6), billed_units
        if self.price.basis == "gpu_hour":  # the seconds this take held our GPU
            return round(billed_units * rate / 3600, 6), None
        return round(billed_units * rate, 6), None

    # -- capabilities -------------------------------------------------------------------------------------

    def still_issues(self, prompt: str, width: int, height: int) -> list[Issue]:
        out: list[Issue] = []
        if not prompt.strip():
            out.append(Issue("empty-prompt", "error", "the prompt is empty", "describe subject, light, lens"))
        elif len(prompt) > self.prompt_max:
            out.append(
                Issue(
                    "prompt-too-long",
                    "error",
                    f"prompt has {len(prompt)} characters; {self.model} takes {self.prompt_max}",
                    "shorten it",
                )
            )
        for side, v in (("width", width), ("height", height)):
            if not self.min_side <= v <= self.max_side:
                out.append(
                    Issue(
                        "capability",
                        "error",
                        f"{side} {v} is outside {self.min_side}..{self.max_side} px on {self.model}",
                        f"set [stills] {side} within {self.min_side}..{self.max_side}",
                    )
                )
            elif v % self.multiple_of:
                out.append(
                    Issue(
                        "capability",
                        "error",
                        f"{side} {v} is not a multiple of {self.multiple_of} on {self.model}",
                        f"use a multiple of {self.multiple_of}",
                    )
                )
        if self.sizes == "aspect" and ratio_of(width, height) not in self.ratios:
            out.append(
                Issue(
                    "capability",
                    "error",
                    f"{width}x{height} is {ratio_of(width, height)}; {self.model} takes aspect ratios "
                    f"{', '.join(self.ratios)} only",
                    "set [stills] width/height to one of them exactly, e.g. 1920x1080 for 16:9",
                )
            )
        elif self.sizes == "aspect":
            ow, oh = self.still_output(width, height)
            if min(ow, oh) < min(width, height):
                out.append(
                    Issue(
                        "still-size",
                        "warning",
                        f"{self.model} makes {ow}x{oh} stills at {ratio_of(width, height)}, smaller than the "
                        f"{width}x{height} asked for; the image gate checks the real size",
                        "pick a model that makes that size (goldenchain providers), or accept the smaller still",
                    )
                )
        return out

    def clip_issues(
        self,
        *,
        prompt: str,
        mode: str,
        duration: int,
        aspect: str,
        camera: Mapping[str, float] | None = None,
        cfg_scale: float = DEFAULT_CFG,
        negative_prompt: str | None = None,
        camera_models: str = "",
    ) -> list[Issue]:
        """Everything this model cannot do as asked. ``camera_models`` names the models that can move the
        camera (for the hint)."""
        out: list[Issue] = []

        def err(rule: str, msg: str, hint: str) -> None:
            out.append(Issue(rule, "error", msg, hint))

        if mode not in self.modes:
            err(
                "capability",
                f"{self.model} has no {mode} mode ({'/'.join(self.modes)})",
                f"set [video] mode = {self.modes[0]!r}",
            )
        if duration not in self.durations:
            allowed = " or ".join(map(str, self.durations))
            err(
                "capability",
                f"duration {duration} s: {self.model} makes {allowed} s clips",
                f"set the shot's duration to {allowed}",
            )
        if not prompt.strip():
            err("empty-prompt", "the video prompt is empty", "describe the motion")
        elif len(prompt) > self.prompt_max:
            err(
                "prompt-too-long",
                f"video prompt has {len(prompt)} characters; {self.model} takes {self.prompt_max}",
                "shorten it",
            )
        if aspect not in self.aspects:
            err(
                "capability",
                f"{self.model} makes {', '.join(self.aspects)} clips, not {aspect}",
                "change aspect",
            )
        self._param_issue(out, "cfg_scale", cfg_scale != DEFAULT_CFG, f"cfg_scale {cfg_scale:g}", "0.5")
        if "cfg_scale" in self.params and not 0.0 <= cfg_scale <= 1.0:
            err("capability", f"cfg_scale {cfg_scale} is outside 0..1", "use 0..1")
        if negative_prompt is not None:
            self._param_issue(out, "negative_prompt", True, "a negative prompt", "unset")
            if len(negative_prompt) > self.prompt_max:
                err(
                    "prompt-too-long",
                    f"negative prompt has {len(negative_prompt)} characters; {self.model} takes "
                    f"{self.prompt_max}",
                    "shorten it",
                )
        moves = {k: v for k, v in (camera or {}).items() if v}
        if moves:
            where = f"{self.route} {self.model} {mode} {duration} s"
            can = f"camera control: {camera_models}" if camera_models else "no model here moves the camera"
            if (mode, duration) not in self.camera:
                err(
                    "camera-unsupported",
                    f"{where} has no camera control",
                    f"set the camera to 0, or use {can}",
                )
            elif len(moves) > 1:
                err(
                    "camera-one-axis",
                    f"{self.route} moves the camera on one axis only; shot sets {', '.join(sorted(moves))}",
                    "keep one non-zero slider",
                )
        return out

    def _param_issue(self, out: list[Issue], name: str, set_: bool, what: str, default: str) -> None:
        if not set_ or name in self.params:
            return
        if name in self.ignored:
            out.append(
                Issue(
                    "ignored-parameter",
                    "warning",
                    f"{self.model} accepts {name} but ignores it: {what} has no effect",
                    f"leave {name} at {default}, or pick a model that honours it",
                )
            )
        else:
            out.append(
                Issue("capability", "error", f"{self.model} takes no {name}", f"leave {name} at {default}")
            )

    # -- listing ------------------------------------------------------------------------------------------

    def capabilities(self) -> dict[str, Any]:
        common = {"prompt_max": self.prompt_max, "params": list(self.params), "ignored": list(self.ignored)}
        if self.kind == "t2i":
            sizes = (
                f"aspect ratio {', '.join(self.ratios)}"
                if self.sizes == "aspect"
                else f"{self.min_side}..{self.max_side} px, multiple of {self.multiple_of}"
            )
            return {
                **common,
                "sizes": sizes,
                "output_16_9": list(self.still_output(1920, 1080)),
                "size_kind": self.sizes,
                "ratios": list(self.ratios),
                "min_side": self.min_side,
                "max_side": self.max_side,
                "multiple_of": self.multiple_of,
            }
        return {
            **common,
            "modes": list(self.modes),
            "durations": list(self.durations),
            "camera": [list(p) for p in self.camera],
            "end_frame": [list(p) for p in self.end_frame],
            "aspects": list(self.aspects),
            "image_min_px": self.image_min_px,
            "image_max_bytes": self.image_max_bytes,
            "output": {m: [w, h] for m, w, h in self.output},
        }

    def price_json(self) -> dict[str, Any]:
        rule = self.price
        out: dict[str, Any] = {
            "basis": rule.basis,
            "usd": rule.usd,
            "source": rule.source,
            "date": rule.date,
        }
        if rule.units:
            out["units"] = [{"mode": m, "duration": d, "units": u} for m, d, u in rule.units]
        if rule.basis in ("compute_second", "gpu_hour"):
            out["expected_seconds"] = rule.expected_seconds
        if rule.basis == "megapixel":
            out["round_up"] = rule.round_up
        return out


@dataclass
class Catalog:
    """The registered specs, by (route, kind, model)."""

    specs: dict[tuple[str, str, str], ModelSpec] = field(default_factory=dict)

    @classmethod
    def of(cls, specs: Iterable[ModelSpec]) -> Catalog:
        c = cls()
        for s in specs:
            c.add(s)
        return c

    def add(self, spec: ModelSpec) -> None:
        self.specs[(spec.route, spec.kind, spec.model)] = spec

    def __iter__(self) -> Iterator[ModelSpec]:
        return iter(self.specs.values())

    def __len__(self) -> int:
        return len(self.specs)

    def get(self, route: str, model: str, kind: str | None = None) -> ModelSpec | None:
        if kind is not None:
            return self.specs.get((route, kind, model))
        for k in ("t2i", "i2v", "t2v"):
            spec = self.specs.get((route, k, model))
            if spec is not None:
                return spec
        return None

    def require(self, route: str, model: str, kind: str) -> ModelSpec:
        spec = self.get(route, model, kind)
        if spec is None:
            known = ", ".join(s.model for s in self.route(route, kind)) or "none"
            what = {"t2i": "image", "i2v": "image-to-video", "t2v": "text-to-video"}.get(kind, kind)
            raise UnknownModel(f"unknown {route} {what} model {model!r}: no spec registered (known: {known})")
        return spec

    def route(self, route: str, kind: str) -> list[ModelSpec]:
        return [s for s in self.specs.values() if s.route == route and s.kind == kind]

    def draft_spec(self, route: str, model: str | None) -> ModelSpec | None:
        """The image model ``run --draft`` uses on ``route``: ``model`` when a project names one, else the
        route's FLUX.1 schnell (None: the route has none)."""
        if model is not None:
            return self.require(route, model, "t2i")
        return next((s for s in self.route(route, "t2i") if s.label.startswith(DRAFT_LABEL)), None)

    def camera_models(self, kind: str = "i2v") -> str:
        """``kling-v1-5 pro 5 s``: every model of ``kind`` that moves the camera, for a hint."""
        found = [
            f"{s.model} {' / '.join(f'{m} {d} s' for m, d in s.camera)}"
            for s in self.specs.values()
            if s.kind == kind and s.camera
        ]
        return "; ".join(found)

    def merged(self, extra: Iterable[ModelSpec]) -> Catalog:
        c = Catalog(dict(self.specs))
        for s in extra:
            c.add(s)
        return c


# -- the process's catalog: the registered specs plus the loaded project's own models ---------------------

_loader: Callable[[], Catalog] | None = None
_project: tuple[ModelSpec, ...] = ()


def set_catalog_loader(loader: Callable[[], Catalog]) -> None:
    """The plugin registry installs the function that gives the registered specs."""
    global _loader
    _loader = loader


def use_project_models(specs: Iterable[ModelSpec]) -> None:
    """The models a project file adds (``[models."route:id"]``), for every later :func:`active_catalog`."""
    global _project
    _project = tuple(specs)


def active_catalog() -> Catalog:
    if _loader is None:  # the registry has not been loaded in this process yet
        import importlib

        importlib.import_module("goldenchain.plugins.manager")
    assert _loader is not None
    base = _loader()
    return base.merged(_project) if _project else base
