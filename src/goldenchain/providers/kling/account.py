"""Kling account resource packs (``GET /account/costs``, no ``/v1`` prefix; keep it under 1 QPS)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from goldenchain.providers.client import ProviderClient
from goldenchain.providers.kling.auth import KlingAuth
from goldenchain.providers.kling.errors import body_of, kling_error
from goldenchain.providers.kling.i2v import KLING_GLOBAL_URL


@dataclass(frozen=True)
class ResourcePack:
    name: str
    pack_id: str
    total: float
    remaining: float
    effective_ms: int | None
    invalid_ms: int | None
    status: str

    @property
    def used(self) -> float:
        return round(self.total - self.remaining, 6)


class KlingAccount(ProviderClient):
    """Kling's account endpoints (resource packs), read with the same auth as the task endpoints."""

    provider = "kling"

    def __init__(
        self,
        access_key: str,
        secret_key: str,
        *,
        base_url: str = KLING_GLOBAL_URL,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(base_url, client=client)
        self._auth = KlingAuth(access_key, secret_key)

    async def resource_packs(self, start_ms: int, end_ms: int) -> list[ResourcePack]:
        def build() -> httpx.Request:
            return self._client.build_request(
                "GET",
                f"{self.base_url}/account/costs",
                params={"start_time": start_ms, "end_time": end_ms},
                headers=self._auth.headers(),
            )

        resp = await self._send_read(build)
        body = body_of(resp)
        if resp.status_code != 200 or body.get("code") not in (0, None):
            raise kling_error(resp, secrets=self._auth.secrets)
        data: Any = body.get("data") or {}
        out = []
        for p in data.get("resource_pack_subscribe_infos") or []:
            out.append(
                ResourcePack(
                    name=str(p.get("resource_pack_name", "")),
                    pack_id=str(p.get("resource_pack_id", "")),
                    total=float(p.get("total_quantity") or 0),
                    remaining=float(p.get("remaining_quantity") or 0),
                    effective_ms=p.get("effective_time"),
                    invalid_ms=p.get("invalid_time"),
                    status=str(p.get("status", "")),
                )
            )
        return out
