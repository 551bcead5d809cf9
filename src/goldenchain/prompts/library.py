"""The prompt library and each prompt's record (takes, pass rate with a Wilson interval, cost per clip)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from goldenchain.config import user_dir
from goldenchain.errors import UsageError

__all__ = ["Entry", "Library", "Record", "closest", "load_library", "record_of"]

SCOPES = ("package", "studio", "project")
PROJECT_FILE = "prompts.yaml"
#: promotion is earned: at least this many takes, and the pass rate's Wilson lower bound at least this
MIN_TAKES, MIN_LOWER_BOUND = 5, 0.5


@dataclass(frozen=True)
class Entry:
    id: str
    prompt: str
    scene: str = "portrait"
    kind: str = "good"  # good | bad | calibration
    status: str = "candidate"  # candidate | golden | retired
    video_prompt: str | None = None
    notes: str | None = None
    scope: str = "project"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Record:
    takes: int
    passed: int
    pass_rate: float | None
    low: float | None
    high: float | None
    usd_per_accepted_clip: float | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower())) - {"a", "an", "the", "of", "on", "in", "with", "and"}


def _read(path: Path, scope: str) -> list[Entry]:
    if not path.is_file():
        return []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as e:
        raise UsageError(f"{path}: not valid YAML ({' '.join(str(e).split())[:200]})") from None
    out = []
    for i, raw in enumerate(data.get("prompts") or []):
        if not isinstance(raw, dict) or not raw.get("id") or not raw.get("prompt"):
            raise UsageError(f"{path}: prompts[{i}] needs an id and a prompt")
        known = {
            k: raw[k]
            for k in ("id", "prompt", "scene", "kind", "status", "video_prompt", "notes")
            if k in raw
        }
        out.append(Entry(**{k: str(v) for k, v in known.items()}, scope=scope))
    return out


def _write(path: Path, entries: list[Entry]) -> None:
    rows = [{k: v for k, v in e.to_json().items() if k != "scope" and v is not None} for e in entries]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"prompts": rows}, sort_keys=False, allow_unicode=True), encoding="utf-8")


@dataclass
class Library:
    project_dir: Path | None
    entries: list[Entry]

    def get(self, pid: str) -> Entry:
        for e in self.entries:
            if e.id == pid:
                return e
        raise UsageError(f"no prompt {pid!r} in the library (goldenchain prompts list)")

    def _path(self, scope: str) -> Path:
        if scope == "studio":
            return user_dir() / "prompts.yaml"
        if scope == "project" and self.project_dir is not None:
            return self.project_dir / PROJECT_FILE
        raise UsageError(
            "the package's own prompts cannot be changed; add yours to the project or the studio"
        )

    def add(self, entry: Entry) -> Entry:
        if any(e.id == entry.id for e in self.entries):
            raise UsageError(f"a prompt {entry.id!r} exists already")
        if not re.fullmatch(r"[A-Za-z0-9_-]+", entry.id):
            raise UsageError("a prompt id may hold only letters, digits, '-' and '_'")
        path = self._path(entry.scope)
        mine = [e for e in self.entries if e.scope == entry.scope]
        _write(path, [*mine, entry])
        self.entries.append(entry)
        return entry

    def set_status(self, pid: str, status: str) -> Entry:
        e = self.get(pid)
        path = self._path(e.scope)
        new = replace(e, status=status)
        mine = [new if x.id == pid else x for x in self.entries if x.scope == e.scope]
        _write(path, mine)
        self.entries = [new if x.id == pid else x for x in self.entries]
        return new


def load_library(project_dir: Path | None) -> Library:
    pkg = resources.files("goldenchain.prompts").joinpath("golden.yaml")
    entries = _read(Path(str(pkg)), "package") + _read(user_dir() / "prompts.yaml", "studio")
    if project_dir is not None:
        entries += _read(project_dir / PROJECT_FILE, "project")
    return Library(project_dir, entries)


def record_of(entry: Entry, shots: list[Any], takes: list[Any]) -> Record:
    """The prompt's record in a ledger: its shots' takes (a still passing the gate, a clip passing the clip
    check or a person), the pass rate with a Wilson interval (scipy), the cost per accepted clip."""
    from scipy.stats import binomtest

    ids = {s.shot_id for s in shots if _norm(str(s.spec.get("prompt", ""))) == _norm(entry.prompt)}
    mine = [t for t in takes if t.shot_id in ids and t.state in ("downloaded", "failed")]
    passed = [
        t for t in mine if (t.review == "approved") or (t.review is None and t.verdict in ("pass", "warn"))
    ]
    n, k = len(mine), len(passed)
    clips = [t for t in passed if t.stage == "clip"]
    cost = sum(t.cost_usd or 0.0 for t in mine)
    if n == 0:
        return Record(0, 0, None, None, None, None)
    ci = binomtest(k, n).proportion_ci(method="wilson")
    return Record(n, k, round(k / n, 4), round(float(ci.low), 4), round(float(ci.high), 4),
                  round(cost / len(clips), 4) if clips else None)  # fmt: skip


def closest(text: str, entries: list[Entry], scene: str | None = None) -> tuple[Entry, float] | None:
    """The golden prompt most like ``text`` (word overlap), of the same scene when given."""
    pool = [
        e for e in entries if e.status == "golden" and e.kind != "bad" and (scene is None or e.scene == scene)
    ]
    words = _words(text)
    best: tuple[Entry, float] | None = None
    for e in pool:
        other = _words(e.prompt)
        score = len(words & other) / max(1, len(words | other))
        if best is None or score > best[1]:
            best = (e, score)
    return best
