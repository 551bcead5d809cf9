"""Fidelity: the official SDKs (fal-client 1.0.3, replicate 1.0.7, together 3.1.1), unchanged, as clients of
the emulator. Only loopback traffic."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest

from goldenchain.emulator import Emulator
from goldenchain.emulator.media import encode_image, render_still


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(scenario="clean", latency=0.15) as emulator:
        yield emulator


@pytest.fixture(scope="session")
def still_png() -> bytes:
    return encode_image(render_still("fidelity start frame", 5, 640, 360), "png")


@pytest.fixture(scope="session")
def still_data_url(still_png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(still_png).decode()
