"""What the fal adapters share (image and video alike): the queue client, polling, cancel, download."""

from __future__ import annotations

from typing import Any, ClassVar, Unpack

import httpx

from goldenchain.errors import AuthError, BillingError, ProviderFailed, RateLimited
from goldenchain.providers.base import Failed, Pending, Submitted, TaskStatus
from goldenchain.providers.client import ClientAdapter, ClientOptions
from goldenchain.providers.fal.queue import FalQueue, fal_error

__all__ = ["FalQueueAdapter"]


class FalQueueAdapter(ClientAdapter):
    """What every fal adapter shares: the queue client, status polling, cancel, result download and closing.
    A subclass names itself and its kind and provides ``check_inputs``, ``build_body``, ``submit`` and
    ``_result`` (how a COMPLETED request's result reads for its model)."""

    name: ClassVar[str]
    lookup_by_external_id: ClassVar[bool] = False
    #: submits with ``?fal_webhook=`` when the request has a ``callback_url``
    webhooks: ClassVar[str] = "fal"
    api: FalQueue

    def __init__(
        self,
        key: str,
        *,
        queue_url: str = "https://queue.fal.run",
        **options: Unpack[ClientOptions],
    ) -> None:
        self.api = FalQueue(key, queue_url=queue_url, **options)

    @property
    def queue(self) -> FalQueue:
        return self.api

    def _result(self, response: httpx.Response, submitted: Submitted) -> TaskStatus:
        raise NotImplementedError

    def _failed_result(self, response: httpx.Response, rid: str) -> Failed:
        """A result read that answered an error: the task failed (a 5xx: retryable), unless the answer is about
        the account or the read itself (auth, billing, rate limit), which is raised."""
        error = fal_error(response, secrets=self.queue.secrets, request_id=rid)
        if isinstance(error, AuthError | BillingError | RateLimited):
            raise error  # about the account or the read, not the task
        kw: dict[str, Any] = {"status_code": response.status_code, "code": error.code, "request_id": rid}
        if response.status_code >= 500:
            return Failed(ProviderFailed(self.name, error.reason, retryable=True, **kw))
        return Failed(type(error)(self.name, error.reason, **kw))

    async def poll(self, submitted: Submitted) -> TaskStatus:
        status = await self.queue.status(submitted)
        word = status["status"]
        if word == "IN_QUEUE":
            position = status.get("queue_position")
            ok = isinstance(position, int) and not isinstance(position, bool)
            return Pending(state="queued", position=position if ok else None)
        if word == "IN_PROGRESS":
            return Pending(state="running")
        if word != "COMPLETED":
            raise ProviderFailed(self.name, f"unknown queue status {word!r}", request_id=submitted.task_id)
        return self._result(await self.queue.result(submitted), submitted)

    async def cancel(self, submitted: Submitted) -> str:
        return await self.queue.cancel(submitted)

    async def find_by_external_id(self, external_id: str) -> Submitted | None:
        raise NotImplementedError("fal has no lookup by our id: a doubtful submit needs human review")
