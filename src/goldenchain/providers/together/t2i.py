"""FLUX stills on Together AI (providers.md §4): ``POST /v1/images/generations``, synchronous.

``submit`` performs the whole (paid) generation and the returned :class:`Submitted` carries the result in
``handle["url"]`` (an https URL, or a ``data:`` URL for base64 output); ``poll`` answers :class:`Succeeded`
at once. The POST is sent once; it is resent only after a connect error or a 429 (unless the answer says
``x-should-retry: false``). A read timeout, a dropped connection, a 504 or an unreadable 2xx raise
:class:`SubmissionUncertain` (Together has no job to look up: the doubt goes to human review)."""

from __future__ import annotations

import base64
import binascii
from typing import Any, ClassVar, Literal, Unpack

import httpx

from goldenchain.core.retry import Outcome
from goldenchain.errors import (
    ProviderError,
    ProviderFailed,
    SubmissionUncertain,
    UsageError,
)
from goldenchain.providers.base import StillRequest, Submitted, Succeeded, TaskStatus
from goldenchain.providers.capcheck import check_still_request
from goldenchain.providers.client import ClientOptions, ProviderClient, status_error
from goldenchain.providers.dataurl import encode_data_url, sniff_image_mime
from goldenchain.providers.http import (
    response_outcome,
    scrub,
)

__all__ = ["TOGETHER_URL", "TogetherFluxTextToImage", "together_error"]

PROVIDER = "together"
TOGETHER_URL = "https://api.together.xyz"
_MODERATION_HINTS = ("nsfw", "safety", "content policy", "moderation", "flagged")
_BILLING_HINTS = ("credit", "balance", "billing", "payment", "quota", "spend", "funds")


def _body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _should_not_retry(response: httpx.Response) -> bool:
    return response.headers.get("x-should-retry", "").strip().lower() == "false"


def together_outcome(response: httpx.Response) -> Outcome | None:
    """Like :func:`response_outcome`, but an answer saying ``x-should-retry: false`` is never resent."""
    outcome = response_outcome(response)
    if outcome is not None and _should_not_retry(response):
        return "client_error"
    return outcome


def together_error(response: httpx.Response, *, secrets: tuple[str, ...] = ()) -> ProviderError:
    """``{"error": {"message", "type"}}``: 401 auth; 402, or 403 about credit, billing (other 403 auth);
    400/422 moderation when the message speaks of NSFW/safety, else invalid input (also 404); 429 rate
    limit; 5xx provider failure (retryable unless ``x-should-retry: false``)."""
    status = response.status_code
    body = _body(response)
    error = body.get("error")
    message = error.get("message") if isinstance(error, dict) else error if isinstance(error, str) else None
    kind = error.get("type") if isinstance(error, dict) else None
    text = " ".join(message.split()) if isinstance(message, str) and message.strip() else f"HTTP {status}"
    reason = scrub(text, secrets)
    kw: dict[str, Any] = {"code": kind} if isinstance(kind, str) and kind else {}
    low = f"{reason} {kind or ''}".lower()
    return status_error(
        PROVIDER, response, reason, about_credit=any(h in low for h in _BILLING_HINTS),
        moderated=status < 500 and status not in (408, 409) and any(h in low for h in _MODERATION_HINTS),
        retryable=not _should_not_retry(response), failed_statuses=(408, 409), **kw,
    )  # fmt: skip


