"""What the Replicate adapters share (FLUX and Kling alike): the API client, cancel, download, closing."""

from __future__ import annotations

from typing import ClassVar, Unpack

from goldenchain.providers.base import Submitted
from goldenchain.providers.client import ClientAdapter, ClientOptions
from goldenchain.providers.replicate.api import REPLICATE_URL, ReplicateAPI

__all__ = ["ReplicateAdapter"]


class ReplicateAdapter(ClientAdapter):
    """A subclass names itself and its kind and provides ``check_inputs``, ``build_body``, ``submit`` and
    ``poll`` (how a prediction's output reads and is billed for its model)."""

    name: ClassVar[str]
    lookup_by_external_id: ClassVar[bool] = False
    #: creates with ``webhook`` (events: completed) when the request has a ``callback_url``
    webhooks: ClassVar[str] = "replicate"
    api: ReplicateAPI

    def __init__(
        self,
        token: str,
        *,
        base_url: str = REPLICATE_URL,
        wait: int | None = None,
        **options: Unpack[ClientOptions],
    ) -> None:
        self.api = ReplicateAPI(token, provider=self.name, base_url=base_url, wait=wait, **options)

    async def cancel(self, submitted: Submitted) -> str:
        return await self.api.cancel(submitted.task_id)

    async def find_by_external_id(self, external_id: str) -> Submitted | None:
        raise NotImplementedError("Replicate has no lookup by our id: a doubtful submit needs human review")
