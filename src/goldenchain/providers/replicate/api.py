"""The Replicate predictions API (providers.md §3): create, get, cancel, and the error and status mapping
shared by the FLUX and Kling adapters.

Money safety: the create (``POST /v1/models/{owner}/{name}/predictions``) is sent once; it is resent only
after a connect error or a 429 (refused before acceptance). A read timeout, a dropped connection, a 5xx or an
unreadable 2xx raise :class:`SubmissionUncertain`: Replicate has no lookup by our own id, so the doubt goes
to human review. 402 (insufficient credit, spend limit) is a :class:`BillingError` and never resent.
"""

from __future__ import annotations

from typing import Any, Literal, Unpack

import httpx

from goldenchain.errors import (
    ModerationError,
    ProviderError,
    ProviderFailed,
    ResultExpired,
    SubmissionUncertain,
    UsageError,
)
from goldenchain.providers.base import Failed, Pending, Submitted, Succeeded, TaskStatus
from goldenchain.providers.client import ClientOptions, ProviderClient, status_error
from goldenchain.providers.http import (
    scrub,
)

__all__ = ["REPLICATE_URL", "ReplicateAPI", "predict_time", "prediction_status", "replicate_error"]

REPLICATE_URL = "https://api.replicate.com"
_PENDING: dict[str, Literal["queued", "running"]] = {"starting": "queued", "processing": "running"}
_MODERATION_HINTS = ("nsfw", "flagged", "content policy", "safety checker", "sensitive content")
#: the largest ``Prefer: wait=N`` we send (Replicate holds a create for up to 60 s)
MAX_WAIT = 60


def _body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _reason(body: dict[str, Any], status: int) -> str:
    """A problem document's ``detail`` (or ``title``) as one line; a 422 ``detail`` may be structured."""
    detail = body.get("detail")
    if isinstance(detail, list):
        detail = "; ".join(
            str(d.get("msg") or d.get("description") or d) if isinstance(d, dict) else str(d) for d in detail
        )
    for value in (detail, body.get("title"), body.get("error")):
        if isinstance(value, str) and value.strip():
            return " ".join(value.split())
    return f"HTTP {status}"


def replicate_error(
    provider: str, response: httpx.Response, *, secrets: tuple[str, ...] = (), task_id: str | None = None
) -> ProviderError:
    """401/403 auth; 402 billing; 404/422 (and other 4xx) invalid input; 429 rate limit; 5xx provider
    failure (retryable)."""
    status = response.status_code
    reason = scrub(_reason(_body(response), status), secrets)
    return status_error(provider, response, reason, task_id=task_id)


def prediction_status(
    provider: str, prediction: dict[str, Any], *, secrets: tuple[str, ...] = ()
) -> TaskStatus:
    """``starting``/``processing`` → :class:`Pending`; ``succeeded`` → :class:`Succeeded` (``urls`` from a
    list or a single URL string; the caller fills in billed units); ``failed`` → moderation or provider
    failure with Replicate's ``error``; ``canceled`` → provider failure. Output gone → :class:`ResultExpired`."""
    pid = str(prediction.get("id") or "") or None
    status = prediction.get("status")
    if isinstance(status, str) and status in _PENDING:
        return Pending(state=_PENDING[status])
    if status == "failed":
        error = prediction.get("error")
        reason = scrub(" ".join(str(error).split()), secrets) if error else "prediction failed"
        if any(hint in reason.lower() for hint in _MODERATION_HINTS):
            return Failed(ModerationError(provider, reason, task_id=pid))
        return Failed(ProviderFailed(provider, reason, task_id=pid))
    if status == "canceled":
        return Failed(ProviderFailed(provider, "prediction was canceled", task_id=pid))
    if status != "succeeded":
        raise ProviderFailed(provider, f"unknown prediction status {status!r}", task_id=pid)
    output = prediction.get("output")
    if prediction.get("data_removed") is True or output is None:
        reason = "the prediction's output was removed (Replicate keeps API outputs 1 hour)"
        return Failed(ResultExpired(provider, reason, task_id=pid))
    items = output if isinstance(output, list) else [output]
    urls = [u for u in items if isinstance(u, str) and u]
    if not urls:
        return Failed(ProviderFailed(provider, "prediction succeeded without an output URL", task_id=pid))
    raw = {k: v for k, v in prediction.items() if k not in ("input", "logs")}  # input holds the image
    return Succeeded(urls=urls, raw=raw)


