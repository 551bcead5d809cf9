"""The CLI's contract: one-line errors with exit 2, JSON shapes, exit 1 on rejects."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from goldenchain.cli import main


def call(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as ei:
        main(args)
    out, err = capsys.readouterr()
    return int(ei.value.code or 0), out, err


def test_unknown_option_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = call(["run", "--bogus"], capsys)
    assert code == 2
    assert err.strip().count("\n") == 0 and "bogus" in err and "Traceback" not in err


def test_init_then_lint_and_estimate_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert call(["init", str(tmp_path / "p")], capsys)[0] == 0
    code, out, _ = call(["lint", str(tmp_path / "p"), "--json"], capsys)
    assert code == 0 and json.loads(out) == []
    code, out, _ = call(["estimate", str(tmp_path / "p"), "--json"], capsys)
    est = json.loads(out)
    assert code == 0
    assert set(est["by_shot"]) == {"s01", "s02", "s03", "s04"}
    assert est["by_provider"]["kling"] == pytest.approx(4 * 0.49)
    assert est["total_usd"] == pytest.approx(4 * (0.49 + 0.05))


def test_lint_error_blocks_run_without_spend(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    call(["init", str(tmp_path)], capsys)
    shots = tmp_path / "shots.yaml"
    shots.write_text(shots.read_text().replace("35mm lens", "35mm lens, trending on ArtStation", 1))
    code, out, _ = call(["lint", str(tmp_path), "--json"], capsys)
    assert code == 1
    assert {"shot": "s01", "rule": "still-image-phrase"}.items() <= json.loads(out)[0].items()
    code, _, err = call(["run", str(tmp_path)], capsys)
    assert code == 2 and "lint error" in err and "--force" in err
    assert not (tmp_path / ".goldenchain" / "state.db").exists()


def test_invalid_project_file_exit_2_names_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    call(["init", str(tmp_path)], capsys)
    shots = tmp_path / "shots.yaml"
    shots.write_text(shots.read_text().replace('aspect: "16:9"', 'aspect: "4:3"', 1))
    code, _, err = call(["status", str(tmp_path)], capsys)
    assert code == 2
    assert "shots.yaml:" in err and "shots[0].aspect" in err and "Traceback" not in err


def test_gate_json_and_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(0)
    good = (rng.random((1024, 1824, 3)) * 255).astype("uint8")
    Image.fromarray(good).save(tmp_path / "good.png")
    Image.fromarray((good // 12).astype("uint8")).save(tmp_path / "dark.png")
    (tmp_path / "bad.png").write_bytes(b"not an image")
    code, out, _ = call(["gate", str(tmp_path / "dark.png"), "--json", "--aspect", "16:9"], capsys)
    (rep,) = json.loads(out)
    assert code == 1 and rep["verdict"] == "reject"
    names = {c["name"]: c for c in rep["checks"]}
    assert names["exposure"]["verdict"] == "reject"
    assert set(names["exposure"]) == {"name", "verdict", "score", "threshold", "direction", "message"}
    code, out, _ = call(["gate", str(tmp_path / "bad.png"), "--json"], capsys)
    assert code == 2 and json.loads(out)[0]["verdict"] == "error"


def test_qc_unreadable_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "x.mp4").write_bytes(b"\x00" * 100)
    code, out, _ = call(["qc", str(tmp_path / "x.mp4"), "--json"], capsys)
    assert code == 2 and json.loads(out)[0]["verdict"] == "error"
    code, _, err = call(["qc", str(tmp_path / "x.mp4"), "--size", "big"], capsys)
    assert code == 2 and "--size" in err


def test_costs_json_breakeven_and_reconcile(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    call(["init", str(tmp_path)], capsys)
    code, out, _ = call(["costs", str(tmp_path), "--json", "--plot", str(tmp_path / "spend.png")], capsys)
    s = json.loads(out)
    assert code == 0 and s["total_usd"] == 0 and s["by_shot"] == {} and s["by_provider"] == {}
    assert s["burn"]["kling_monthly_credits"] == 3000
    assert (tmp_path / "spend.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    code, out, _ = call(
        [
            "costs",
            "breakeven",
            "--api-usd-per-image",
            "0.05",
            "--gpu-usd-per-hour",
            "2",
            "--images-per-hour",
            "120",
            "--json",
        ],
        capsys,
    )
    assert code == 0 and json.loads(out)["breakeven_images_per_hour"] == pytest.approx(40)
    (tmp_path / "export.csv").write_text("task_id,credits\nt-1,3.5\n")
    code, out, _ = call(
        ["costs", "reconcile", str(tmp_path), "--csv", str(tmp_path / "export.csv"), "--json"], capsys
    )
    assert code == 1 and json.loads(out) == [
        {"task_id": "t-1", "kind": "missing_in_ledger", "ledger": None, "provider": 3.5}
    ]
    code, _, err = call(
        [
            "costs",
            "breakeven",
            "--api-usd-per-image",
            "0",
            "--gpu-usd-per-hour",
            "2",
            "--images-per-hour",
            "1",
        ],
        capsys,
    )
    assert code == 2 and "positive" in err
