from __future__ import annotations

from pathlib import Path

import pytest

from goldenchain.config import Settings, load_project
from goldenchain.errors import ConfigError, UsageError
from goldenchain.templates import write_example


def test_init_writes_a_project_that_loads(tmp_path: Path) -> None:
    write_example(tmp_path / "p")
    p = load_project(tmp_path / "p")
    assert p.id == "p"
    assert [s.id for s in p.shots.shots] == ["s01", "s02", "s03", "s04"]
    assert p.config.video.model == "kling-v1-5" and p.config.video.mode == "pro"
    assert p.shots.shots[0].camera.horizontal == 3


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    write_example(tmp_path)
    with pytest.raises(UsageError, match="refusing to overwrite"):
        write_example(tmp_path)


def test_bad_shot_field_names_file_field_and_line(tmp_path: Path) -> None:
    write_example(tmp_path)
    shots = tmp_path / "shots.yaml"
    text = shots.read_text().replace("motion: 30", "motion: 300")
    shots.write_text(text)
    with pytest.raises(ConfigError) as ei:
        load_project(tmp_path)
    err = ei.value
    assert err.path.endswith("shots.yaml")
    assert err.field == "shots[1].motion"
    assert err.line is not None
    assert "motion: 300" in text.splitlines()[err.line - 1]
    assert "\n" not in str(err)


def test_unknown_field_in_toml(tmp_path: Path) -> None:
    write_example(tmp_path)
    cfg = tmp_path / "goldenchain.toml"
    cfg.write_text(cfg.read_text().replace('mode = "pro"', 'mode = "pro"\nmodde = "std"'))
    with pytest.raises(ConfigError) as ei:
        load_project(tmp_path)
    assert ei.value.field == "video.modde"
    assert ei.value.line is not None
    assert "modde" in cfg.read_text().splitlines()[ei.value.line - 1]
    assert "unknown field" in str(ei.value)


def test_invalid_yaml_and_duplicate_ids(tmp_path: Path) -> None:
    write_example(tmp_path)
    shots = tmp_path / "shots.yaml"
    shots.write_text("shots:\n  - id: a\n    prompt: x\n  - id: a\n    prompt: y\n")
    with pytest.raises(ConfigError, match="duplicate shot id"):
        load_project(tmp_path)
    shots.write_text("shots: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_project(tmp_path)


def test_settings_env_and_dotenv_and_guide_names(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("FAL_API_KEY=from-dotenv\nKLING_ACCESS_KEY=ak\n")
    s = Settings.load(tmp_path, environ={"KLING_ACCESS_KEY": "from-env"})
    assert s.get("FAL_KEY") == "from-dotenv"
    assert s.get("KLING_ACCESS_KEY") == "from-env"
    assert s.get("KLING_BASE_URL") == "https://api-singapore.klingai.com"
    assert s.redact("key=from-env") == "key=***"


def test_guide_overrides_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_example(tmp_path)
    monkeypatch.setenv("VIDEO_MODEL_ID", "kling-v1-6")
    assert load_project(tmp_path).config.video.model == "kling-v1-6"


def test_lint_section_disables_and_adds_rules(tmp_path: Path) -> None:
    from goldenchain.linting import lint_project

    write_example(tmp_path)
    cfg = tmp_path / "goldenchain.toml"
    cfg.write_text(
        cfg.read_text().replace(
            "disable = []",
            'disable = ["lens"]\n[[lint.rules]]\nid = "no-brands"\nseverity = "error"\nmessage = "brand"\n'
            'pattern = "(?i)teapot"\nscenes = ["product"]',
        )
    )
    shots = tmp_path / "shots.yaml"
    shots.write_text(shots.read_text().replace(", 35mm lens", "", 1))
    found = {(f.shot, f.rule) for f in lint_project(load_project(tmp_path))}
    assert ("s03", "no-brands") in found
    assert not any(rule == "lens" for _, rule in found)
    cfg.write_text(cfg.read_text().replace('pattern = "(?i)teapot"', 'pattern = "(unclosed"'))
    with pytest.raises(ConfigError, match="regular expression"):
        load_project(tmp_path)
