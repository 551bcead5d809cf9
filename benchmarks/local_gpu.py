"""local-gpu: the local routes' speed on this machine's GPU, the way the ledger bills it.

    .venv/bin/python benchmarks/local_gpu.py [--repeats 3] [--json OUT] [--weights DIR]

Stills per second (FLUX.1 schnell and dev, 1024x1024 and the golden still size 1824x1024) and clips per
minute (SVD-XT, 25 frames at 1024x576), each with the preset this GPU's memory picks and with model CPU
offload, and the peak GPU memory of each. Every figure is one render through the route's own adapter (the
pipeline loaded once, a warm-up render first): the seconds are the GPU seconds a take is billed.

Weights: the real ones where they are already on this machine (``--weights DIR`` or
``GOLDENCHAIN_LOCAL_WEIGHTS``, then the Hugging Face cache); nothing is downloaded. Where they are not, the
tiny random-weight pipelines (``goldenchain.providers.local.tiny``) are built and run with the real models'
settings (steps, frames, sizes), and the table says so: those figures time the pipeline around the model
(scheduler, VAE at full size, video encoding), not the model. Exits 2 without an NVIDIA GPU."""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from goldenchain.config import Settings
from goldenchain.providers.base import ClipRequest, StillRequest
from goldenchain.providers.local import LocalFlux, LocalSvd, pipelines
from goldenchain.providers.local.models import FLUX_SPECS, SVD_SPECS
from goldenchain.providers.local.presets import preset_named

STILL_SIZES = ((1024, 1024), (1824, 1024))
PROMPT = (
    "Medium shot of a lighthouse keeper on a cliff, neutral overcast lighting, simple background, 35mm lens"
)


def _weights(args: argparse.Namespace) -> tuple[Settings, str]:
    """Settings that find the weights, and whether they are the real models or the tiny stand-ins."""
    settings = Settings({"GOLDENCHAIN_LOCAL_WEIGHTS": args.weights} if args.weights else {})
    try:
        for spec in (*FLUX_SPECS, *SVD_SPECS):
            pipelines.resolve_weights(spec.route, spec.model, settings)
        return settings, "real"
    except Exception:
        from goldenchain.providers.local.tiny import save_tiny_flux, save_tiny_svd

        root = Path(tempfile.mkdtemp(prefix="gc-tiny-"))
        for spec in FLUX_SPECS:
            save_tiny_flux(root / spec.model.split("/")[-1], guidance=spec.model.endswith("dev"))
        save_tiny_svd(root / SVD_SPECS[0].model.split("/")[-1])
        return Settings({"GOLDENCHAIN_LOCAL_WEIGHTS": str(root)}), "tiny"


def _still(flux: LocalFlux, setup: Any, model: str, w: int, h: int, n: int) -> float:
    return flux.make(setup, StillRequest(PROMPT, w, h, n, model, f"bench-{n}"))[2]


def _clip(svd: LocalSvd, setup: Any, model: str, image: bytes, n: int) -> float:
    req = ClipRequest("", image, "image/png", 5, "16:9", model, "pro", f"bench-clip-{n}")
    return svd.make(setup, req)[2]


def bench(args: argparse.Namespace) -> list[dict[str, Any]]:
    import torch

    settings, kind = _weights(args)
    rows: list[dict[str, Any]] = []
    flux, svd = (
        LocalFlux(settings, results=Path(tempfile.mkdtemp())),
        LocalSvd(settings, results=Path(tempfile.mkdtemp())),
    )
    still_png = b""
    for adapter, specs, family in ((flux, FLUX_SPECS, "flux"), (svd, SVD_SPECS, "svd")):
        for spec in specs:
            auto = adapter.setup(spec.model)
            for preset in (auto.preset, preset_named(family, f"{family}-offload")):
                setup = pipelines.Setup(family, auto.path, auto.device, preset, auto.vram_bytes)
                if family == "flux":
                    for w, h in STILL_SIZES:
                        _still(flux, setup, spec.model, w, h, 0)  # warm-up (and the load)
                        torch.cuda.reset_peak_memory_stats()
                        secs = [_still(flux, setup, spec.model, w, h, i + 1) for i in range(args.repeats)]
                        if not still_png:
                            still_png = flux.make(
                                setup, StillRequest(PROMPT, 1824, 1024, 9, spec.model, "x")
                            )[0]
                        rows.append(_row(spec.model, preset.name, f"{w}x{h}", secs, kind, "images/s"))
                else:
                    _clip(svd, setup, spec.model, still_png, 0)
                    torch.cuda.reset_peak_memory_stats()
                    secs = [_clip(svd, setup, spec.model, still_png, i + 1) for i in range(args.repeats)]
                    rows.append(_row(spec.model, preset.name, "1024x576x25", secs, kind, "clips/min"))
    return rows


def _row(model: str, preset: str, size: str, secs: list[float], kind: str, unit: str) -> dict[str, Any]:
    import torch

    med = statistics.median(secs)
    rate = 1 / med if unit == "images/s" else 60 / med
    return {
        "model": model,
        "weights": kind,
        "preset": preset,
        "size": size,
        "seconds": [round(s, 3) for s in secs],
        "median_s": round(med, 3),
        unit: round(rate, 2),
        "peak_vram_gib": round(torch.cuda.max_memory_allocated() / 1024**3, 2),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--weights", default=None, help="a folder of diffusers folders (default: the cache)")
    ap.add_argument("--json", default=None, help="write the rows here too")
    args = ap.parse_args()
    try:
        import torch
    except ImportError:
        print("local-gpu: needs the local extra (pip install 'goldenchain[local]')", file=sys.stderr)
        return 2
    if not torch.cuda.is_available():
        print("local-gpu: no NVIDIA GPU on this machine", file=sys.stderr)
        return 2
    print(f"# {torch.cuda.get_device_name(0)}, torch {torch.__version__}", flush=True)
    rows = asyncio.run(asyncio.to_thread(bench, args))
    print("| model | weights | preset | size | median s | rate | peak GiB |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        rate = f"{r['images/s']} img/s" if "images/s" in r else f"{r['clips/min']} clips/min"
        print(
            f"| {r['model']} | {r['weights']} | {r['preset']} | {r['size']} | {r['median_s']} | {rate} | {r['peak_vram_gib']} |"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
