"""One spec per model: every registered model has capabilities and a price, and lint (before spend), the
estimate and the adapter's own check (before submit) agree on every model, mode, duration, camera and size."""

from __future__ import annotations

import io
import math
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from goldenchain.config import CameraSpec, ProjectConfig, Settings, ShotSpec
from goldenchain.core.estimate import estimate_project
from goldenchain.core.models import ModelSpec, UnknownModel
from goldenchain.core.rules import lint_shot
from goldenchain.errors import InvalidInput
from goldenchain.plugins.manager import Registry, make_plugin_manager
from goldenchain.providers.base import Camera, ClipRequest, StillRequest, TextClipRequest

GOOD = "Medium shot of a potter at a wheel, neutral overcast lighting, simple background, 35mm lens"
REGISTRY = Registry(make_plugin_manager(entrypoints=False))
CATALOG = REGISTRY.catalog
STILLS = [s for s in CATALOG if s.kind == "t2i"]
CLIPS = [s for s in CATALOG if s.kind == "i2v"]
TEXT_CLIPS = [s for s in CATALOG if s.kind == "t2v"]
SETTINGS = Settings(
    {
        "FAL_KEY": "fal-key-0123",
        "KLING_ACCESS_KEY": "ak-0123",
        "KLING_SECRET_KEY": "sk-0123456789-0123456789-0123456789",
        "REPLICATE_API_TOKEN": "r8_0123",
        "TOGETHER_API_KEY": "tg-0123",
    }
)
CLIENT = httpx.AsyncClient()
ADAPTERS: dict[tuple[str, str], Any] = {
    key: entry.factory(SETTINGS, CLIENT) for key, entry in REGISTRY.providers.items()
}
#: lint rules that mean "this model cannot do it" (the adapter must refuse exactly these)
CAPABILITY_RULES = ("capability", "camera-unsupported", "camera-one-axis", "prompt-too-long")


def _png(w: int, h: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), (90, 110, 130)).save(buf, "PNG")
    return buf.getvalue()


FRAMES = {"16:9": _png(1824, 1024), "9:16": _png(1024, 1824), "1:1": _png(1024, 1024)}


def test_every_registered_model_has_caps_and_a_price() -> None:
    assert len(CATALOG) >= 30
    for entry in REGISTRY.providers.values():
        assert entry.models and set(entry.models) == set(entry.specs), entry.name
    for spec in CATALOG:
        caps = spec.capabilities()
        assert caps["prompt_max"] > 0
        assert spec.price.usd > 0 and spec.price.source and spec.price.date, spec.key
        if spec.kind == "t2i":
            assert spec.still_price(1024, 1024).usd > 0
            assert spec.sizes == "pixels" or spec.ratios, spec.key
        else:
            assert spec.modes and spec.durations and spec.output, spec.key
            assert {m for m, _, _ in spec.output} == set(spec.modes), spec.key
            for mode in spec.modes:
                for duration in spec.durations:
                    assert spec.clip_price(mode, duration).usd > 0, (spec.key, mode, duration)
            assert set(spec.camera) <= {(m, d) for m in spec.modes for d in spec.durations}
            assert set(spec.end_frame) <= {(m, d) for m in spec.modes for d in spec.durations}


def test_the_models_studios_use() -> None:
    kling = {s.model: s for s in CATALOG.route("kling", "i2v")}
    assert set(kling) == {
        "kling-v1", "kling-v1-5", "kling-v1-6", "kling-v2-master", "kling-v2-1", "kling-v2-1-master",
        "kling-v2-5-turbo", "kling-v2-6",
    }  # fmt: skip
    assert kling["kling-v2-6"].modes == ("pro",)
    assert [s.model for s in CATALOG if s.kind == "i2v" and s.camera] == ["kling-v1-5"]
    assert kling["kling-v1-5"].camera == (("pro", 5),)
    assert all(m == "pro" for s in kling.values() for m, _ in s.end_frame)
    assert all("cfg_scale" in s.ignored for s in kling.values() if s.model.startswith("kling-v2"))
    for route in ("fal-kling", "replicate-kling"):
        specs = CATALOG.route(route, "i2v")
        versions = " ".join(s.model for s in specs)
        for v in ("v1.6", "v2.1", "v2.5-turbo", "v2.6"):
            assert v in versions, (route, v)
        assert all(s.price.basis == "second" for s in specs)
    for route in ("fal", "replicate", "together"):
        labels = {s.label for s in CATALOG.route(route, "t2i")}
        assert {"FLUX.1 schnell", "FLUX.1 dev", "FLUX1.1 pro", "FLUX.1 Kontext pro"} <= labels, route
    assert {"FLUX1.1 pro ultra"} <= {s.label for s in CATALOG.route("fal", "t2i")}


