"""Downloading a result: a credential-free GET of a CDN URL (free, so retried like any read), or the bytes of
a ``data:`` URL."""

from __future__ import annotations

import random

import httpx

from goldenchain.errors import ProviderFailed, ResultExpired
from goldenchain.providers.dataurl import decode_data_url, is_data_url
from goldenchain.providers.http import READ_POLICY, RetryPolicy, Sleep, send_read

__all__ = ["download_result"]


async def download_result(
    client: httpx.AsyncClient,
    url: str,
    *,
    provider: str,
    sleep: Sleep,
    policy: RetryPolicy = READ_POLICY,
    rng: random.Random | None = None,
    expired: str = "result file is gone",
) -> bytes:
    """The result's bytes. No credentials are sent. 404/410 → :class:`ResultExpired`; other errors →
    :class:`ProviderFailed` (retryable on 429/5xx)."""
    if is_data_url(url):
        try:
            data, _ = decode_data_url(url)
        except ValueError as exc:
            raise ProviderFailed(provider, f"result {exc}") from None
        return data
    response = await send_read(
        client, lambda: client.build_request("GET", url), provider=provider, policy=policy,
        sleep=sleep, rng=rng,
    )  # fmt: skip
    if response.status_code in (404, 410):
        raise ResultExpired(provider, expired, status_code=response.status_code)
    if response.status_code >= 400:
        raise ProviderFailed(
            provider, "download failed", status_code=response.status_code,
            retryable=response.status_code >= 500 or response.status_code == 429,
        )  # fmt: skip
    return response.content
