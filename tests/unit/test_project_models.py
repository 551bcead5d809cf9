"""A project's own models (``[models."route:id"]``) and prices (``[prices]``): added with a spec that lint,
estimate and the adapters read; every mistake is one line naming the file, the field and the line (exit 2)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from goldenchain.cli import main
from goldenchain.config import load_project
from goldenchain.core.estimate import estimate_project
from goldenchain.core.models import active_catalog, use_project_models
from goldenchain.errors import ConfigError
from goldenchain.providers.base import StillRequest
from goldenchain.providers.replicate import ReplicateFluxTextToImage
from goldenchain.templates import write_example


@pytest.fixture(autouse=True)
def _forget_project_models() -> Iterator[None]:
    yield
    use_project_models(())


def project(tmp_path: Path, extra: str, stills: tuple[str, str] | None = None) -> Path:
    root = tmp_path / "p"
    write_example(root, shots=1)
    cfg = root / "goldenchain.toml"
    text = cfg.read_text()
    if stills is not None:
        text = text.replace(
            'provider = "fal"\nmodel = "fal-ai/flux/dev"', f'provider = "{stills[0]}"\nmodel = "{stills[1]}"'
        )
        text = text.replace("width = 1824 ", "width = 1920 ").replace("height = 1024", "height = 1080")
    cfg.write_text(
        text.replace("[prices]", "[prices]\n" + extra) if extra.startswith('"') else text + "\n" + extra
    )
    return root


FLUX_PRO = """
[models."replicate:black-forest-labs/flux-pro"]
like = "replicate:black-forest-labs/flux-1.1-pro-ultra"
label = "FLUX.1 pro"
price = { per = "compute_second", usd = 0.002, expected_seconds = 5, source = "GPU seconds", date = "2026-11-20" }
"""


def test_a_project_model_is_priced_linted_and_checked(tmp_path: Path) -> None:
    p = load_project(project(tmp_path, FLUX_PRO, ("replicate", "black-forest-labs/flux-pro")))
    spec = active_catalog().require("replicate", "black-forest-labs/flux-pro", "t2i")
    assert spec.label == "FLUX.1 pro" and spec.sizes == "aspect" and spec.price.basis == "compute_second"
    est = estimate_project(p.config, p.shots.shots)
    assert est["shots"]["s01"]["still_usd"] == pytest.approx(0.01)  # 5 s x $0.002
    # billed from Replicate's metrics.predict_time
    assert spec.actual_usd(3.5, "compute_seconds", 0.01) == (pytest.approx(0.007), None)
    adapter = ReplicateFluxTextToImage("r8_x", base_url="http://127.0.0.1:9")
    body = adapter.build_body(StillRequest("a door", 1920, 1080, 7, "black-forest-labs/flux-pro", "gc-1"))
    assert body["aspect_ratio"] == "16:9"
    with pytest.raises(SystemExit) as done:
        main(["lint", str(p.root), "--json"])
    assert done.value.code == 0
    # the next project without it no longer has it
    load_project(project(tmp_path / "other", ""))
    assert active_catalog().get("replicate", "black-forest-labs/flux-pro") is None


def test_a_price_override_changes_the_estimate(tmp_path: Path) -> None:
    p = load_project(project(tmp_path, '"kling:kling-v1-5:pro:5" = 0.42\n"fal:fal-ai/flux/dev" = 0.02\n'))
    est = estimate_project(p.config, p.shots.shots)
    assert est["shots"]["s01"]["clip_usd"] == 0.42
    assert est["shots"]["s01"]["still_usd"] == pytest.approx(0.04)  # 2 MP at the overridden $0.02/MP


@pytest.mark.parametrize(
    ("extra", "field", "words"),
    [
        ('"fal:fal-ai/flux/nope" = 0.1\n', "prices.fal:fal-ai/flux/nope", "no such model"),
        ('"kling:kling-v2-6:std:5" = 0.1\n', "prices.kling:kling-v2-6:std:5", "makes no std 5 s clip"),
        ('"kling:kling-v1-5" = -1\n', "prices.kling:kling-v1-5", "positive"),
        ('[models."nowhere:x"]\nprice = { per = "image", usd = 1, source = "s", date = "2026-11-01" }\n',
         'models.nowhere:x', "no provider route 'nowhere'"),
        ('[models."fal:fal-ai/flux/krea"]\nlabel = "Krea"\n', "models.fal:fal-ai/flux/krea.price", "needs a price"),
        ('[models."fal:fal-ai/flux/krea"]\nprice = { per = "second", usd = 1, source = "s", date = "2026-11-01" }\n',
         "models.fal:fal-ai/flux/krea.price.per", "cannot be priced per second"),
        ('[models."kling:kling-v3"]\nkind = "i2v"\nprice = { per = "second", usd = 0.1, source = "s", date = "2026-11-01" }\n',
         "models.kling:kling-v3.modes", "needs modes and durations"),
        ('[models."kling:kling-v3"]\nlike = "kling:kling-v2-6"\ncamera = [["std", 5]]\n',
         "models.kling:kling-v3.camera", "not one of the model's modes"),
        ('[models."fal:fal-ai/flux/krea"]\nlike = "fal:fal-ai/flux/dev"\ncolour = "red"\n',
         "models.fal:fal-ai/flux/krea.colour", "unknown field"),
        ('[models."fal:x"]\nlike = "replicate:black-forest-labs/flux-dev"\n', "models.fal:x.like", "on route replicate"),
    ],
)  # fmt: skip
def test_a_mistake_is_one_line_naming_file_field_and_line(
    tmp_path: Path, extra: str, field: str, words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    root = project(tmp_path, extra)
    with pytest.raises(ConfigError) as info:
        load_project(root)
    err = info.value
    assert err.field == field and words in str(err), str(err)
    text = (root / "goldenchain.toml").read_text().splitlines()
    assert err.line is not None
    key = (
        field.split(".")[-1]
        if field.startswith("models.") and field.count(".") > 1
        else field.split(".", 1)[1]
    )
    assert key.split(":")[0] in text[err.line - 1] or "[models." in text[err.line - 1], (
        err.line,
        text[err.line - 1],
    )
    capsys.readouterr()
    with pytest.raises(SystemExit) as done:
        main(["estimate", str(root)])
    out = capsys.readouterr()
    assert done.value.code == 2 and out.out == ""
    (line,) = out.err.strip().splitlines()
    assert f"goldenchain.toml:{err.line}: {field}" in line
