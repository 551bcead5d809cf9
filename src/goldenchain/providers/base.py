"""What every provider adapter speaks: typed requests, a normalised status union, and two protocols.

Adapters are async, take an injectable ``httpx.AsyncClient``, validate with ``check_inputs()`` (concise
errors, never silent correction) and raise only the tree in :mod:`goldenchain.errors`.

Money-safety contract for ``submit``:
* it sends the create request **once**; it may resend only when the request provably never left
  (connect error) or the provider refused it before accepting it (rate/concurrency limit) -- see
  :func:`goldenchain.core.retry.create_may_retry`;
* a read timeout or dropped connection after sending raises :class:`~goldenchain.errors.SubmissionUncertain`;
* ``find_by_external_id`` (where ``lookup_by_external_id`` is true) resolves that doubt by our own id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

from goldenchain.errors import InvalidInput, ProviderError


class CapabilityError(InvalidInput, ValueError):
    """``check_inputs`` refused a request before any spend: the provider or model cannot do what was asked.

    Raised locally (no HTTP call was made), so ``status_code`` is ``None``. Also a :class:`ValueError`."""


@dataclass(frozen=True)
class Camera:
    """The guide's camera sliders, each -10..10."""

    horizontal: float = 0.0
    vertical: float = 0.0
    zoom: float = 0.0
    rotation: float = 0.0

    def nonzero(self) -> dict[str, float]:
        return {k: v for k, v in self.__dict__.items() if v}


@dataclass(frozen=True)
class StillRequest:
    prompt: str
    width: int
    height: int
    seed: int
    model: str
    external_id: str  # our idempotency key for this take
    output_format: Literal["png", "jpeg"] = "png"
    #: where the provider may POST when the task ends (a hint only; see docs/webhooks.md)
    callback_url: str | None = None


@dataclass(frozen=True)
class ClipRequest:
    prompt: str
    image: bytes  # PNG or JPEG bytes of the start frame
    image_mime: str
    duration: int  # seconds
    aspect: str  # "16:9" | "9:16" | "1:1"
    model: str
    mode: str  # "std" | "pro"
    external_id: str
    camera: Camera | None = None
    negative_prompt: str | None = None
    cfg_scale: float = 0.5
    motion: int | None = None  # percent 0-100
    callback_url: str | None = None


@dataclass(frozen=True)
class TextClipRequest:
    """Text-to-video: no start frame."""

    prompt: str
    duration: int
    aspect: str
    model: str
    mode: str
    external_id: str
    camera: Camera | None = None
    negative_prompt: str | None = None
    cfg_scale: float = 0.5
    callback_url: str | None = None


@dataclass(frozen=True)
class Submitted:
    provider: str
    task_id: str
    #: provider-specific facts needed to poll later (e.g. fal status_url); JSON-serialisable
    handle: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Pending:
    state: Literal["queued", "running"]
    position: int | None = None


@dataclass(frozen=True)
class Succeeded:
    urls: list[str]
    #: what the provider says it billed, in its own unit (Kling credits, fal megapixels...), if it says
    billed_units: float | None = None
    unit: str | None = None
    seed: int | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Failed:
    error: ProviderError


TaskStatus = Pending | Succeeded | Failed


@runtime_checkable
class Provider(Protocol):
    name: ClassVar[str]
    kind: ClassVar[Literal["t2i", "i2v"]]
    #: can a create that may or may not have been accepted be found again by our own id?
    lookup_by_external_id: ClassVar[bool]
    # An adapter that sends a request's ``callback_url`` with the create says so with a class attribute
    # ``webhooks`` naming its receiver route (``"kling"``, ``"fal"``, ``"replicate"``: ``/hooks/<name>``);
    # the engine then polls it only as a fallback.

    def check_inputs(self, request: Any) -> None: ...

    async def submit(self, request: Any) -> Submitted: ...

    async def poll(self, submitted: Submitted) -> TaskStatus: ...

    async def find_by_external_id(self, external_id: str) -> Submitted | None: ...

    async def download(self, url: str) -> bytes: ...

    async def aclose(self) -> None: ...
