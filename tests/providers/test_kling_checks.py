"""Kling I2V ``check_inputs``: concise refusals before any spend (providers.md §1.4, §1.6)."""

from __future__ import annotations

from typing import Any

import pytest

from goldenchain.errors import InvalidInput
from goldenchain.providers import KlingImageToVideo
from goldenchain.providers.base import Camera, CapabilityError, ClipRequest, Provider
from goldenchain.providers.testing import RecordingSleep, Script, json_response


def kling(script: Script, sleeps: RecordingSleep) -> KlingImageToVideo:
    return KlingImageToVideo(
        "ak-test", "sk-test-0123456789-0123456789-0123", client=script.client(), sleep=sleeps
    )


def ok(data: Any) -> Any:
    return json_response(200, {"code": 0, "data": data})


def with_(clip: ClipRequest, **kw: Any) -> ClipRequest:
    return ClipRequest(**{**clip.__dict__, **kw})


# -- check_inputs -----------------------------------------------------------------------------------------


def test_is_a_provider(sleeps: RecordingSleep) -> None:
    provider = kling(Script(ok({})), sleeps)
    assert isinstance(provider, Provider)
    assert (provider.name, provider.kind, provider.lookup_by_external_id) == ("kling", "i2v", True)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"model": "kling-v9"}, "unknown kling image-to-video model"),
        ({"mode": "turbo"}, "mode"),
        ({"model": "kling-v2-5-turbo", "mode": "std"}, "pro"),
        ({"duration": 7}, "5 or 10"),
        ({"duration": "5"}, "5 or 10"),
        ({"prompt": "x" * 2501}, "2500"),
        ({"negative_prompt": "x" * 2501}, "2500"),
        ({"cfg_scale": 1.5}, "cfg_scale"),
        ({"motion": 50}, "motion"),
        ({"aspect": "4:3"}, "aspect"),
        ({"aspect": "9:16"}, "does not match"),
        ({"image": b"not an image"}, "PNG or JPEG"),
        ({"image_mime": "image/jpeg"}, "image_mime"),
        ({"camera": Camera(zoom=5)}, "has no camera control"),
        ({"external_id": ""}, "external_id"),
    ],
)
def test_check_inputs_refuses(
    clip: ClipRequest, sleeps: RecordingSleep, change: dict[str, Any], words: str
) -> None:
    provider = kling(Script(ok({})), sleeps)
    with pytest.raises(CapabilityError) as info:
        provider.check_inputs(with_(clip, **change))
    assert words in str(info.value)
    assert isinstance(info.value, InvalidInput) and isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("size", "words"),
    [((299, 299), "at least 300"), ((1000, 300), "aspect range"), ((900, 400), "does not match")],
)
def test_check_inputs_image_geometry(
    clip: ClipRequest, sleeps: RecordingSleep, make_image: Any, size: tuple[int, int], words: str
) -> None:
    provider = kling(Script(ok({})), sleeps)
    aspect = "1:1" if size[0] == size[1] else "16:9"
    with pytest.raises(CapabilityError, match=words):
        provider.check_inputs(with_(clip, image=make_image(*size), aspect=aspect))


def test_check_inputs_image_too_large(clip: ClipRequest, sleeps: RecordingSleep) -> None:
    with pytest.raises(CapabilityError, match="10 MB"):
        kling(Script(ok({})), sleeps).check_inputs(with_(clip, image=clip.image + b"\0" * (10 * 1024 * 1024)))


def test_check_inputs_accepts_jpeg(clip: ClipRequest, sleeps: RecordingSleep, make_image: Any) -> None:
    kling(Script(ok({})), sleeps).check_inputs(
        with_(clip, image=make_image(720, 1280, "JPEG"), image_mime="image/jpg", aspect="9:16")
    )


@pytest.mark.parametrize(
    ("camera", "words"),
    [
        (Camera(horizontal=2, zoom=3), "one axis at a time"),
        (Camera(), "no movement"),
        (Camera(zoom=11), "outside -10..10"),
    ],
)
def test_camera_must_move_exactly_one_axis(
    clip: ClipRequest, sleeps: RecordingSleep, camera: Camera, words: str
) -> None:
    capable = with_(clip, model="kling-v1-5", mode="pro", duration=5, camera=camera)
    with pytest.raises(CapabilityError, match=words):
        kling(Script(ok({})), sleeps).check_inputs(capable)


@pytest.mark.parametrize(
    ("model", "mode", "duration"),
    [("kling-v1-5", "std", 5), ("kling-v1-5", "pro", 10), ("kling-v2-1", "pro", 5)],
)
def test_camera_only_on_v1_5_pro_5s(
    clip: ClipRequest, sleeps: RecordingSleep, model: str, mode: str, duration: int
) -> None:
    with pytest.raises(CapabilityError, match="no camera control"):
        kling(Script(ok({})), sleeps).check_inputs(
            with_(clip, model=model, mode=mode, duration=duration, camera=Camera(zoom=2))
        )
