"""Each adapter sends its callback with the create; the emulator POSTs it, signed, when the task ends; the
receiver checks it and wakes the waiting take; the confirming poll then finds the task ended. Real HTTP on
127.0.0.1 all the way (adapter -> emulator -> receiver)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Iterator

import pytest

from goldenchain.emulator import Emulator
from goldenchain.orchestration.hints import WebhookHub
from goldenchain.providers import FalFluxTextToImage, KlingImageToVideo
from goldenchain.providers.base import ClipRequest, Pending, StillRequest, Succeeded
from goldenchain.providers.replicate.t2i import ReplicateFluxTextToImage
from goldenchain.web.webhooks import WebhookKeys, WebhookReceiver


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(scenario="clean", latency=0.6) as e:
        yield e


@pytest.fixture
def hub() -> WebhookHub:
    return WebhookHub()


@pytest.fixture
def receiver(emu: Emulator, hub: WebhookHub) -> Iterator[WebhookReceiver]:
    r = WebhookReceiver(hub, WebhookKeys.from_values(emu.env())).start()
    yield r
    r.stop()


def _still(model: str, hook: str) -> StillRequest:
    return StillRequest(prompt="a lighthouse on a cliff at dusk", width=512, height=512, seed=7,
                        model=model, external_id="gc-hook-still-0001", callback_url=hook)  # fmt: skip


def _sent_body(emu: Emulator, marker: str) -> dict[str, object]:
    """The emulator's log entry of the one create request whose path has ``marker``."""
    hits = [e for e in emu.requests if e["method"] == "POST" and marker in e["path"]]
    assert len(hits) == 1, hits
    return hits[0]


async def _sent(emu: Emulator, provider: str, n: int) -> list[dict[str, object]]:
    """The callbacks the emulator recorded as sent to ``provider``, once there are ``n`` of them (the sender
    records one after the receiver has answered it, so a woken take may be a moment ahead of the record)."""
    for _ in range(400):
        sent = [c for c in emu.callbacks.sent if c["provider"] == provider]
        if len(sent) >= n:
            return sent
        await asyncio.sleep(0.05)
    return [c for c in emu.callbacks.sent if c["provider"] == provider]


async def _woken_then_confirmed(hub: WebhookHub, route: str, adapter: object, sub: object) -> Succeeded:
    assert hub.knows(route, sub.task_id)  # type: ignore[attr-defined]
    assert await hub.wait(route, sub.task_id, 20.0), "no callback woke the take"  # type: ignore[attr-defined]
    st = await adapter.poll(sub)  # type: ignore[attr-defined]
    assert isinstance(st, Succeeded), st
    return st


async def test_fal_submit_carries_fal_webhook_and_the_signed_callback_wakes(
    emu: Emulator, hub: WebhookHub, receiver: WebhookReceiver
) -> None:
    env = emu.env()
    adapter = FalFluxTextToImage(env["FAL_KEY"], queue_url=env["FAL_QUEUE_URL"])
    try:
        hook = f"{receiver.base_url}/hooks/fal"
        sub = await adapter.submit(_still("fal-ai/flux/dev", hook))
        create = _sent_body(emu, "/fal-queue/fal-ai/flux/dev")
        assert "fal_webhook=" in str(create["path"])
        hub.expect("fal", sub.task_id)
        await _woken_then_confirmed(hub, "fal", adapter, sub)
        sent = await _sent(emu, "fal", 1)
        assert sent and sent[-1]["status"] == 200 and sent[-1]["task_id"] == sub.task_id
    finally:
        await adapter.aclose()


async def test_replicate_create_carries_webhook_and_the_signed_callback_wakes(
    emu: Emulator, hub: WebhookHub, receiver: WebhookReceiver
) -> None:
    env = emu.env()
    adapter = ReplicateFluxTextToImage(env["REPLICATE_API_TOKEN"], base_url=env["REPLICATE_BASE_URL"])
    try:
        sub = await adapter.submit(
            _still("black-forest-labs/flux-dev", f"{receiver.base_url}/hooks/replicate")
        )
        prediction = emu.replicate.predictions[sub.task_id]
        assert prediction.fault is None
        hub.expect("replicate", sub.task_id)
        await _woken_then_confirmed(hub, "replicate", adapter, sub)
        sent = await _sent(emu, "replicate", 1)
        assert [c["status"] for c in sent] == [200]  # events filter "completed": one callback, at the end
    finally:
        await adapter.aclose()


async def test_kling_create_carries_callback_url_and_only_the_end_wakes(
    emu: Emulator, hub: WebhookHub, receiver: WebhookReceiver, clip: ClipRequest
) -> None:
    env = emu.env()
    adapter = KlingImageToVideo(
        env["KLING_ACCESS_KEY"], env["KLING_SECRET_KEY"], base_url=env["KLING_BASE_URL"]
    )
    try:
        hook = f"{receiver.base_url}/hooks/kling"
        request = dataclasses.replace(clip, callback_url=hook)
        sub = await adapter.submit(request)
        assert emu.kling.tasks[sub.task_id].body["callback_url"] == hook
        hub.expect("kling", sub.task_id)
        await _woken_then_confirmed(hub, "kling", adapter, sub)
        sent = await _sent(emu, "kling", 2)
        assert len(sent) == 2 and all(c["status"] == 200 for c in sent)  # "processing", then "succeed"
        assert hub.stats["hints"] == 1  # the status change short of the end woke nothing
    finally:
        await adapter.aclose()


async def test_without_a_callback_url_nothing_is_sent(emu: Emulator, hub: WebhookHub) -> None:
    env = emu.env()
    adapter = FalFluxTextToImage(env["FAL_KEY"], queue_url=env["FAL_QUEUE_URL"])
    try:
        sub = await adapter.submit(_still("fal-ai/flux/dev", None))  # type: ignore[arg-type]
        assert "fal_webhook" not in str(_sent_body(emu, "/fal-queue/fal-ai/flux/dev")["path"])
        assert not await hub.wait("fal", sub.task_id, 1.0)
        while isinstance(st := await adapter.poll(sub), Pending):
            pass
        assert isinstance(st, Succeeded) and emu.callbacks.sent == []
    finally:
        await adapter.aclose()


async def test_refused_callbacks_are_sent_again(
    emu: Emulator, hub: WebhookHub, receiver: WebhookReceiver
) -> None:
    """A provider retries a callback that was refused: one for a task not yet known is taken later."""
    env = emu.env()
    adapter = ReplicateFluxTextToImage(env["REPLICATE_API_TOKEN"], base_url=env["REPLICATE_BASE_URL"])
    try:
        sub = await adapter.submit(
            _still("black-forest-labs/flux-dev", f"{receiver.base_url}/hooks/replicate")
        )
        while not emu.callbacks.sent:  # the first try finds the task unknown: 404
            await asyncio.sleep(0.05)
        assert emu.callbacks.sent[0]["status"] == 404 and hub.stats["unknown"] >= 1
        hub.expect("replicate", sub.task_id)
        assert await hub.wait("replicate", sub.task_id, 20.0)
        while emu.callbacks.sent[-1]["status"] != 200:  # the answer is logged after the wake
            await asyncio.sleep(0.02)
        assert [c["status"] for c in emu.callbacks.sent].count(200) == 1
        body = json.dumps(emu.callbacks.sent)
        assert env["REPLICATE_WEBHOOK_SECRET"] not in body
    finally:
        await adapter.aclose()
