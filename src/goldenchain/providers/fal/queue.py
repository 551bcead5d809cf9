"""The generic fal queue protocol (providers.md §2.2, §2.4): submit, status, result, cancel.

Status, result and cancel URLs use only ``{owner}/{alias}``: the endpoint's path segment is dropped. The URLs
returned by submit are preferred (and kept in :attr:`Submitted.handle`); they are used only when they share
the queue URL's origin, so the key is never sent to another host.
"""

from __future__ import annotations

from typing import Any, Unpack
from urllib.parse import urlsplit

import httpx

from goldenchain.errors import (
    ProviderError,
    ProviderFailed,
    SubmissionUncertain,
    UsageError,
)
from goldenchain.providers.base import Submitted
from goldenchain.providers.client import ClientOptions, ProviderClient, status_error
from goldenchain.providers.http import (
    scrub,
)

__all__ = ["FalQueue", "fal_error", "queue_urls", "split_endpoint"]

PROVIDER = "fal"
_BILLING_HINTS = ("exhausted balance", "top up", "billing", "insufficient")


def split_endpoint(endpoint: str) -> tuple[str, str, str]:
    """``fal-ai/flux/dev`` → ``("fal-ai", "flux", "dev")``; the path may be empty or have several parts."""
    parts = endpoint.strip("/").split("/")
    if len(parts) < 2 or not all(parts):
        raise ValueError(f"fal endpoint {endpoint!r} must look like owner/alias[/path]")
    return parts[0], parts[1], "/".join(parts[2:])


def queue_urls(queue_url: str, endpoint: str, request_id: str) -> dict[str, str]:
    """The status/result/cancel URLs of a request, built without the endpoint's path segment."""
    owner, alias, _ = split_endpoint(endpoint)
    base = f"{queue_url.rstrip('/')}/{owner}/{alias}/requests/{request_id}"
    return {"status_url": f"{base}/status", "response_url": base, "cancel_url": f"{base}/cancel"}


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def _body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _detail(body: dict[str, Any]) -> tuple[str, list[str]]:
    """fal's ``detail`` as one line, and the ``type`` of each item when it is a list."""
    detail = body.get("detail")
    if isinstance(detail, str):
        return detail, []
    if isinstance(detail, list):
        lines, types = [], []
        for item in detail:
            if not isinstance(item, dict):
                lines.append(str(item))
                continue
            loc = item.get("loc") or []
            where = str(loc[-1]) if isinstance(loc, list) and loc else ""
            kind = str(item.get("type") or "")
            types.append(kind)
            lines.append(
                f"{where + ': ' if where else ''}{item.get('msg', '')}{f' ({kind})' if kind else ''}"
            )
        return "; ".join(lines), types
    return "", []


def fal_error(
    response: httpx.Response, *, secrets: tuple[str, ...] = (), request_id: str | None = None
) -> ProviderError:
    """Map a fal error answer: 401 auth; 402, or 403 "Exhausted balance", billing (other 403 auth); 422
    invalid input or content policy; 429 rate limit; 5xx provider failure (retryable)."""
    body = _body(response)
    status = response.status_code
    text, types = _detail(body)
    error_type = body.get("error_type") or response.headers.get("x-fal-error-type")
    reason = scrub(text or (str(error_type) if error_type else f"HTTP {status}"), secrets)
    kw: dict[str, Any] = {"request_id": request_id}
    if error_type:
        kw["code"] = str(error_type)
    low = reason.lower()
    moderated = "content_policy_violation" in types or "content_policy_violation" in low
    user_timeout = response.headers.get("x-fal-request-timeout-type") == "user"
    return status_error(
        PROVIDER, response, reason, about_credit=any(h in low for h in _BILLING_HINTS), moderated=moderated,
        retryable=not user_timeout, **kw,
    )  # fmt: skip


