"""together 3.1.1 (Stainless) against the emulator's ``/together`` mount (providers.md §4.3, §5.4)."""

from __future__ import annotations

import base64
import io

import httpx
import pytest
import together
from PIL import Image

from goldenchain.emulator import Emulator, Fault

MODEL = "black-forest-labs/FLUX.1-schnell"


def client(emu: Emulator, **kw: object) -> together.Together:
    env = emu.env()
    return together.Together(api_key=env["TOGETHER_API_KEY"], base_url=env["TOGETHER_BASE_URL"], **kw)  # type: ignore[arg-type]


def test_generate_url(emu: Emulator) -> None:
    res = client(emu).images.generate(
        model=MODEL, prompt="a red barn", width=320, height=192, steps=4, n=2, response_format="url"
    )
    assert res.object == "list" and res.model == MODEL and res.id and len(res.data) == 2
    item = res.data[0]
    assert item.type == "url" and item.index == 0
    with Image.open(io.BytesIO(httpx.get(item.url).content)) as img:  # type: ignore[union-attr]
        assert img.size == (320, 192) and img.format == "JPEG"
    assert emu.count(provider="together", accepted_creates=True) == 1


def test_generate_base64(emu: Emulator) -> None:
    res = client(emu).images.generate(
        model=MODEL, prompt="a red barn", width=256, height=256, response_format="base64", output_format="png"
    )
    item = res.data[0]
    assert item.type == "b64_json"
    with Image.open(io.BytesIO(base64.b64decode(item.b64_json))) as img:  # type: ignore[union-attr]
        assert img.format == "PNG" and img.size == (256, 256)


def test_errors_map_to_sdk_exceptions(emu: Emulator) -> None:
    emu.plan.faults.extend(
        [
            Fault("together", "create", 1, "rate_limit"),
            Fault("together", "create", 2, "content_policy"),
            Fault("together", "create", 3, "unavailable_no_retry"),
            Fault("together", "create", 4, "billing"),
        ]
    )
    c = client(emu, max_retries=0)
    with pytest.raises(together.RateLimitError) as limited:
        c.images.generate(model=MODEL, prompt="x", width=256, height=256)
    assert limited.value.response.headers["retry-after"] == "1"
    assert limited.value.response.json()["error"]["type"] == "rate_limit"
    with pytest.raises(together.UnprocessableEntityError) as policy:
        c.images.generate(model=MODEL, prompt="x", width=256, height=256)
    assert "safety" in policy.value.message
    with pytest.raises(together.InternalServerError):
        c.images.generate(model=MODEL, prompt="x", width=256, height=256)
    with pytest.raises(together.APIStatusError) as billing:
        c.images.generate(model=MODEL, prompt="x", width=256, height=256)
    assert billing.value.status_code == 402
    with pytest.raises(together.BadRequestError):
        c.images.generate(model=MODEL, prompt="x", width=0, height=256)
    with pytest.raises(together.NotFoundError):
        c.images.generate(model="nobody/nothing", prompt="x")
    with pytest.raises(together.AuthenticationError):
        together.Together(api_key="wrong", base_url=emu.env()["TOGETHER_BASE_URL"]).images.generate(
            model=MODEL, prompt="x"
        )
    assert emu.count(provider="together", accepted_creates=True) == 0


def test_sdk_retries_429_and_503_but_not_when_told_not_to(emu: Emulator) -> None:
    emu.plan.faults.extend(
        [
            Fault("together", "create", 1, "unavailable"),
            Fault("together", "create", 3, "unavailable_no_retry"),
        ]
    )
    c = client(emu, max_retries=2)
    res = c.images.generate(model=MODEL, prompt="x", width=256, height=256)  # 503, then a retry
    assert res.data and emu.count(provider="together", method="POST") == 2
    with pytest.raises(together.InternalServerError):  # x-should-retry: false
        c.images.generate(model=MODEL, prompt="x", width=256, height=256)
    assert emu.count(provider="together", method="POST") == 3
