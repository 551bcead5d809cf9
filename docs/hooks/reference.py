"""MkDocs hook: the reference pages, generated from the code at every build so they cannot drift.

* ``reference/project-file.md`` and ``reference/shot-list.md``: every field of both project files, from the
  pydantic models (type, default, range, what it means);
* ``reference/commands.md``: every command and option, from the click definitions;
* ``reference/lint-rules.md`` and ``reference/checks.md``: every lint rule, every check and its threshold;
* ``reference/exit-codes.md``: the exit codes, the exception tree and the JSON shapes.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

import click
from mkdocs.structure.files import File, Files
from pydantic import BaseModel

GENERATED = "<!-- generated from the code by docs/hooks/reference.py: edit the code, not this page -->\n\n"


def _comments(model: type) -> dict[str, str]:
    """Field comments in the model's source: ``name: T = ...  # comment`` or ``#: comment`` above it."""
    try:
        src = inspect.getsource(model)
    except (OSError, TypeError):
        return {}
    out: dict[str, str] = {}
    above: list[str] = []
    for line in src.splitlines():
        s = line.strip()
        if s.startswith("#:"):
            above.append(s[2:].strip())
            continue
        m = re.match(r"(\w+)\s*:\s*[^=#]+(?:=[^#]*)?(?:#\s*(.*))?$", s)
        if m and not s.startswith(("def ", "class ", "@", "return")):
            text = " ".join([*above, m.group(2) or ""]).strip()
            if text:
                out[m.group(1)] = text
        above = []
    return out


def _type(ann: Any) -> str:
    t = getattr(ann, "__name__", None) or str(ann)
    return t.replace("typing.", "").replace("NoneType", "None")


def _constraints(info: Any) -> str:
    parts = []
    for meta in info.metadata:
        for key, sym in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<"), ("min_length", "length ≥")):
            v = getattr(meta, key, None)
            if v is not None:
                parts.append(f"{sym} {v}")
        pat = getattr(meta, "pattern", None)
        if pat:
            parts.append(f"matches `{pat}`")
    return ", ".join(parts)


def _default(info: Any) -> str:
    if info.is_required():
        return "required"
    if info.default_factory is not None:
        try:
            v = info.default_factory()
        except TypeError:
            return "(computed)"
        return f"`{v!r}`" if not isinstance(v, BaseModel) else "(section defaults)"
    return f"`{info.default!r}`"


def _model_table(model: type[BaseModel], prefix: str) -> list[str]:
    notes = _comments(model)
    rows = [f"| `{prefix}{name}` | {_type(f.annotation)} | {_default(f)} | {_constraints(f)} | "
            f"{(f.description or notes.get(name, '')).replace('|', '/')} |"
            for name, f in model.model_fields.items()]  # fmt: skip
    return ["| field | type | default | range | what it means |", "|---|---|---|---|---|", *rows, ""]


