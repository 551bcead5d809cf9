"""fal.ai queue and run APIs (providers.md §2, §5.2): FLUX text-to-image and Kling-on-fal, with faults."""

from __future__ import annotations

import base64
import io
import math
import uuid
from dataclasses import dataclass, field, replace
from typing import Any

from PIL import Image

from .base import Context, Request, Response, json_response
from .fal_models import endpoint_family, validate_flux, validate_kling
from .media import clip_size
from .outcome import clip_renderer, still_renderer

__all__ = ["Fal"]

BALANCE = "User is locked. Reason: Exhausted balance. Top up your balance at fal.ai/dashboard/billing"
# Request-fault kind -> (status, body, extra headers)
_FAULTS: dict[str, tuple[int, dict[str, Any], dict[str, str]]] = {
    "rate_limit": (429, {"detail": "Too many concurrent requests"}, {}),
    "concurrency": (429, {"detail": "Too many concurrent requests"}, {}),
    "billing": (403, {"detail": BALANCE}, {}),
    "billing_1101": (403, {"detail": BALANCE}, {}),
    "billing_1102": (403, {"detail": BALANCE}, {}),
    "auth": (401, {"detail": "Invalid Key Authorization header format"}, {}),
    "server_error": (500, {"detail": "Internal Server Error"}, {}),
    "unavailable": (
        503,
        {"detail": "Runner scheduling failure", "error_type": "runner_scheduling_failure"},
        {"X-Fal-Error-Type": "runner_scheduling_failure"},
    ),
    "unavailable_no_retry": (
        503,
        {"detail": "Runner scheduling failure", "error_type": "runner_scheduling_failure"},
        {"X-Fal-Error-Type": "runner_scheduling_failure"},
    ),
    "invalid": (
        422,
        {"detail": [{"loc": ["body", "prompt"], "msg": "Field required", "type": "missing"}]},
        {},
    ),
    "not_found": (404, {"detail": "Application not found"}, {}),
    "timeout": (
        504,
        {"detail": "Request timed out", "error_type": "request_timeout"},
        {"X-Fal-Error-Type": "request_timeout"},
    ),
}


def _policy_detail(prompt: Any) -> list[dict[str, Any]]:
    return [
        {
            "loc": ["body", "prompt"],
            "msg": "The content could not be processed because it contained material flagged by a content checker.",
            "type": "content_policy_violation",
            "url": "https://docs.fal.ai/errors#content_policy_violation",
            "ctx": {},
            "input": prompt,
        }
    ]


@dataclass
class _Job:
    request_id: str
    endpoint: str
    app: str  # owner/alias
    family: str  # "flux" | "kling"
    body: dict[str, Any]
    created: float
    fault: str | None
    error: tuple[int, Any, dict[str, str]] | None = None  # (status, body, headers) of a failed result
    cancelled: bool = False
    output: dict[str, Any] | None = None
    logs: list[dict[str, Any]] = field(default_factory=list)


