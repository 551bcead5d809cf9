"""The built-in plugin registers every adapter; factories read keys and base URLs from settings; the
``providers`` command lists them with capabilities."""

from __future__ import annotations

import json

import httpx
import pytest
from click.testing import CliRunner

from goldenchain.cli.providers import COMMANDS, provider_rows, providers_cmd
from goldenchain.config import Settings
from goldenchain.errors import UsageError
from goldenchain.plugins.manager import Registry, make_plugin_manager
from goldenchain.providers import (
    FalFluxTextToImage,
    FalKlingImageToVideo,
    KlingImageToVideo,
    Provider,
    ReplicateFluxTextToImage,
    ReplicateKlingImageToVideo,
    TogetherFluxTextToImage,
)

SETTINGS = Settings(
    {
        "FAL_KEY": "fal-key-0123",
        "FAL_QUEUE_URL": "https://queue.fal.test",
        "KLING_ACCESS_KEY": "ak-0123",
        "KLING_SECRET_KEY": "sk-0123",
        "REPLICATE_API_TOKEN": "r8_0123",
        "REPLICATE_BASE_URL": "https://replicate.test",
        "TOGETHER_API_KEY": "tg-0123",
    }
)
EXPECTED = {
    ("fal", "t2i"): FalFluxTextToImage,
    ("kling", "i2v"): KlingImageToVideo,
    ("fal-kling", "i2v"): FalKlingImageToVideo,
    ("replicate", "t2i"): ReplicateFluxTextToImage,
    ("replicate-kling", "i2v"): ReplicateKlingImageToVideo,
    ("together", "t2i"): TogetherFluxTextToImage,
}


@pytest.fixture
def registry() -> Registry:
    return Registry(make_plugin_manager(entrypoints=False))


async def test_every_builtin_builds(registry: Registry) -> None:
    client = httpx.AsyncClient()
    for (name, kind), cls in EXPECTED.items():
        entry = registry.provider(name, kind)
        adapter = entry.factory(SETTINGS, client)
        assert isinstance(adapter, cls) and isinstance(adapter, Provider)
        assert (adapter.name, adapter.kind) == (name, kind) and entry.models
        await adapter.aclose()
    await client.aclose()


async def test_base_urls_from_settings_or_defaults(registry: Registry) -> None:
    rep = registry.provider("replicate", "t2i").factory(SETTINGS)
    assert rep.api.base_url == "https://replicate.test"
    tog = registry.provider("together", "t2i").factory(SETTINGS)
    assert tog.base_url == "https://api.together.xyz"
    fk = registry.provider("fal-kling", "i2v").factory(SETTINGS)
    assert fk.queue.queue_url == "https://queue.fal.test"
    for adapter in (rep, tog, fk):
        await adapter.aclose()


def test_missing_key_names_the_setting(registry: Registry) -> None:
    with pytest.raises(UsageError, match="TOGETHER_API_KEY"):
        registry.provider("together", "t2i").factory(Settings({}))
    with pytest.raises(UsageError, match="REPLICATE_API_TOKEN"):
        registry.provider("replicate-kling", "i2v").factory(Settings({}))


def test_provider_rows_carry_capabilities(registry: Registry) -> None:
    rows = {(r["name"], r["kind"]): r for r in provider_rows(registry)}
    assert set(EXPECTED) <= set(rows)
    for row in rows.values():
        for model in row["models"]:
            assert model["capabilities"] is not None, (row["name"], model["model"])
    fal_kling = rows[("fal-kling", "i2v")]["models"][0]["capabilities"]
    assert fal_kling["modes"] == ["pro"] and fal_kling["camera"] == []


def test_providers_command(monkeypatch: pytest.MonkeyPatch, registry: Registry) -> None:
    import goldenchain.plugins.manager as manager

    monkeypatch.setattr(manager, "get_registry", lambda **_: registry)
    assert [providers_cmd] == COMMANDS
    out = CliRunner().invoke(providers_cmd, ["--json"])
    assert out.exit_code == 0
    names = {(r["name"], r["kind"]) for r in json.loads(out.output)}
    assert set(EXPECTED) <= names
    table = CliRunner().invoke(providers_cmd, [])
    assert table.exit_code == 0 and "replicate-kling" in table.output and "together" in table.output
