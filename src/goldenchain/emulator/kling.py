"""Kling official API (providers.md §1, §5.1): JWT auth, envelope, task lifecycle, validation, faults."""

from __future__ import annotations

import base64
import binascii
import io
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
from PIL import Image

from .base import Context, Request, Response, json_response
from .kling_rules import CREDITS, FAULT_ERRORS, TASK_MESSAGES, output_spec, validate
from .outcome import clip_renderer, still_renderer

__all__ = ["Kling"]

FAMILIES = ("videos/image2video", "videos/text2video", "images/generations")
_ROUTE = re.compile(r"/v1/(videos/image2video|videos/text2video|images/generations)(?:/([^/]+))?/?")


def _ms(t: float) -> int:
    return int(t * 1000)


@dataclass
class _Task:
    task_id: str
    family: str
    body: dict[str, Any]
    created: float
    external_task_id: str | None
    fault: str | None
    deduction: str
    results: list[dict[str, Any]] = field(default_factory=list)


class Kling:
    def __init__(self, ctx: Context) -> None:
        #: the resource pack's size (tests set 0 for an exhausted pack)
        self.pack_units = 10000.0
        self.ctx = ctx
        self.tasks: dict[str, _Task] = {}
        self.by_external: dict[str, str] = {}
        self._seq = 0

    # helpers -------------------------------------------------------------------------------------------
    @staticmethod
    def _request_id() -> str:
        return str(uuid.uuid4())

    def _ok(self, data: Any, **log: Any) -> Response:
        return json_response(
            200, {"code": 0, "message": "SUCCEED", "request_id": self._request_id(), "data": data}, **log
        )

    def _err(self, status: int, code: int, message: str, **log: Any) -> Response:
        return json_response(
            status, {"code": code, "message": message, "request_id": self._request_id()}, **log
        )

    def _auth(self, req: Request) -> Response | None:
        header = req.headers.get("authorization", "")
        if not header.strip():
            return self._err(401, 1001, "Authorization is empty")
        scheme, _, token = header.partition(" ")
        if scheme != "Bearer" or not token or " " in token:
            return self._err(401, 1002, "Authorization is invalid")
        try:
            claims = jwt.decode(
                token,
                self.ctx.keys["KLING_SECRET_KEY"],
                algorithms=["HS256"],
                options={"require": ["iss", "exp"], "verify_iss": False},
            )
        except jwt.ImmatureSignatureError:
            return self._err(401, 1003, "Authorization is not yet valid")
        except jwt.ExpiredSignatureError:
            return self._err(401, 1004, "Authorization has expired")
        except jwt.PyJWTError:
            return self._err(401, 1002, "Authorization is invalid")
        if claims.get("iss") != self.ctx.keys["KLING_ACCESS_KEY"]:
            return self._err(401, 1002, "Authorization is invalid")
        return None

    def _status(self, task: _Task, now: float) -> tuple[str, float]:
        """(task_status, time of the last change) by wall time since acceptance."""
        lat = self.ctx.latency * self.ctx.drift.latency
        if now - task.created < lat / 3:
            return "submitted", task.created
        if now - task.created < lat or task.fault == "stuck":
            return "processing", task.created + lat / 3
        if task.fault in ("content_policy", "failed"):
            return "failed", task.created + lat
        return "succeed", task.created + lat

    def _task_json(self, task: _Task, now: float) -> dict[str, Any]:
        status, changed = self._status(task, now)
        out: dict[str, Any] = {
            "task_id": task.task_id,
            "task_status": status,
            "task_status_msg": TASK_MESSAGES.get(task.fault or "", "") if status == "failed" else "",
            "task_info": {"external_task_id": task.external_task_id} if task.external_task_id else {},
            "created_at": _ms(task.created),
            "updated_at": _ms(changed),
        }
        if status == "succeed":
            out["final_unit_deduction"] = task.deduction
            key = "images" if task.family == "images/generations" else "videos"
            out["task_result"] = {key: task.results}
        elif status == "failed":
            out["final_unit_deduction"] = "0"
        return out

    # routing -------------------------------------------------------------------------------------------
    @staticmethod
    def is_create(req: Request) -> bool:
        """A create request (paid when accepted), whatever the answer."""
        m = _ROUTE.fullmatch(req.subpath)
        return req.method == "POST" and m is not None and m.group(2) is None

    def handle(self, req: Request) -> Response:
        denied = self._auth(req)
        if denied is not None:
            return denied
        if req.subpath == "/account/costs":
            return self._costs(req) if req.method == "GET" else self._err(404, 1202, "invalid method")
        m = _ROUTE.fullmatch(req.subpath)
        if not m:
            return self._err(404, 1202, "invalid method")
        family, task_id = m.group(1), m.group(2)
        if req.method == "POST" and task_id is None:
            return self._create(req, family)
        if req.method == "GET" and task_id is not None:
            return self._query(family, task_id=task_id)
        if req.method == "GET" and "external_task_id" in req.query:
            return self._query(family, external=req.query["external_task_id"])
        if req.method == "GET":
            return self._list(req, family)
        return self._err(404, 1202, "invalid method")

    # create --------------------------------------------------------------------------------------------
    def _create(self, req: Request, family: str) -> Response:
        kind = self.ctx.plan.next("kling", "create", family)
        if kind in FAULT_ERRORS:
            status, code, message = FAULT_ERRORS[kind]
            return self._err(status, code, message, fault=kind)
        if kind in ("drop", "stall"):
            return Response(action=kind, log={"fault": kind})
        try:
            body = req.json()
        except ValueError:
            return self._err(400, 1200, "Invalid request body: not JSON")
        if not isinstance(body, dict):
            return self._err(400, 1200, "Invalid request body")
        ext = body.get("external_task_id")
        log: dict[str, Any] = {"external_task_id": ext if isinstance(ext, str) else None}
        error = validate(body, family)
        if error is not None:
            status, code, message = error
            return self._err(status, code, message, **log)
        image: bytes | None = None
        if family == "videos/image2video":
            loaded = self._load_image(body.get("image") or body.get("image_tail"))
            if isinstance(loaded, str):
                return self._err(400, 1201, loaded, **log)
            image = loaded
        now = self.ctx.now()
        with self.ctx.lock:
            if ext is not None and ext in self.by_external:
                return self._err(400, 1201, f"external_task_id {ext} already exists", **log)
            self._seq += 1
            task_id = f"{783000000000000000 + self._seq * 7919 + int(now) % 1000}"
            task_fault = self.ctx.plan.next("kling", "task", family)
            model = body.get("model_name") or body.get("model") or "kling-v1"
            mode, duration = body.get("mode") or "std", body.get("duration") or "5"
            credits = CREDITS.get(model, (2.0, 3.5))
            units = (credits[1] if mode == "pro" and len(credits) > 1 else credits[0]) * (int(duration) // 5)
            units = round(units * self.ctx.drift.price, 4)
            task = _Task(task_id, family, body, now, ext, task_fault, f"{units:g}")
            self.tasks[task_id] = task
            if ext is not None:
                self.by_external[ext] = task_id
        task.results = self._results(task, image)
        hook = body.get("callback_url")  # Kling POSTs the task on each status change
        lat = self.ctx.latency * self.ctx.drift.latency

        def state() -> dict[str, Any]:
            return self._task_json(task, self.ctx.now())

        for at in (now + lat / 3, now + lat) if task_fault != "stuck" else (now + lat / 3,):
            self.ctx.callback("kling", hook, at, state)
        log.update(task_id=task_id, accepted=True)
        if kind in ("drop_after_accept", "stall_after_accept"):
            log["fault"] = kind
            return Response(action=kind.split("_", 1)[0], log=log)
        data = {
            "task_id": task_id,
            "task_status": "submitted",
            "task_info": {"external_task_id": ext} if ext else {},
            "created_at": _ms(now),
            "updated_at": _ms(now),
        }
        return self._ok(data, **log)

    def _load_image(self, value: Any) -> bytes | str:
        """Decoded image bytes, or an error message (Kling answers 400/1201)."""
        if not isinstance(value, str) or not value:
            return "image is required"
        if value.startswith(("http://", "https://")):
            data = self.ctx.files.fetch_url(value)
            if data is None:
                return "Failed to download image: url unreachable"
        else:
            try:
                data = base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                return "image is not valid base64 (send raw base64 without a data: prefix)"
        try:
            with Image.open(io.BytesIO(data)) as img:
                fmt, (w, h) = img.format, img.size
        except Exception:
            return "image could not be decoded"
        if fmt not in ("PNG", "JPEG"):
            return "image format must be jpg/jpeg/png"
        if min(w, h) < 300:
            return "image must be at least 300x300 px"
        if not 1 / 2.5 <= w / h <= 2.5:
            return "image aspect ratio must be between 1:2.5 and 2.5:1"
        if len(data) > 10 * 1024 * 1024:
            return "image must be at most 10MB"
        return data

    def _results(self, task: _Task, image: bytes | None) -> list[dict[str, Any]]:
        body, fault = task.body, task.fault
        missing = fault == "result_404"
        prompt = str(body.get("prompt") or "")
        seed = int(task.task_id) % 100000
        if task.family == "images/generations":
            w, h = output_spec(body, None, "images/generations")[:2]
            bad = fault if fault in ("bad_still", "blurry_still") else None
            out = []
            for i in range(int(body.get("n") or 1)):
                render = still_renderer(self.ctx, prompt, seed + i, w, h, "png", bad)
                out.append({"index": i, "url": self.ctx.files.put("png", render, missing=missing)})
            return out
        w, h, fps = output_spec(body, image, task.family)
        duration = int(body.get("duration") or "5")
        camera = body.get("camera_control") if isinstance(body.get("camera_control"), dict) else None
        render_video = clip_renderer(self.ctx, prompt, image, duration, w, h, fps, camera, fault)
        url = self.ctx.files.put("mp4", render_video, missing=missing)
        return [{"id": str(uuid.uuid4()), "url": url, "duration": str(duration)}]

    # queries -------------------------------------------------------------------------------------------
    def _query(self, family: str, task_id: str | None = None, external: str | None = None) -> Response:
        kind = self.ctx.plan.next("kling", "poll", family)
        log: dict[str, Any] = {"task_id": task_id, "external_task_id": external}
        if kind in FAULT_ERRORS:
            status, code, message = FAULT_ERRORS[kind]
            return self._err(status, code, message, fault=kind, **log)
        if kind in ("drop", "stall"):
            return Response(action=kind, log={"fault": kind, **log})
        with self.ctx.lock:
            if external is not None:
                task_id = self.by_external.get(external)
            task = self.tasks.get(task_id or "")
        if task is None or task.family != family:
            return self._err(404, 1203, "task not found", **log)
        log.update(task_id=task.task_id, external_task_id=task.external_task_id)
        return self._ok(self._task_json(task, self.ctx.now()), **log)

    def _list(self, req: Request, family: str) -> Response:
        try:
            page, size = int(req.query.get("pageNum", "1")), int(req.query.get("pageSize", "30"))
        except ValueError:
            return self._err(400, 1201, "pageNum and pageSize must be integers")
        if not (1 <= page <= 1000 and 1 <= size <= 500):
            return self._err(400, 1201, "pageNum must be 1-1000 and pageSize 1-500")
        now = self.ctx.now()
        with self.ctx.lock:
            tasks = sorted((t for t in self.tasks.values() if t.family == family), key=lambda t: -t.created)
        chosen = tasks[(page - 1) * size : page * size]
        return self._ok([self._task_json(t, now) for t in chosen])

    def _costs(self, req: Request) -> Response:
        try:
            start, end = int(req.query["start_time"]), int(req.query["end_time"])
        except (KeyError, ValueError):
            return self._err(400, 1201, "start_time and end_time (ms) are required")
        now = self.ctx.now()
        with self.ctx.lock:
            used = sum(
                float(t.deduction)
                for t in self.tasks.values()
                if self._status(t, now)[0] == "succeed" and start <= _ms(t.created) <= end
            )
        total = self.pack_units
        pack = {
            "resource_pack_name": "Video Generation - 10000 units",
            "resource_pack_id": "emu-pack-0001",
            "resource_pack_type": "decreasing_total",
            "total_quantity": total,
            "remaining_quantity": round(total - used, 2),
            "purchase_time": _ms(now) - 86_400_000,
            "effective_time": _ms(now) - 86_400_000,
            "invalid_time": _ms(now) + 29 * 86_400_000,
            "status": "online",
        }
        name = req.query.get("resource_pack_name")
        packs = [pack] if not name or name == pack["resource_pack_name"] else []
        return self._ok({"code": 0, "msg": "", "resource_pack_subscribe_infos": packs})
