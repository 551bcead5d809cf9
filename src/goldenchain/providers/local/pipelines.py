"""Where a local model's weights are, which device and preset it runs with, and the one pipeline a process
keeps loaded. torch and diffusers are imported here, lazily: the rest of goldenchain imports without the
``local`` extra.

Weights are read, never downloaded: from ``GOLDENCHAIN_LOCAL_WEIGHTS`` (or the project's ``[local]
weights``), a folder holding one diffusers folder per model, named by the model id's last part
(``FLUX.1-schnell``) or by the whole id; else from the Hugging Face cache already on this machine."""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from goldenchain.errors import UsageError
from goldenchain.providers.base import CapabilityError
from goldenchain.providers.local.presets import Preset, TooSmall, pick_preset, preset_named

__all__ = ["WEIGHTS_VAR", "Setup", "loaded", "render", "resolve_setup", "resolve_weights"]

WEIGHTS_VAR, DEVICE_VAR, PRESET_VAR = (
    "GOLDENCHAIN_LOCAL_WEIGHTS",
    "GOLDENCHAIN_LOCAL_DEVICE",
    "GOLDENCHAIN_LOCAL_PRESET",
)
INSTALL_HINT = "the local routes need the local extra: pip install 'goldenchain[local]'"


@dataclass(frozen=True)
class Setup:
    """How one model runs on this machine."""

    family: str  # "flux" | "svd"
    path: Path
    device: str  # "cuda:0" | "cpu"
    preset: Preset
    vram_bytes: int | None


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        raise UsageError(INSTALL_HINT) from None
    return torch


def resolve_weights(route: str, model: str, settings: Any) -> Path:
    """The diffusers folder of ``model`` on this machine; a :class:`CapabilityError` saying where to put it
    when there is none (nothing is downloaded)."""
    tail = model.rstrip("/").split("/")[-1]
    if Path(model).is_absolute() and (Path(model) / "model_index.json").is_file():
        return Path(model)
    root = settings.get(WEIGHTS_VAR)
    if root:
        for cand in (Path(root) / model, Path(root) / tail):
            if (cand / "model_index.json").is_file():
                return cand
    cached = _hub_cache(model)
    if cached is not None:
        return cached
    where = f"{Path(root) / tail}" if root else f"WEIGHTS/{tail}"
    raise CapabilityError(
        route,
        f"no local weights for {model}: put its diffusers folder (with model_index.json) at {where}"
        + ("" if root else f" and set [local] weights (or {WEIGHTS_VAR}) to WEIGHTS")
        + ", or into this machine's Hugging Face cache; weights are never downloaded at run time",
    )


def _hub_cache(model: str) -> Path | None:
    """A snapshot of ``model`` already in the local Hugging Face cache (no network: local files only)."""
    if model.count("/") != 1:
        return None
    try:
        from huggingface_hub import snapshot_download

        path = Path(snapshot_download(model, local_files_only=True))
    except Exception:  # not cached, or no hub client: either way, not here
        return None
    return path if (path / "model_index.json").is_file() else None


def _device(route: str, settings: Any) -> tuple[str, int | None, bool]:
    """(device, its memory in bytes or None for the CPU, whether it computes in bfloat16)."""
    want = (settings.get(DEVICE_VAR) or "auto").strip().lower()
    if want == "cpu":
        return "cpu", None, True
    torch = _torch()
    if not torch.cuda.is_available():
        if want == "auto":
            raise CapabilityError(
                route,
                "no NVIDIA GPU on this machine: run local takes on a GPU worker (goldenchain worker --queues "
                'gpu), or set [local] device = "cpu" (slow: meant for small test pipelines)',
            )
        raise CapabilityError(route, f"device {want!r}: no CUDA device on this machine")
    index = int(want.split(":", 1)[1]) if want.startswith("cuda:") else 0
    if index >= torch.cuda.device_count():
        raise CapabilityError(route, f"device {want!r}: this machine has {torch.cuda.device_count()} GPU(s)")
    props = torch.cuda.get_device_properties(index)
    return f"cuda:{index}", int(props.total_memory), bool(props.major >= 8)


