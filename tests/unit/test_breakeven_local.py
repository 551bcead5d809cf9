"""``costs breakeven`` from the ledger's own figures: the API routes' real price per still against a GPU of
ours, whose real speed comes from the local stills' measured GPU seconds and whose price is the project's
``[prices] gpu_usd_per_hour``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from goldenchain.cli import main
from goldenchain.config import load_project
from goldenchain.providers.local.models import GPU_USD_PER_HOUR
from goldenchain.store.db import Database
from goldenchain.store.ledger import BudgetCaps, Ledger
from goldenchain.templates import write_example


def _cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as e:
        main(args)
    out = capsys.readouterr()
    return int(e.value.code or 0), out.out, out.err


def _paid_still(
    led: Ledger, project: str, n: int, provider: str, cost: float, units: float, unit: str
) -> None:
    t = led.get_or_create_take(
        f"k{n}", project_id=project, shot_id="s01", stage="still", take_no=n, provider=provider,
        model="m", request={"n": n}, estimate_usd=cost,
    )  # fmt: skip
    led.begin_submit(t.id, None, "acme", BudgetCaps())
    led.record_submitted(t.id, f"task-{n}", {})
    led.record_downloaded(
        t.id, sha256=f"{n:064x}", rel_path=f"artifacts/{n}.png", size=1, mime="image/png", meta={},
        kind="still", cost_usd=cost, credits=None, billed_units=units, unit=unit, result_url=None,
    )  # fmt: skip


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write_example(tmp_path, shots=1)
    cfg = tmp_path / "goldenchain.toml"
    cfg.write_text(cfg.read_text().replace("[prices]  ", "[prices]\ngpu_usd_per_hour = 3.0\n#"))
    p = load_project(tmp_path)
    led = Ledger(Database(p.database_url))
    led.ensure_project(p.id, "acme", str(tmp_path), [{"id": "s01", "prompt": "x"}])
    # two API stills at $0.025 and $0.035; three local ones that held the GPU 9, 10 and 11 s
    _paid_still(led, p.id, 1, "fal", 0.025, 1.87, "megapixels")
    _paid_still(led, p.id, 2, "fal", 0.035, 1.87, "megapixels")
    for n, secs in ((3, 9.0), (4, 10.0), (5, 11.0)):
        _paid_still(led, p.id, n, "local-flux", round(secs * 3.0 / 3600, 6), secs, "gpu_seconds")
    led.db.dispose()
    return tmp_path


def test_breakeven_reads_both_sides_from_the_ledger(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, stdout, err = _cli(["costs", "breakeven", str(project), "--json"], capsys)
    assert code == 0, err
    out = json.loads(stdout)
    assert out["api_usd_per_image"] == pytest.approx(0.03)  # the API stills only
    assert out["stills"] == 2 and (out["gpu_usd_per_hour"], out["gpu_price_from"]) == (3.0, "project")
    assert out["local_stills"] == 3 and out["local_gpu_seconds_per_image"] == pytest.approx(10.0)
    assert out["gpu_images_per_hour"] == pytest.approx(360.0) and out["gpu_speed_from"] == "ledger"
    assert out["gpu_usd_per_image"] == pytest.approx(3.0 / 360)
    assert out["local_usd_per_image"] == pytest.approx(3.0 * 10 / 3600, abs=1e-6)
    assert out["breakeven_images_per_hour"] == pytest.approx(100.0) and out["cheaper"] == "gpu"
    text = " ".join(_cli(["costs", "breakeven", str(project)], capsys)[1].split())
    assert "3 local stills, 10.0 GPU-s each (360 an hour busy)" in text


def test_flags_win_and_the_catalog_rate_is_the_default(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [
        "costs",
        "breakeven",
        str(project),
        "--gpu-usd-per-hour",
        "36",
        "--images-per-hour",
        "60",
        "--json",
    ]
    out = json.loads(_cli(args, capsys)[1])
    assert (out["gpu_usd_per_image"], out["cheaper"], out["gpu_speed_from"]) == (0.6, "api", "flag")
    bare = tmp_path / "bare"  # no [prices] gpu_usd_per_hour: the rate the ledger bills local takes at
    write_example(bare, shots=1)
    out = json.loads(
        _cli(["costs", "breakeven", str(bare), "--api-usd-per-image", "0.025", "--json"], capsys)[1]
    )
    assert (out["gpu_usd_per_hour"], out["gpu_price_from"]) == (GPU_USD_PER_HOUR, "catalog")
    code, _, err = _cli(["costs", "breakeven", str(bare)], capsys)  # no API still paid for yet
    assert code == 2 and "give --api-usd-per-image" in err
