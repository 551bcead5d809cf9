"""Kling image-to-video over the official API (providers.md §1): JWT auth, ``external_task_id`` as our
idempotency key, reconcile-by-our-id after a doubtful create."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any, ClassVar, Literal, Unpack

import httpx

from goldenchain.errors import (
    ModerationError,
    ProviderError,
    ProviderFailed,
    SubmissionUncertain,
)
from goldenchain.providers.base import (
    CapabilityError,
    Failed,
    Pending,
    Submitted,
    Succeeded,
    TaskStatus,
)
from goldenchain.providers.client import ClientOptions, ProviderClient
from goldenchain.providers.http import (
    scrub,
)
from goldenchain.providers.kling.auth import KlingAuth
from goldenchain.providers.kling.checks import camera_control, check_clip
from goldenchain.providers.kling.errors import (
    SERVER_CODES,
    body_of,
    kling_error,
    kling_outcome,
    looks_like_moderation,
)

__all__ = ["KLING_CHINA_URL", "KLING_GLOBAL_URL", "KLING_LEGACY_GLOBAL_URL", "KlingImageToVideo"]

KLING_GLOBAL_URL = "https://api-singapore.klingai.com"
KLING_CHINA_URL = "https://api-beijing.klingai.com"
#: the older global host, still used by the official ComfyUI node
KLING_LEGACY_GLOBAL_URL = "https://api.klingai.com"

_PATH = "/v1/videos/image2video"
_PENDING: dict[str, Literal["queued", "running"]] = {"submitted": "queued", "processing": "running"}


class KlingImageToVideo(ProviderClient):
    """Kling ``POST /v1/videos/image2video`` and friends.

    ``submit`` sends the paid create once (resent only after a connect error, a 1302/1303 rate limit, or a
    1004 expired token); a read timeout or dropped connection raises :class:`SubmissionUncertain`, and so
    does a 5xx answer to the create (Kling may have made the task); resolve it with
    :meth:`find_by_external_id`."""

    name: ClassVar[str] = "kling"
    provider = "kling"
    classify_response = staticmethod(kling_outcome)
    kind: ClassVar[Literal["t2i", "i2v", "t2v"]] = "i2v"
    lookup_by_external_id: ClassVar[bool] = True
    #: sends ``callback_url`` with the create when the request has one (Kling POSTs the task on changes)
    webhooks: ClassVar[str] = "kling"
    #: the task family's path; text-to-video shares everything else
    path: ClassVar[str] = _PATH

    def __init__(
        self,
        access_key: str,
        secret_key: str,
        *,
        base_url: str = KLING_GLOBAL_URL,
        clock: Callable[[], float] | None = None,
        **options: Unpack[ClientOptions],
    ) -> None:
        self._auth = (
            KlingAuth(access_key, secret_key)
            if clock is None
            else KlingAuth(access_key, secret_key, clock=clock)
        )
        super().__init__(base_url, **options)

    # -- inputs ---------------------------------------------------------------------------------------------

    def check_inputs(self, request: Any) -> None:
        check_clip(request)

    def build_body(self, request: Any) -> dict[str, Any]:
        """The exact create body (after :meth:`check_inputs`)."""
        check_clip(request)
        body: dict[str, Any] = {
            "model_name": request.model,
            "image": base64.b64encode(request.image).decode("ascii"),  # raw base64, no data: prefix
            "prompt": request.prompt,
            "cfg_scale": request.cfg_scale,
            "mode": request.mode,
            "duration": str(request.duration),
            "external_task_id": request.external_id,
        }
        if request.negative_prompt is not None:
            body["negative_prompt"] = request.negative_prompt
        if request.camera is not None:
            body["camera_control"] = camera_control(request.camera)
        return body

    # -- HTTP -----------------------------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    async def _call(
        self,
        method: str,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
        create: bool = False,
    ) -> httpx.Response:
        """One API call with fresh auth; after 401/1004 (token expired: Kling refused the call before any
        work) the token is rebuilt and the call resent once."""

        def build() -> httpx.Request:
            return self._client.build_request(
                method, self._url(path), json=json, params=params, headers=self._auth.headers()
            )

        response: httpx.Response | None = None
        for _ in range(2):
            response = await (self._send_create(build) if create else self._send_read(build))
            if response.status_code == 401 and body_of(response).get("code") == 1004:
                self._auth.invalidate()
                continue
            break
        assert response is not None
        return response

    def _error(self, response: httpx.Response, task_id: str | None = None) -> ProviderError:
        return kling_error(response, secrets=self._auth.secrets, task_id=task_id)

    def _data(self, response: httpx.Response, task_id: str | None = None) -> Any:
        """``data`` of a successful envelope, or raise the mapped error."""
        body = body_of(response)
        if not response.is_success or body.get("code") not in (0, "0"):
            raise self._error(response, task_id)
        return body.get("data")

    # -- Provider -------------------------------------------------------------------------------------------

    async def submit(self, request: Any) -> Submitted:
        body = self.build_body(request)
        if getattr(request, "callback_url", None):
            body["callback_url"] = request.callback_url
        handle = {"external_task_id": request.external_id}
        response = await self._call("POST", self.path, json=body, create=True)
        if response.status_code >= 500 or body_of(response).get("code") in SERVER_CODES:
            err = self._error(response)
            raise SubmissionUncertain(
                self.name,
                f"create answered HTTP {response.status_code} ({err.reason}); the task may exist: "
                f"look it up by external_task_id {request.external_id!r}",
                status_code=response.status_code,
                code=err.code,
                request_id=err.request_id,
            )
        envelope = body_of(response)
        if not (response.is_success and envelope.get("code") in (None, 0, "0")):
            raise self._error(response)  # a documented refusal: nothing was created
        data = envelope.get("data")  # a 2xx without a readable envelope may still have created the task
        task_id = data.get("task_id") if isinstance(data, dict) else None
        if not isinstance(task_id, str | int) or isinstance(task_id, bool) or task_id == "":
            raise SubmissionUncertain(
                self.name,
                "create answered without a task_id; the task may exist: look it up by external_task_id "
                f"{request.external_id!r}",
                status_code=response.status_code,
            )
        return Submitted(provider=self.name, task_id=str(task_id), handle=handle)

    async def poll(self, submitted: Submitted) -> TaskStatus:
        task_id = submitted.task_id
        response = await self._call("GET", f"{self.path}/{task_id}")
        data = self._data(response, task_id)
        if not isinstance(data, dict):
            raise ProviderFailed(self.name, "task query answered without data", task_id=task_id)
        return self._status(data, task_id)

    def _status(self, data: dict[str, Any], task_id: str) -> TaskStatus:
        status = data.get("task_status")
        if isinstance(status, str) and status in _PENDING:
            return Pending(state=_PENDING[status])
        if status == "succeed":
            videos = (data.get("task_result") or {}).get("videos") or []
            urls = [v["url"] for v in videos if isinstance(v, dict) and isinstance(v.get("url"), str)]
            if not urls:
                return Failed(
                    ProviderFailed(self.name, "task succeeded without a video url", task_id=task_id)
                )
            return Succeeded(
                urls=urls, billed_units=_units(data.get("final_unit_deduction")), unit="credits", raw=data
            )
        if status == "failed":
            msg = data.get("task_status_msg")
            reason = scrub(msg, self._auth.secrets) if isinstance(msg, str) and msg else "task failed"
            if looks_like_moderation(reason):
                return Failed(ModerationError(self.name, reason, task_id=task_id))
            return Failed(ProviderFailed(self.name, reason, task_id=task_id))
        raise ProviderFailed(self.name, f"unknown task_status {status!r}", task_id=task_id)

    async def find_by_external_id(self, external_id: str) -> Submitted | None:
        """The task created with ``external_task_id = external_id``, or ``None`` when Kling says none.

        Raises :class:`ProviderFailed` when the answer cannot prove absence (a list of other tasks)."""
        response = await self._call("GET", self.path, params={"external_task_id": external_id})
        body = body_of(response)
        if response.status_code == 404 and body.get("code") == 1203:
            return None
        data = self._data(response)
        handle = {"external_task_id": external_id}
        if data is None or data == [] or data == {}:
            return None
        tasks = data if isinstance(data, list) else [data]
        for task in tasks:
            if not isinstance(task, dict) or not task.get("task_id"):
                continue
            echoed = (task.get("task_info") or {}).get("external_task_id")
            # a single task object is Kling's answer to this filter; a list may be an unfiltered page
            if echoed == external_id or (echoed is None and not isinstance(data, list)):
                return Submitted(provider=self.name, task_id=str(task["task_id"]), handle=handle)
        raise ProviderFailed(
            self.name,
            f"lookup by external_task_id {external_id!r} answered other tasks; cannot prove absence",
        )

    async def list_tasks(self, page: int = 1, page_size: int = 30) -> list[dict[str, Any]]:
        """One page of this family's tasks, newest first (``pageNum`` 1-1000, ``pageSize`` 1-500)."""
        if not 1 <= page <= 1000 or not 1 <= page_size <= 500:
            raise CapabilityError(self.name, "pageNum must be 1..1000 and pageSize 1..500")
        response = await self._call(
            "GET", self.path, params={"pageNum": str(page), "pageSize": str(page_size)}
        )
        data = self._data(response)
        return [t for t in data if isinstance(t, dict)] if isinstance(data, list) else []

    async def download(self, url: str) -> bytes:
        """GET a result URL (no credentials are sent to the CDN). 404/410 → :class:`ResultExpired`."""
        return await self._download(url, expired="result file is gone (Kling keeps results 30 days)")


def _units(value: object) -> float | None:
    """``final_unit_deduction`` (a string) as a float; ``None`` when absent or unreadable."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
