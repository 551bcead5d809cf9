"""Replicate predictions API (providers.md §3, §5.3): FLUX stills and Kling clips, ``Prefer: wait``, faults.

Routes (under the ``/replicate`` mount): ``POST /v1/models/{owner}/{name}/predictions``,
``POST /v1/predictions`` (with ``version``), ``GET /v1/predictions/{id}``, ``POST /v1/predictions/{id}/cancel``.
Errors are RFC 7807 problem documents (``title``, ``detail``, ``status``), as the official client reads them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import random
import re
import string
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from PIL import Image

from goldenchain.providers.replicate import models as replicate_models

from .base import Context, Request, Response, json_response
from .media import clip_size
from .outcome import clip_renderer, still_renderer

__all__ = ["FLUX_MODELS", "KLING_MODELS", "Replicate", "version_id"]

FLUX_MODELS = {
    "black-forest-labs/flux-dev",
    "black-forest-labs/flux-schnell",
    "black-forest-labs/flux-1.1-pro",
    "black-forest-labs/flux-pro",
}
KLING_MODELS = {"kwaivgi/kling-v1.6-standard", "kwaivgi/kling-v1.6-pro", "kwaivgi/kling-v2.1"}
# every model goldenchain's specs name is served too (the specs say what each makes)
FLUX_MODELS |= {s.model for s in replicate_models.FLUX_SPECS}
KLING_MODELS |= {s.model for s in replicate_models.KLING_SPECS}
_FLUX_SPECS = {s.model: s for s in replicate_models.FLUX_SPECS}
ASPECTS: dict[str, tuple[int, int]] = {
    "1:1": (1024, 1024), "16:9": (1344, 768), "21:9": (1536, 640), "2:3": (832, 1216), "3:2": (1216, 832),
    "4:5": (896, 1088), "5:4": (1088, 896), "9:16": (768, 1344), "9:21": (640, 1536),
}  # fmt: skip
NSFW = "NSFW content detected. Try running it again, or try a different prompt."
CREDIT = (
    "You have insufficient credit to run this model. Go to https://replicate.com/account/billing#billing to "
    "purchase credit. Once you purchase credit, please wait a few minutes before trying again."
)
_ROUTE = re.compile(r"/v1/(?:models/([^/]+)/([^/]+)/predictions|predictions(?:/([^/]+)(/cancel)?)?)/?")
TERMINAL = ("succeeded", "failed", "canceled")


def version_id(model: str) -> str:
    """The (stable, fake) 64-hex version id of a model."""
    return hashlib.sha256(f"replicate-emulator:{model}".encode()).hexdigest()


VERSIONS = {version_id(m): m for m in FLUX_MODELS | KLING_MODELS}


def _iso(t: float | None) -> str | None:
    if t is None:
        return None
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _problem(status: int, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"type": None, "title": title, "status": status, "detail": detail, **extra}


# Request-fault kind -> (status, problem document, headers)
def _fault_answer(kind: str) -> tuple[int, dict[str, Any], dict[str, str]] | None:
    if kind in ("rate_limit", "concurrency"):
        detail = "Request was throttled. Your rate limit resets in ~1s."
        return 429, {"title": "Request was throttled", "detail": detail, "status": 429}, {"Retry-After": "1"}
    if kind in ("billing", "billing_1101", "billing_1102"):
        return 402, _problem(402, "Insufficient credit", CREDIT), {}
    if kind == "auth":
        return 401, _problem(401, "Unauthenticated", "You did not pass a valid authentication token"), {}
    if kind == "invalid":
        detail = "- input.prompt: Invalid type. Expected: string, given: null\n"
        fields = [{"type": "invalid_type", "field": "input.prompt", "description": "Invalid type"}]
        return 422, _problem(422, "Input validation failed", detail, invalid_fields=fields), {}
    if kind == "not_found":
        return 404, _problem(404, "Not found", "The requested resource could not be found."), {}
    if kind == "server_error":
        return 500, _problem(500, "Internal Server Error", "Internal Server Error"), {}
    if kind in ("unavailable", "unavailable_no_retry"):
        return 503, _problem(503, "Service Unavailable", "Service Unavailable"), {}
    if kind == "timeout":
        return 504, _problem(504, "Gateway Timeout", "Gateway Timeout"), {}
    return None


@dataclass
class _Prediction:
    id: str
    model: str
    version: str
    family: str  # "flux" | "kling"
    input: dict[str, Any]
    created: float
    fault: str | None
    output: Any = None  # fixed at creation (URLs to lazily rendered files)
    canceled_at: float | None = None


class Replicate:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.predictions: dict[str, _Prediction] = {}

    # helpers -------------------------------------------------------------------------------------------
    def _auth(self, req: Request) -> Response | None:
        header = req.headers.get("authorization", "")
        token = self.ctx.keys["REPLICATE_API_TOKEN"]
        if header not in (f"Bearer {token}", f"Token {token}"):
            detail = "You did not pass a valid authentication token"
            return json_response(401, _problem(401, "Unauthenticated", detail))
        return None

    def _fault(self, kind: str | None, **log: Any) -> Response | None:
        if kind is None:
            return None
        if kind in ("drop", "stall"):
            return Response(action=kind, log={"fault": kind, **log})
        answer = _fault_answer(kind)
        if answer is None:
            return None
        status, body, headers = answer
        return json_response(status, body, headers, fault=kind, **log)

    def _state(self, p: _Prediction, now: float) -> str:
        lat = self.ctx.latency
        if p.canceled_at is not None:
            return "canceled"
        if now - p.created < lat / 3:
            return "starting"
        if now - p.created < lat or p.fault == "stuck":
            return "processing"
        if p.fault in ("content_policy", "nsfw", "failed"):
            return "failed"
        return "succeeded"

    def _logs(self, p: _Prediction, now: float, state: str) -> str:
        if state == "starting":
            return ""
        steps = int(p.input.get("num_inference_steps") or (4 if "schnell" in p.model else 28))
        if p.family == "kling":
            steps = 50
        lat = max(1e-6, self.ctx.latency * 2 / 3)
        progress = 1.0 if state in TERMINAL else min(1.0, (now - p.created - self.ctx.latency / 3) / lat)
        done = max(0, min(steps, int(progress * steps)))
        lines = [f"Using seed: {p.input.get('seed', 0)}"]
        for i in range(1, done + 1):
            pct = 100 * i // steps
            bar = ("█" * (pct // 10)).ljust(10)
            lines.append(f"{pct:3d}%|{bar}| {i}/{steps} [00:00<00:00, 20.00it/s]")
        return "\n".join(lines) + "\n"

    def _json(self, p: _Prediction, now: float, state: str | None = None) -> dict[str, Any]:
        state = state or self._state(p, now)
        lat = self.ctx.latency
        base = f"{self.ctx.base_url()}/replicate/v1/predictions/{p.id}"
        started = p.created + lat / 3 if state != "starting" else None
        if p.canceled_at is not None:
            done: float | None = p.canceled_at
        else:
            done = p.created + lat if state in TERMINAL else None
        out: dict[str, Any] = {
            "id": p.id,
            "model": p.model,
            "version": p.version,
            "input": p.input,
            "logs": self._logs(p, now, state),
            "output": None,
            "data_removed": False,
            "error": None,
            "status": state,
            "source": "api",
            "created_at": _iso(p.created),
            "started_at": _iso(started),
            "completed_at": _iso(done),
            "urls": {
                "get": base,
                "cancel": f"{base}/cancel",
                "stream": f"{self.ctx.base_url()}/replicate/stream/{p.id}",
                "web": f"https://replicate.com/p/{p.id}",
            },
        }
        if state in TERMINAL:
            predict = round(max(0.01, lat * 2 / 3), 4)
            out["metrics"] = {"predict_time": predict, "total_time": round(lat, 4)}
        if state == "succeeded":
            if p.fault == "data_removed":
                out["data_removed"] = True
                out["input"] = {}
                out["logs"] = ""
            else:
                out["output"] = p.output
        elif state == "failed":
            out["error"] = NSFW if p.fault in ("content_policy", "nsfw") else "Prediction failed: CUDA error"
        return out

    # routing -------------------------------------------------------------------------------------------
    @staticmethod
    def is_create(req: Request) -> bool:
        """A create request (paid when accepted), whatever the answer."""
        m = _ROUTE.fullmatch(req.subpath)
        if req.method != "POST" or m is None:
            return False
        owner, name, pid, _cancel = m.groups()
        return bool(owner and name) or pid is None

    def handle(self, req: Request) -> Response:
        denied = self._auth(req)
        if denied is not None:
            return denied
        m = _ROUTE.fullmatch(req.subpath)
        if not m:
            return json_response(
                404, _problem(404, "Not found", "The requested resource could not be found.")
            )
        owner, name, pid, cancel = m.groups()
        if owner and name:
            if req.method != "POST":
                return json_response(405, _problem(405, "Method not allowed", "Method not allowed"))
            return self._create(req, f"{owner}/{name}")
        if pid is None:
            if req.method == "POST":
                return self._create(req, None)
            if req.method == "GET":
                return self._list()
            return json_response(405, _problem(405, "Method not allowed", "Method not allowed"))
        if cancel:
            if req.method != "POST":
                return json_response(405, _problem(405, "Method not allowed", "Method not allowed"))
            return self._cancel(pid)
        if req.method != "GET":
            return json_response(405, _problem(405, "Method not allowed", "Method not allowed"))
        return self._get(pid)

    # create --------------------------------------------------------------------------------------------
    def _resolve_version(self, version: Any) -> tuple[str, str] | None:
        """(model, version id) for ``<hex>``, ``owner/name:<hex>`` or ``owner/name`` (official models)."""
        if not isinstance(version, str) or not version:
            return None
        ref, _, vid = version.partition(":")
        if "/" not in ref:
            vid = ref
            model = VERSIONS.get(vid)
            return (model, vid) if model else None
        if ref not in VERSIONS.values():
            return None
        if vid and VERSIONS.get(vid) != ref:
            return None
        return ref, version_id(ref)

    def _create(self, req: Request, model: str | None) -> Response:
        kind = self.ctx.plan.next("replicate", "create", model or "")
        if kind is not None and kind != "content_policy" and not kind.endswith("_after_accept"):
            faulted = self._fault(kind)
            if faulted is not None:
                return faulted
        try:
            body = req.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return json_response(400, _problem(400, "Bad request", "The request body is not a JSON object"))
        if model is None:
            resolved = self._resolve_version(body.get("version"))
            if resolved is None:
                detail = (
                    "The specified version does not exist (or perhaps you don't have permission to use it?)"
                )
                return json_response(422, _problem(422, "Invalid version or not permitted", detail))
            model, version = resolved
        else:
            if model not in FLUX_MODELS | KLING_MODELS:
                detail = "The requested resource could not be found."
                return json_response(404, _problem(404, "Not found", detail))
            version = version_id(model)
        inputs = body.get("input")
        if not isinstance(inputs, dict):
            inputs = {}
        family = "flux" if model in FLUX_MODELS else "kling"
        errors, spec = (self._check_flux if family == "flux" else self._check_kling)(model, inputs)
        if errors:
            detail = "".join(f"- input.{f}: {d}\n" for f, d in errors)
            fields = [{"type": "invalid", "field": f"input.{f}", "description": d} for f, d in errors]
            return json_response(422, _problem(422, "Input validation failed", detail, invalid_fields=fields))
        now = self.ctx.now()
        pid = "".join(random.choices(string.ascii_lowercase + "0123456789", k=26))
        fault = self.ctx.plan.next("replicate", "task", model)
        if kind == "content_policy":
            fault = "content_policy"
        p = _Prediction(pid, model, version, family, inputs, now, fault)
        p.output = self._flux_output(p, spec) if family == "flux" else self._kling_output(p, spec)
        with self.ctx.lock:
            self.predictions[pid] = p
        events = body.get("webhook_events_filter") or ["start", "output", "logs", "completed"]
        if fault != "stuck" and isinstance(events, list) and "completed" in events:  # the prediction, signed
            self.ctx.callback("replicate", body.get("webhook"), now + self.ctx.latency,
                              lambda: self._json(p, self.ctx.now()))  # fmt: skip
        log: dict[str, Any] = {"task_id": pid, "accepted": True}
        if kind in ("drop_after_accept", "stall_after_accept"):
            return Response(action=kind.split("_", 1)[0], log={**log, "fault": kind})
        state = "starting"
        wait = self._prefer_wait(req.headers.get("prefer", ""))
        if wait is not None:
            finish = p.created + self.ctx.latency
            if p.fault != "stuck" and finish - now <= wait:
                self.ctx.sleep(finish - now + 0.005)
                state = self._state(p, self.ctx.now())
            else:
                self.ctx.sleep(wait)
                # Replicate answers "starting" when the wait window expires (never "processing")
        return json_response(201, self._json(p, self.ctx.now(), state), **log)

    @staticmethod
    def _prefer_wait(header: str) -> float | None:
        for part in header.split(","):
            part = part.strip()
            if part == "wait":
                return 60.0
            if part.startswith("wait="):
                try:
                    return float(min(60, max(1, int(part[5:]))))
                except ValueError:
                    return None
        return None

    def _check_flux(self, model: str, inputs: dict[str, Any]) -> tuple[list[tuple[str, str]], dict[str, Any]]:
        errors: list[tuple[str, str]] = []
        prompt = inputs.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            errors.append(("prompt", "prompt is required"))
        aspect = inputs.get("aspect_ratio", "1:1")
        width = height = 0
        pro = model == "black-forest-labs/flux-1.1-pro"
        if pro and aspect == "custom":
            w, h = inputs.get("width"), inputs.get("height")
            for name, v in (("width", w), ("height", h)):
                if isinstance(v, bool) or not isinstance(v, int) or not 256 <= v <= 1440 or v % 32:
                    errors.append((name, f"{name} must be a multiple of 32 in [256, 1440]"))
            if not errors:
                width, height = int(w), int(h)  # type: ignore[arg-type]
        elif model in _FLUX_SPECS and aspect in _FLUX_SPECS[model].ratios:
            rw, rh = (int(x) for x in aspect.split(":"))
            width, height = _FLUX_SPECS[model].still_output(rw, rh)
            if str(inputs.get("megapixels", "1")) == "0.25":
                width, height = width // 32 * 16, height // 32 * 16
        elif aspect in ASPECTS:
            width, height = ASPECTS[aspect]
            if str(inputs.get("megapixels", "1")) == "0.25":
                width, height = width // 32 * 16, height // 32 * 16
        else:
            errors.append(("aspect_ratio", f"aspect_ratio must be one of: {', '.join(ASPECTS)}"))
        n = inputs.get("num_outputs", 1)
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 4:
            errors.append(("num_outputs", "Must be between 1 and 4"))
        fmt = inputs.get("output_format", "webp")
        if fmt not in ("webp", "jpg", "png"):
            errors.append(("output_format", "output_format must be one of: webp, jpg, png"))
        seed = inputs.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            errors.append(("seed", "Invalid type. Expected: integer"))
        steps = inputs.get("num_inference_steps")
        limit = 4 if "schnell" in model else 50
        if steps is not None and (
            isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= limit
        ):
            errors.append(("num_inference_steps", f"Must be between 1 and {limit}"))
        spec = {"width": width, "height": height, "n": n if isinstance(n, int) else 1, "format": fmt}
        return errors, spec

    def _check_kling(
        self, model: str, inputs: dict[str, Any]
    ) -> tuple[list[tuple[str, str]], dict[str, Any]]:
        errors: list[tuple[str, str]] = []
        if not isinstance(inputs.get("prompt"), str) or not inputs.get("prompt"):
            errors.append(("prompt", "prompt is required"))
        image: bytes | None = None
        start = inputs.get("start_image")
        if start is None:
            if model == "kwaivgi/kling-v2.1":
                errors.append(("start_image", "start_image is required"))
        else:
            image = self._load(start)
            if image is None:
                errors.append(("start_image", "could not load the file (use a URL or a data URL)"))
        duration = inputs.get("duration", 5)
        if isinstance(duration, bool) or duration not in (5, 10):
            errors.append(("duration", "duration must be one of: 5, 10"))
        cfg = inputs.get("cfg_scale", 0.5)
        if isinstance(cfg, bool) or not isinstance(cfg, int | float) or not 0 <= cfg <= 1:
            errors.append(("cfg_scale", "Must be between 0 and 1"))
        mode = inputs.get("mode", "standard")
        if model == "kwaivgi/kling-v2.1" and mode not in ("standard", "pro"):
            errors.append(("mode", "mode must be one of: standard, pro"))
        pro_end = model == "kwaivgi/kling-v1.6-pro" or (model == "kwaivgi/kling-v2.1" and mode == "pro")
        if inputs.get("end_image") is not None and not pro_end:
            errors.append(("end_image", "end_image needs mode pro"))
        aspect = inputs.get("aspect_ratio", "16:9")
        if aspect not in ("16:9", "9:16", "1:1"):
            errors.append(("aspect_ratio", "aspect_ratio must be one of: 16:9, 9:16, 1:1"))
        high = model == "kwaivgi/kling-v1.6-pro" or (model == "kwaivgi/kling-v2.1" and mode == "pro")
        if image is not None and not errors:
            with Image.open(io.BytesIO(image)) as img:
                ratio = img.width / img.height
            aspect = "9:16" if ratio < 0.8 else "1:1" if ratio < 1.25 else "16:9"  # follows start_image
        w, h = clip_size(aspect if isinstance(aspect, str) else "16:9", high)
        return errors, {"image": image, "width": w, "height": h, "duration": duration}

    def _load(self, ref: Any) -> bytes | None:
        if not isinstance(ref, str):
            return None
        data: bytes | None
        if ref.startswith("data:"):
            try:
                data = base64.b64decode(ref.split(",", 1)[1], validate=True)
            except (IndexError, ValueError, binascii.Error):
                return None
        else:
            data = self.ctx.files.fetch_url(ref)  # only our own /files URLs can be fetched
        if data is None:
            return None
        try:
            with Image.open(io.BytesIO(data)) as img:
                img.verify()
        except Exception:
            return None
        return data

    def _flux_output(self, p: _Prediction, spec: dict[str, Any]) -> list[str]:
        prompt, fault = str(p.input.get("prompt")), p.fault
        seed = p.input.get("seed")
        seed = seed if isinstance(seed, int) else int(hashlib.sha256(p.id.encode()).hexdigest()[:7], 16)
        w, h, ext = spec["width"], spec["height"], spec["format"]
        urls = []
        for i in range(spec["n"]):
            render = still_renderer(self.ctx, prompt, seed + i, w, h, ext, fault)
            urls.append(self.ctx.files.put(ext, render, missing=fault == "result_404"))
        return urls

    def _kling_output(self, p: _Prediction, spec: dict[str, Any]) -> str:
        prompt, fault = str(p.input.get("prompt") or ""), p.fault
        w, h, duration, image = spec["width"], spec["height"], int(spec["duration"]), spec["image"]
        render = clip_renderer(self.ctx, prompt, image, duration, w, h, 24, None, fault)
        return self.ctx.files.put("mp4", render, missing=fault == "result_404")

    # reads ---------------------------------------------------------------------------------------------
    def _get(self, pid: str) -> Response:
        p = self.predictions.get(pid)
        kind = self.ctx.plan.next("replicate", "poll", p.model if p else "")
        faulted = self._fault(kind, task_id=pid)
        if faulted is not None:
            return faulted
        if p is None:
            return json_response(404, _problem(404, "Not found", "The requested resource could not be found."),
                                 task_id=pid)  # fmt: skip
        return json_response(200, self._json(p, self.ctx.now()), task_id=pid)

    def _cancel(self, pid: str) -> Response:
        p = self.predictions.get(pid)
        if p is None:
            return json_response(404, _problem(404, "Not found", "The requested resource could not be found."),
                                 task_id=pid)  # fmt: skip
        now = self.ctx.now()
        with self.ctx.lock:
            if self._state(p, now) not in TERMINAL:
                p.canceled_at = now
        return json_response(200, self._json(p, now), task_id=pid)

    def _list(self) -> Response:
        now = self.ctx.now()
        with self.ctx.lock:
            items = sorted(self.predictions.values(), key=lambda p: -p.created)[:100]
        results = []
        for p in items:
            obj = self._json(p, now)
            obj.pop("logs", None)
            results.append(obj)
        return json_response(200, {"next": None, "previous": None, "results": results})
