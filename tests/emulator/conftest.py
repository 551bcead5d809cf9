from __future__ import annotations

import base64
import time
from collections.abc import Iterator

import httpx
import jwt
import pytest

from goldenchain.emulator import Emulator
from goldenchain.emulator.media import encode_image, render_still

from .clock import HeldClock

__all__ = ["HeldClock", "fal_client", "kling_client", "kling_token", "wait_kling"]


def kling_token(env: dict[str, str], nbf: float = -5, exp: float = 1800, secret: str | None = None) -> str:
    now = int(time.time())
    payload = {"iss": env["KLING_ACCESS_KEY"], "nbf": int(now + nbf), "exp": int(now + exp)}
    return jwt.encode(payload, secret or env["KLING_SECRET_KEY"], algorithm="HS256", headers={"typ": "JWT"})


def kling_client(emu: Emulator, timeout: float = 10.0) -> httpx.Client:
    env = emu.env()
    headers = {"Authorization": f"Bearer {kling_token(env)}"}
    return httpx.Client(base_url=env["KLING_BASE_URL"], headers=headers, timeout=timeout)


def fal_client(emu: Emulator, run: bool = False, timeout: float = 10.0) -> httpx.Client:
    env = emu.env()
    base = env["FAL_RUN_URL"] if run else env["FAL_QUEUE_URL"]
    return httpx.Client(base_url=base, headers={"Authorization": f"Key {env['FAL_KEY']}"}, timeout=timeout)


def wait_kling(client: httpx.Client, task_id: str, family: str = "image2video", limit: float = 30) -> dict:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        r = client.get(f"/v1/videos/{family}/{task_id}")
        assert r.status_code == 200, r.text
        data = r.json()["data"]
        if data["task_status"] in ("succeed", "failed"):
            return data
        time.sleep(0.05)
    raise AssertionError("task did not finish")


@pytest.fixture(scope="session")
def still_b64() -> str:
    return base64.b64encode(encode_image(render_still("test still", 3, 640, 360), "png")).decode()


@pytest.fixture
def clean() -> Iterator[Emulator]:
    with Emulator(scenario="clean", latency=0.2) as emu:
        yield emu
