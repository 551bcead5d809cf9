"""VRAM-aware presets: how a pipeline is placed on this machine's GPU, picked from its memory. Pure.

FLUX.1 (schnell and dev alike) is a 12 B transformer (about 24 GB in bf16) with a 4.7 B T5 text encoder
(about 9.5 GB); SVD-XT a 1.5 B UNet with a 0.6 B image encoder, whose VAE decodes all 25 frames at once
unless told to decode them in chunks. Each row's floor is the memory it was sized for; below the last row a
route refuses with a clear error instead of failing half-way with an out-of-memory error."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from goldenchain.errors import UsageError

__all__ = ["GiB", "Preset", "TooSmall", "pick_preset", "preset_named"]

GiB = 1024**3
Offload = Literal["none", "model", "sequential"]


class TooSmall(UsageError):
    """The GPU has too little memory for this pipeline, whatever the preset."""


@dataclass(frozen=True)
class Preset:
    name: str
    dtype: str  # "bfloat16" | "float16" | "float32"
    #: "model": whole components move to the GPU in turn (accelerate); "sequential": layer by layer
    offload: Offload = "none"
    attention_slicing: bool = False
    vae_tiling: bool = False
    #: SVD: frames the VAE decodes at once (None: all)
    decode_chunk_size: int | None = None
    #: SVD: the UNet's feed-forward in chunks (less memory, a little slower)
    forward_chunking: bool = False
    min_vram_gib: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


#: best first: the first row whose floor the GPU's memory reaches is used
_FLUX = (
    Preset("flux-full", "bfloat16", min_vram_gib=38),
    Preset("flux-offload", "bfloat16", "model", vae_tiling=True, min_vram_gib=22),
    Preset("flux-sequential", "bfloat16", "sequential", True, True, min_vram_gib=6),
)
_SVD = (
    Preset("svd-full", "float16", decode_chunk_size=25, min_vram_gib=38),
    Preset("svd-chunked", "float16", decode_chunk_size=8, min_vram_gib=20),
    Preset("svd-offload", "float16", "model", decode_chunk_size=4, forward_chunking=True, min_vram_gib=11),
    Preset("svd-low", "float16", "model", decode_chunk_size=2, forward_chunking=True, min_vram_gib=7),
)
PRESETS: dict[str, tuple[Preset, ...]] = {"flux": _FLUX, "svd": _SVD}
#: on the CPU (tests, the tiny pipelines): full precision, nothing to offload
CPU = {
    "flux": Preset("cpu", "float32"),
    "svd": Preset("cpu", "float32", decode_chunk_size=8),
}


def pick_preset(family: str, vram_bytes: int | None, *, bf16: bool = True) -> Preset:
    """The preset for a pipeline ``family`` ("flux" | "svd") on a GPU with ``vram_bytes`` of memory (None: the
    CPU). ``bf16``: whether the GPU computes in bfloat16 (compute capability 8.0 and up); older ones get
    float16. Raises :class:`TooSmall` below the smallest preset."""
    if vram_bytes is None:
        return CPU[family]
    gib = vram_bytes / GiB
    for p in PRESETS[family]:
        if gib >= p.min_vram_gib:
            if family == "flux" and not bf16:
                return Preset(**{**p.to_json(), "dtype": "float16"})
            return p
    need = PRESETS[family][-1].min_vram_gib
    raise TooSmall(
        f"this GPU has {gib:.1f} GiB; local {family} needs at least {need:g} GiB even with CPU offload "
        "(use an API route for it, or a GPU with more memory)"
    )


def preset_named(family: str, name: str) -> Preset:
    """A preset by name (``[local] preset``), for a machine where the automatic pick is not wanted."""
    for p in (*PRESETS[family], CPU[family]):
        if p.name == name:
            return p
    known = ", ".join(p.name for p in (*PRESETS[family], CPU[family]))
    raise UsageError(f"unknown {family} preset {name!r} (known: {known}, or auto)")
