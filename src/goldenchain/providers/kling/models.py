"""Kling's official API models (providers.md §1.4-§1.6, §1.10; field-2026.md): one spec per model and task
family, each with its price in Kling units per (mode, duration). The truth of a task's cost is Kling's own
``final_unit_deduction``; the units below are for the estimate and the budget."""

from __future__ import annotations

from goldenchain.core.models import ModelSpec, PriceRule

__all__ = ["I2V_SPECS", "KLING_USD_PER_UNIT", "SPECS", "T2V_SPECS"]

KLING_USD_PER_UNIT = 0.14
PRICE_DATE = "2026-11-01"
SOURCE = (
    "Kling pricing transcription (inference-sh/grid api/klingai/pricing.md), 1 unit = $0.14 on prepaid "
    "video packs; final_unit_deduction is the truth"
)
_SP = ("std", "pro")
_P = ("pro",)
_HD = (("std", 1280, 720), ("pro", 1920, 1080))
_PRO_ENDS = (("pro", 5), ("pro", 10))
#: Kling accepts cfg_scale on v2.x and ignores it (field-2026.md)
_V2_IGNORED = ("cfg_scale",)
_I2V_PARAMS = ("negative_prompt", "cfg_scale", "camera")
_T2V_PARAMS = ("negative_prompt", "cfg_scale", "camera", "aspect_ratio")


def _units(std5: float | None, pro5: float, modes: tuple[str, ...]) -> tuple[tuple[str, int, float], ...]:
    """Units per (mode, duration); 10 s costs twice 5 s."""
    per = {"std": std5 if std5 is not None else pro5, "pro": pro5}
    return tuple((m, d, per[m] * d / 5) for m in modes for d in (5, 10))


def _price(std5: float | None, pro5: float, modes: tuple[str, ...]) -> PriceRule:
    return PriceRule("clip", KLING_USD_PER_UNIT, SOURCE, PRICE_DATE, units=_units(std5, pro5, modes))


def _spec(
    kind: str,
    model: str,
    label: str,
    modes: tuple[str, ...],
    price: PriceRule,
    output: tuple[tuple[str, int, int], ...],
    *,
    camera: tuple[tuple[str, int], ...] = (),
    end_frame: tuple[tuple[str, int], ...] = (),
    v2: bool = False,
    notes: str = "",
) -> ModelSpec:
    params: tuple[str, ...] = _I2V_PARAMS if kind == "i2v" else _T2V_PARAMS
    if v2:
        params = tuple(p for p in params if p != "cfg_scale")
    return ModelSpec(
        route="kling",
        model=model,
        kind=kind,  # type: ignore[arg-type]
        price=price,
        label=label,
        modes=modes,
        durations=(5, 10),
        camera=camera,
        end_frame=end_frame,
        output=tuple((m, w, h) for m, w, h in output if m in modes),
        params=params,
        ignored=_V2_IGNORED if v2 else (),
        notes=notes,
    )


#: image-to-video. Camera control only on kling-v1-5 pro 5 s; end frame pro only (v1: 5 s only);
#: v2-5-turbo and v2-6 are pro only; the two master models have no mode split (both modes are passed on).
I2V_SPECS: tuple[ModelSpec, ...] = (
    _spec(
        "i2v",
        "kling-v1",
        "Kling 1.0",
        _SP,
        _price(1, 3.5, _SP),
        (("std", 1280, 720), ("pro", 1280, 720)),
        end_frame=(("pro", 5),),  # std accepts image_tail and ignores it (field-2026.md)
    ),
    _spec(
        "i2v",
        "kling-v1-5",
        "Kling 1.5",
        _SP,
        _price(2, 3.5, _SP),
        _HD,
        camera=(("pro", 5),),
        end_frame=_PRO_ENDS,
        notes="the golden settings: pro, 5 s, subtle camera",
    ),
    _spec("i2v", "kling-v1-6", "Kling 1.6", _SP, _price(2, 3.5, _SP), _HD, end_frame=_PRO_ENDS),
    _spec(
        "i2v",
        "kling-v2-master",
        "Kling 2.0 Master",
        _SP,
        _price(10, 10, _SP),
        (("std", 1280, 720), ("pro", 1280, 720)),
        v2=True,
        notes="no mode split: one price",
    ),
    _spec("i2v", "kling-v2-1", "Kling 2.1", _SP, _price(2, 3.5, _SP), _HD, end_frame=_PRO_ENDS, v2=True),
    _spec(
        "i2v",
        "kling-v2-1-master",
        "Kling 2.1 Master",
        _SP,
        _price(10, 10, _SP),
        (("std", 1920, 1080), ("pro", 1920, 1080)),
        v2=True,
        notes="no mode split: one price",
    ),
    _spec(
        "i2v",
        "kling-v2-5-turbo",
        "Kling 2.5 Turbo",
        _P,
        _price(None, 2.5, _P),
        _HD,
        end_frame=_PRO_ENDS,
        v2=True,
        notes="pro only (Kling refuses std for image-to-video)",
    ),
    _spec(
        "i2v",
        "kling-v2-6",
        "Kling 2.6",
        _P,
        _price(None, 2.5, _P),
        _HD,
        end_frame=_PRO_ENDS,
        v2=True,
        notes="pro only; silent (no audio) price",
    ),
)

#: text-to-video (§1.5): camera control only on kling-v1 std 5 s
T2V_SPECS: tuple[ModelSpec, ...] = (
    _spec(
        "t2v",
        "kling-v1",
        "Kling 1.0",
        _SP,
        _price(1, 3.5, _SP),
        (("std", 1280, 720), ("pro", 1280, 720)),
        camera=(("std", 5),),
    ),
    _spec("t2v", "kling-v1-6", "Kling 1.6", _SP, _price(2, 3.5, _SP), _HD),
    _spec(
        "t2v",
        "kling-v2-master",
        "Kling 2.0 Master",
        _SP,
        _price(10, 10, _SP),
        (("std", 1280, 720), ("pro", 1280, 720)),
        v2=True,
    ),
    _spec(
        "t2v",
        "kling-v2-1-master",
        "Kling 2.1 Master",
        _SP,
        _price(10, 10, _SP),
        (("std", 1920, 1080), ("pro", 1920, 1080)),
        v2=True,
    ),
    _spec("t2v", "kling-v2-5-turbo", "Kling 2.5 Turbo", _SP, _price(1.5, 2.5, _SP), _HD, v2=True),
    _spec("t2v", "kling-v2-6", "Kling 2.6", _P, _price(None, 2.5, _P), _HD, v2=True, notes="pro only"),
)

SPECS = I2V_SPECS + T2V_SPECS
