"""replicate 1.0.7 against the emulator's ``/replicate`` mount (providers.md §3.6, §5.3)."""

from __future__ import annotations

import io
import time

import httpx
import pytest
import replicate
from PIL import Image
from replicate.exceptions import ModelError, ReplicateError

from goldenchain.emulator import Emulator, Fault
from goldenchain.emulator.replicate import version_id

FLUX = "black-forest-labs/flux-dev"
KLING = "kwaivgi/kling-v2.1"


def client(emu: Emulator) -> replicate.Client:
    env = emu.env()
    c = replicate.Client(api_token=env["REPLICATE_API_TOKEN"], base_url=env["REPLICATE_BASE_URL"])
    c.poll_interval = 0.03
    return c


def _url(item: object) -> str:
    return str(getattr(item, "url", item))


def test_predictions_create_wait_reload(emu: Emulator) -> None:
    c = client(emu)
    p = c.models.predictions.create(
        model=FLUX, input={"prompt": "a fox", "megapixels": "0.25", "output_format": "png", "seed": 3}
    )
    assert p.status == "starting" and p.output is None and p.urls and p.urls["get"].endswith(p.id)
    assert p.version == version_id(FLUX) and p.model == FLUX
    p.wait()
    assert p.status == "succeeded" and isinstance(p.output, list) and len(p.output) == 1
    assert p.metrics and p.metrics["predict_time"] > 0 and p.completed_at
    with Image.open(io.BytesIO(httpx.get(p.output[0]).content)) as img:
        assert img.format == "PNG" and img.size == (512, 512)
    again = c.predictions.get(p.id)
    assert again.status == "succeeded" and again.logs and "28/28" in again.logs
    assert emu.count(provider="replicate", accepted_creates=True) == 1


def test_create_by_version(emu: Emulator) -> None:
    c = client(emu)
    p = c.predictions.create(version=version_id(FLUX), input={"prompt": "a bridge", "megapixels": "0.25"})
    p.wait()
    assert p.status == "succeeded" and _url(p.output[0]).endswith(".webp")
    with pytest.raises(ReplicateError) as err:
        c.predictions.create(version="0" * 64, input={"prompt": "x"})
    assert err.value.status == 422


def test_run_flux_blocks_with_prefer_wait(emu: Emulator) -> None:
    out = client(emu).run(
        FLUX, input={"prompt": "a lighthouse", "megapixels": "0.25", "aspect_ratio": "16:9"}
    )
    assert isinstance(out, list) and len(out) == 1
    with Image.open(io.BytesIO(httpx.get(_url(out[0])).content)) as img:
        assert img.format == "WEBP" and img.size == (672, 384)
    # Prefer: wait answered with the finished prediction, so the client did not poll
    assert emu.count(provider="replicate", method="GET") == 0


def test_run_kling_polls_when_the_wait_window_expires(still_data_url: str) -> None:
    with Emulator(scenario="clean", latency=1.6) as emu:
        c = client(emu)
        t0 = time.monotonic()
        out = c.run(KLING, input={"prompt": "slow push-in", "start_image": still_data_url, "duration": 5},
                    wait=1)  # fmt: skip
        assert time.monotonic() - t0 >= 1.5
        assert emu.count(provider="replicate", method="GET") >= 1  # "starting" after 1 s: polled
        assert isinstance(out, str) and out.endswith(".mp4")  # one URL string for Kling models
        data = httpx.get(out, timeout=30).content
        assert data[4:8] == b"ftyp"


def test_cancel(emu: Emulator) -> None:
    emu.plan.faults.append(Fault("replicate", "task", 1, "stuck"))
    c = client(emu)
    p = c.models.predictions.create(model=FLUX, input={"prompt": "x", "megapixels": "0.25"})
    p.cancel()
    assert p.status == "canceled"
    p.wait()
    assert p.status == "canceled"


def test_errors(emu: Emulator) -> None:
    emu.plan.faults.extend(
        [
            Fault("replicate", "create", 1, "rate_limit"),
            Fault("replicate", "create", 2, "billing"),
            Fault("replicate", "task", 1, "nsfw"),
            Fault("replicate", "poll", 1, "unavailable"),
        ]
    )
    c = client(emu)
    with pytest.raises(ReplicateError) as limited:  # POST is not retried by the client
        c.run(FLUX, input={"prompt": "x"})
    assert limited.value.status == 429 and "throttled" in str(limited.value.detail)
    with pytest.raises(ReplicateError) as billing:
        c.run(FLUX, input={"prompt": "x"})
    assert billing.value.status == 402 and billing.value.title == "Insufficient credit"
    with pytest.raises(ModelError) as nsfw:  # the 503 on the first poll is retried by the client
        c.run(FLUX, input={"prompt": "x", "megapixels": "0.25"}, wait=False)
    assert "NSFW" in str(nsfw.value) and nsfw.value.prediction.status == "failed"
    with pytest.raises(ReplicateError) as invalid:
        c.run(FLUX, input={"prompt": "x", "num_outputs": 9})
    assert invalid.value.status == 422 and "num_outputs" in str(invalid.value.detail)
    with pytest.raises(ReplicateError) as missing:
        c.run("nobody/nothing", input={"prompt": "x"})
    assert missing.value.status == 404
    bad = replicate.Client(api_token="r8_wrong", base_url=emu.env()["REPLICATE_BASE_URL"])
    with pytest.raises(ReplicateError) as auth:
        bad.predictions.get("abc")
    assert auth.value.status == 401


def test_data_removed(emu: Emulator) -> None:
    emu.plan.faults.append(Fault("replicate", "task", 1, "data_removed"))
    c = client(emu)
    p = c.models.predictions.create(model=FLUX, input={"prompt": "x", "megapixels": "0.25"})
    p.wait()
    assert p.status == "succeeded" and p.output is None
    raw = httpx.get(
        p.urls["get"], headers={"Authorization": f"Bearer {emu.env()['REPLICATE_API_TOKEN']}"}
    ).json()
    assert raw["data_removed"] is True
