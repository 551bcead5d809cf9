"""The review app's A/B test pages: each test's report with its plot, and blind ratings of a pair's clips (side
by side in an order of the person's own, never naming the variants). Writes are checked as every other write
of the app is (CSRF token and Origin, by :mod:`goldenchain.web.security`) and recorded with who made them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from goldenchain import api
from goldenchain.config import Project
from goldenchain.errors import UsageError
from goldenchain.store.ledger import Ledger
from goldenchain.web import views

Page = Callable[..., HTMLResponse]


def routes(project: Callable[[], Project], ledger: Ledger, page: Page) -> list[BaseRoute]:
    """``/abtests``, ``/abtests/NAME``, its ``plot.png`` and ``/abtests/NAME/pairs/N`` (GET), ``.../rate`` (POST)."""

    def head(p: Project) -> dict[str, Any]:
        return views.header(p, ledger, views.shots_view(p, ledger, checks=False))

    def who(request: Request) -> str:
        return str(getattr(request.state, "who", "local"))

    async def index(request: Request) -> Response:
        p = project()
        return page("abtests.html.j2", request, head=head(p), tests=api.abtest_list(p, ledger=ledger))

    def read(name: str) -> dict[str, Any] | None:
        try:
            return api.abtest_report(project(), name, plot=False, save=False, ledger=ledger)
        except UsageError:
            return None

    async def report(request: Request) -> Response:
        p, name = project(), request.path_params["name"]
        rep = read(name)
        if rep is None:
            return HTMLResponse("no such A/B test", status_code=404)
        pairs = api.abtest_pairs(p, name, who=who(request), ledger=ledger)
        return page("abtest.html.j2", request, head=head(p), rep=rep, pairs=pairs)

    async def plot(request: Request) -> Response:
        from goldenchain.reports.abtest import plot_png

        rep = read(request.path_params["name"])
        if rep is None:
            return Response("no such A/B test", status_code=404)
        return Response(await asyncio.to_thread(plot_png, rep), media_type="image/png")

    async def pair(request: Request) -> Response:
        p, name, i = project(), request.path_params["name"], int(request.path_params["pair"])
        try:
            view = api.abtest_pair(p, name, i, who=who(request), ledger=ledger)
        except UsageError as e:
            return HTMLResponse(str(e), status_code=404)
        if not 1 <= i <= view["pairs"]:
            return HTMLResponse("no such pair", status_code=404)
        return page("abtest_pair.html.j2", request, head=head(p), v=view)

    async def rate(request: Request) -> Response:
        p, name, i = project(), request.path_params["name"], int(request.path_params["pair"])
        form = dict(getattr(request.state, "form", {}) or {})
        try:
            ratings = {int(k[4:]): int(v) for k, v in form.items() if k.startswith("slot") and v}
        except ValueError:
            return JSONResponse({"error": "a rating is a whole number from 1 to 5"}, status_code=400)
        try:
            view = api.abtest_rate(p, name, i, ratings, who=who(request), ledger=ledger)
        except UsageError as e:
            return JSONResponse({"error": str(e)}, status_code=400)
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse({"pair": i, "rated": [c["rating"] for c in view["clips"]]})
        nxt = f"/abtests/{name}/pairs/{i + 1}" if i < view["pairs"] else f"/abtests/{name}"
        return RedirectResponse(nxt, status_code=303)

    return [
        Route("/abtests", index),
        Route("/abtests/{name}", report),
        Route("/abtests/{name}/plot.png", plot),
        Route("/abtests/{name}/pairs/{pair:int}", pair),
        Route("/abtests/{name}/pairs/{pair:int}/rate", rate, methods=["POST"]),
    ]
