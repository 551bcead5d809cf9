"""Provenance of a delivered clip: a JSON sidecar (``out/clips/<name>.json``) and, with ``[delivery] c2pa``,
a C2PA manifest signed with the project's key and embedded in the file (the ``c2pa`` extra, c2pa-python).

The sidecar says how the clip was made: route and model (with version), prompt and video prompt, seed,
settings, the provider's task ids of the still and the clip takes, their costs, and the sha256 of the still, the
provider's clip, the delivered file and every input (the logo and audio of the cut, the signing certificate)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from goldenchain import __version__
from goldenchain.core.delivery import DeliverySection
from goldenchain.errors import UsageError
from goldenchain.store.takes import Take

__all__ = ["SCHEMA", "file_sha256", "sidecar", "sign_c2pa", "write_sidecar"]

SCHEMA = "goldenchain.provenance/1"
#: IPTC digital source type of media made by a generative model
_GENERATED = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _model(t: Take) -> dict[str, Any]:
    from goldenchain.core.models import active_catalog

    spec = active_catalog().get(t.provider, t.model)
    handle = t.handle or {}
    version = t.request.get("version") or handle.get("version") or handle.get("model_version") or t.model
    return {"route": t.provider, "model": t.model, "label": spec.label if spec else None, "version": version}


def _take(t: Take) -> dict[str, Any]:
    return {
        "take": t.take_no,
        "take_id": t.id,
        **_model(t),
        "provider_task_id": t.provider_task_id,
        "idempotency_key": t.idempotency_key,
        "seed": t.seed,
        "estimate_usd": t.estimate_usd,
        "cost_usd": t.cost_usd,
        "billed_units": t.billed_units,
        "unit": t.unit,
        "sha256": t.artifact_sha256,
    }


def sidecar(
    *,
    project: str,
    client: str,
    shot: dict[str, Any],
    still: Take | None,
    clip: Take,
    delivered: Path,
    spec: DeliverySection,
    inputs: list[dict[str, Any]],
    shot_spend_usd: float,
    c2pa: dict[str, Any] | None,
) -> dict[str, Any]:
    """The sidecar's content for one delivered clip (``delivered`` is hashed as it is on disk now). A
    text-to-video clip has no ``still``: its still fields are null and its inputs hold no still."""
    req = clip.request
    still_usd = still.cost_usd if still is not None else None
    costs = {
        "still_usd": still_usd,
        "clip_usd": clip.cost_usd,
        "chosen_takes_usd": round((still_usd or 0.0) + (clip.cost_usd or 0.0), 6),
        "shot_usd": round(shot_spend_usd, 6),
    }
    return {
        "schema": SCHEMA,
        "generator": {"name": "goldenchain", "version": __version__},
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "project": project,
        "client": client,
        "shot": shot.get("id"),
        "file": delivered.name,
        "sha256": file_sha256(delivered),
        "route": clip.provider,
        "model": _model(clip),
        "still_model": _model(still) if still is not None else None,
        "prompt": still.request.get("prompt", shot.get("prompt"))
        if still is not None
        else shot.get("prompt"),
        "video_prompt": req.get("prompt"),
        "negative_prompt": req.get("negative_prompt"),
        "seed": still.seed if still is not None else None,
        "settings": {
            "mode": req.get("mode"),
            "duration": req.get("duration"),
            "aspect": req.get("aspect"),
            "camera": req.get("camera"),
            "motion": req.get("motion"),
            "cfg": req.get("cfg_scale"),
        },
        "still": _take(still) if still is not None else None,
        "clip": _take(clip),
        "costs": costs,
        "inputs": [
            *([{"role": "still", "sha256": still.artifact_sha256}] if still is not None else []),
            *inputs,
        ],
        "delivery": spec.public(),
        "c2pa": c2pa,
    }


def write_sidecar(path: Path, content: dict[str, Any]) -> Path:
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(json.dumps(content, indent=2, sort_keys=False), encoding="utf-8")
    tmp.replace(path)
    return path


def _mime(path: Path) -> str:
    return "video/quicktime" if path.suffix.lower() == ".mov" else "video/mp4"


def sign_c2pa(
    path: Path, *, key: Path, cert: Path, alg: str, title: str, assertion: dict[str, Any]
) -> dict[str, Any]:
    """Embed a C2PA manifest in ``path`` (in place): created by a generative model, with our provenance as a
    ``org.goldenchain.provenance`` assertion, signed with ``key`` and its certificate chain ``cert`` (PEM, the
    signer's certificate first). Returns what the sidecar records of it."""
    try:
        import c2pa
    except (
        ImportError
    ) as e:  # the config check refuses c2pa = true without the extra; a second line of defence
        raise UsageError(
            f"[delivery] c2pa needs the c2pa extra (pip install 'goldenchain[c2pa]'): {e}"
        ) from None
    manifest = {
        "claim_generator_info": [{"name": "goldenchain", "version": __version__}],
        "title": title,
        "format": _mime(path),
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {"actions": [{"action": "c2pa.created", "digitalSourceType": _GENERATED}]},
            },
            {"label": "org.goldenchain.provenance", "data": assertion},
        ],
    }
    algs = {a.name.lower(): a for a in c2pa.C2paSigningAlg}
    info = c2pa.C2paSignerInfo(algs[alg], cert.read_bytes(), key.read_bytes(), None)
    tmp = path.with_name(path.stem + ".signed" + path.suffix)
    try:
        with c2pa.Signer.from_info(info) as signer, c2pa.Builder(manifest) as builder:
            builder.sign_file(str(path), str(tmp), signer)
    except Exception as e:
        tmp.unlink(missing_ok=True)
        raise UsageError(f"{path.name}: C2PA signing failed with {key} / {cert}: {e}") from None
    tmp.replace(path)
    return {
        "embedded": True,
        "alg": alg,
        "cert_sha256": file_sha256(cert),
        "mime": _mime(path),
        "sdk": c2pa.sdk_version(),
    }
