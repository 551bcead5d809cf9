"""Fixtures for provider tests (helpers live in :mod:`goldenchain.providers.testing`)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from goldenchain.providers.base import ClipRequest
from goldenchain.providers.testing import RecordingSleep


def image_bytes(width: int, height: int, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (40, 80, 120)).save(buf, fmt)
    return buf.getvalue()


@pytest.fixture
def sleeps() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
def png_16x9() -> bytes:
    return image_bytes(1280, 720)


@pytest.fixture
def make_image():
    return image_bytes


@pytest.fixture
def clip(png_16x9: bytes) -> ClipRequest:
    """A valid Kling I2V request (kling-v1-6 pro 5 s, 16:9 PNG)."""
    return ClipRequest(
        prompt="slow push-in on the lighthouse",
        image=png_16x9,
        image_mime="image/png",
        duration=5,
        aspect="16:9",
        model="kling-v1-6",
        mode="pro",
        external_id="gc-0123456789abcdef0123456789abcdef",
    )
