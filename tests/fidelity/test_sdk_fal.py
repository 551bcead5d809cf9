"""fal-client 1.0.3 against the emulator's fal queue and run mounts (providers.md §2.8)."""

from __future__ import annotations

import io
from collections.abc import Iterator

import fal_client
import fal_client.client as fal_mod
import httpx
import pytest
from PIL import Image

from goldenchain.emulator import Emulator, Fault
from tests.emulator.clock import TickingClock


@pytest.fixture
def fal(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[fal_client.SyncClient]:
    env = emu.env()
    monkeypatch.setattr(fal_mod, "QUEUE_URL_FORMAT", env["FAL_QUEUE_URL"] + "/")
    monkeypatch.setattr(fal_mod, "RUN_URL_FORMAT", env["FAL_RUN_URL"] + "/")
    yield fal_client.SyncClient(key=env["FAL_KEY"])


FLUX = {"prompt": "a lighthouse at dusk", "image_size": {"width": 320, "height": 192}, "seed": 9}


def test_submit_status_result(fal: fal_client.SyncClient, emu: Emulator) -> None:
    handle = fal.submit("fal-ai/flux/dev", arguments={**FLUX, "output_format": "png"})
    assert handle.status_url.endswith(f"/fal-ai/flux/requests/{handle.request_id}/status")
    first = handle.status(with_logs=True)
    assert isinstance(first, fal_client.Queued | fal_client.InProgress | fal_client.Completed)
    seen = [type(s).__name__ for s in handle.iter_events(with_logs=True, interval=0.02)]
    assert seen[-1] == "Completed"
    status = fal.status("fal-ai/flux/dev", handle.request_id, with_logs=True)
    assert isinstance(status, fal_client.Completed) and status.metrics["inference_time"] > 0
    out = fal.result("fal-ai/flux/dev", handle.request_id)
    image = out["images"][0]
    assert (image["width"], image["height"], image["content_type"]) == (320, 192, "image/png")
    assert out["seed"] == 9 and out["has_nsfw_concepts"] == [False]
    with Image.open(io.BytesIO(httpx.get(image["url"]).content)) as img:
        assert img.size == (320, 192)
    assert emu.count(provider="fal", accepted_creates=True) == 1


def test_subscribe_with_logs_and_queue_updates(fal: fal_client.SyncClient, emu: Emulator) -> None:
    TickingClock(emu, emu.latency / 4)  # every poll a quarter of the way on: queued, in progress, completed
    updates: list[object] = []
    enqueued: list[str] = []
    out = fal.subscribe(
        "fal-ai/flux/schnell",
        arguments=FLUX,
        with_logs=True,
        interval=0.02,
        on_enqueue=enqueued.append,
        on_queue_update=updates.append,
    )
    assert enqueued and out["images"][0]["content_type"] == "image/jpeg"
    assert isinstance(updates[-1], fal_client.Completed)
    assert any(isinstance(u, fal_client.InProgress) and u.logs for u in updates)


def test_run_sync_and_kling_clip(fal: fal_client.SyncClient, still_data_url: str) -> None:
    out = fal.run("fal-ai/flux/dev", arguments=FLUX)
    assert out["images"][0]["url"].startswith("http://127.0.0.1:")
    clip = fal.subscribe(
        "fal-ai/kling-video/v1.6/pro/image-to-video",
        arguments={"prompt": "slow push-in", "image_url": still_data_url, "duration": "5"},
        interval=0.02,
    )
    video = clip["video"]
    assert video["content_type"] == "video/mp4" and video["file_size"] > 1000
    assert httpx.get(video["url"], timeout=30).content[4:8] == b"ftyp"


def test_cancel(fal: fal_client.SyncClient, emu: Emulator) -> None:
    emu.plan.faults.append(Fault("fal", "task", 1, "stuck"))
    handle = fal.submit("fal-ai/flux/dev", arguments=FLUX)
    handle.cancel()  # 202 CANCELLATION_REQUESTED
    final = handle.status()
    assert isinstance(final, fal_client.Completed) and final.error == "Request was cancelled"


def test_422_invalid_input_raises_http_error_with_detail(fal: fal_client.SyncClient) -> None:
    with pytest.raises(fal_client.client.FalClientHTTPError) as sync_err:
        fal.run("fal-ai/flux/dev", arguments={"image_size": "huge"})
    assert sync_err.value.status_code == 422
    assert isinstance(sync_err.value.response.json()["detail"], list)
    handle = fal.submit("fal-ai/flux/dev", arguments={"prompt": "x", "num_images": 9})
    with pytest.raises(fal_client.client.FalClientHTTPError) as queued_err:
        handle.get(interval=0.02)  # COMPLETED, then the result GET answers 422
    err = queued_err.value
    assert err.status_code == 422 and err.error_type is None
    assert "num_images" in str(err.message)


def test_content_policy_and_balance(fal: fal_client.SyncClient, emu: Emulator) -> None:
    emu.plan.faults.extend([Fault("fal", "task", 1, "content_policy"), Fault("fal", "create", 2, "billing")])
    with pytest.raises(fal_client.client.FalClientHTTPError) as policy:
        fal.subscribe("fal-ai/flux/dev", arguments=FLUX, interval=0.02)
    assert policy.value.status_code == 422
    assert policy.value.response.json()["detail"][0]["type"] == "content_policy_violation"
    with pytest.raises(fal_client.client.FalClientHTTPError) as balance:
        fal.submit("fal-ai/flux/dev", arguments=FLUX)
    assert balance.value.status_code == 403 and "Exhausted balance" in str(balance.value.message)


def test_transient_429_is_retried_by_the_client(fal: fal_client.SyncClient, emu: Emulator) -> None:
    emu.plan.faults.append(Fault("fal", "create", 1, "rate_limit"))
    handle = fal.submit("fal-ai/flux/dev", arguments=FLUX)  # fal-client retries 429 itself
    assert handle.request_id
    assert emu.count(provider="fal", method="POST") == 2
    assert emu.count(provider="fal", accepted_creates=True) == 1