def resolve_setup(route: str, family: str, model: str, settings: Any) -> Setup:
    """Weights, device and preset for one model, checked before any work: a missing folder, a missing GPU or
    one too small is a one-line :class:`CapabilityError`."""
    path = resolve_weights(route, model, settings)
    device, vram, bf16 = _device(route, settings)
    named = (settings.get(PRESET_VAR) or "auto").strip()
    try:
        preset = pick_preset(family, vram, bf16=bf16) if named == "auto" else preset_named(family, named)
    except TooSmall as e:
        raise CapabilityError(route, str(e)) from None
    except UsageError as e:
        raise CapabilityError(route, str(e)) from None
    return Setup(family, path, device, preset, vram)


# -- the loaded pipeline ----------------------------------------------------------------------------------

#: one GPU, one pipeline: loads and renders of this process take turns
_GPU = threading.Lock()
_loaded: tuple[Setup, Any] | None = None


def loaded() -> Setup | None:
    """What this process has loaded now (None: nothing)."""
    return _loaded[0] if _loaded is not None else None


def _load(setup: Setup) -> Any:
    torch = _torch()
    try:
        from diffusers import FluxPipeline, StableVideoDiffusionPipeline
        from diffusers.utils import logging as diffusers_log
        from transformers.utils import logging as transformers_log
    except ImportError:
        raise UsageError(INSTALL_HINT) from None
    for log in (diffusers_log, transformers_log):  # our own progress and errors say what happens
        log.set_verbosity_error()
        log.disable_progress_bar()
    cls = FluxPipeline if setup.family == "flux" else StableVideoDiffusionPipeline
    p = setup.preset
    pipe = cls.from_pretrained(str(setup.path), dtype=getattr(torch, p.dtype), local_files_only=True)
    if p.offload == "model":
        pipe.enable_model_cpu_offload(device=setup.device)
    elif p.offload == "sequential":
        pipe.enable_sequential_cpu_offload(device=setup.device)
    else:
        pipe.to(setup.device)
    if p.attention_slicing:
        pipe.enable_attention_slicing()
    if p.vae_tiling and hasattr(pipe.vae, "enable_tiling"):
        pipe.vae.enable_tiling()
    if p.forward_chunking:
        pipe.unet.enable_forward_chunking()
    pipe.set_progress_bar_config(disable=True)
    return pipe


def _pipeline(setup: Setup) -> Any:
    """The pipeline for ``setup``, loading it (and dropping any other) when it is not the one loaded."""
    global _loaded
    if _loaded is not None and _loaded[0] == setup:
        return _loaded[1]
    if _loaded is not None:
        _loaded = None
        gc.collect()
        torch = _torch()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    pipe = _load(setup)
    _loaded = (setup, pipe)
    return pipe


def render(setup: Setup, call: Callable[[Any], Any]) -> tuple[Any, float, dict[str, Any]]:
    """Run ``call(pipeline)`` on this process's GPU, loading the pipeline first if needed. Returns its
    result, the seconds the GPU was held for the render (what the take is billed), and facts for the
    ledger (load seconds, peak memory, preset)."""
    torch = _torch()
    cuda = setup.device.startswith("cuda")
    with _GPU:
        t0 = time.perf_counter()
        pipe = _pipeline(setup)
        load_s = time.perf_counter() - t0
        if cuda:
            torch.cuda.reset_peak_memory_stats(setup.device)
        t1 = time.perf_counter()
        with torch.inference_mode():
            out = call(pipe)
        if cuda:
            torch.cuda.synchronize(setup.device)
        seconds = time.perf_counter() - t1
        info: dict[str, Any] = {
            "device": setup.device,
            "preset": setup.preset.name,
            "load_seconds": round(load_s, 3),
            "render_seconds": round(seconds, 3),
        }
        if cuda:
            info["peak_vram_bytes"] = int(torch.cuda.max_memory_allocated(setup.device))
    return out, seconds, info
