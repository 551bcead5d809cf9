"""Project files (``goldenchain.toml``, ``shots.yaml``) and environment settings.

Everything is validated with pydantic; a bad file raises :class:`~goldenchain.errors.ConfigError`, whose one-line
message names the file, the field and the line.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from dotenv import dotenv_values
from pydantic import Field, ValidationError, field_validator, model_validator

from goldenchain.config_sections import (
    AlertsSection,
    CalibrationSection,
    LintSection,
    LocalSection,
    PlanSection,
    SceneType,
)
from goldenchain.config_sections import Strict as _Strict
from goldenchain.core.delivery import DeliverySection, project_issues, spec_issues
from goldenchain.errors import ConfigError, UsageError

PROJECT_FILE = "goldenchain.toml"
SHOTS_FILE = "shots.yaml"
STATE_DIR = ".goldenchain"

ASPECTS = {"16:9": (16, 9), "9:16": (9, 16), "1:1": (1, 1)}


class CameraSpec(_Strict):
    horizontal: float = Field(0, ge=-10, le=10)  # pan: negative left, positive right
    vertical: float = Field(0, ge=-10, le=10)  # tilt: negative down, positive up
    zoom: float = Field(0, ge=-10, le=10)  # negative out, positive in (a push-in)
    rotation: float = Field(0, ge=-10, le=10)  # roll; large values warp the background


class ShotSpec(_Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9_-]+$")  # unique in the list; names files and takes
    prompt: str = Field(min_length=1)  # the still: subject, setting, light, lens (goldenchain lint checks it)
    scene: SceneType = "portrait"  # portrait, landscape, environment, action or product: picks lint rules
    duration: int = 5  # seconds of clip; the golden setting is 5
    aspect: str = "16:9"  # of the still and the clip
    motion: int = Field(20, ge=0, le=100)  # motion amplitude in percent (the guide's slider)
    camera: CameraSpec = Field(default_factory=CameraSpec)  # the camera sliders below
    seed: int | None = Field(None, ge=0, le=2**32 - 1)  # of take 1; later takes derive theirs from it
    negative_prompt: str | None = None  # what the clip must avoid (else [video] negative_prompt)
    video_prompt: str | None = None  # motion description for the clip; the still prompt is used when absent

    @field_validator("aspect")
    @classmethod
    def _aspect(cls, v: str) -> str:
        if v not in ASPECTS:
            raise ValueError(f"aspect must be one of {', '.join(ASPECTS)}")
        return v

    @field_validator("duration")
    @classmethod
    def _duration(cls, v: int) -> int:
        if v <= 0 or v > 60:
            raise ValueError("duration must be a number of seconds between 1 and 60")
        return v


class ShotList(_Strict):
    shots: list[ShotSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> ShotList:
        seen: set[str] = set()
        for s in self.shots:
            if s.id in seen:
                raise ValueError(f"duplicate shot id {s.id!r}")
            seen.add(s.id)
        return self


class ProjectSection(_Strict):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")  # the project's id in the ledger
    client: str = "default"  # who pays: the client budget and reports group by it
    fee_usd: float | None = Field(None, gt=0)  # what the client pays for this project


class StillsSection(_Strict):
    provider: str = "fal"  # the stills route: fal, replicate or together (goldenchain providers)
    model: str = "fal-ai/flux/dev"  # a model of that route
    width: int = Field(1824, ge=256, le=4096)  # pixels; 16:9 at >= 1024 on the short side
    height: int = Field(1024, ge=256, le=4096)  # pixels
    max_takes: int = Field(3, ge=1, le=20)  # stills a shot may pay for before it fails (a reject re-rolls)
    #: `run --draft`: the cheap model of the same route that makes the drafts a person chooses from; default:
    #: the route's FLUX.1 schnell (a route without one needs this set, or `--draft` is refused)
    draft_model: str | None = Field(None, min_length=1)
    draft_takes: int = Field(3, ge=1, le=12)  # drafts per shot in a `run --draft`, each with its own seed


class VideoSection(_Strict):
    provider: str = "kling"  # the clips route: kling, fal-kling or replicate-kling
    model: str = "kling-v1-5"  # the golden setting: Kling 1.5
    mode: Literal["std", "pro"] = "pro"  # the golden setting: pro
    max_takes: int = Field(3, ge=1, le=20)  # clips a shot may pay for before it fails
    negative_prompt: str = "blur, distortion, warped background, low quality"  # sent with every clip
    cfg_scale: float = Field(0.5, ge=0, le=1)  # prompt adherence (ignored by Kling 2.x)
    #: what a clip starts from: "still" (image-to-video from a still that passed the gate: the golden chain) or
    #: "text" (text-to-video: no still is made or paid for; the model is one of the route's text-to-video models)
    source: Literal["still", "text"] = "still"

    @property
    def kind(self) -> Literal["i2v", "t2v"]:
        """The catalog kind of this section's model."""
        return "t2v" if self.source == "text" else "i2v"


