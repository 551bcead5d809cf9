"""The example plugin in examples/goldenchain-echo-provider, registered with a pluggy manager by path
(no pip install), then driven through submit/poll/download."""

from __future__ import annotations

import importlib.util
import io
import sys
from pathlib import Path
from types import ModuleType

import pluggy
import pytest
from PIL import Image

from goldenchain.config import Settings
from goldenchain.plugins import hookspecs
from goldenchain.plugins.manager import Registry
from goldenchain.providers.base import CapabilityError, Provider, StillRequest, Succeeded

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "goldenchain-echo-provider"


def load_example() -> ModuleType:
    path = EXAMPLE / "goldenchain_echo_provider.py"
    spec = importlib.util.spec_from_file_location("goldenchain_echo_provider", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)
    spec.loader.exec_module(module)
    return module


def test_pyproject_declares_the_entry_point() -> None:
    import tomllib

    meta = tomllib.loads((EXAMPLE / "pyproject.toml").read_text())
    assert meta["project"]["entry-points"]["goldenchain"] == {"echo": "goldenchain_echo_provider"}


async def test_register_and_run() -> None:
    pm = pluggy.PluginManager("goldenchain")
    pm.add_hookspecs(hookspecs)
    pm.register(load_example(), name="goldenchain_echo_provider")
    registry = Registry(pm)
    entry = registry.provider("echo", "t2i")
    assert entry.models == ["echo-gradient"]
    provider = entry.factory(Settings({}), None)
    assert isinstance(provider, Provider)
    request = StillRequest("a red door", 64, 48, 7, "echo-gradient", "gc-echo-1")
    submitted = await provider.submit(request)
    status = await provider.poll(submitted)
    assert isinstance(status, Succeeded) and status.urls[0].startswith("data:image/png;base64,")
    png = await provider.download(status.urls[0])
    with Image.open(io.BytesIO(png)) as img:
        assert (img.format, img.size, img.mode) == ("PNG", (64, 48), "RGB")
        img.load()
    assert await provider.find_by_external_id("gc-echo-1") == submitted
    again = await provider.poll(await provider.submit(request))
    assert (
        isinstance(again, Succeeded) and await provider.download(again.urls[0]) == png
    )  # same seed, same picture
    with pytest.raises(CapabilityError):
        await provider.submit(StillRequest("x", 64, 48, 7, "other", "gc-echo-2"))
    await provider.aclose()
