"""Free read calls that tell whether a provider route is reachable and its key accepted (``goldenchain
doctor``). Nothing here is billed: a status query for a request that does not exist (fal), the prediction list
(Replicate), the model list (Together), the resource packs (Kling)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from goldenchain.errors import ProviderError
from goldenchain.providers.http import RetryPolicy, make_client, send_read

__all__ = ["Probe", "family", "probe_route"]

_ONCE = RetryPolicy(max_attempts=2, base=0.2, cap=0.5)


@dataclass(frozen=True)
class Probe:
    ok: bool
    detail: str
    fix: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def family(route: str) -> str:
    """The account a route bills: ``fal-kling`` is a fal key, ``replicate-kling`` a Replicate token."""
    for fam in ("kling", "fal", "replicate", "together"):
        if route == fam or route.startswith(fam + "-"):
            return fam
    return route


def _verdict(fam: str, resp: httpx.Response, ok_codes: tuple[int, ...], key: str) -> Probe:
    if resp.status_code in (401, 403):
        return Probe(
            False, f"{fam} refused the key (HTTP {resp.status_code})", f"check {key}, then run again"
        )
    if resp.status_code == 402:
        return Probe(False, f"{fam} says the account has no credit (HTTP 402)", f"top up the {fam} account")
    if resp.status_code in ok_codes:
        return Probe(True, f"reachable, key accepted (HTTP {resp.status_code})")
    return Probe(False, f"{fam} answered HTTP {resp.status_code}", f"{fam} may be failing; try again later")


async def _get(client: httpx.AsyncClient, url: str, headers: dict[str, str], **params: Any) -> httpx.Response:
    return await send_read(
        client,
        lambda: client.build_request("GET", url, headers=headers, params=params or None),
        provider="probe",
        policy=_ONCE,
    )


#: accounts read with a bearer token: key variable, base-URL variable, default base, a free read's path
_BEARER = {
    "replicate": (
        "REPLICATE_API_TOKEN",
        "REPLICATE_BASE_URL",
        "https://api.replicate.com",
        "/v1/predictions",
    ),
    "together": ("TOGETHER_API_KEY", "TOGETHER_BASE_URL", "https://api.together.xyz", "/v1/models"),
}


async def probe_route(route: str, settings: Any, *, model: str = "") -> Probe:
    """One free read against the route's account. Keys are read from ``settings`` and never appear in the
    result."""
    fam = family(route)
    try:
        if fam == "kling":
            return await _kling(settings)
        if fam == "fal":
            key = settings.get("FAL_KEY")
            if not key:
                return Probe(False, "FAL_KEY is not set", "put FAL_KEY=... in the environment or .env")
            base = (settings.get("FAL_QUEUE_URL") or "https://queue.fal.run").rstrip("/")
            app = "/".join((model or "fal-ai/flux/dev").split("/")[:2])
            async with make_client(base) as c:
                r = await _get(
                    c, f"{base}/{app}/requests/{uuid.uuid4()}/status", {"authorization": f"Key {key}"}
                )
            return _verdict(fam, r, (200, 404), "FAL_KEY")
        if fam in _BEARER:
            var, url_var, default, path = _BEARER[fam]
            key = settings.get(var)
            if not key:
                return Probe(False, f"{var} is not set", f"put {var}=... in the environment or .env")
            base = (settings.get(url_var) or default).rstrip("/")
            async with make_client(base) as c:
                r = await _get(c, f"{base}{path}", {"authorization": f"Bearer {key}"})
            return _verdict(fam, r, (200,), var)
    except ProviderError as e:
        base_var = {
            "kling": "KLING_BASE_URL",
            "fal": "FAL_QUEUE_URL",
            "replicate": "REPLICATE_BASE_URL",
            "together": "TOGETHER_BASE_URL",
        }.get(fam, "the base URL")
        return Probe(False, f"{fam} unreachable: {e.reason}", f"check the network and {base_var}")
    if route in _LOCAL:
        return _local(route, model, settings)
    return Probe(True, f"{route}: no free check for this route", "")


_LOCAL = {"local-flux": "flux", "local-svd": "svd"}


def _local(route: str, model: str, settings: Any) -> Probe:
    """A local route on this machine: its weights where they should be, a GPU (or the CPU asked for) and the
    preset its memory picks. Nothing is loaded."""
    from goldenchain.errors import UsageError
    from goldenchain.providers.local.pipelines import resolve_setup

    try:
        s = resolve_setup(route, _LOCAL[route], model, settings)
    except (ProviderError, UsageError) as e:
        why = e.reason if isinstance(e, ProviderError) else str(e)
        return Probe(False, why, "in team mode it is the GPU worker that needs them: run doctor there")
    return Probe(True, f"{model}: weights in {s.path}; {s.device}, preset {s.preset.name}", "")


async def _kling(settings: Any) -> Probe:
    from goldenchain.errors import AuthError, BillingError
    from goldenchain.providers.kling.account import KlingAccount
    from goldenchain.providers.kling.i2v import KLING_GLOBAL_URL

    ak, sk = settings.get("KLING_ACCESS_KEY"), settings.get("KLING_SECRET_KEY")
    if not ak or not sk:
        missing = " and ".join(n for n, v in (("KLING_ACCESS_KEY", ak), ("KLING_SECRET_KEY", sk)) if not v)
        return Probe(False, f"{missing} not set", f"put {missing}=... in the environment or .env")
    acct = KlingAccount(ak, sk, base_url=settings.get("KLING_BASE_URL") or KLING_GLOBAL_URL)
    try:
        now = int(time.time() * 1000)
        packs = await acct.resource_packs(now - 90 * 86400_000, now)
    except AuthError as e:
        return Probe(
            False, f"kling refused the keys: {e.reason}", "check KLING_ACCESS_KEY and KLING_SECRET_KEY"
        )
    except BillingError as e:
        return Probe(False, f"kling account: {e.reason}", "top up the Kling account or resource pack")
    finally:
        await acct.aclose()
    live = [p for p in packs if p.status in ("online", "")]
    remaining = round(sum(p.remaining for p in live), 3)
    return Probe(
        True,
        f"reachable, keys accepted; {remaining:g} units left in {len(live)} pack(s)",
        "",
        {"units": remaining},
    )