class GateSection(_Strict):
    #: off only for engine benchmarks and dry runs: every still then goes to video unchecked
    enabled: bool = True
    profile: str = "kling-i2v"  # the gate's threshold set (reference: checks)
    thresholds: dict[str, float] = Field(default_factory=dict)  # per-check overrides, by name
    #: compare each still with the other shots' accepted stills (near_duplicate); an A/B test turns it off,
    #: since its variants share seeds on purpose
    near_duplicates: bool = True


class QcSection(_Strict):
    enabled: bool = True
    thresholds: dict[str, float] = Field(default_factory=dict)
    #: a clip the clip check rejects: "reroll" makes the next clip take (up to [video] max_takes);
    #: "review" stops the shot as needs_review after the first rejected clip, for a person to decide
    on_reject: Literal["reroll", "review"] = "reroll"
    #: what the provider's clip must be ("1920x1080", frames per second); default: the delivery's size and
    #: fps. Set them when the delivery spec differs from what the video model makes
    size: str | None = Field(None, pattern=r"^[0-9]{2,5}x[0-9]{2,5}$")
    fps: float | None = Field(None, gt=0, le=120)

    def expected(self, delivery: DeliverySection) -> dict[str, Any]:
        """The clip check's expected size and fps (the shot plan's ``delivery`` entry)."""
        w, h = (int(v) for v in self.size.split("x")) if self.size else delivery.size
        fps = self.fps if self.fps is not None else delivery.fps
        return {"width": w, "height": h, "fps": int(fps) if float(fps).is_integer() else fps}


class BudgetSection(_Strict):
    project_usd: float | None = Field(None, gt=0)  # this project, all runs
    client_usd: float | None = Field(None, gt=0)  # every project of this client
    daily_usd: float | None = Field(None, gt=0)  # all projects in this ledger, per UTC day
    monthly_usd: float | None = Field(None, gt=0)  # all projects in this ledger, per month


class EngineSection(_Strict):
    poll_interval: float = Field(5.0, gt=0)
    poll_timeout: float = Field(1800.0, gt=0)
    #: shots in flight at once (each holds a provider slot only while a paid take runs); default: 1.5x the
    #: provider slots of [engine.concurrency]
    shot_concurrency: int | None = Field(None, ge=1)
    concurrency: dict[str, int] = Field(default_factory=lambda: {"fal": 4, "kling": 3})
    #: seconds a take waits out an environment failure (no connection, rate limit, outage) before its shot
    #: is blocked; the take is not used up, and the next run picks it up again
    blocked_after: float = Field(120.0, ge=0)
    #: provider callbacks wake a waiting take (docs/webhooks.md); polling stays as the fallback
    webhooks: bool = False
    #: the public base URL that reaches this process's receiver (env GOLDENCHAIN_WEBHOOK_URL overrides);
    #: unset: the receiver's own loopback address (the emulator, or a provider on this machine)
    webhook_url: str | None = Field(None, pattern=r"^https?://[^\s/]+(/\S*)?$")
    #: where the run's receiver listens, host:port (port 0: a free one)
    webhook_listen: str = Field("127.0.0.1:0", pattern=r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):[0-9]{1,5}$")
    #: seconds between two polls of a take created with a callback; default 6x poll_interval, at least 30
    webhook_poll_interval: float | None = Field(None, gt=0)
    #: team mode: seconds a worker's lease lasts without a heartbeat (renewed every third of it); a lapsed
    #: lease is taken over by a live worker, which puts the dead worker's unfinished shots back in the queues
    lease_seconds: float = Field(30.0, ge=1.0)


class ProjectConfig(_Strict):
    project: ProjectSection
    stills: StillsSection = Field(default_factory=StillsSection)
    video: VideoSection = Field(default_factory=VideoSection)
    gate: GateSection = Field(default_factory=GateSection)
    qc: QcSection = Field(default_factory=QcSection)
    budget: BudgetSection = Field(default_factory=BudgetSection)
    delivery: DeliverySection = Field(default_factory=DeliverySection)
    engine: EngineSection = Field(default_factory=EngineSection)
    plan: PlanSection = Field(default_factory=PlanSection)
    lint: LintSection = Field(default_factory=LintSection)
    alerts: AlertsSection = Field(default_factory=AlertsSection)
    calibration: CalibrationSection = Field(default_factory=CalibrationSection)
    local: LocalSection = Field(default_factory=LocalSection)
    #: price overrides: "fal:fal-ai/flux/dev" (the model's rate) or "kling:kling-v1-5:pro:5" (per clip) -> USD;
    #: gpu_usd_per_hour: the local routes' rate (a GPU of ours, by the hour)
    prices: dict[str, float] = Field(default_factory=dict)
    #: the project's own models: [models."route:id"] with a spec (goldenchain/catalog.py, docs/models.md)
    models: dict[str, dict[str, Any]] = Field(default_factory=dict)


