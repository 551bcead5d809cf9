"""``gate calibrate``: the threshold fit, the pure :func:`calibrate`, and the ``gate`` group's CLI contract."""

from __future__ import annotations

import json
import math
import tomllib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter

from goldenchain.cli import main
from goldenchain.cli.gate_calibrate import COMMANDS, calibrate, calibrate_cmd
from goldenchain.errors import UsageError
from goldenchain.gates.calibrate import (
    CalibrationResult,
    calibrate_scores,
    fit_threshold,
    flagged,
    roc_auc,
)
from goldenchain.gates.profiles import resolve


def call(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as ei:
        main(args)
    out, err = capsys.readouterr()
    return int(ei.value.code or 0), out, err


# --- statistics ------------------------------------------------------------------------------------


def test_roc_auc_direction_and_ties() -> None:
    assert roc_auc([1, 2, 3], [4, 5], "higher_is_worse") == 1.0
    assert roc_auc([1, 2, 3], [4, 5], "lower_is_worse") == 0.0
    assert roc_auc([1, 1], [1, 1], "higher_is_worse") == 0.5
    assert roc_auc([1, 2], [2, 3], "higher_is_worse") == pytest.approx(0.875)
    assert math.isnan(roc_auc([], [1.0], "higher_is_worse"))
    assert roc_auc([1, math.nan], [5], "higher_is_worse") == 1.0  # NaN ignored


def test_fit_threshold_separable_sits_between_classes() -> None:
    neg = [10.0, 11.0, 12.0, 13.0]
    pos = [2.0, 3.0, 4.0]
    thr = fit_threshold(neg, pos, "lower_is_worse")
    assert 4.0 < thr < 10.0
    assert flagged(pos, thr, "lower_is_worse").all() and not flagged(neg, thr, "lower_is_worse").any()


def test_fit_threshold_respects_false_reject_cap() -> None:
    # overlapping classes: the best balanced accuracy would reject 1 of 10 good stills; the cap forbids it
    neg = [0.0, 1, 2, 3, 4, 5, 6, 7, 8, 20]
    pos = [15.0, 16, 17, 18, 19]
    thr = fit_threshold(neg, pos, "higher_is_worse", max_false_reject=0.03)
    assert thr > 20
    thr_loose = fit_threshold(neg, pos, "higher_is_worse", max_false_reject=0.10)
    assert 8 < thr_loose < 15
    assert math.isnan(fit_threshold([], pos, "higher_is_worse"))


def test_calibrate_scores_reports_current_and_proposed() -> None:
    acc = [{"blur": 0.30 + 0.01 * i, "banding": 1.0} for i in range(20)]
    rej = [{"blur": 0.13 + 0.01 * i, "banding": 1.0} for i in range(10)]  # 0.13 .. 0.22
    res = calibrate_scores(acc, rej, profile="kling-i2v", keys=["blur", "banding"])
    fits = {f.key: f for f in res.fits}
    assert set(fits) == {"blur", "banding"}
    b = fits["blur"]
    assert b.current == resolve("kling-i2v", None)["blur"] == 0.22
    assert b.auc == 1.0 and 0.22 < b.proposed < 0.30
    assert b.recall_current == pytest.approx(0.9)  # 0.22 itself is not < 0.22
    assert b.recall_proposed == 1.0 and b.false_reject_proposed == 0.0
    assert b.useful and res.proposed_overrides() == {"blur": b.proposed}
    assert fits["banding"].auc == 0.5 and not fits["banding"].useful  # no separation: keep today's value
    toml = tomllib.loads(res.to_toml())
    assert toml["gate"]["thresholds"] == {"blur": pytest.approx(b.proposed, rel=1e-5)}
    js = res.to_json()
    assert js["proposed_overrides"] == {"blur": b.proposed}
    json.dumps(js)  # serialisable (NaN turned into null)


# --- on real files ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def labelled(tmp_path_factory: pytest.TempPathFactory, natural_module: Callable[..., np.ndarray]) -> Path:
    """accepted/: three sharp photo-like stills; rejected/: the same, Gaussian-blurred (σ 3)."""
    root = tmp_path_factory.mktemp("calib")
    (root / "accepted").mkdir()
    (root / "rejected").mkdir()
    for i in range(3):
        im = Image.fromarray(natural_module(384, 384, seed=10 + i))
        im.save(root / "accepted" / f"a{i}.png")
        im.filter(ImageFilter.GaussianBlur(3)).save(root / "rejected" / f"r{i}.png")
    (root / "accepted" / "notes.txt").write_text("not an image, ignored by suffix")
    (root / "rejected" / "broken.png").write_bytes(b"not an image")
    return root


@pytest.fixture(scope="module")
def natural_module() -> Callable[..., np.ndarray]:
    from tests.gates.conftest import natural_rgb

    return natural_rgb


def test_calibrate_pure_function(labelled: Path) -> None:
    acc = sorted((labelled / "accepted").glob("*.png"))
    rej = sorted((labelled / "rejected").glob("*.png"))
    res = calibrate(acc, rej, profile="kling-i2v")
    assert isinstance(res, CalibrationResult)
    assert res.n_accepted == 3 and res.n_rejected == 3
    assert len(res.errors) == 1 and "broken.png" in res.errors[0]
    fits = {f.key: f for f in res.fits}
    assert fits["blur"].auc == 1.0 and fits["blur.edge"].auc == 1.0
    assert fits["blur"].recall_proposed == 1.0 and fits["blur"].false_reject_proposed == 0.0
    # a blur (σ 3) pulls the brightest pixels down: every blurred still has a lower p99 brightness than every
    # sharp one, so the dark-exposure measure separates the two sets completely
    assert fits["exposure"].auc == 1.0 and fits["exposure"].direction == "lower_is_worse"
    assert fits["exposure"].recall_proposed == 1.0 and fits["exposure"].false_reject_proposed == 0.0
    with pytest.raises(UsageError):
        calibrate(acc, rej, profile="nope")


def test_calibrate_cli_table_json_and_write(
    labelled: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert [calibrate_cmd] == COMMANDS and calibrate_cmd.name == "calibrate"
    a, r = str(labelled / "accepted"), str(labelled / "rejected")
    out_toml = tmp_path / "thr.toml"
    code, out, _ = call(["gate", "calibrate", a, r, "--json", "--write", str(out_toml)], capsys)
    assert code == 0
    data = json.loads(out)
    assert data["profile"] == "kling-i2v" and data["n_accepted"] == 3
    assert {f["key"] for f in data["fits"]} >= {"blur", "jpeg_blocking", "banding", "exposure"}
    snippet = tomllib.loads(out_toml.read_text())
    assert snippet["gate"]["thresholds"] == pytest.approx(data["proposed_overrides"])
    resolve("kling-i2v", snippet["gate"]["thresholds"])  # the snippet's keys are valid overrides
    code, out, _ = call(["gate", "calibrate", a, r, "--profile", "preview"], capsys)
    assert code == 0 and "blur" in out and "AUC" in out and "preview" in out


def test_calibrate_cli_usage_errors(
    labelled: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = call(["gate", "calibrate", str(empty), str(labelled / "rejected")], capsys)
    assert code == 2 and "no image files" in err and err.count("\n") == 1
    code, _, err = call(["gate", "calibrate", str(labelled / "accepted"), str(tmp_path / "missing")], capsys)
    assert code == 2 and "Traceback" not in err
    a, r = str(labelled / "accepted"), str(labelled / "rejected")
    code, _, err = call(["gate", "calibrate", a, r, "--profile", "nope"], capsys)
    assert code == 2 and "unknown profile" in err


# --- `gate` as a group with a default command ---------------------------------------------------


def test_gate_group_keeps_plain_image_invocation(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.gates.conftest import natural_rgb

    good = tmp_path / "good.png"
    Image.fromarray(natural_rgb(1024, 1024, seed=3)).save(good)
    dark = tmp_path / "dark.png"
    Image.fromarray((natural_rgb(1024, 1024, seed=3) // 12).astype("uint8")).save(dark)
    code, out, _ = call(["gate", str(good), "--json"], capsys)
    (rep,) = json.loads(out)
    assert code == 0 and rep["verdict"] in ("pass", "warn") and len(rep["checks"]) == 10
    code, out, _ = call(["gate", "--json", "--profile", "kling-i2v", str(dark), str(good)], capsys)
    assert code == 1 and json.loads(out)[0]["verdict"] == "reject"
    code, out, _ = call(["gate", str(good)], capsys)  # rich table, no --json
    assert code == 0 and "resolution" in out
    code, _, err = call(["gate", str(tmp_path / "nothere.png"), "--json"], capsys)
    assert code == 2
    code, _, err = call(["gate"], capsys)  # still a usage error, not help
    assert code == 2 and "IMAGES" in err
    code, _, err = call(["gate", str(good), "--profile", "nope"], capsys)
    assert code == 2 and "unknown profile" in err
    # a still literally named like the subcommand goes through the hidden default command
    named = tmp_path / "calibrate"
    named.write_bytes(good.read_bytes())
    code, out, _ = call(["gate", "check", str(named), "--json"], capsys)
    assert code == 0 and json.loads(out)[0]["path"] == str(named)


def test_gate_help_lists_calibrate_and_options(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = call(["gate", "--help"], capsys)
    assert code == 0 and "calibrate" in out and "--aspect" in out and "IMAGES" in out
    code, out, _ = call(["gate", "calibrate", "--help"], capsys)
    assert code == 0 and "--write" in out and "ACCEPTED_DIR" in out


def test_and_rule_keys_are_fitted_jointly() -> None:
    # blur rejects only when the FFT share AND the crisp-edge ratio are both low; good stills have one low
    acc = [{"blur": 0.15, "blur.edge": 0.80}] * 5 + [{"blur": 0.30, "blur.edge": 0.45}] * 5
    rej = [{"blur": 0.12, "blur.edge": 0.38}] * 5
    res = calibrate_scores(acc, rej, keys=["blur", "blur.edge"])
    fits = {f.key: f for f in res.fits}
    b, edge = fits["blur"], fits["blur.edge"]
    assert b.rule == edge.rule == "blur AND blur.edge"
    assert b.recall_proposed == 1.0 and b.false_reject_proposed == 0.0
    assert 0.12 < b.proposed <= 0.30 and 0.38 < edge.proposed <= 0.80
    assert not (b.proposed > 0.15 and edge.proposed > 0.45)  # would reject a good still


def test_calibrate_table_fits_80_columns_and_wide_shows_all(
    labelled: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    a, r = str(labelled / "accepted"), str(labelled / "rejected")
    code, out, _ = call(["gate", "calibrate", a, r], capsys)
    assert code == 0
    assert max(len(line) for line in out.splitlines()) <= 80
    keys = [ln.split()[0] for ln in out.splitlines()[2:] if ln.strip() and ln.split()[0][0].isalpha()]
    assert "blur" in keys and all(k.rstrip(".") == k for k in keys)  # threshold names are never cut
    assert " dir " not in out
    code, wide, _ = call(["gate", "calibrate", a, r, "--wide"], capsys)
    header = next(ln for ln in wide.splitlines() if ln.startswith("threshold"))
    assert code == 0 and header.split()[:3] == ["threshold", "dir", "AUC"]