class Fal:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.jobs: dict[str, _Job] = {}

    def _auth(self, req: Request) -> Response | None:
        header = req.headers.get("authorization", "")
        if not header:
            return json_response(401, {"detail": "No authentication credentials were provided"})
        if header != f"Key {self.ctx.keys['FAL_KEY']}":
            return json_response(401, {"detail": "Invalid authentication credentials"})
        return None

    @staticmethod
    def _fault_response(kind: str, **log: Any) -> Response | None:
        if kind in _FAULTS:
            status, body, headers = _FAULTS[kind]
            return json_response(status, body, headers, fault=kind, **log)
        if kind == "content_policy":
            return json_response(422, {"detail": _policy_detail(None)}, fault=kind, **log)
        if kind in ("drop", "stall"):
            return Response(action=kind, log={"fault": kind, **log})
        return None

    def _urls(self, job: _Job) -> dict[str, str]:
        base = f"{self.ctx.base_url()}/fal-queue/{job.app}/requests/{job.request_id}"
        return {"response_url": base, "status_url": f"{base}/status", "cancel_url": f"{base}/cancel"}

    @staticmethod
    def is_create(req: Request) -> bool:
        """A submit (queue) or a run (sync) request: paid when accepted, whatever the answer."""
        parts = [p for p in req.subpath.split("/") if p]
        return req.method == "POST" and len(parts) >= 2 and not (len(parts) >= 4 and parts[2] == "requests")

    # queue ---------------------------------------------------------------------------------------------
    def handle_queue(self, req: Request) -> Response:
        denied = self._auth(req)
        if denied is not None:
            return denied
        parts = [p for p in req.subpath.split("/") if p]
        if len(parts) >= 4 and parts[2] == "requests":
            app, rid, rest = "/".join(parts[:2]), parts[3], parts[4:]
            if req.method == "GET" and rest == ["status"]:
                return self._status(app, rid, req)
            if req.method == "GET" and rest == []:
                return self._result(app, rid)
            if req.method == "PUT" and rest == ["cancel"]:
                return self._cancel(app, rid)
            return json_response(405, {"detail": "Method Not Allowed"})
        if req.method != "POST" or len(parts) < 2:
            return json_response(405, {"detail": "Method Not Allowed"})
        return self._submit(req, "/".join(parts))

    def _parse(self, req: Request, endpoint: str) -> tuple[str, dict[str, Any], str | None] | Response:
        """A create request's model family, body and scripted fault (if any), or the error to answer with
        (a fault before acceptance first)."""
        kind = self.ctx.plan.next("fal", "create", endpoint)
        if kind is not None and not kind.endswith("_after_accept"):
            faulted = self._fault_response(kind)
            if faulted is not None:
                return faulted
        family = endpoint_family(endpoint)
        if family is None:
            return json_response(404, {"detail": f"Application '{endpoint}' not found"})
        try:
            body = req.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return json_response(422, {"detail": [{"loc": ["body"], "msg": "Input should be an object",
                                                    "type": "model_attributes_type"}]})  # fmt: skip
        return family, body, kind

    def _submit(self, req: Request, endpoint: str) -> Response:
        parsed = self._parse(req, endpoint)
        if isinstance(parsed, Response):
            return parsed
        family, body, kind = parsed
        parts = endpoint.split("/")
        now = self.ctx.now()
        with self.ctx.lock:
            job = _Job(
                request_id=str(uuid.uuid4()),
                endpoint=endpoint,
                app="/".join(parts[:2]),
                family=family,
                body=body,
                created=now,
                fault=self.ctx.plan.next("fal", "task", endpoint),
            )
            if job.fault is None and family == "flux" and self.ctx.drift.refuses(body.get("prompt")):
                job.fault = "content_policy"
            self.jobs[job.request_id] = job
            position = sum(1 for j in self.jobs.values() if self._state(j, now) == "IN_QUEUE") - 1
        self._prepare(job)
        if job.fault != "stuck":  # fal POSTs the outcome to ?fal_webhook= when the request completes
            self.ctx.callback("fal", req.query.get("fal_webhook"), now + self.ctx.latency,
                              lambda: self._webhook_body(job))  # fmt: skip
        log: dict[str, Any] = {"task_id": job.request_id, "accepted": True}
        if kind in ("drop_after_accept", "stall_after_accept"):
            return Response(action=kind.split("_", 1)[0], log={**log, "fault": kind})
        payload = {
            "status": "IN_QUEUE",
            "request_id": job.request_id,
            "gateway_request_id": job.request_id,
            **self._urls(job),
            "queue_position": max(0, position),
        }
        late = kind == "slow_after_accept"  # the queue has the request; its answer is late
        if late:
            log["fault"] = kind
        answer = json_response(200, payload, {"x-fal-request-id": job.request_id}, **log)
        return replace(answer, action="slow") if late else answer

    def _webhook_body(self, job: _Job) -> dict[str, Any] | None:
        if job.cancelled:
            return None
        body: dict[str, Any] = {"request_id": job.request_id, "gateway_request_id": job.request_id}
        if job.error is not None:
            status, err, _ = job.error
            return {**body, "status": "ERROR", "error": f"Invalid status code: {status}", "payload": err}
        return {**body, "status": "OK", "payload": self._output(job)}

    def _state(self, job: _Job, now: float) -> str:
        lat = self.ctx.latency
        if job.cancelled:
            return "COMPLETED"
        if now - job.created < lat / 3:
            return "IN_QUEUE"
        if now - job.created < lat or job.fault == "stuck":
            return "IN_PROGRESS"
        return "COMPLETED"

    def _status(self, app: str, rid: str, req: Request) -> Response:
        job = self.jobs.get(rid)
        kind = self.ctx.plan.next("fal", "poll", job.endpoint if job else app)
        log: dict[str, Any] = {"task_id": rid}
        if kind is not None:
            faulted = self._fault_response(kind, **log)
            if faulted is not None:
                return faulted
        if job is None or job.app != app:
            return json_response(404, {"detail": f"Request {rid} not found"}, **log)
        with_logs = req.query.get("logs", "0").lower() in ("1", "true")
        now = self.ctx.now()
        state = self._state(job, now)
        body: dict[str, Any] = {"status": state, "request_id": rid, **self._urls(job)}
        if state == "IN_QUEUE":
            with self.ctx.lock:
                ahead = sum(
                    1
                    for j in self.jobs.values()
                    if j.created < job.created and self._state(j, now) == "IN_QUEUE"
                )
            body["queue_position"] = ahead
        else:
            body["logs"] = self._logs(job, now) if with_logs else None
        if state == "COMPLETED":
            body["metrics"] = {"inference_time": round(max(0.05, self.ctx.latency * 2 / 3), 3)}
            body["error"] = None
            body["error_type"] = None
            if job.cancelled:
                body["error"] = "Request was cancelled"
            elif job.error is not None:
                body["error"] = f"Invalid status code: {job.error[0]}"
        return json_response(200, body, **log)

    def _logs(self, job: _Job, now: float) -> list[dict[str, Any]]:
        steps = int(job.body.get("num_inference_steps") or (4 if "schnell" in job.endpoint else 28))
        progress = min(1.0, (now - job.created - self.ctx.latency / 3) / max(1e-6, self.ctx.latency * 2 / 3))
        done = min(steps, max(0, math.floor(progress * steps)))
        stamp = "2025-01-01T00:00:00.000000+00:00"
        return [{"message": f"{100 * i // steps}%|step {i}/{steps}", "level": "INFO", "source": "USER",
                 "timestamp": stamp} for i in range(1, done + 1)]  # fmt: skip

    def _result(self, app: str, rid: str) -> Response:
        job = self.jobs.get(rid)
        kind = self.ctx.plan.next("fal", "result", job.endpoint if job else app)
        log: dict[str, Any] = {"task_id": rid}
        if kind is not None:
            faulted = self._fault_response(kind, **log)
            if faulted is not None:
                return faulted
        if job is None or job.app != app:
            return json_response(404, {"detail": f"Request {rid} not found"}, **log)
        if job.cancelled:
            return json_response(400, {"detail": "Request was cancelled"}, **log)
        if self._state(job, self.ctx.now()) != "COMPLETED":
            return json_response(400, {"detail": "Request is still in progress"}, **log)
        if job.error is not None:
            status, body, headers = job.error
            return json_response(status, body, headers, **log)
        return json_response(200, self._output(job), {"x-fal-request-id": rid}, **log)

    def _cancel(self, app: str, rid: str) -> Response:
        job = self.jobs.get(rid)
        if job is None or job.app != app:
            return json_response(404, {"status": "NOT_FOUND"}, task_id=rid)
        if job.cancelled or self._state(job, self.ctx.now()) == "COMPLETED":
            return json_response(400, {"status": "ALREADY_COMPLETED"}, task_id=rid)
        job.cancelled = True
        return json_response(202, {"status": "CANCELLATION_REQUESTED"}, task_id=rid)

    # run (sync) ----------------------------------------------------------------------------------------
    def handle_run(self, req: Request) -> Response:
        denied = self._auth(req)
        if denied is not None:
            return denied
        endpoint = "/".join(p for p in req.subpath.split("/") if p)
        if req.method != "POST":
            return json_response(405, {"detail": "Method Not Allowed"})
        parsed = self._parse(req, endpoint)
        if isinstance(parsed, Response):
            return parsed
        family, body, kind = parsed
        parts = endpoint.split("/")
        job = _Job(str(uuid.uuid4()), endpoint, "/".join(parts[:2]), family, body, self.ctx.now(),
                   self.ctx.plan.next("fal", "task", endpoint))  # fmt: skip
        self._prepare(job)
        if job.error is None and job.fault != "stuck":
            self.ctx.sleep(self.ctx.latency)
        elif job.fault == "stuck":
            return Response(
                action="stall", log={"task_id": job.request_id, "accepted": True, "fault": "stuck"}
            )
        log: dict[str, Any] = {"task_id": job.request_id, "accepted": job.error is None}
        if job.error is not None:
            status, err_body, headers = job.error
            return json_response(status, err_body, headers, **log)
        if kind in ("drop_after_accept", "stall_after_accept"):
            return Response(action=kind.split("_", 1)[0], log={**log, "fault": kind})
        return json_response(200, self._output(job), {"x-fal-request-id": job.request_id}, **log)

    # outputs -------------------------------------------------------------------------------------------
    def _prepare(self, job: _Job) -> None:
        """Validate the input and fix the outcome: either job.error or a (lazy) job.output."""
        body = job.body
        check = (
            validate_flux(body, job.endpoint) if job.family == "flux" else validate_kling(body, job.endpoint)
        )
        if isinstance(check, list):
            job.error = (422, {"detail": check}, {})
            return
        ref = body.get("image_url") or body.get("start_image_url")
        if job.family == "kling" and isinstance(ref, str) and self._image_bytes(ref) is None:
            key = "image_url" if "image_url" in body else "start_image_url"
            detail = [{"loc": ["body", key], "msg": "Failed to download the file. Please check the URL.",
                       "type": "file_download_error", "input": ref[:200]}]  # fmt: skip
            job.error = (422, {"detail": detail}, {})
        elif job.fault == "content_policy":
            job.error = (422, {"detail": _policy_detail(body.get("prompt"))}, {})
        elif job.fault == "failed":
            job.error = (500, {"detail": "Internal Server Error"}, {})
        if job.family == "flux" and job.error is None:
            job.output = self._flux_output(job, check)

    def _flux_output(self, job: _Job, spec: dict[str, Any]) -> dict[str, Any]:
        body, fault = job.body, job.fault
        prompt = str(body["prompt"])
        w, h, n, fmt = spec["width"], spec["height"], spec["num_images"], spec["output_format"]
        seed = body.get("seed")
        seed = int(seed) if isinstance(seed, int) else int(uuid.UUID(job.request_id).int % 2**31)
        ext = "png" if fmt == "png" else "jpg"
        images = []
        for i in range(n):
            render = still_renderer(self.ctx, prompt, seed + i, w, h, ext, fault)
            url = self.ctx.files.put(ext, render, missing=fault == "result_404")
            content_type = "image/png" if ext == "png" else "image/jpeg"
            images.append({"url": url, "width": w, "height": h, "content_type": content_type})
        return {
            "images": images,
            "timings": {"inference": round(max(0.05, self.ctx.latency * 2 / 3), 3)},
            "seed": seed,
            "has_nsfw_concepts": [fault == "nsfw"] * n,
            "prompt": prompt,
        }

    def _output(self, job: _Job) -> dict[str, Any]:
        if job.output is not None:
            return job.output
        # Kling on fal: render the clip now (the result carries its file_size).
        body = job.body
        image_ref = body.get("image_url") or body.get("start_image_url")
        image = self._image_bytes(image_ref) if image_ref else None
        prompt = str(body.get("prompt") or "")
        high = "/pro/" in job.endpoint or "/master/" in job.endpoint
        aspect = body.get("aspect_ratio") or "16:9"
        if image is not None:
            with Image.open(io.BytesIO(image)) as img:
                ratio = img.width / img.height
            aspect = "9:16" if ratio < 0.8 else "1:1" if ratio < 1.25 else "16:9"
        w, h = clip_size(aspect, high)
        duration = int(body.get("duration") or "5")
        data = clip_renderer(self.ctx, prompt, image, duration, w, h, 24, None, job.fault)()
        url = self.ctx.files.put("mp4", lambda: data, missing=job.fault == "result_404")
        job.output = {"video": {"url": url, "content_type": "video/mp4", "file_name": "output.mp4",
                                "file_size": len(data)}}  # fmt: skip
        return job.output

    def _image_bytes(self, ref: str) -> bytes | None:
        if ref.startswith("data:"):
            try:
                return base64.b64decode(ref.split(",", 1)[1])
            except (IndexError, ValueError):
                return None
        return self.ctx.files.fetch_url(ref)