# --- locating errors -------------------------------------------------------------------------------------


def _yaml_line(text: str, loc: tuple[Any, ...]) -> int | None:
    try:
        node: Any = yaml.compose(text)
    except yaml.YAMLError:
        return None
    line = node.start_mark.line + 1 if node is not None else None
    for key in loc:
        if node is None:
            break
        if isinstance(node, yaml.MappingNode):
            nxt = None
            for k, v in node.value:
                if k.value == str(key):
                    nxt, line = v, k.start_mark.line + 1
                    break
            node = nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _toml_line(text: str, loc: tuple[Any, ...]) -> int | None:
    """Best effort: the line of the last key of ``loc`` inside its table."""
    lines = text.splitlines()
    table = ".".join(str(p) for p in loc[:-1]) if len(loc) > 1 else ""
    key = str(loc[-1]) if loc else ""
    in_table = table == ""
    table_line = None
    for i, raw in enumerate(lines, 1):
        s = raw.strip()
        m = re.match(r"^\[([^\]]+)\]\s*(#.*)?$", s)
        if m:
            in_table = m.group(1).strip() == table
            if in_table:
                table_line = i
            continue
        if in_table and re.match(rf"^{re.escape(key)}\s*=", s):
            return i
    return table_line


def _loc_str(loc: tuple[Any, ...]) -> str:
    out = ""
    for p in loc:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _raise_validation(path: Path, text: str, err: ValidationError, kind: str) -> None:
    first = err.errors()[0]
    loc = tuple(first["loc"])
    line = _yaml_line(text, loc) if kind == "yaml" else _toml_line(text, loc)
    msg = first["msg"]
    if first["type"] == "extra_forbidden":
        msg = "unknown field"
    raise ConfigError(str(path), _loc_str(loc) or None, line, msg)


def _yaml_problem(e: yaml.YAMLError) -> tuple[int | None, str]:
    """The line of a YAML syntax error and a one-line reason with its column and, where the parser says, the
    line where the unclosed thing began."""
    mark, ctx = getattr(e, "problem_mark", None), getattr(e, "context_mark", None)
    problem = " ".join(str(getattr(e, "problem", None) or e).split())
    reason = f"not valid YAML: {problem}"
    if mark is not None:
        reason += f" (column {mark.column + 1})"
    context = getattr(e, "context", None)
    if ctx is not None and context and (mark is None or ctx.line != mark.line):
        reason += f"; {' '.join(str(context).split())} that began on line {ctx.line + 1}"
    return (mark.line + 1 if mark is not None else None), reason