class FalQueue(ProviderClient):
    """A thin, create-safe client for ``queue.fal.run``. Sends ``Authorization: Key <key>`` to the queue host
    only."""

    provider = PROVIDER

    def __init__(
        self,
        key: str,
        *,
        queue_url: str = "https://queue.fal.run",
        **options: Unpack[ClientOptions],
    ) -> None:
        if not key:
            raise UsageError("fal: a key is needed (FAL_KEY)")
        super().__init__(queue_url, **options)
        self._key = key

    @property
    def queue_url(self) -> str:
        return self.base_url

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self._key,)

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Key {self._key}"}

    def _same_origin(self, url: object) -> bool:
        return isinstance(url, str) and _origin(url) == _origin(self.queue_url)

    async def create(self, endpoint: str, arguments: dict[str, Any], webhook: str | None = None) -> Submitted:
        """POST the input to ``{queue_url}/{endpoint}`` once (resent only after a connect error or a 429);
        with ``webhook``, fal POSTs the outcome there (``?fal_webhook=``)."""
        split_endpoint(endpoint)
        url = f"{self.queue_url}/{endpoint.strip('/')}"
        params = {"fal_webhook": webhook} if webhook else None

        def build() -> httpx.Request:
            return self._client.build_request(
                "POST", url, json=arguments, params=params, headers=self._headers()
            )

        response = await self._send_create(build)
        status = response.status_code
        if (
            status >= 500
            and not _body(response).get("error_type")
            and "x-fal-error-type" not in response.headers
        ):
            # not one of fal's documented request errors: the queue may have taken it
            raise SubmissionUncertain(
                PROVIDER, f"submit answered HTTP {status} without an error type; the request may be queued",
                status_code=status,
            )  # fmt: skip
        if status >= 400:
            raise fal_error(response, secrets=self.secrets)
        body = _body(response)
        request_id = body.get("request_id")
        if not isinstance(request_id, str) or not request_id:
            raise SubmissionUncertain(
                PROVIDER,
                "submit answered without a request_id; the request may be queued",
                status_code=status,
            )
        handle: dict[str, Any] = {"endpoint": endpoint.strip("/"), "request_id": request_id}
        built = queue_urls(self.queue_url, endpoint, request_id)
        for name, fallback in built.items():
            given = body.get(name)
            handle[name] = given if self._same_origin(given) else fallback
        return Submitted(provider=PROVIDER, task_id=request_id, handle=handle)

    def _handle_url(self, submitted: Submitted, name: str) -> str:
        url = submitted.handle.get(name)
        if self._same_origin(url):
            return str(url)
        endpoint = submitted.handle.get("endpoint")
        if not isinstance(endpoint, str):
            raise ValueError("fal handle has neither a usable URL nor an endpoint")
        return queue_urls(self.queue_url, endpoint, submitted.task_id)[name]

    async def _read(self, method: str, url: str, params: dict[str, str] | None = None) -> httpx.Response:
        def build() -> httpx.Request:
            return self._client.build_request(method, url, params=params, headers=self._headers())

        return await self._send_read(build)

    async def status(self, submitted: Submitted) -> dict[str, Any]:
        """The status object (``IN_QUEUE`` / ``IN_PROGRESS`` / ``COMPLETED``)."""
        response = await self._read("GET", self._handle_url(submitted, "status_url"), {"logs": "0"})
        if response.status_code >= 400:
            raise fal_error(response, secrets=self.secrets, request_id=submitted.task_id)
        body = _body(response)
        if not isinstance(body.get("status"), str):
            raise ProviderFailed(PROVIDER, "status answered without a status", request_id=submitted.task_id)
        return body

    async def result(self, submitted: Submitted) -> httpx.Response:
        """The raw result response (after ``COMPLETED``); the caller maps 4xx/5xx to a task failure."""
        return await self._read("GET", self._handle_url(submitted, "response_url"))

    async def cancel(self, submitted: Submitted) -> str:
        """Ask fal to cancel; returns its word (``CANCELLATION_REQUESTED``, ``ALREADY_COMPLETED``...)."""
        response = await self._read("PUT", self._handle_url(submitted, "cancel_url"))
        body = _body(response)
        word = body.get("status")
        if isinstance(word, str):
            return word
        if response.status_code >= 400:
            raise fal_error(response, secrets=self.secrets, request_id=submitted.task_id)
        return "CANCELLATION_REQUESTED"
