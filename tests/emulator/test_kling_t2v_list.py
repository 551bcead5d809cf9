"""Kling text-to-video and the task list, through the real adapter against the emulator."""

from __future__ import annotations

import asyncio

import pytest

from goldenchain.emulator import Emulator
from goldenchain.errors import InvalidInput
from goldenchain.providers.base import Camera, Pending, Succeeded, TextClipRequest
from goldenchain.providers.kling.t2v import KlingTextToVideo


async def _run(emu: Emulator) -> tuple[Succeeded, bytes, list[dict], object]:
    env = emu.env()
    k = KlingTextToVideo(env["KLING_ACCESS_KEY"], env["KLING_SECRET_KEY"], base_url=env["KLING_BASE_URL"])
    try:
        req = TextClipRequest(
            prompt="a calm lake at dawn, slow pan",
            duration=5,
            aspect="16:9",
            model="kling-v1",
            mode="std",
            external_id="gc-t2v-1",
            camera=Camera(horizontal=3),
        )
        sub = await k.submit(req)
        found = await k.find_by_external_id("gc-t2v-1")
        for _ in range(100):
            st = await k.poll(sub)
            if not isinstance(st, Pending):
                break
            await asyncio.sleep(0.1)
        assert isinstance(st, Succeeded)
        data = await k.download(st.urls[0])
        listed = await k.list_tasks(1, 10)
        return st, data, listed, found
    finally:
        await k.aclose()


def test_text_to_video_create_poll_list() -> None:
    with Emulator(host="127.0.0.1", port=0, scenario="clean", latency=0.2) as emu:
        st, data, listed, found = asyncio.run(_run(emu))
        assert data[4:8] == b"ftyp"
        assert st.billed_units and st.unit == "credits"
        assert found is not None and listed and listed[0]["task_info"]["external_task_id"] == "gc-t2v-1"
        creates = [r for r in emu.requests if r.get("accepted")]
        assert len(creates) == 1 and creates[0]["path"].endswith("/v1/videos/text2video")


def test_text_to_video_capabilities() -> None:
    k = KlingTextToVideo("ak", "sk-0123456789abcdef0123456789abcdef", base_url="http://127.0.0.1:9")
    ok = TextClipRequest(
        prompt="x", duration=5, aspect="16:9", model="kling-v1-6", mode="pro", external_id="e"
    )
    k.check_inputs(ok)
    body = k.build_body(ok)
    assert body["duration"] == "5" and body["aspect_ratio"] == "16:9" and "image" not in body
    with pytest.raises(InvalidInput, match="camera control"):
        k.check_inputs(
            TextClipRequest(
                prompt="x",
                duration=5,
                aspect="16:9",
                model="kling-v1-6",
                mode="pro",
                external_id="e",
                camera=Camera(zoom=2),
            )
        )
    with pytest.raises(InvalidInput, match="aspect"):
        k.check_inputs(
            TextClipRequest(
                prompt="x", duration=5, aspect="4:3", model="kling-v1", mode="std", external_id="e"
            )
        )


def test_every_text_to_video_model_runs_and_bills_as_its_spec_says() -> None:
    """Each Kling text-to-video spec, through the adapter against the emulator: Kling's own
    final_unit_deduction, read with the spec's price rule, is the spec's price for that clip."""
    from goldenchain.core.models import ModelSpec, active_catalog

    specs = active_catalog().route("kling", "t2v")
    assert len(specs) == 6

    async def one(emu: Emulator, spec: ModelSpec, i: int) -> Succeeded:
        env = emu.env()
        k = KlingTextToVideo(env["KLING_ACCESS_KEY"], env["KLING_SECRET_KEY"], base_url=env["KLING_BASE_URL"])
        try:
            req = TextClipRequest(
                prompt="a calm lake at dawn",
                duration=10,
                aspect="9:16",
                model=spec.model,
                mode=spec.modes[-1],
                external_id=f"gc-t2v-spec-{i}",
            )
            sub = await k.submit(req)
            for _ in range(100):
                st = await k.poll(sub)
                if not isinstance(st, Pending):
                    break
                await asyncio.sleep(0.05)
            assert isinstance(st, Succeeded)
            return st
        finally:
            await k.aclose()

    with Emulator(host="127.0.0.1", port=0, scenario="clean", latency=0.1) as emu:
        for i, spec in enumerate(specs):
            st = asyncio.run(one(emu, spec, i))
            price = spec.clip_price(spec.modes[-1], 10)
            assert st.unit == "credits" and st.billed_units == price.credits, spec.model
            assert spec.actual_usd(st.billed_units, st.unit, 0.0) == (price.usd, price.credits)