def load_shots(path: Path) -> ShotList:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise UsageError(f"{path}: cannot read ({e.strerror or e})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ConfigError(str(path), None, *_yaml_problem(e)) from None
    if not isinstance(data, dict):
        raise ConfigError(str(path), "shots", 1, "expected a mapping with a 'shots' list")
    try:
        return ShotList.model_validate(data)
    except ValidationError as e:
        _raise_validation(path, text, e, "yaml")
        raise  # unreachable


def load_config(path: Path) -> ProjectConfig:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise UsageError(f"{path}: cannot read ({e.strerror or e})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"line (\d+)", str(e))
        raise ConfigError(str(path), None, int(m.group(1)) if m else None, f"not valid TOML: {e}") from None
    try:
        cfg = ProjectConfig.model_validate(data)
    except ValidationError as e:
        _raise_validation(path, text, e, "toml")
        raise
    for field, reason in spec_issues(cfg.delivery):
        raise ConfigError(str(path), f"delivery.{field}", _toml_line(text, ("delivery", field)), reason)
    return cfg


def check_delivery(root: Path, cfg: ProjectConfig, shots: ShotList) -> None:
    """The delivery rules that need the shot list and the project's files (crossfade against the shortest
    clip, the logo, audio and signing files, the c2pa extra)."""
    d = cfg.delivery
    paths = [p for p in (d.audio_file, d.logo, d.c2pa_key, d.c2pa_cert) if p]
    exists = {p: (root / p).is_file() for p in paths}
    issues = project_issues(d, [(s.id, float(s.duration)) for s in shots.shots], exists)
    if d.c2pa and not issues:
        try:
            import c2pa  # noqa: F401
        except ImportError as e:
            issues.append(
                ("c2pa", f"c2pa = true needs the c2pa extra (pip install 'goldenchain[c2pa]'): {e}")
            )
    for field, reason in issues:
        cfg_path = root / PROJECT_FILE
        text = cfg_path.read_text(encoding="utf-8")
        raise ConfigError(str(cfg_path), f"delivery.{field}", _toml_line(text, ("delivery", field)), reason)


# --- environment -----------------------------------------------------------------------------------------

DEFAULT_URLS = {
    "KLING_BASE_URL": "https://api-singapore.klingai.com",
    "FAL_QUEUE_URL": "https://queue.fal.run",
    "FAL_RUN_URL": "https://fal.run",
    "REPLICATE_BASE_URL": "https://api.replicate.com",
    "TOGETHER_BASE_URL": "https://api.together.xyz",
}
SECRET_NAMES = (
    "FAL_KEY",
    "KLING_ACCESS_KEY",
    "KLING_SECRET_KEY",
    "REPLICATE_API_TOKEN",
    "TOGETHER_API_KEY",
    "REPLICATE_WEBHOOK_SECRET",
)


@dataclass(frozen=True)
class Settings:
    """Keys and base URLs, from the process environment with the project's ``.env`` as a fallback."""

    values: dict[str, str]

    @classmethod
    def load(cls, project_dir: Path | None = None, environ: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        merged: dict[str, str] = {}
        if project_dir is not None and (project_dir / ".env").is_file():
            merged.update({k: v for k, v in dotenv_values(project_dir / ".env").items() if v is not None})
        merged.update(env)
        if "FAL_KEY" not in merged and "FAL_API_KEY" in merged:  # the guide's config.py name
            merged["FAL_KEY"] = merged["FAL_API_KEY"]
        for k, v in DEFAULT_URLS.items():
            merged.setdefault(k, v)
        return cls(merged)

    def with_defaults(self, defaults: dict[str, str]) -> Settings:
        """These settings, with ``defaults`` for the names they do not set."""
        return Settings({**defaults, **self.values})

    def get(self, name: str) -> str | None:
        v = self.values.get(name)
        return v or None

    def require(self, name: str, why: str) -> str:
        v = self.get(name)
        if not v:
            raise UsageError(f"{name} is not set ({why}); put it in the environment or the project's .env")
        return v

    def redact(self, text: str) -> str:
        """Remove every secret value from ``text``."""
        for name in SECRET_NAMES:
            v = self.values.get(name)
            if v and len(v) >= 4:
                text = text.replace(v, "***")
        return text


def apply_guide_overrides(cfg: ProjectConfig, settings: Settings) -> ProjectConfig:
    """The guide's ``config.py`` names override the project file."""
    stills = cfg.stills.model_copy(
        update={
            k: v
            for k, v in {
                "provider": settings.get("IMAGE_MODEL_PROVIDER"),
                "model": settings.get("IMAGE_MODEL_ID"),
            }.items()
            if v
        }
    )
    video = cfg.video.model_copy(
        update={
            k: v
            for k, v in {
                "provider": settings.get("VIDEO_MODEL_PROVIDER"),
                "model": settings.get("VIDEO_MODEL_ID"),
            }.items()
            if v
        }
    )
    return cfg.model_copy(update={"stills": stills, "video": video})


@dataclass(frozen=True)
class Project:
    root: Path
    config: ProjectConfig
    shots: ShotList
    settings: Settings

    @property
    def id(self) -> str:
        return self.config.project.name

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR

    @property
    def db_path(self) -> Path:
        return self.state_dir / "state.db"

    @property
    def artifacts_dir(self) -> Path:
        return self.root / "artifacts"

    @property
    def out_dir(self) -> Path:
        return self.root / "out"

    @property
    def database_url(self) -> str:
        return self.settings.get("GOLDENCHAIN_DATABASE_URL") or f"sqlite:///{self.db_path}"

    def shot(self, shot_id: str) -> ShotSpec:
        for s in self.shots.shots:
            if s.id == shot_id:
                return s
        raise UsageError(f"unknown shot {shot_id!r}")


def load_project(root: Path | str | None) -> Project:
    root = Path(root or ".").resolve()
    if not root.is_dir():
        raise UsageError(f"{root}: not a project directory")
    cfg_path = root / PROJECT_FILE
    if not cfg_path.is_file():
        raise UsageError(f"{cfg_path}: no project file here (create one with: goldenchain init DIR)")
    settings = Settings.load(root)
    cfg = apply_guide_overrides(load_config(cfg_path), settings)
    settings = settings.with_defaults(cfg.local.settings(root))
    from goldenchain.catalog import apply_project_file

    apply_project_file(cfg_path, cfg.prices)  # [models] and [prices] against the registered specs
    shots = load_shots(root / SHOTS_FILE)
    check_delivery(root, cfg, shots)
    return Project(root=root, config=cfg, shots=shots, settings=settings)


def user_dir() -> Path:
    """All user-level state; ``GOLDENCHAIN_HOME`` relocates it (tests isolate everything with it)."""
    return Path(os.environ.get("GOLDENCHAIN_HOME") or Path.home() / ".config" / "goldenchain")