def project_file() -> str:
    from goldenchain import config

    lines = [GENERATED, "# Reference: `goldenchain.toml`", ""]
    lines.append("Every section and field the project file accepts; anything else is refused with the file, field")
    lines.append("and line named. Keys never go here: they come from the environment or `.env`.\n")
    for name, f in config.ProjectConfig.model_fields.items():
        ann = f.annotation
        sub = next((a for a in getattr(ann, "__args__", (ann,)) if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if sub is None:
            lines += [f"## `{name}`", "", *_model_table(config.ProjectConfig, "")[:2]]
            lines.append(f"| `{name}` | {_type(ann)} | {_default(f)} | {_constraints(f)} | |\n")
            continue
        own = sub.__dict__.get("__doc__") or ""  # not pydantic's BaseModel docstring
        lines += [f"## `[{name}]`", "", inspect.cleandoc(own).split("\n\n")[0], ""]
        lines += _model_table(sub, "")
    return "\n".join(lines)


def shot_list() -> str:
    from goldenchain import config

    lines = [GENERATED, "# Reference: `shots.yaml`", "", "```yaml", "shots:", "  - id: s01", '    prompt: "..."',
             "```", "", "## A shot", ""]  # fmt: skip
    lines += _model_table(config.ShotSpec, "")
    lines += ["## `camera`", "", "The guide's camera sliders, each from -10 to 10; small values keep a move subtle.", ""]
    lines += _model_table(config.CameraSpec, "camera.")
    lines += [f"`aspect` is one of {', '.join(f'`{a}`' for a in config.ASPECTS)}.", ""]
    return "\n".join(lines)


def _walk(group: click.Group, prefix: str) -> list[tuple[str, click.Command]]:
    out = []
    for name in sorted(group.commands):
        cmd = group.commands[name]
        out.append((f"{prefix}{name}", cmd))
        if isinstance(cmd, click.Group):
            out += _walk(cmd, f"{prefix}{name} ")
    return out


def commands() -> str:
    from goldenchain.cli import cli

    lines = [GENERATED, "# Reference: commands", "",
             "Exit codes for every command: 0 success; 1 the work ran and something was rejected or failed; 2 bad",
             "usage or bad input (one line on stderr, nothing spent).", ""]  # fmt: skip
    for path, cmd in _walk(cli, ""):
        lines += [f"## `goldenchain {path}`", "", inspect.cleandoc(cmd.help or "").replace("\n\n", "\n\n"), ""]
        args = [p for p in cmd.params if isinstance(p, click.Argument)]
        if args:
            lines.append("Arguments: " + ", ".join(f"`{a.human_readable_name}`" for a in args) + "\n")
        opts = [p for p in cmd.params if isinstance(p, click.Option) and not p.hidden]
        if opts:
            lines += ["| option | default | what it does |", "|---|---|---|"]
            for o in opts:
                names = ", ".join(f"`{n}`" for n in o.opts)
                default = "" if o.default in (None, False, ()) or o.is_flag else f"`{o.default}`"
                lines.append(f"| {names} | {default} | {(o.help or '').replace('|', '/')} |")
            lines.append("")
    return "\n".join(lines)


def lint_rules() -> str:
    from goldenchain.core import rules

    lines = [GENERATED, "# Reference: lint rules", "",
             "Prompt rules run by `goldenchain lint` (and by `run` before any spend). Switch one off with",
             "`[lint] disable = [\"id\"]`; add your own under `[[lint.rules]]`.", "",
             "| rule | severity | scenes | says | fix |", "|---|---|---|---|---|"]  # fmt: skip
    for r in getattr(rules, "PROMPT_RULES", ()):
        scenes = ", ".join(r.scenes) or "all"
        lines.append(f"| `{r.id}` | {r.severity} | {scenes} | {r.message.replace('|', '/')} | {r.hint.replace('|', '/')} |")
    lines.append("")
    src = inspect.getsource(rules)
    other = sorted(set(re.findall(r'Finding\(\s*[^,]+,\s*"([a-z0-9-]+)"', src)) - {r.id for r in rules.PROMPT_RULES})
    if other:
        lines += ["Camera, motion and capability rules: " + ", ".join(f"`{o}`" for o in other) + ".", ""]
    return "\n".join(lines)


def _threshold_rows(params: dict[str, float], module: Any) -> list[str]:
    src = inspect.getsource(module)
    notes = {m.group(1): m.group(2) for m in re.finditer(r'"([a-z_.0-9]+)":\s*[^,]+,\s*#\s*(.*)', src)}
    rows = ["| parameter | value | meaning |", "|---|---|---|"]
    for k, v in params.items():
        shown = "off" if v != v else f"{v:g}"
        rows.append(f"| `{k}` | {shown} | {notes.get(k, '').replace('|', '/')} |")
    return [*rows, ""]


def checks() -> str:
    from goldenchain.gates import profiles

    lines = [GENERATED, "# Reference: checks and thresholds", "",
             "The image gate's and the clip check's parameters, as the default profile sets them. Override any of",
             "them per project under `[gate.thresholds]` or `[qc.thresholds]`.", "",
             f"## Image gate (profile `{profiles.DEFAULT_PROFILE}`)", ""]  # fmt: skip
    lines += _threshold_rows(dict(profiles.resolve(profiles.DEFAULT_PROFILE, None)), profiles)
    lines += ["## Clip check", ""]
    lines += _threshold_rows(dict(profiles.resolve_clip(None)), profiles)
    return "\n".join(lines)


def exit_codes() -> str:
    from goldenchain import errors

    tree = (inspect.getdoc(errors) or "").split("::", 1)[-1].split("Messages never", 1)[0]
    return "\n".join([
        GENERATED, "# Reference: exit codes, errors and JSON shapes", "",
        "| code | means |", "|---|---|",
        "| 0 | success |",
        "| 1 | the work ran and something was rejected or failed (a gate or clip-check reject, a budget stop, a "
        "failed or blocked shot, another run holding the project) |",
        "| 2 | bad usage or bad input: one line on stderr, no traceback, nothing spent |",
        "| 130 | interrupted (Ctrl-C): paid tasks in flight are kept for the next run |", "",
        "## The exception tree (`goldenchain.errors`)", "", "```", tree.strip("\n"), "```", "",
        "## JSON shapes", "",
        "`gate --json` and `qc --json`: an array, one object per file:", "",
        "```json",
        '{"path": "a.png", "verdict": "pass|warn|reject|error", "seconds": 0.21,',
        ' "checks": [{"name": "blur", "verdict": "pass|warn|reject", "score": 27.4, "threshold": 60.0,',
        '             "direction": "higher_is_worse|lower_is_worse", "message": "..."}]}',
        "```", "",
        "`lint --json`: an array of `{\"shot\", \"rule\", \"severity\", \"message\", \"hint\"}`.", "",
        "`estimate --json` and `costs --json`: an object with at least `total_usd`, `by_shot`, `by_provider`;",
        "the drafts apart: `draft_usd` (estimate: per shot and in total; costs: with `by_kind`; see",
        "[draft stills](../howto/drafts.md)).", "",
        "`costs monthly --json`: an array, one summary per client, each as its `summary-<client>-<YYYY-MM>.json`"
        " (`schema`: `goldenchain.monthly/1`; see [Read costs and summarise a month](../howto/costs.md)).", "",
        "`status --json`: an array, per shot: `shot`, `stage`, `status`, `detail`, `takes`, `verdicts`, `spend_usd`,",
        "`next` (what a person can do), `draft` (which draft the final still comes from, or null).", "",
        "`calibrate --json`: an object: `calibration`, `project`, `routes`, `stills_only`, `baseline`,",
        "`previous`, `estimate_usd`, `spent_usd`, `ok`, `flagged`, `metrics` (per metric: `now`, `last`, `drift`,",
        "`relative`, `band`, `band_kind`, `flagged`), `prompts`; exit 1 when a metric is flagged (see",
        "[calibrate](../howto/calibrate.md)).", "",
    ])  # fmt: skip


PAGES = {
    "reference/project-file.md": project_file,
    "reference/shot-list.md": shot_list,
    "reference/commands.md": commands,
    "reference/lint-rules.md": lint_rules,
    "reference/checks.md": checks,
    "reference/exit-codes.md": exit_codes,
}


def on_files(files: Files, config: Any) -> Files:
    for path, build in PAGES.items():
        files.append(File.generated(config, path, content=build()))
    return files
