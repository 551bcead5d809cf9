"""Together AI images API (providers.md §4, §5.4): synchronous FLUX ``POST /v1/images/generations``.

Answers ``{id, model, object: "list", data: [...]}`` with ``n`` items, each ``{index, type: "url", url}`` or
``{index, type: "b64_json", b64_json}`` (``response_format`` ``url`` vs ``base64``/``b64_json``). Errors are
``{"error": {"message", "type", "param", "code"}}``.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from typing import Any

from goldenchain.providers.together import models as together_models

from .base import Context, Request, Response, json_response
from .outcome import still_renderer

__all__ = ["MODELS", "Together"]

MODELS = {
    "black-forest-labs/FLUX.1-schnell",
    "black-forest-labs/FLUX.1-schnell-Free",
    "black-forest-labs/FLUX.1-dev",
    "black-forest-labs/FLUX.1-pro",
    "black-forest-labs/FLUX.1.1-pro",
} | {s.model for s in together_models.SPECS}


def _error(message: str, kind: str, param: str | None = None, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


# Request-fault kind -> (status, body, headers)
_FAULTS: dict[str, tuple[int, dict[str, Any], dict[str, str]]] = {
    "rate_limit": (
        429,
        _error("You have reached the rate limit for this model. Please try again shortly.", "rate_limit"),
        {"retry-after": "1", "retry-after-ms": "1000"},
    ),
    "concurrency": (
        429,
        _error("Too many concurrent requests for this model.", "rate_limit"),
        {"retry-after": "1"},
    ),
    "billing": (402, _error("Insufficient credits: add credits to your account.", "credit_limit"), {}),
    "billing_1101": (402, _error("Insufficient credits: add credits to your account.", "credit_limit"), {}),
    "billing_1102": (402, _error("Insufficient credits: add credits to your account.", "credit_limit"), {}),
    "auth": (
        401,
        _error(
            "Invalid API key provided. You can find your API key at https://api.together.xyz/settings/api-keys.",
            "invalid_request_error",
            code="invalid_api_key",
        ),
        {},
    ),
    "content_policy": (
        422,
        _error(
            "Your request was rejected by the safety system: NSFW content detected in the prompt.",
            "invalid_request_error",
            param="prompt",
        ),
        {},
    ),
    "invalid": (400, _error("Input validation error: `steps` must be positive", "invalid_request_error"), {}),
    "not_found": (
        404,
        _error(
            "Unable to access model. Please visit https://api.together.ai/models to view the list of "
            "supported models.",
            "invalid_request_error",
            param="model",
            code="model_not_available",
        ),
        {},
    ),
    "server_error": (500, _error("Internal server error", "server_error"), {}),
    "unavailable": (503, _error("The server is overloaded or not ready yet.", "service_unavailable"), {}),
    "unavailable_no_retry": (
        503,
        _error("The server is overloaded or not ready yet.", "service_unavailable"),
        {"x-should-retry": "false"},
    ),
    "timeout": (504, _error("Timeout", "timeout"), {}),
}


class Together:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def _auth(self, req: Request) -> Response | None:
        if req.headers.get("authorization", "") != f"Bearer {self.ctx.keys['TOGETHER_API_KEY']}":
            status, body, headers = _FAULTS["auth"]
            return json_response(status, body, headers)
        return None

    @staticmethod
    def is_create(req: Request) -> bool:
        """A create request (paid when accepted), whatever the answer."""
        path = req.subpath.rstrip("/")
        return req.method == "POST" and path in ("/v1/images/generations", "/images/generations")

    def handle(self, req: Request) -> Response:
        denied = self._auth(req)
        if denied is not None:
            return denied
        path = req.subpath.rstrip("/")
        if req.method == "GET" and path in ("/v1/models", "/models"):  # free: the model list
            return json_response(200, [{"id": m, "object": "model", "type": "image"} for m in sorted(MODELS)])
        if path not in ("/v1/images/generations", "/images/generations"):
            return json_response(404, _error(f"Not found: {req.subpath}", "invalid_request_error"))
        if req.method != "POST":
            return json_response(405, _error("Method not allowed", "invalid_request_error"))
        return self._generate(req)

    def _generate(self, req: Request) -> Response:
        try:
            body = req.json()
        except ValueError:
            body = None
        model = body.get("model") if isinstance(body, dict) else None
        kind = self.ctx.plan.next("together", "create", model if isinstance(model, str) else "")
        if kind in ("drop", "stall"):
            return Response(action=kind, log={"fault": kind})
        if kind in _FAULTS:
            status, err, headers = _FAULTS[kind]
            return json_response(status, err, headers, fault=kind)
        if not isinstance(body, dict):
            return json_response(400, _error("Request body must be a JSON object", "invalid_request_error"))
        problem = self._validate(body)
        if problem is not None:
            return problem
        task_fault = self.ctx.plan.next("together", "task", str(model))
        rid = uuid.uuid4().hex[:16] + "-" + uuid.uuid4().hex[:8]
        log: dict[str, Any] = {"task_id": rid}
        self.ctx.sleep(self.ctx.latency)  # synchronous generation
        data = self._images(body, task_fault)
        log["accepted"] = True
        if kind in ("drop_after_accept", "stall_after_accept"):
            return Response(action=kind.split("_", 1)[0], log={**log, "fault": kind})
        answer = {"id": rid, "model": model, "object": "list", "data": data}
        return json_response(200, answer, {"x-request-id": rid}, **log)

    def _validate(self, body: dict[str, Any]) -> Response | None:
        model, prompt = body.get("model"), body.get("prompt")
        if not isinstance(model, str) or not model:
            return json_response(400, _error("`model` is required", "invalid_request_error", param="model"))
        if model not in MODELS:
            status, err, headers = _FAULTS["not_found"]
            return json_response(status, err, headers)
        if not isinstance(prompt, str) or not prompt.strip():
            return json_response(400, _error("`prompt` is required", "invalid_request_error", param="prompt"))
        limits = {"width": (64, 2048), "height": (64, 2048), "steps": (1, 50), "n": (1, 4)}
        for name, (lo, hi) in limits.items():
            value = body.get(name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
                msg = f"Input validation error: `{name}` must be an integer in [{lo}, {hi}]"
                return json_response(400, _error(msg, "invalid_request_error", param=name))
        if body.get("response_format", "url") not in ("url", "base64", "b64_json"):
            msg = "Input validation error: `response_format` must be 'url' or 'base64'"
            return json_response(400, _error(msg, "invalid_request_error", param="response_format"))
        if body.get("output_format", "jpeg") not in ("jpeg", "png"):
            msg = "Input validation error: `output_format` must be 'jpeg' or 'png'"
            return json_response(400, _error(msg, "invalid_request_error", param="output_format"))
        seed = body.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            return json_response(
                400, _error("`seed` must be an integer", "invalid_request_error", param="seed")
            )
        return None

    def _images(self, body: dict[str, Any], fault: str | None) -> list[dict[str, Any]]:
        prompt = str(body["prompt"])
        w, h = int(body.get("width") or 1024), int(body.get("height") or 1024)
        ext = "png" if body.get("output_format") == "png" else "jpg"
        seed = body.get("seed")
        seed = seed if isinstance(seed, int) else int(hashlib.sha256(prompt.encode()).hexdigest()[:7], 16)
        b64 = body.get("response_format") in ("base64", "b64_json")
        data: list[dict[str, Any]] = []
        for i in range(int(body.get("n") or 1)):
            render = still_renderer(self.ctx, prompt, seed + i, w, h, ext, fault)
            if b64:
                encoded = base64.b64encode(render()).decode("ascii")
                data.append({"index": i, "type": "b64_json", "b64_json": encoded})
            else:
                url = self.ctx.files.put(ext, render, missing=fault == "result_404")
                data.append({"index": i, "type": "url", "url": url})
        return data
