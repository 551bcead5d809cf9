from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from goldenchain.config import CameraSpec, ShotSpec
from goldenchain.core.rules import lint_shot

GOOD = "Medium shot of a potter at a wheel, neutral overcast lighting, simple background, 35mm lens"


def _lint(shot: ShotSpec, model: str = "kling-v1-5", mode: str = "pro") -> dict[str, str]:
    fs = lint_shot(
        shot,
        still_provider="fal",
        still_model="fal-ai/flux/dev",
        video_provider="kling",
        video_model_id=model,
        video_mode=mode,
    )
    return {f.rule: f.severity for f in fs}


def test_golden_prompt_is_clean() -> None:
    assert _lint(ShotSpec(id="a", prompt=GOOD, motion=15, camera=CameraSpec(horizontal=3))) == {}


def test_still_image_phrases_are_errors() -> None:
    r = _lint(ShotSpec(id="a", prompt=GOOD + ", trending on ArtStation, 8k", motion=15))
    assert r["still-image-phrase"] == "error"


def test_missing_lens_light_background() -> None:
    r = _lint(ShotSpec(id="a", prompt="A dragon", motion=15))
    assert r["lens"] == "warning" and r["soft-light"] == "warning" and r["simple-background"] == "warning"


def test_camera_policy_and_capabilities() -> None:
    r = _lint(ShotSpec(id="a", prompt=GOOD, motion=15, camera=CameraSpec(horizontal=3, zoom=2)))
    assert r["camera-one-axis"] == "error"
    r = _lint(ShotSpec(id="a", prompt=GOOD, motion=15, camera=CameraSpec(horizontal=3)), model="kling-v1-6")
    assert r["camera-unsupported"] == "error"
    r = _lint(ShotSpec(id="a", prompt=GOOD, motion=15, duration=7))
    assert r["capability"] == "error"
    r = _lint(ShotSpec(id="a", prompt=GOOD, motion=15, camera=CameraSpec(rotation=2)))
    assert r["camera-rotation"] == "error"


def test_motion_by_scene() -> None:
    assert _lint(ShotSpec(id="a", prompt=GOOD, scene="environment", motion=70))["motion-too-high"] == "error"
    assert _lint(ShotSpec(id="a", prompt=GOOD, scene="portrait", motion=45))["motion-band"] == "warning"


@given(
    h=st.integers(-10, 10),
    v=st.integers(-10, 10),
    z=st.integers(-10, 10),
    rot=st.integers(-10, 10),
    motion=st.integers(0, 100),
)
def test_policy_property_more_than_one_axis_is_never_accepted(
    h: int, v: int, z: int, rot: int, motion: int
) -> None:
    shot = ShotSpec(
        id="a", prompt=GOOD, motion=motion, camera=CameraSpec(horizontal=h, vertical=v, zoom=z, rotation=rot)
    )
    r = _lint(shot)
    nonzero = sum(1 for x in (h, v, z, rot) if x)
    if nonzero > 1:
        assert r.get("camera-one-axis") == "error"
    else:
        assert "camera-one-axis" not in r


def test_video_prompt_limit_from_the_matrix() -> None:
    shot = ShotSpec(id="a", prompt=GOOD, motion=15, video_prompt="slow pan " * 300)
    assert _lint(shot)["prompt-too-long"] == "error"
