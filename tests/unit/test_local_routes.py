"""The local routes' pure parts: presets picked from the GPU's memory, GPU-hour prices in the estimate and
the ledger, the GPU queue that only GPU workers serve. No torch needed."""

from __future__ import annotations

from pathlib import Path

import pytest

from goldenchain.catalog import apply_project_catalog
from goldenchain.core.models import GPU_RATE_KEY, active_catalog
from goldenchain.errors import ConfigError, UsageError
from goldenchain.orchestration.engine import GPU_QUEUE
from goldenchain.orchestration.worker import all_queues, queue_names
from goldenchain.orchestration.workflows import queue_name
from goldenchain.providers.local.models import FLUX_SPECS, GPU_USD_PER_HOUR, SVD_SPECS
from goldenchain.providers.local.presets import GiB, TooSmall, pick_preset, preset_named

SCHNELL, DEV = FLUX_SPECS
SVD = SVD_SPECS[0]


@pytest.mark.parametrize(
    ("family", "gib", "name"),
    [
        ("flux", 141, "flux-full"),  # H200
        ("flux", 80, "flux-full"),  # H100 / A100 80 GB
        ("flux", 40, "flux-full"),
        ("flux", 24, "flux-offload"),  # 4090 / A10
        ("flux", 16, "flux-sequential"),
        ("flux", 8, "flux-sequential"),
        ("svd", 80, "svd-full"),
        ("svd", 24, "svd-chunked"),
        ("svd", 16, "svd-offload"),
        ("svd", 12, "svd-offload"),
        ("svd", 8, "svd-low"),
    ],
)
def test_the_preset_follows_the_gpus_memory(family: str, gib: float, name: str) -> None:
    p = pick_preset(family, int(gib * GiB))
    assert p.name == name
    assert gib >= p.min_vram_gib
    if p.offload != "none":  # offloading only where the whole pipeline does not fit
        assert gib < 38


def test_memory_savers_grow_as_memory_shrinks() -> None:
    svd = [pick_preset("svd", int(g * GiB)) for g in (80, 24, 12, 8)]
    chunks = [p.decode_chunk_size for p in svd]
    assert chunks == sorted(chunks, reverse=True) and chunks[-1] == 2
    low = pick_preset("flux", 8 * GiB)
    assert (low.offload, low.attention_slicing, low.vae_tiling) == ("sequential", True, True)


def test_too_small_a_gpu_is_a_clear_error() -> None:
    with pytest.raises(TooSmall, match=r"4\.0 GiB; local flux needs at least 6 GiB"):
        pick_preset("flux", 4 * GiB)
    with pytest.raises(TooSmall, match="svd needs at least 7 GiB"):
        pick_preset("svd", 6 * GiB)


def test_older_gpus_get_float16_and_the_cpu_float32() -> None:
    assert pick_preset("flux", 80 * GiB, bf16=False).dtype == "float16"
    assert pick_preset("flux", 80 * GiB).dtype == "bfloat16"
    assert pick_preset("flux", None).dtype == "float32"
    assert preset_named("svd", "svd-low").decode_chunk_size == 2
    with pytest.raises(UsageError, match="unknown flux preset 'fast'"):
        preset_named("flux", "fast")


def test_local_work_is_priced_by_the_gpu_hour() -> None:
    # the estimate: the expected seconds at the default rate, or at the project's [prices] gpu_usd_per_hour
    assert SCHNELL.still_price(1824, 1024).usd == pytest.approx(GPU_USD_PER_HOUR * 4.0 / 3600, abs=1e-6)
    assert SCHNELL.still_price(1824, 1024, {GPU_RATE_KEY: 1.8}).usd == pytest.approx(
        1.8 * 4.0 / 3600, abs=1e-6
    )
    assert SVD.clip_price("pro", 5, {GPU_RATE_KEY: 1.8}).usd == pytest.approx(1.8 * 60 / 3600, abs=1e-6)
    # the ledger: the measured seconds; a model's own key wins over the project-wide rate
    assert DEV.actual_usd(36.0, "gpu_seconds", 0.02, {GPU_RATE_KEY: 3.0}) == (0.03, None)
    assert DEV.actual_usd(36.0, "gpu_seconds", 0.02, {GPU_RATE_KEY: 3.0, DEV.key: 6.0}) == (0.06, None)
    assert DEV.actual_usd(None, None, 0.02) == (0.02, None)  # no measurement: the estimate
    assert SCHNELL.price.short() == "$2.5/GPU-h" and SCHNELL.price_json()["expected_seconds"] == 4.0


def test_the_project_file_takes_a_gpu_rate(tmp_path: Path) -> None:
    path = tmp_path / "goldenchain.toml"
    apply_project_catalog(path, "[prices]\ngpu_usd_per_hour = 2.0\n", {}, {GPU_RATE_KEY: 2.0})
    with pytest.raises(ConfigError, match="not a positive number"):
        apply_project_catalog(path, "[prices]\ngpu_usd_per_hour = 0\n", {}, {GPU_RATE_KEY: 0.0})


def test_local_routes_wait_in_the_gpu_queue_that_default_workers_do_not_serve(tmp_path: Path) -> None:
    from goldenchain.config import load_project
    from goldenchain.templates import write_example

    assert queue_name("local-flux") == queue_name("local-svd") == GPU_QUEUE == "gc-gpu"
    assert queue_name("kling") == "gc-kling" and queue_name("gpu") == GPU_QUEUE
    write_example(tmp_path, shots=1)
    cfg = tmp_path / "goldenchain.toml"
    cfg.write_text(
        cfg.read_text().replace(
            'provider = "fal"\nmodel = "fal-ai/flux/dev"',
            'provider = "local-flux"\nmodel = "black-forest-labs/FLUX.1-schnell"',
        )
    )
    project = load_project(tmp_path)
    assert active_catalog().get("local-flux", "black-forest-labs/FLUX.1-schnell") is not None
    from goldenchain.orchestration.engine import provider_concurrency

    assert "local-flux" in provider_concurrency(project)
    # a worker started without --queues (a machine without a GPU, say) never takes a local take
    assert all_queues(project) == ["gc-shots", "gc-fal", "gc-kling"]
    assert queue_names(["gpu"]) == ["gc-gpu"] and queue_names(["shots", "gc-kling"]) == [
        "gc-shots",
        "gc-kling",
    ]