def predict_time(prediction: dict[str, Any]) -> float | None:
    metrics = prediction.get("metrics")
    value = metrics.get("predict_time") if isinstance(metrics, dict) else None
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


class ReplicateAPI(ProviderClient):
    """Create/get/cancel predictions with ``Authorization: Bearer <token>``; the token goes to the API host
    only (downloads from ``replicate.delivery`` carry no credentials)."""

    def __init__(
        self,
        token: str,
        *,
        provider: str = "replicate",
        base_url: str = REPLICATE_URL,
        wait: int | None = None,
        **options: Unpack[ClientOptions],
    ) -> None:
        if not token:
            raise UsageError(f"{provider}: a token is needed (REPLICATE_API_TOKEN)")
        if wait is not None and (isinstance(wait, bool) or not 1 <= wait <= MAX_WAIT):
            raise UsageError(f"{provider}: Prefer wait must be 1..{MAX_WAIT} seconds, not {wait!r}")
        self.provider = provider
        super().__init__(base_url, **options)
        self._token = token
        self.wait = wait

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self._token,)

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"}

    def error(self, response: httpx.Response, task_id: str | None = None) -> ProviderError:
        return replicate_error(self.provider, response, secrets=self.secrets, task_id=task_id)

    async def create(self, model: str, inputs: dict[str, Any], webhook: str | None = None) -> Submitted:
        """``POST /v1/models/{owner}/{name}/predictions`` with ``{"input": inputs}``, once; with ``webhook``,
        Replicate POSTs the prediction there when it completes (``webhook_events_filter: ["completed"]``)."""
        url = f"{self.base_url}/v1/models/{model.strip('/')}/predictions"
        payload: dict[str, Any] = {"input": inputs}
        if webhook:
            payload.update(webhook=webhook, webhook_events_filter=["completed"])
        headers = self._headers()
        timeout: httpx.Timeout | None = None
        if self.wait is not None:
            headers["Prefer"] = f"wait={self.wait}"
            t = self._client.timeout
            timeout = httpx.Timeout(
                connect=t.connect, read=max(t.read or 0.0, self.wait + 15.0), write=t.write, pool=t.pool
            )

        def build() -> httpx.Request:
            if timeout is None:
                return self._client.build_request("POST", url, json=payload, headers=headers)
            return self._client.build_request("POST", url, json=payload, headers=headers, timeout=timeout)

        response = await self._send_create(build)
        status = response.status_code
        if status >= 500:
            err = self.error(response)
            raise SubmissionUncertain(
                self.provider,
                f"create answered HTTP {status} ({err.reason}); the prediction may exist and be billed: "
                "check the Replicate dashboard before any resubmit",
                status_code=status,
            )
        if status >= 400:
            raise self.error(response)  # a refusal before acceptance: nothing was created
        prediction = _body(response)
        pid = prediction.get("id")
        if not isinstance(pid, str) or not pid:
            raise SubmissionUncertain(
                self.provider,
                f"create answered HTTP {status} without a prediction id; the prediction may exist",
                status_code=status,
            )
        handle = {"model": model, "status": prediction.get("status")}
        return Submitted(provider=self.provider, task_id=pid, handle=handle)

    async def _read(self, method: str, path: str, task_id: str) -> dict[str, Any]:
        url = f"{self.base_url}{path}"
        response = await self._send_read(
            lambda: self._client.build_request(method, url, headers=self._headers())
        )
        if response.status_code >= 400:
            raise self.error(response, task_id)
        body = _body(response)
        if not body:
            raise ProviderFailed(self.provider, "answer is not a prediction object", task_id=task_id,
                                 retryable=True)  # fmt: skip
        return body

    async def get(self, prediction_id: str) -> dict[str, Any]:
        """``GET /v1/predictions/{id}`` (free: retried on transport errors, 429, 5xx)."""
        return await self._read("GET", f"/v1/predictions/{prediction_id}", prediction_id)

    async def cancel(self, prediction_id: str) -> str:
        """``POST /v1/predictions/{id}/cancel``; returns the prediction's status word. Idempotent."""
        body = await self._read("POST", f"/v1/predictions/{prediction_id}/cancel", prediction_id)
        status = body.get("status")
        return status if isinstance(status, str) else "canceled"

    async def download(self, url: str) -> bytes:
        return await self._download(url, expired="result file is gone (Replicate keeps API outputs 1 hour)")