def _config(still: ModelSpec, clip: ModelSpec, **video: Any) -> ProjectConfig:
    return ProjectConfig.model_validate(
        {
            "project": {"name": "p"},
            "stills": {"provider": still.route, "model": still.model, "width": 1920, "height": 1088},
            "video": {"provider": clip.route, "model": clip.model, **video},
        }
    )


axis = st.sampled_from([0, 0, 0, 2, -3])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    spec=st.sampled_from(CLIPS),
    mode=st.sampled_from(["std", "pro", "turbo"]),
    duration=st.sampled_from([5, 10, 7]),
    aspect=st.sampled_from(["16:9", "9:16", "1:1"]),
    cam=st.tuples(axis, axis, axis),
    cfg=st.sampled_from([0.5, 0.5, 0.8]),
    long_prompt=st.booleans(),
)
def test_lint_estimate_and_adapter_agree_on_clips(
    spec: ModelSpec,
    mode: str,
    duration: int,
    aspect: str,
    cam: tuple[int, int, int],
    cfg: float,
    long_prompt: bool,
) -> None:
    h, v, z = cam
    prompt = GOOD + " x" * 1300 if long_prompt else GOOD
    shot = ShotSpec(
        id="a",
        prompt=GOOD,
        video_prompt=prompt,
        motion=15,
        duration=duration,
        aspect=aspect,
        camera=CameraSpec(horizontal=h, vertical=v, zoom=z),
    )
    findings = lint_shot(
        shot,
        still_provider="fal",
        still_model="fal-ai/flux/dev",
        video_provider=spec.route,
        video_model_id=spec.model,
        video_mode=mode,
        cfg_scale=cfg,
        negative_prompt="blur",
        catalog=CATALOG,
    )
    lint_refuses = any(f.severity == "error" and f.rule in CAPABILITY_RULES for f in findings)
    request = ClipRequest(
        prompt=prompt,
        image=FRAMES[aspect],
        image_mime="image/png",
        duration=duration,
        aspect=aspect,
        model=spec.model,
        mode=mode,
        external_id="gc-x",
        camera=Camera(h, v, z) if any(cam) else None,
        negative_prompt="blur",
        cfg_scale=cfg,
    )
    try:
        ADAPTERS[(spec.route, "i2v")].check_inputs(request)
        adapter_refuses = False
    except InvalidInput:
        adapter_refuses = True
    assert lint_refuses == adapter_refuses, (findings, spec.key, mode, duration, cam, cfg)
    # a setting the provider accepts but ignores is said, never refused
    if cfg != 0.5 and "cfg_scale" in spec.ignored:
        assert any(f.rule == "ignored-parameter" for f in findings)
    if mode in spec.modes and duration in spec.durations:
        est = estimate_project(
            _config(STILLS[0], spec, mode=mode if mode != "turbo" else "pro"), [shot], CATALOG
        )
        assert est["shots"]["a"]["clip_usd"] == spec.clip_price(mode, duration).usd > 0


@settings(max_examples=200, deadline=None)
@given(
    spec=st.sampled_from(STILLS),
    width=st.sampled_from([1824, 1920, 1024, 1344, 1440, 2048, 4096]),
    height=st.sampled_from([1024, 1080, 768, 1152, 576]),
)
def test_lint_estimate_and_adapter_agree_on_stills(spec: ModelSpec, width: int, height: int) -> None:
    shot = ShotSpec(id="a", prompt=GOOD, motion=15)
    findings = lint_shot(
        shot,
        still_provider=spec.route,
        still_model=spec.model,
        video_provider="kling",
        video_model_id="kling-v1-5",
        video_mode="pro",
        still_width=width,
        still_height=height,
        catalog=CATALOG,
    )
    lint_refuses = any(f.severity == "error" and f.rule in CAPABILITY_RULES for f in findings)
    request = StillRequest(GOOD, width, height, 7, spec.model, "gc-x")
    try:
        ADAPTERS[(spec.route, "t2i")].check_inputs(request)
        adapter_refuses = False
    except InvalidInput:
        adapter_refuses = True
    assert lint_refuses == adapter_refuses, (findings, spec.key, width, height)
    price = spec.still_price(width, height).usd
    if spec.price.basis == "megapixel":
        mp = width * height / 1e6
        assert price == pytest.approx(
            spec.price.usd * (math.ceil(mp) if spec.price.round_up else mp), abs=1e-6
        )
    elif spec.price.basis == "gpu_hour":  # a GPU of ours: its hourly rate for the seconds one still takes
        assert price == pytest.approx(spec.price.usd * spec.price.expected_seconds / 3600, abs=1e-6)
    else:
        assert price == spec.price.usd


