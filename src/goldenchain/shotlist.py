"""Edits to the shot list on disk (``shots.yaml``) that keep the rest of the file as the user wrote it."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from goldenchain.config import SHOTS_FILE, load_shots
from goldenchain.errors import UsageError

MAX_PROMPT = 2500


def set_prompt(root: Path, shot_id: str, field: str, text: str) -> None:
    """Replace one shot's ``prompt`` or ``video_prompt`` in place (comments and order kept); the file is
    validated before it replaces the old one, so a bad edit leaves the shot list as it was."""
    if field not in ("prompt", "video_prompt"):
        raise UsageError(f"cannot edit {field!r}")
    text = " ".join(text.split())
    if not text or len(text) > MAX_PROMPT:
        raise UsageError(f"a {field} needs 1 to {MAX_PROMPT} characters")
    path = root / SHOTS_FILE
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    start = next(
        (
            i
            for i, ln in enumerate(lines)
            if re.match(rf"\s*-\s+id:\s*['\"]?{re.escape(shot_id)}['\"]?\s*$", ln)
        ),
        None,
    )
    if start is None:
        raise UsageError(f"unknown shot {shot_id!r} in {path.name}")
    indent = len(lines[start]) - len(lines[start].lstrip()) + 2
    value = f"{' ' * indent}{field}: {json.dumps(text, ensure_ascii=False)}\n"
    end = next(
        (
            i
            for i in range(start + 1, len(lines))
            if re.match(r"\s*-\s+id:", lines[i]) or not lines[i].startswith(" ")
        ),
        len(lines),
    )
    at = next((i for i in range(start + 1, end) if re.match(rf"\s*{field}:", lines[i])), None)
    if at is None:
        lines.insert(start + 1, value)
    else:
        lines[at] = value
    tmp = path.with_suffix(".yaml.tmp")
    tmp.write_text("".join(lines), encoding="utf-8")
    try:
        shots = load_shots(tmp)
        if not any(s.id == shot_id and getattr(s, field) == text for s in shots.shots):
            raise UsageError(f"could not edit {field} of {shot_id} in {path.name}")
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)
