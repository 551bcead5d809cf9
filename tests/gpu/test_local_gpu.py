"""On an NVIDIA GPU (marker ``gpu``; skipped elsewhere): the local routes with the tiny pipelines standing in
for the real weights under the real models' names and settings, at full size: the preset this GPU's memory
picks, a FLUX still at 1024x1024 and an SVD-XT clip of 25 frames at 1024x576, with the GPU seconds and peak
memory the ledger records."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from goldenchain.config import Settings
from goldenchain.providers.base import ClipRequest, StillRequest
from goldenchain.providers.local import LocalFlux, LocalSvd, pipelines
from goldenchain.providers.local.models import FLUX_SPECS, SVD_SPECS
from goldenchain.providers.local.presets import pick_preset
from goldenchain.providers.local.tiny import save_tiny_flux, save_tiny_svd

torch = pytest.importorskip("torch", reason="the GPU tests need the local extra")
pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="no NVIDIA GPU on this machine"),
]


@pytest.fixture(scope="module")
def stand_ins(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root = tmp_path_factory.mktemp("gpu-weights")
    save_tiny_flux(root / "FLUX.1-schnell")
    save_tiny_svd(root / "stable-video-diffusion-img2vid-xt")
    return Settings({"GOLDENCHAIN_LOCAL_WEIGHTS": str(root)})


async def test_full_size_still_and_clip_on_the_gpu(stand_ins: Settings, tmp_path: Path) -> None:
    import av

    vram = torch.cuda.get_device_properties(0).total_memory
    flux = LocalFlux(stand_ins, results=tmp_path)
    sub = await flux.submit(StillRequest("a lighthouse", 1024, 1024, 3, FLUX_SPECS[0].model, "gc-gpu-1"))
    expected = pick_preset("flux", vram, bf16=torch.cuda.get_device_properties(0).major >= 8)
    assert (sub.handle["device"], sub.handle["preset"]) == ("cuda:0", expected.name)
    assert sub.handle["gpu_seconds"] > 0 and sub.handle["peak_vram_bytes"] > 0
    png = Path(sub.handle["path"]).read_bytes()
    with Image.open(io.BytesIO(png)) as img:
        assert img.size == (1024, 1024)

    svd = LocalSvd(stand_ins, results=tmp_path)
    clip = await svd.submit(
        ClipRequest("", png, "image/png", 5, "16:9", SVD_SPECS[0].model, "pro", "gc-gpu-2")
    )
    assert pipelines.loaded() is not None and pipelines.loaded().family == "svd"  # one pipeline at a time
    assert clip.handle["preset"] == pick_preset("svd", vram).name
    with av.open(clip.handle["path"]) as c:
        s = c.streams.video[0]
        assert (s.width, s.height, sum(1 for _ in c.decode(s))) == (1024, 576, 25)


async def test_model_cpu_offload_runs_and_holds_less(stand_ins: Settings, tmp_path: Path) -> None:
    flux = LocalFlux(
        Settings({**stand_ins.values, "GOLDENCHAIN_LOCAL_PRESET": "flux-offload"}), results=tmp_path
    )
    sub = await flux.submit(StillRequest("a lighthouse", 1024, 1024, 3, FLUX_SPECS[0].model, "gc-gpu-3"))
    assert sub.handle["preset"] == "flux-offload" and sub.handle["gpu_seconds"] > 0
