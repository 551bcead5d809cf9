"""The local adapters on their own, in-process on the CPU with the tiny pipelines: the adapter protocol the
engine drives (submit, find by our own id, poll, download), the one pipeline a process keeps loaded, and the
one-line errors for weights that are not on this machine or a GPU that is not there."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from goldenchain.config import Settings
from goldenchain.core.models import use_project_models
from goldenchain.errors import ResultExpired
from goldenchain.providers.base import CapabilityError, ClipRequest, StillRequest, Succeeded
from goldenchain.providers.local import LocalFlux, LocalSvd, pipelines
from goldenchain.providers.local.models import FLUX_SPECS, SVD_SPECS

SCHNELL, SVD_XT = FLUX_SPECS[0], SVD_SPECS[0]


@pytest.fixture
def tiny_specs() -> object:
    """The tiny models as a project declares them: the real specs with fewer steps and a small clip."""
    import dataclasses

    flux = dataclasses.replace(
        SCHNELL,
        model="tiny-flux",
        wire=(("body", (("num_inference_steps", 1), ("guidance_scale", 0.0), ("max_sequence_length", 16))),),
    )
    body = dict(SVD_XT.wire_get("body"))
    body.update(num_frames=5, num_inference_steps=1, width=128, height=64)
    svd = dataclasses.replace(SVD_XT, model="tiny-svd", wire=(("body", tuple(body.items())),))
    use_project_models([flux, svd])
    yield
    use_project_models([])


def _settings(weights: Path, **extra: str) -> Settings:
    return Settings({"GOLDENCHAIN_LOCAL_WEIGHTS": str(weights), "GOLDENCHAIN_LOCAL_DEVICE": "cpu", **extra})


async def test_a_still_is_rendered_once_found_by_our_id_and_read_back(
    tmp_path: Path, tiny_weights: Path, tiny_specs: object
) -> None:
    flux = LocalFlux(_settings(tiny_weights), results=tmp_path / "results")
    request = StillRequest("a lighthouse at dusk", 512, 288, 7, "tiny-flux", "gc-take-1")
    flux.check_inputs(request)
    assert await flux.find_by_external_id("gc-take-1") is None  # nothing rendered yet: safe to render
    sub = await flux.submit(request)
    assert sub.handle["ready"] and sub.handle["gpu_seconds"] > 0 and sub.handle["device"] == "cpu"
    again = await flux.find_by_external_id("gc-take-1")
    assert again is not None and again.task_id == sub.task_id
    status = await flux.poll(sub)
    assert isinstance(status, Succeeded) and status.unit == "gpu_seconds"
    assert status.billed_units == sub.handle["gpu_seconds"]
    data = await flux.download(status.urls[0])
    with Image.open(io.BytesIO(data)) as img:
        assert (img.format, img.size) == ("PNG", (512, 288))
    # the same take renders the same still (its seed), with the pipeline already loaded
    loaded = pipelines._loaded
    sub2 = await flux.submit(request)
    assert pipelines._loaded is loaded and sub2.handle["load_seconds"] < sub.handle["load_seconds"] + 1
    assert (await flux.download((await flux.poll(sub2)).urls[0])) == data  # type: ignore[union-attr]
    with pytest.raises(ResultExpired):
        await flux.download((tmp_path / "elsewhere.png").as_uri())


async def test_a_clip_is_an_mp4_of_the_frames_over_the_shot(
    tmp_path: Path, tiny_weights: Path, tiny_specs: object
) -> None:
    import av

    buf = io.BytesIO()
    Image.new("RGB", (512, 288), (120, 90, 60)).save(buf, "PNG")
    svd = LocalSvd(_settings(tiny_weights), results=tmp_path / "results")
    request = ClipRequest("waves", buf.getvalue(), "image/png", 5, "16:9", "tiny-svd", "pro", "gc-clip-1")
    svd.check_inputs(request)
    sub = await svd.submit(request)
    assert pipelines.loaded() is not None and pipelines.loaded().family == "svd"  # type: ignore[union-attr]
    data = await svd.download(Path(sub.handle["path"]).as_uri())
    with av.open(io.BytesIO(data)) as c:
        s = c.streams.video[0]
        frames = sum(1 for _ in c.decode(s))
        assert (s.codec_context.name, s.width, s.height, frames) == ("h264", 128, 64, 5)
        assert float(c.duration or 0) / 1e6 == pytest.approx(5.0, abs=0.01)


async def test_missing_weights_say_where_to_put_them_and_nothing_is_fetched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    flux = LocalFlux(_settings(tmp_path / "weights"), results=tmp_path / "results")
    request = StillRequest("a lighthouse", 1824, 1024, 7, SCHNELL.model, "gc-take-2")
    flux.check_inputs(request)  # the request itself is fine: the machine is checked where it renders
    with pytest.raises(CapabilityError) as e:
        await flux.submit(request)
    msg = str(e.value)
    assert str(tmp_path / "weights" / "FLUX.1-schnell") in msg and "never downloaded" in msg
    assert not list((tmp_path / "results").iterdir())


def test_no_gpu_is_a_clear_error_unless_the_cpu_is_asked_for(tiny_weights: Path) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(CapabilityError, match="no NVIDIA GPU on this machine"):
        pipelines.resolve_setup(
            "local-flux", "flux", "tiny-flux", _settings(tiny_weights, GOLDENCHAIN_LOCAL_DEVICE="auto")
        )
    setup = pipelines.resolve_setup("local-flux", "flux", "tiny-flux", _settings(tiny_weights))
    assert (setup.device, setup.preset.dtype, setup.path) == ("cpu", "float32", tiny_weights / "tiny-flux")


async def test_doctor_checks_the_weights_and_the_device(
    tiny_weights: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from goldenchain.providers.probe import probe_route

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    ok = await probe_route("local-svd", _settings(tiny_weights), model="tiny-svd")
    assert ok.ok and f"weights in {tiny_weights / 'tiny-svd'}; cpu, preset cpu" in ok.detail
    missing = await probe_route("local-flux", _settings(tmp_path), model=SCHNELL.model)
    assert not missing.ok and "no local weights for black-forest-labs/FLUX.1-schnell" in missing.detail
