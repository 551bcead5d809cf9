"""A project's own models and prices: ``[models."route:id"]`` adds a model with its spec, ``[prices]`` overrides
a price. Both are checked against the registered routes and specs when the project loads; a mistake is a
:class:`~goldenchain.errors.ConfigError` naming the file, the field and the line (exit 2)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from goldenchain.core.models import GPU_RATE_KEY, Catalog, ModelSpec, PriceRule, use_project_models
from goldenchain.errors import ConfigError

__all__ = [
    "ProjectModel",
    "apply_project_catalog",
    "apply_project_file",
    "check_prices",
    "project_models",
    "require_draft_model",
    "require_specs",
]

_KEY = re.compile(r"^([A-Za-z0-9_.-]+):(\S+)$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PriceSpec(_Strict):
    #: image | megapixel | second (of output) | compute_second (Replicate's predict_time) | clip (units) |
    #: gpu_hour (a GPU of ours, by the seconds a take held it)
    per: Literal["image", "megapixel", "second", "compute_second", "clip", "gpu_hour"]
    usd: float = Field(gt=0)  # per image / megapixel / second / unit
    source: str = Field(min_length=1)
    date: str = Field(pattern=r"^\d{4}-\d{2}(-\d{2})?$")
    #: per clip: units per "MODE:SECONDS", e.g. {"pro:5" = 3.5, "pro:10" = 7}
    units: dict[str, float] = Field(default_factory=dict)
    round_up: bool = False  # per megapixel: bill whole megapixels
    #: per compute second or GPU-hour: the estimate's seconds per output
    expected_seconds: float = Field(0.0, ge=0)


class ProjectModel(_Strict):
    """``[models."route:id"]``: a model the project adds. ``like`` copies a registered model's spec (its
    capabilities and the way its route sends it); every other field overrides."""

    kind: Literal["t2i", "i2v", "t2v"] | None = None
    like: str | None = Field(None, pattern=r"^[A-Za-z0-9_.-]+:\S+$")
    label: str | None = None
    price: PriceSpec | None = None
    modes: list[Literal["std", "pro"]] | None = None
    durations: list[int] | None = None
    camera: list[tuple[Literal["std", "pro"], int]] | None = None
    end_frame: list[tuple[Literal["std", "pro"], int]] | None = None
    prompt_max: int | None = Field(None, gt=0)
    sizes: Literal["pixels", "aspect"] | None = None
    ratios: list[str] | None = None
    min_side: int | None = Field(None, gt=0)
    max_side: int | None = Field(None, gt=0)
    multiple_of: int | None = Field(None, gt=0)
    megapixels: float | None = Field(None, gt=0)
    params: list[str] | None = None
    ignored: list[str] | None = None
    #: fixed extra input sent with every request (e.g. {num_inference_steps = 28})
    body: dict[str, Any] | None = None
    notes: str | None = None


def _table_line(text: str, table: str, key: str | None = None) -> int | None:
    """The line of ``[table]`` (``models."fal:x"`` matches quoted or bare), or of ``key`` inside it."""
    wanted = table.replace('"', "")
    in_table, table_line = False, None
    for i, raw in enumerate(text.splitlines(), 1):
        s = raw.strip()
        m = re.match(r"^\[([^\]]+)\]\s*(#.*)?$", s)
        if m:
            in_table = m.group(1).replace('"', "").replace("'", "").replace(" ", "") == wanted
            if in_table:
                table_line = i
            continue
        if in_table and key is not None and re.match(rf"^[\"']?{re.escape(key)}[\"']?\s*=", s):
            return i
    return table_line


def _spec_of(key: str, m: ProjectModel, registered: Catalog, routes: set[tuple[str, str]]) -> ModelSpec:
    """The spec for ``[models."key"]``; ValueError (field, reason) when it cannot be one."""
    route, model = _KEY.match(key).groups()  # type: ignore[union-attr]
    kinds = sorted(k for r, k in routes if r == route)
    if not kinds:
        known = ", ".join(sorted({r for r, _ in routes}))
        raise _Bad(None, f"no provider route {route!r} is registered (known: {known})")
    base: ModelSpec | None = None
    if m.like is not None:
        lr, lm = _KEY.match(m.like).groups()  # type: ignore[union-attr]
        base = registered.get(lr, lm, m.kind)
        if base is None:
            raise _Bad("like", f"no registered model {m.like!r} to copy")
        if base.route != route:
            raise _Bad(
                "like", f"{m.like} is on route {base.route}, not {route}: its adapter sends it differently"
            )
    kind = m.kind or (base.kind if base else (kinds[0] if len(kinds) == 1 else None))
    if kind is None:
        raise _Bad("kind", f"route {route} has {' and '.join(kinds)} models; say which (kind = ...)")
    if kind not in kinds:
        raise _Bad("kind", f"route {route} has no {kind} models (it has {', '.join(kinds)})")
    if m.price is None and base is None:
        raise _Bad(
            "price", "a model needs a price (price = {per = ..., usd = ..., source = ..., date = ...})"
        )
    if kind != "t2i" and base is None and not (m.modes and m.durations):
        raise _Bad("modes", "a video model needs modes and durations (or like = a registered model)")
    price = base.price if base is not None else None
    if m.price is not None:
        units: list[tuple[str, int, float]] = []
        for k, v in m.price.units.items():
            mm = re.fullmatch(r"(std|pro):(\d+)", k)
            if mm is None or v <= 0:
                raise _Bad("price.units", f'{k!r} = {v}: keys are MODE:SECONDS (e.g. "pro:5"), units > 0')
            units.append((mm.group(1), int(mm.group(2)), float(v)))
        if m.price.per == "clip" and not units:
            raise _Bad("price.units", 'a per-clip price needs units per "MODE:SECONDS"')
        if m.price.per in ("compute_second", "gpu_hour") and m.price.expected_seconds <= 0:
            raise _Bad("price.expected_seconds", f"a per-{m.price.per} price needs expected_seconds > 0")
        price = PriceRule(
            m.price.per, m.price.usd, m.price.source, m.price.date, tuple(units),
            m.price.round_up, m.price.expected_seconds,
        )  # fmt: skip
    assert price is not None
    if kind == "t2i" and price.basis in ("second", "clip"):
        raise _Bad("price.per", f"a still cannot be priced per {price.basis}")
    if kind != "t2i" and price.basis in ("image", "megapixel"):
        raise _Bad("price.per", f"a clip cannot be priced per {price.basis}")
    fields: dict[str, Any] = {"route": route, "model": model, "kind": kind, "price": price}
    for name in (
        "label",
        "prompt_max",
        "sizes",
        "min_side",
        "max_side",
        "multiple_of",
        "megapixels",
        "notes",
    ):
        value = getattr(m, name)
        if value is not None:
            fields[name] = value
    for name in ("modes", "durations", "ratios", "params", "ignored"):
        value = getattr(m, name)
        if value is not None:
            fields[name] = tuple(value)
    for name in ("camera", "end_frame"):
        value = getattr(m, name)
        if value is not None:
            fields[name] = tuple((mode, int(d)) for mode, d in value)
    if m.modes is not None and base is None:
        fields["output"] = tuple((mode, 1920, 1080) for mode in m.modes)
    wire = dict(base.wire) if base is not None else {}
    if m.body is not None:
        wire["body"] = tuple(m.body.items())
    fields["wire"] = tuple(wire.items())
    spec = dataclasses.replace(base, **fields) if base is not None else ModelSpec(**fields)
    if spec.kind != "t2i":
        pairs = {(mode, d) for mode in spec.modes for d in spec.durations}
        for name in ("camera", "end_frame"):
            extra = set(getattr(spec, name)) - pairs
            if extra:
                raise _Bad(name, f"{sorted(extra)} is not one of the model's modes and durations")
        if price.basis == "clip":
            missing = [p for p in sorted(pairs) if price.unit_count(*p) is None]
            if missing:
                raise _Bad("price.units", f"no units for {', '.join(f'{mo}:{d}' for mo, d in missing)}")
    if spec.sizes == "aspect" and not spec.ratios:
        raise _Bad("ratios", 'an aspect-ratio model needs ratios (e.g. ["16:9", "1:1", "9:16"])')
    return spec


class _Bad(Exception):
    def __init__(self, field: str | None, reason: str) -> None:
        super().__init__(reason)
        self.field, self.reason = field, reason


def project_models(
    path: Path, text: str, data: dict[str, Any], registered: Catalog, routes: set[tuple[str, str]]
) -> list[ModelSpec]:
    """The specs of ``[models]`` in the project file at ``path`` (``text`` its content, ``data`` parsed)."""
    raw = data.get("models") or {}
    if not isinstance(raw, dict):
        raise ConfigError(str(path), "models", _table_line(text, "models"), "expected a table of models")
    out: list[ModelSpec] = []
    for key, body in raw.items():
        table = f'models."{key}"'
        if _KEY.match(key) is None:
            raise ConfigError(
                str(path), f"models.{key}", _table_line(text, table), 'name it "route:model-id"'
            )
        if not isinstance(body, dict):
            raise ConfigError(str(path), f"models.{key}", _table_line(text, table), "expected a table")
        try:
            m = ProjectModel.model_validate(body)
        except ValidationError as e:
            first = e.errors()[0]
            loc = [str(p) for p in first["loc"]]
            msg = "unknown field" if first["type"] == "extra_forbidden" else first["msg"]
            raise ConfigError(
                str(path), f"models.{key}.{'.'.join(loc)}", _table_line(text, table, loc[0]), msg
            ) from None
        try:
            out.append(_spec_of(key, m, registered, routes))
        except _Bad as e:
            field = f"models.{key}" + (f".{e.field}" if e.field else "")
            line = _table_line(text, table, e.field.split(".")[0] if e.field else None)
            raise ConfigError(str(path), field, line, e.reason) from None
    return out


def check_prices(path: Path, text: str, prices: dict[str, float], models: Catalog) -> None:
    """Each ``[prices]`` key names a model (``route:model``, its rate) or one of its clips
    (``route:model:mode:seconds``), or is ``gpu_usd_per_hour`` (the rate of every model billed by the hour of
    a GPU of ours); each value is a positive number of dollars."""
    for key, usd in prices.items():
        line = _table_line(text, "prices", key)
        field = f"prices.{key}"
        if usd <= 0:
            raise ConfigError(str(path), field, line, f"{usd} is not a positive number of dollars")
        if key == GPU_RATE_KEY:
            continue
        mm = re.fullmatch(r"(.+):(std|pro):(\d+)", key)
        spec_key = mm.group(1) if mm else key
        found = [s for s in models if s.key == spec_key]
        if not found:
            raise ConfigError(
                str(path),
                field,
                line,
                "no such model: use ROUTE:MODEL or ROUTE:MODEL:MODE:SECONDS (goldenchain costs prices)",
            )
        if mm and not any(mm.group(2) in s.modes and int(mm.group(3)) in s.durations for s in found):
            raise ConfigError(
                str(path), field, line, f"{spec_key} makes no {mm.group(2)} {mm.group(3)} s clip"
            )


def apply_project_catalog(path: Path, text: str, data: dict[str, Any], prices: dict[str, float]) -> Catalog:
    """Check ``[models]`` and ``[prices]`` and make the project's models part of the active catalog."""
    from goldenchain.plugins.manager import get_registry

    registry = get_registry()
    routes = set(registry.providers)
    extra = project_models(path, text, data, registry.catalog, routes)
    use_project_models(extra)
    models = registry.catalog.merged(extra)
    check_prices(path, text, prices, models)
    return models