class TogetherFluxTextToImage(ProviderClient):
    """FLUX text-to-image on Together: the specs in ``providers/together/models.py``.
    ``response_format`` ``"url"`` (default) or ``"base64"``."""

    name: ClassVar[str] = PROVIDER
    provider = PROVIDER
    classify_response = staticmethod(together_outcome)
    kind: ClassVar[Literal["t2i", "i2v"]] = "t2i"
    lookup_by_external_id: ClassVar[bool] = False

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = TOGETHER_URL,
        response_format: Literal["url", "base64"] = "url",
        **options: Unpack[ClientOptions],
    ) -> None:
        if not api_key:
            raise UsageError("together: a key is needed (TOGETHER_API_KEY)")
        if response_format not in ("url", "base64"):
            raise UsageError(f"together: response_format must be 'url' or 'base64', not {response_format!r}")
        super().__init__(base_url, **options)
        self._key = api_key
        self.response_format = response_format

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self._key,)

    # -- inputs ---------------------------------------------------------------------------------------------

    def check_inputs(self, request: StillRequest) -> None:
        check_still_request(PROVIDER, request)

    def build_body(self, request: StillRequest) -> dict[str, Any]:
        """The exact request body (after :meth:`check_inputs`)."""
        spec = check_still_request(PROVIDER, request)
        body: dict[str, Any] = {
            "model": request.model,
            "prompt": request.prompt,
            "width": request.width,
            "height": request.height,
        }
        body.update(dict(spec.wire_get("body", ())))  # steps (FLUX.1.1-pro and Kontext take none)
        body.update(
            seed=request.seed,
            n=1,
            response_format=self.response_format,
            output_format=request.output_format,
        )
        return body

    # -- Provider -------------------------------------------------------------------------------------------

    async def submit(self, request: StillRequest) -> Submitted:
        """Generate the image (the paid call). The result is in ``handle["url"]``."""
        body = self.build_body(request)
        url = f"{self.base_url}/v1/images/generations"
        headers = {"Authorization": f"Bearer {self._key}"}

        def build() -> httpx.Request:
            return self._client.build_request("POST", url, json=body, headers=headers)

        response = await self._send_create(build)  # fmt: skip
        status = response.status_code
        if status == 504:
            err = together_error(response, secrets=self.secrets)
            raise SubmissionUncertain(
                self.name,
                f"generation answered HTTP 504 ({err.reason}); it may have run and been billed",
                status_code=status,
            )
        if status >= 400:
            raise together_error(response, secrets=self.secrets)
        answer = _body(response)
        result = self._image(answer, request.output_format)
        if result is None:
            raise SubmissionUncertain(
                self.name,
                f"generation answered HTTP {status} without a readable image; it may have been billed",
                status_code=status,
            )
        task_id = answer.get("id")
        handle = {
            "url": result,
            "model": request.model,
            "external_id": request.external_id,
            "width": request.width,
            "height": request.height,
            "seed": request.seed,
        }
        return Submitted(
            provider=self.name,
            task_id=task_id if isinstance(task_id, str) and task_id else request.external_id,
            handle=handle,
        )

    @staticmethod
    def _image(answer: dict[str, Any], output_format: str) -> str | None:
        data = answer.get("data")
        item = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else None
        if item is None:
            return None
        url = item.get("url")
        if isinstance(url, str) and url:
            return url
        b64 = item.get("b64_json") or item.get("base64")
        if isinstance(b64, str) and b64:
            try:
                raw = base64.b64decode(b64, validate=True)
            except (binascii.Error, ValueError):
                return None
            return encode_data_url(raw, sniff_image_mime(raw, f"image/{output_format}"))
        return None

    async def poll(self, submitted: Submitted) -> TaskStatus:
        """Synchronous provider: the result came with :meth:`submit`."""
        url = submitted.handle.get("url")
        if not isinstance(url, str) or not url:
            raise ProviderFailed(self.name, "handle carries no result url", task_id=submitted.task_id)
        width, height = submitted.handle.get("width"), submitted.handle.get("height")
        pixels = width * height if isinstance(width, int) and isinstance(height, int) else 0
        seed = submitted.handle.get("seed")
        return Succeeded(
            urls=[url],
            billed_units=pixels / 1_000_000 if pixels else None,
            unit="megapixels",
            seed=seed if isinstance(seed, int) and not isinstance(seed, bool) else None,
            raw={"id": submitted.task_id, "model": submitted.handle.get("model")},
        )

    async def find_by_external_id(self, external_id: str) -> Submitted | None:
        raise NotImplementedError(
            "Together has no lookup by our id: a doubtful generation needs human review"
        )

    async def download(self, url: str) -> bytes:
        """The image bytes: a ``data:`` URL is decoded; an https URL is fetched without credentials."""
        return await self._download(url)
