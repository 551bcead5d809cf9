from __future__ import annotations

import base64
import io

import httpx
import pytest
from PIL import Image

from goldenchain.emulator import Emulator, Fault

MODEL = "black-forest-labs/FLUX.1-dev"


def tog(emu: Emulator) -> httpx.Client:
    env = emu.env()
    headers = {"Authorization": f"Bearer {env['TOGETHER_API_KEY']}"}
    return httpx.Client(base_url=env["TOGETHER_BASE_URL"], headers=headers, timeout=10)


def test_auth_required(clean: Emulator) -> None:
    r = httpx.post(clean.env()["TOGETHER_BASE_URL"] + "/v1/images/generations", json={"model": MODEL})
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key"


@pytest.mark.parametrize("fmt", ["url", "base64", "b64_json"])
def test_generate(clean: Emulator, fmt: str) -> None:
    with tog(clean) as c:
        r = c.post("/v1/images/generations", json={"model": MODEL, "prompt": "a barn", "width": 320,
                   "height": 192, "n": 2, "response_format": fmt, "output_format": "png"})  # fmt: skip
    assert r.status_code == 200
    body = r.json()
    assert body["object"] == "list" and body["model"] == MODEL and len(body["data"]) == 2
    item = body["data"][1]
    assert item["index"] == 1
    if fmt == "url":
        assert item["type"] == "url"
        data = httpx.get(item["url"], timeout=60).content
    else:
        assert item["type"] == "b64_json"
        data = base64.b64decode(item["b64_json"])
    with Image.open(io.BytesIO(data)) as img:
        assert img.format == "PNG" and img.size == (320, 192)
    assert clean.count(provider="together", accepted_creates=True) == 1


def test_validation(clean: Emulator) -> None:
    with tog(clean) as c:
        assert c.post("/v1/images/generations", json={"model": MODEL}).status_code == 400
        r = c.post("/v1/images/generations", json={"model": MODEL, "prompt": "x", "steps": 0})
        assert r.status_code == 400 and r.json()["error"]["param"] == "steps"
        assert c.post("/v1/images/generations", json={"model": "x/y", "prompt": "x"}).status_code == 404
    assert clean.count(provider="together", accepted_creates=True) == 0


@pytest.mark.parametrize(
    ("fault", "status", "header"),
    [("rate_limit", 429, "retry-after"), ("unavailable_no_retry", 503, "x-should-retry"),
     ("billing", 402, None), ("content_policy", 422, None), ("timeout", 504, None)],
)  # fmt: skip
def test_faults(fault: str, status: int, header: str | None) -> None:
    with Emulator(scenario="clean", latency=0.05, faults=[Fault("together", "create", 1, fault)]) as emu:
        with tog(emu) as c:
            r = c.post("/v1/images/generations", json={"model": MODEL, "prompt": "x"})
        assert r.status_code == status and r.json()["error"]["message"]
        if header:
            assert header in r.headers
        assert emu.count(provider="together", accepted_creates=True) == 0


def test_flaky_scenario_is_transient() -> None:
    with Emulator(scenario="flaky", latency=0.05) as emu, tog(emu) as c:
        codes = [c.post("/v1/images/generations", json={"model": MODEL, "prompt": "x", "width": 256,
                                                          "height": 256}).status_code for _ in range(4)]  # fmt: skip
    assert codes == [429, 200, 503, 200]
