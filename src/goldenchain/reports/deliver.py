"""Deliverables in ``out/``: the accepted clips, ``final.mp4``, ``report.json`` and ``report.html``."""

from __future__ import annotations

import html
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from goldenchain.config import Project
from goldenchain.media import probe_video
from goldenchain.reports.costs import summarize
from goldenchain.reports.delivery import Delivery
from goldenchain.store.ledger import Ledger


def _probe(path: Path) -> dict[str, Any]:
    info = probe_video(path, count_frames=True)
    info["duration"] = round(info["duration"] or 0.0, 3)
    return info


def _thumb(src: Path, dst: Path) -> None:
    from PIL import Image

    dst.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(src) as opened:
        im = opened.convert("RGB")
        im.thumbnail((384, 384))
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=82)
    dst.write_bytes(buf.getvalue())


def build_deliverables(project: Project, ledger: Ledger, *, assemble: bool = True) -> dict[str, Any]:
    """Every accepted clip delivered to the project's spec (``[delivery]``), with its provenance sidecar, then
    the final cut, the delivery check of every file, ``report.json`` and ``report.html``."""
    out = project.out_dir
    out.mkdir(parents=True, exist_ok=True)
    shots = ledger.shots(project.id)
    takes = ledger.takes(project.id)
    records = ledger.take_records(project.id)  # the one shape of a take (goldenchain.api.Take)
    spend = ledger.spend(project.id)
    costs = summarize(spend, takes)
    delivery = Delivery(project)
    delivered: list[tuple[str, Path]] = []
    shots_json: list[dict[str, Any]] = []
    for row in shots:
        entry: dict[str, Any] = {
            "id": row.shot_id,
            "prompt": row.spec.get("prompt"),
            "scene": row.spec.get("scene"),
            "status": row.status,
            "stage": row.stage,
            "detail": row.detail,
            "takes": [t.to_json() for t in records if t.shot == row.shot_id],
            "still": None,
            "clip": None,
            "thumbnail": None,
        }
        if row.still_take_id:
            t = ledger.take(row.still_take_id)
            art = ledger.artifact(t.artifact_sha256 or "")
            if art:
                thumb = out / "thumbs" / f"{row.shot_id}.jpg"
                _thumb(project.root / art.path, thumb)
                entry["still"] = art.path
                entry["thumbnail"] = str(thumb.relative_to(out))
        if row.status == "done" and row.clip_take_id:
            clip = ledger.take(row.clip_take_id)
            art = ledger.artifact(clip.artifact_sha256 or "")
            still_id = row.still_take_id or clip.parent_take_id
            if art:
                still = ledger.take(still_id) if still_id is not None else None  # none: text-to-video
                shot_spend = float(costs.get("by_shot", {}).get(row.shot_id, 0.0))
                made = delivery.clip({"id": row.shot_id, **row.spec}, still, clip, art, shot_spend)
                dst = out / made["path"]
                entry["clip"] = {**made, **_probe(dst)}
                delivered.append((row.shot_id, dst))
        shots_json.append(entry)
    final: dict[str, Any] | None = None
    d = project.config.delivery
    if assemble and delivered:
        from goldenchain.crashpoints import crashpoint

        crashpoint("assembling")
        made = delivery.final(delivered)
        final = {
            **made,
            **_probe(out / made["path"]),
            "clips": [s for s, _ in delivered],
            "clips_duration": round(
                sum(float(e["clip"]["video_duration"]) for e in shots_json if e["clip"]), 3
            ),
        }
    from goldenchain.reports.costs import burn
    from goldenchain.reports.plots import plot_spend

    costs["burn"] = burn(costs, spend, project.config.plan)
    plot_spend(costs, out / "spend.png", budget=project.config.budget.project_usd)
    report = {
        "project": project.id,
        "client": project.config.project.client,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "delivery": d.public(),
        "delivery_check": delivery.checks,
        "delivery_ok": all(c["ok"] for c in delivery.checks),
        "final": final,
        "costs": costs,
        "shots_done": sum(1 for s in shots if s.status == "done"),
        "shots_total": len(shots),
        "shots": shots_json,
    }
    (out / "report.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    (out / "report.html").write_text(render_html(report), encoding="utf-8")
    return report


def render_html(report: dict[str, Any]) -> str:
    from goldenchain.reports.html import environment

    return environment().get_template("report.html.j2").render(r=report, esc=html.escape)
