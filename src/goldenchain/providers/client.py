"""What every provider's HTTP client holds, once: its host, an httpx client (closed here only when made here),
and the sleep, retry policies and jitter source that tests inject; the paid create, the free read and the
download go through :mod:`goldenchain.providers.http` with them."""

from __future__ import annotations

import asyncio
import random
from typing import Any, ClassVar, Protocol, Self, TypedDict, Unpack

import httpx

from goldenchain.errors import (
    AuthError,
    BillingError,
    InvalidInput,
    ModerationError,
    ProviderError,
    ProviderFailed,
    RateLimited,
)
from goldenchain.providers.base import Submitted
from goldenchain.providers.http import (
    CREATE_POLICY,
    READ_POLICY,
    RequestFactory,
    ResponseClassifier,
    RetryPolicy,
    Sleep,
    make_client,
    parse_retry_after,
    response_outcome,
    send_create,
    send_read,
)
from goldenchain.providers.results import download_result

__all__ = ["ClientAdapter", "ClientOptions", "ProviderClient", "status_error"]


class ClientOptions(TypedDict, total=False):
    """What a provider client's constructor takes besides its credential and host (tests inject them)."""

    #: an httpx client to send through (a test's transport); one is made, and closed here, when absent
    client: httpx.AsyncClient | None
    sleep: Sleep
    create_policy: RetryPolicy
    read_policy: RetryPolicy
    #: the jitter's source (a seeded one makes backoff delays reproducible)
    rng: random.Random | None


class ProviderClient:
    """A provider's HTTP client: a subclass adds its credential (sent to ``base_url``'s host only), its
    endpoints and its error mapping."""

    #: the provider's name in errors and logs
    provider: str
    #: how an answer reads for the send loops (retry, refuse, accept); Kling branches on its own codes
    classify_response: ResponseClassifier = staticmethod(response_outcome)

    def __init__(self, base_url: str, **options: Unpack[ClientOptions]) -> None:
        self.base_url = base_url.rstrip("/")
        client = options.get("client")
        self._owns_client = client is None
        self._client = client if client is not None else make_client(self.base_url)
        self._sleep = options.get("sleep", asyncio.sleep)
        self._create_policy = options.get("create_policy", CREATE_POLICY)
        self._read_policy = options.get("read_policy", READ_POLICY)
        self._rng = options.get("rng")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    async def _send_create(self, build: RequestFactory) -> httpx.Response:
        """The paid create, sent once (resent only where :func:`~goldenchain.providers.http.send_create`
        allows)."""
        return await send_create(
            self._client, build, provider=self.provider, policy=self._create_policy, sleep=self._sleep,
            rng=self._rng, classify_response=self.classify_response,
        )  # fmt: skip

    async def _send_read(self, build: RequestFactory) -> httpx.Response:
        """A free, idempotent read (retried on transport errors, 429 and 5xx)."""
        return await send_read(
            self._client, build, provider=self.provider, policy=self._read_policy, sleep=self._sleep,
            rng=self._rng, classify_response=self.classify_response,
        )  # fmt: skip

    async def download(self, url: str) -> bytes:
        """A result file, fetched without credentials."""
        return await self._download(url)

    async def _download(self, url: str, expired: str | None = None) -> bytes:
        extra = {} if expired is None else {"expired": expired}
        return await download_result(
            self._client, url, provider=self.provider, sleep=self._sleep, policy=self._read_policy,
            rng=self._rng, **extra,
        )  # fmt: skip

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class CreatingClient(Protocol):
    """A provider client that creates a task for a model (a fal queue, Replicate's predictions)."""

    base_url: str

    async def create(self, model: str, body: dict[str, Any], webhook: str | None = None) -> Submitted: ...

    async def download(self, url: str) -> bytes: ...

    async def aclose(self) -> None: ...


class ClientAdapter:
    """An adapter over one client (``self.api``): the create with our handle, its result download, closing
    and context management, once. A subclass names itself and provides ``build_body``."""

    name: ClassVar[str]
    api: CreatingClient

    def build_body(self, request: Any) -> dict[str, Any]:
        raise NotImplementedError

    async def _create(self, model: str, request: Any, /, **handle: object) -> Submitted:
        """Send ``request``'s body for ``model`` once; the handle keeps our id and what reading the result
        needs (``handle``)."""
        body = self.build_body(request)
        submitted = await self.api.create(model, body, webhook=request.callback_url)
        kept = {**submitted.handle, "external_id": request.external_id, **handle}
        return Submitted(provider=self.name, task_id=submitted.task_id, handle=kept)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.api.base_url!r})"

    async def download(self, url: str) -> bytes:
        """GET a result URL without credentials; a ``data:`` URL is decoded. 404/410 → ResultExpired."""
        return await self.api.download(url)

    async def aclose(self) -> None:
        await self.api.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def status_error(
    provider: str,
    response: httpx.Response,
    reason: str,
    *,
    about_credit: bool = False,
    moderated: bool = False,
    retryable: bool = True,
    failed_statuses: tuple[int, ...] = (),
    **kw: Any,
) -> ProviderError:
    """The reading of an HTTP error answer that fal, Replicate and Together share (Kling's branches on its own
    codes): 401, and a 403 that is not ``about_credit``, auth; 402, or a 403 about credit, billing; 429 rate
    limited (``Retry-After`` kept); ``moderated`` (the provider's words say so) moderation; 5xx and
    ``failed_statuses`` a provider failure (``retryable`` unless the provider said not to resend); any other 4xx
    invalid input. ``reason`` is already scrubbed of secrets; ``kw`` goes to the error (status code, ids)."""
    status = response.status_code
    kw = {"status_code": status, **kw}
    if status == 401 or (status == 403 and not about_credit):
        return AuthError(provider, reason, **kw)
    if status in (402, 403):
        return BillingError(provider, reason, **kw)
    if status == 429:
        limited = RateLimited(provider, reason, retry_after=parse_retry_after(response), **kw)
        limited.retryable = retryable
        return limited
    if moderated:
        return ModerationError(provider, reason, **kw)
    if status >= 500 or status in failed_statuses:
        return ProviderFailed(provider, reason, retryable=retryable, **kw)
    return InvalidInput(provider, reason, **kw)
