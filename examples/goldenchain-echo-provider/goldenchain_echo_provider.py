"""An example goldenchain provider plugin: "echo" makes a procedurally generated PNG (a gradient seeded by
the request) and hands it back as a ``data:`` URL. No network, no key, no spend.

It shows the whole contract: a ``register_providers`` hook implementation, a factory taking
``(settings, client=None)``, and a class with the :class:`goldenchain.providers.base.Provider` shape."""

from __future__ import annotations

import hashlib
import struct
import zlib
from typing import Any, ClassVar, Literal

from goldenchain.errors import ResultExpired
from goldenchain.plugins.hookspecs import hookimpl
from goldenchain.providers.base import (
    CapabilityError,
    Pending,
    StillRequest,
    Submitted,
    Succeeded,
    TaskStatus,
)
from goldenchain.providers.dataurl import decode_data_url, encode_data_url, is_data_url

__all__ = ["EchoTextToImage", "make_png", "register_providers"]

MODELS = ("echo-gradient",)
MAX_SIDE = 1024


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def make_png(width: int, height: int, seed: int, prompt: str) -> bytes:
    """An 8-bit RGB PNG: a diagonal gradient whose colours come from the seed and the prompt."""
    r0, g0, b0 = hashlib.sha256(f"{seed}:{prompt}".encode()).digest()[:3]
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter: none
        for x in range(width):
            t = (x + y) * 255 // max(1, width + height - 2)
            rows += bytes(((r0 + t) % 256, (g0 + t // 2) % 256, (b0 + 255 - t) % 256))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(bytes(rows), 6))
        + _chunk(b"IEND", b"")
    )


class EchoTextToImage:
    """A text-to-image provider that draws instead of calling anyone."""

    name: ClassVar[str] = "echo"
    kind: ClassVar[Literal["t2i", "i2v"]] = "t2i"
    lookup_by_external_id: ClassVar[bool] = True  # it keeps what it made, by our id

    def __init__(self) -> None:
        self._made: dict[str, Submitted] = {}

    def check_inputs(self, request: StillRequest) -> None:
        if request.model not in MODELS:
            raise CapabilityError(self.name, f"unknown model {request.model!r}; known: {', '.join(MODELS)}")
        for side, value in (("width", request.width), ("height", request.height)):
            if not 1 <= value <= MAX_SIDE:
                raise CapabilityError(self.name, f"{side} {value} must be in 1..{MAX_SIDE}")
        if request.output_format != "png":
            raise CapabilityError(self.name, "echo makes PNG only")
        if not request.external_id:
            raise CapabilityError(self.name, "external_id is required")

    async def submit(self, request: StillRequest) -> Submitted:
        self.check_inputs(request)
        png = make_png(request.width, request.height, request.seed, request.prompt)
        submitted = Submitted(self.name, request.external_id, {"url": encode_data_url(png, "image/png")})
        self._made[request.external_id] = submitted
        return submitted

    async def poll(self, submitted: Submitted) -> TaskStatus:
        url = submitted.handle.get("url")
        if not isinstance(url, str):
            return Pending(state="queued")
        return Succeeded(urls=[url], billed_units=0.0, unit="images")

    async def find_by_external_id(self, external_id: str) -> Submitted | None:
        return self._made.get(external_id)

    async def download(self, url: str) -> bytes:
        if not is_data_url(url):
            raise ResultExpired(self.name, "echo results are data: URLs only")
        data, _ = decode_data_url(url)
        return data

    async def aclose(self) -> None:
        self._made.clear()


@hookimpl
def register_providers(register: Any) -> None:
    def factory(settings: Any, client: Any = None) -> EchoTextToImage:
        return EchoTextToImage()  # no key to read, no client to use

    # every model comes with its spec: what it can do and what it costs (here nothing: it draws locally)
    from goldenchain.core.models import ModelSpec, PriceRule

    free = PriceRule("image", 0.0, "local: no provider is paid", "2026-11-01")
    specs = [
        ModelSpec(
            "echo", model, "t2i", free, label="echo gradient", min_side=1, max_side=MAX_SIDE, params=("seed",)
        )
        for model in MODELS
    ]
    register("echo", "t2i", factory, models=specs)
