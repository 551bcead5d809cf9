"""Test helpers for provider adapters: a scripted handler for ``httpx.MockTransport`` (no sockets) and an
instant, recording ``sleep``. Used by goldenchain's own tests; handy for plugin authors too."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import httpx

__all__ = ["RecordingSleep", "Script", "json_response"]

Step = httpx.Response | type[Exception] | Callable[[httpx.Request], httpx.Response]


class Script:
    """Answers requests with scripted steps, in order (the last step repeats), and records every request.

    A step is a response, an exception class (httpx ones are raised with the request), or a handler."""

    def __init__(self, *steps: Step) -> None:
        if not steps:
            raise ValueError("a script needs at least one step")
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.steps.pop(0) if len(self.steps) > 1 else self.steps[0]
        if isinstance(step, httpx.Response):
            return step
        if isinstance(step, type) and issubclass(step, BaseException):
            if issubclass(step, httpx.RequestError):
                raise step("scripted failure", request=request)
            raise step("scripted failure")
        handler = cast(Callable[[httpx.Request], httpx.Response], step)
        return handler(request)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self))

    def count(self, method: str | None = None, path: str | None = None) -> int:
        return sum(
            1
            for r in self.requests
            if (method is None or r.method == method) and (path is None or r.url.path == path)
        )


class RecordingSleep:
    """An instant ``sleep`` that records the delays asked for."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)