def apply_project_file(path: Path, prices: dict[str, float]) -> Catalog:
    """:func:`apply_project_catalog` for the project file at ``path`` (already read and validated once)."""
    import tomllib

    text = path.read_text(encoding="utf-8")
    return apply_project_catalog(path, text, tomllib.loads(text), prices)


def require_specs(cfg: Any) -> None:
    """Raise :class:`~goldenchain.core.models.UnknownModel` (exit 2) unless the project's stills and video
    models both have a spec in the active catalog."""
    from goldenchain.core.models import active_catalog

    models = active_catalog()
    if cfg.video.source == "still":
        models.require(cfg.stills.provider, cfg.stills.model, "t2i")
        if cfg.stills.draft_model is not None:  # named: it must be one of the route's image models
            models.require(cfg.stills.provider, cfg.stills.draft_model, "t2i")
    models.require(cfg.video.provider, cfg.video.model, cfg.video.kind)


def require_draft_model(cfg: Any, catalog: Any = None) -> str:
    """The model ``run --draft`` makes drafts with: ``[stills] draft_model``, else the stills route's FLUX.1
    schnell. Raises a usage error (exit 2, nothing spent) for a text-to-video project, a route without a
    draft model, or a draft model without a spec."""
    from goldenchain.core.models import DRAFT_LABEL, active_catalog
    from goldenchain.errors import UsageError

    st = cfg.stills
    if cfg.video.source != "still":
        raise UsageError('--draft needs stills: a text-to-video project ([video] source = "text") has none')
    spec = (catalog if catalog is not None else active_catalog()).draft_spec(st.provider, st.draft_model)
    if spec is None:
        raise UsageError(
            f"--draft: the {st.provider} route has no draft model ({DRAFT_LABEL}); "
            "set [stills] draft_model to one of its image models"
        )
    return spec.model
