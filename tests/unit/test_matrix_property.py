"""One capability matrix: lint (before spend) and the Kling adapter (before submit) agree on every
model / mode / duration / camera combination."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from goldenchain.config import CameraSpec, ShotSpec
from goldenchain.core.capabilities import VIDEO_MODELS
from goldenchain.core.rules import lint_shot
from goldenchain.errors import InvalidInput
from goldenchain.providers.base import Camera, ClipRequest
from goldenchain.providers.kling.i2v import KlingImageToVideo

KLING = sorted(m for (p, m) in VIDEO_MODELS if p == "kling")
GOOD = "Medium shot of a potter at a wheel, neutral overcast lighting, simple background, 35mm lens"


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (1824, 1024), (90, 110, 130)).save(buf, "PNG")
    return buf.getvalue()


PNG = _png()
ADAPTER = KlingImageToVideo("ak-test", "sk-test-secret-key-0123456789abcdef", base_url="http://127.0.0.1:9")

axis = st.sampled_from([0, 0, 0, 2, -3])


@settings(max_examples=150, deadline=None)
@given(
    model=st.sampled_from([*KLING, "kling-v9"]),
    mode=st.sampled_from(["std", "pro", "turbo"]),
    duration=st.sampled_from([5, 10, 7]),
    h=axis,
    v=axis,
    z=axis,
    rot=axis,
)
def test_lint_and_adapter_agree(
    model: str, mode: str, duration: int, h: int, v: int, z: int, rot: int
) -> None:
    cam = CameraSpec(horizontal=h, vertical=v, zoom=z, rotation=rot)
    shot = ShotSpec(id="a", prompt=GOOD, motion=15, duration=duration, camera=cam)
    findings = lint_shot(
        shot,
        still_provider="fal",
        still_model="fal-ai/flux/dev",
        video_provider="kling",
        video_model_id=model,
        video_mode=mode,
    )
    lint_refuses = any(
        f.severity == "error" and f.rule in ("capability", "camera-unsupported", "camera-one-axis")
        for f in findings
    )
    req = ClipRequest(
        prompt=GOOD,
        image=PNG,
        image_mime="image/png",
        duration=duration,
        aspect="16:9",
        model=model,
        mode=mode,
        external_id="gc-x",
        camera=Camera(h, v, z, rot) if any((h, v, z, rot)) else None,
    )
    try:
        ADAPTER.check_inputs(req)
        adapter_refuses = False
    except InvalidInput:
        adapter_refuses = True
    assert lint_refuses == adapter_refuses, (findings, model, mode, duration, (h, v, z, rot))