@pytest.mark.parametrize("spec", TEXT_CLIPS, ids=lambda s: s.model)
def test_text_to_video_checks_read_the_spec(spec: ModelSpec) -> None:
    adapter = ADAPTERS[("kling", "t2v")]
    for mode in ("std", "pro"):
        for camera in (None, Camera(zoom=2)):
            request = TextClipRequest(
                prompt=GOOD, duration=5, aspect="16:9", model=spec.model, mode=mode, external_id="gc-t",
                camera=camera,
            )  # fmt: skip
            issues = spec.clip_issues(
                prompt=GOOD, mode=mode, duration=5, aspect="16:9", camera=camera.nonzero() if camera else {}
            )
            refuses = any(i.severity == "error" for i in issues)
            try:
                adapter.check_inputs(request)
                assert not refuses, (spec.model, mode, camera)
            except InvalidInput:
                assert refuses, (spec.model, mode, camera)


def test_a_model_without_a_spec_cannot_be_used() -> None:
    with pytest.raises(UnknownModel, match="unknown kling image-to-video model 'kling-v9'"):
        CATALOG.require("kling", "kling-v9", "i2v")
    cfg = ProjectConfig.model_validate(
        {"project": {"name": "p"}, "video": {"provider": "kling", "model": "kling-v9"}}
    )
    with pytest.raises(UnknownModel):
        estimate_project(cfg, [ShotSpec(id="a", prompt=GOOD)], CATALOG)
    findings = lint_shot(
        ShotSpec(id="a", prompt=GOOD),
        still_provider="fal",
        still_model="fal-ai/flux/dev",
        video_provider="kling",
        video_model_id="kling-v9",
        video_mode="pro",
        catalog=CATALOG,
    )
    assert any(f.rule == "capability" and "no model spec" in f.message for f in findings)


def test_camera_on_a_model_that_cannot_names_the_one_that_can() -> None:
    shot = ShotSpec(id="a", prompt=GOOD, motion=15, camera=CameraSpec(zoom=3))
    findings = lint_shot(
        shot,
        still_provider="fal",
        still_model="fal-ai/flux/dev",
        video_provider="kling",
        video_model_id="kling-v2-1",
        video_mode="pro",
        catalog=CATALOG,
    )
    (cam,) = [f for f in findings if f.rule == "camera-unsupported"]
    assert cam.severity == "error" and "kling-v1-5 pro 5 s" in cam.hint


def test_every_stills_and_clips_combination_is_estimated() -> None:
    for still in STILLS:
        w, h = (1920, 1080) if still.sizes == "aspect" else (1824, 1024)
        for clip in CLIPS:
            cfg = ProjectConfig.model_validate(
                {
                    "project": {"name": "p"},
                    "stills": {"provider": still.route, "model": still.model, "width": w, "height": h},
                    "video": {"provider": clip.route, "model": clip.model, "mode": clip.modes[-1]},
                }
            )
            est = estimate_project(cfg, [ShotSpec(id="a", prompt=GOOD, duration=clip.durations[0])], CATALOG)
            assert est["total_usd"] > 0 and set(est["by_provider"]) == {still.route, clip.route}


def test_providers_and_prices_fit_an_80_column_terminal() -> None:
    from click.testing import CliRunner

    from goldenchain.cli.costs import prices_cmd
    from goldenchain.cli.providers import providers_cmd

    for cmd in (providers_cmd, prices_cmd):
        out = CliRunner().invoke(cmd, [], terminal_width=80).output
        lines = out.splitlines()
        assert len(lines) > 20 and max(len(line) for line in lines) <= 80, max(lines, key=len)
    listed = CliRunner().invoke(providers_cmd, ["--json"]).output
    import json

    rows = json.loads(listed)
    assert all(set(r) >= {"name", "kind", "models"} for r in rows)
    assert all(set(m) >= {"model", "capabilities", "price"} for r in rows for m in r["models"])
    assert {r["kind"] for r in rows} == {"t2i", "i2v", "t2v"}
