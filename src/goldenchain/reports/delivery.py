"""Delivered files to the project's spec: each accepted clip encoded, named by the pattern, signed (C2PA, when
asked), described by its provenance sidecar and checked against the spec; then the final cut the same way."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from goldenchain.assemble.check import check_delivered
from goldenchain.assemble.encode import FinalInputs, cut_duration, encode_clip, encode_final
from goldenchain.config import Project
from goldenchain.core.delivery import DeliverySection, clip_name
from goldenchain.media import probe_video
from goldenchain.reports.provenance import file_sha256, sidecar, sign_c2pa, write_sidecar
from goldenchain.store.takes import Artifact, Take

__all__ = ["Delivery", "video_duration"]


def video_duration(path: Path) -> float:
    """The video stream's length in seconds: frames over rate (the container may count an audio tail)."""
    info = probe_video(path, count_frames=True)
    if info.get("frames") and info.get("fps"):
        return round(float(info["frames"]) / float(info["fps"]), 4)
    return float(info["duration"] or 0.0)


@dataclass
class Delivery:
    """One delivery of a project: what was written, and what the check found."""

    project: Project
    day: Any = field(default_factory=lambda: datetime.now(UTC).date())
    checks: list[dict[str, Any]] = field(default_factory=list)

    @property
    def spec(self) -> DeliverySection:
        return self.project.config.delivery

    @property
    def out(self) -> Path:
        return self.project.out_dir

    def _inputs(self) -> list[dict[str, Any]]:
        """The project's own files that go into delivered files, hashed (the signing key never is)."""
        d, root = self.spec, self.project.root
        rows = []
        named = (("logo", d.logo), ("audio", d.audio_file), ("c2pa_cert", d.c2pa_cert if d.c2pa else None))
        for role, rel in named:
            if rel:
                rows.append({"role": role, "path": rel, "sha256": file_sha256(root / rel)})
        return rows

    def _sign(self, path: Path, title: str, assertion: dict[str, Any]) -> dict[str, Any] | None:
        d = self.spec
        if not d.c2pa:
            return None
        assert d.c2pa_key and d.c2pa_cert  # the config check requires both
        root = self.project.root
        return sign_c2pa(
            path,
            key=root / d.c2pa_key,
            cert=root / d.c2pa_cert,
            alg=d.c2pa_alg,
            title=title,
            assertion=assertion,
        )

    def _check(self, path: Path, duration: float) -> dict[str, Any]:
        if not self.spec.check:
            return {"file": str(path.relative_to(self.out)), "ok": True, "reason": None, "facts": None}
        row = check_delivered(path, self.spec, duration=duration, name=str(path.relative_to(self.out)))
        self.checks.append(row)
        return row

    def _reusable(
        self, dst: Path, side: Path, clip: Take, inputs: list[dict[str, Any]]
    ) -> dict[str, Any] | None:
        """The sidecar of a file delivered earlier from the same clip, spec and inputs, unchanged since."""
        try:
            old = json.loads(side.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        same = (
            old.get("clip", {}).get("sha256") == clip.artifact_sha256
            and old.get("delivery") == json.loads(json.dumps(self.spec.public()))
            and [i for i in old.get("inputs", []) if i.get("role") != "still"] == inputs
            and dst.is_file()
            and old.get("sha256") == file_sha256(dst)
        )
        return old if same else None

    def clip(
        self, shot: dict[str, Any], still: Take | None, clip: Take, src: Artifact, shot_spend: float
    ) -> dict[str, Any]:
        """Deliver one accepted clip: returns the report's ``clip`` entry (path, sidecar, sha256, facts).
        ``still``: the take it started from (None for text-to-video)."""
        p = self.project
        name = clip_name(
            self.spec,
            client=p.config.project.client,
            project=p.id,
            shot=str(shot["id"]),
            take=clip.take_no,
            day=self.day,
        )
        dst = self.out / "clips" / name
        side = dst.with_suffix(".json")
        inputs = self._inputs()
        content = self._reusable(dst, side, clip, inputs)
        source = p.root / src.path
        if content is None:
            encode_clip(source, dst, self.spec, duration=probe_video(source)["duration"])
            args: dict[str, Any] = {
                "project": p.id,
                "client": p.config.project.client,
                "shot": shot,
                "still": still,
                "clip": clip,
            }
            args |= {"spec": self.spec, "inputs": inputs, "shot_spend_usd": shot_spend}
            draft = sidecar(delivered=dst, c2pa=None, **args)
            c2pa = self._sign(dst, name, {k: v for k, v in draft.items() if k not in ("sha256", "file")})
            content = sidecar(delivered=dst, c2pa=c2pa, **args)  # hashed after signing: the file as delivered
            write_sidecar(side, content)
        duration = video_duration(dst)
        check = self._check(dst, float(probe_video(source)["duration"] or duration))
        return {
            "path": str(dst.relative_to(self.out)),
            "sidecar": str(side.relative_to(self.out)),
            "sha256": content["sha256"],
            # the manifest is embedded in the file itself: where to read it, and how it was signed
            "c2pa": {"manifest_in": str(dst.relative_to(self.out)), **content["c2pa"]}
            if content.get("c2pa")
            else None,
            "check": check["ok"],
            "video_duration": duration,
        }

    def final(self, clips: list[tuple[str, Path]]) -> dict[str, Any]:
        """The final cut of the delivered clips (shot id, path), with its slate, logo and audio."""
        from goldenchain.assemble.slate import render_slate

        d, p = self.spec, self.project
        slate = None
        if d.slate > 0:
            slate = render_slate(
                p.state_dir / "delivery" / "slate.png",
                d.size,
                client=p.config.project.client,
                project=p.id,
                day=self.day,
                title=d.slate_title,
            )
        timed = [(path, video_duration(path)) for _, path in clips]
        inp = FinalInputs(
            clips=timed,
            slate=slate,
            logo=p.root / d.logo if d.logo else None,
            audio=p.root / d.audio_file if d.audio_file else None,
        )
        out = self.out / d.final_name
        encode_final(inp, out, d)
        expected = cut_duration(d, [t for _, t in timed])
        assertion = {
            "project": p.id,
            "client": p.config.project.client,
            "clips": [{"shot": s, "file": path.name, "sha256": file_sha256(path)} for s, path in clips],
            "inputs": self._inputs(),
            "delivery": d.public(),
        }
        c2pa = self._sign(out, out.name, assertion)
        check = self._check(out, expected)
        return {
            "path": out.name,
            "sha256": file_sha256(out),
            "c2pa": {"manifest_in": out.name, **c2pa} if c2pa else None,
            "expected_duration": round(expected, 3),
            "check": check["ok"],
            "slate": d.slate,
            "crossfade": d.crossfade,
            "logo": d.logo,
            "audio": d.audio,
        }
