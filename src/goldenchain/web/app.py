"""The review app (Starlette, server-rendered, a little JavaScript shipped in the package). It reads and writes
only the ledger and the shot list; the next ``goldenchain run`` makes the new takes that a rejection or a
re-roll asks for. Every write is logged with who made it (:mod:`goldenchain.web.security` says who may)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from goldenchain import api
from goldenchain.config import Project, load_project
from goldenchain.errors import GoldenchainError, UsageError
from goldenchain.store.db import Database
from goldenchain.store.ledger import Ledger
from goldenchain.web import abtests, views
from goldenchain.web.security import Guard, GuardMiddleware

# Every template is HTML whatever its file name says: escape always (``select_autoescape`` goes by extension,
# and ``*.html.j2`` is not one it knows).
_env = Environment(loader=PackageLoader("goldenchain.web", "templates"), autoescape=True)
_env.filters["usd"] = lambda v: f"${v:,.2f}" if isinstance(v, int | float) else "—"
STATIC = Path(__file__).parent / "static"
OUT_FILES = {
    ".mp4": "video/mp4",
    ".mov": "video/quicktime",
    ".html": "text/html",
    ".json": "application/json",
    ".png": "image/png",
    ".jpg": "image/jpeg",
}
#: how long one server-sent event stream stays open before the browser reconnects (it does so by itself)
SSE_LIFETIME_S, SSE_TICK_S = 60.0, 1.0

# kept for callers of the first release
shots_view = views.shots_view


def _who(request: Request) -> str:
    return str(getattr(request.state, "who", "local"))


def _form(request: Request) -> dict[str, str]:
    return dict(getattr(request.state, "form", {}) or {})


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def _back(request: Request, default: str = "/") -> str:
    nxt = _form(request).get("next") or default
    return nxt if nxt.startswith("/") and not nxt.startswith("//") and "\\" not in nxt else default


class _State:
    """The project as the app sees it: reloaded when the shot list changes on disk."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self._mtime = self._stamp()

    def _stamp(self) -> float:
        try:
            return (self.project.root / "shots.yaml").stat().st_mtime
        except OSError:
            return 0.0

    def get(self) -> Project:
        stamp = self._stamp()
        if stamp != self._mtime:
            with contextlib.suppress(GoldenchainError):
                self.project = load_project(self.project.root)
            self._mtime = stamp
        return self.project


def create_app(project: Project, db: Database | None = None, guard: Guard | None = None) -> Starlette:
    """The review app. ``guard`` says who may connect and which writes are believed (loopback only, no token,
    by default); every write is logged in the ledger with the caller's name."""
    db = db or Database(project.database_url)
    ledger = Ledger(db)
    guard = guard or Guard()
    state = _State(project)
    ledger.ensure_project(  # the page lists every shot of the list, run or not
        project.id,
        project.config.project.client,
        str(project.root),
        [s.model_dump() for s in project.shots.shots],
    )
    plot_dir = Path(tempfile.mkdtemp(prefix="gc-review-"))

    def page(name: str, request: Request, **ctx: Any) -> HTMLResponse:
        p = state.get()
        html = _env.get_template(name).render(
            project=p.id, csrf=request.state.csrf, who=_who(request), path=request.url.path, **ctx
        )
        return HTMLResponse(html)

    async def index(request: Request) -> Response:
        p = state.get()
        flt = request.query_params.get("filter", "all")
        if flt not in views.FILTERS:
            flt = "all"
        shots = views.shots_view(p, ledger)
        shown = [s for s in shots if views.matches(s, flt)]
        counts = {k: sum(1 for s in shots if views.matches(s, k)) for k in views.FILTERS}
        return page(
            "index.html.j2",
            request,
            head=views.header(p, ledger, shots),
            shots=shown,
            filters=views.FILTERS,
            flt=flt,
            counts=counts,
        )

    async def shot_page(request: Request) -> Response:
        p = state.get()
        sid = request.path_params["shot"]
        shots = views.shots_view(p, ledger)
        ids = [s["id"] for s in shots]
        if sid not in ids:
            return HTMLResponse("no such shot", status_code=404)
        i = ids.index(sid)
        return page(
            "shot.html.j2",
            request,
            head=views.header(p, ledger, shots),
            s=shots[i],
            prev=ids[i - 1] if i else None,
            next=ids[i + 1] if i + 1 < len(ids) else None,
            costs=views.reroll_costs(p, sid),
            reasons=views.REVIEW_REASONS,
            history=views.history(ledger, p, sid),
        )

    async def failures(request: Request) -> Response:
        p = state.get()
        shots = views.shots_view(p, ledger, checks=False)
        return page(
            "failures.html.j2",
            request,
            head=views.header(p, ledger, shots),
            rows=views.failures_view(ledger, p),
            history=views.history(ledger, p),
        )

    async def quotes(request: Request) -> Response:
        """What scripts and agents want to spend: a person approves or revokes it here."""
        p = state.get()
        shots = views.shots_view(p, ledger, checks=False)
        rows = [q.to_json() for q in api.quotes(p, ledger=ledger)]
        return page("quotes.html.j2", request, head=views.header(p, ledger, shots), quotes=rows)

    def _quote_decision(status: str) -> Callable[[Request], Awaitable[Response]]:
        async def handler(request: Request) -> Response:
            try:
                q = api.decide_quote(
                    state.get(), request.path_params["quote"], status, who=_who(request), ledger=ledger
                )
            except UsageError as e:
                return JSONResponse({"error": str(e)}, status_code=409)
            if _wants_json(request):
                return JSONResponse(q.to_json())
            return RedirectResponse("/quotes", status_code=303)

        return handler

    async def api_shots(request: Request) -> Response:
        return JSONResponse(views.shots_view(state.get(), ledger))

    async def api_version(request: Request) -> Response:
        return JSONResponse({"version": ledger.version(state.get().id)})

    async def events(request: Request) -> Response:
        """Server-sent events: a ``change`` event whenever the ledger's version moves (a run going on, another
        reviewer's click); the page refreshes its content without a reload."""
        pid = state.get().id

        async def stream() -> AsyncIterator[bytes]:
            last = await asyncio.to_thread(ledger.version, pid)
            yield f"retry: 2000\nevent: hello\ndata: {json.dumps({'version': last})}\n\n".encode()
            loop = asyncio.get_running_loop()
            until = loop.time() + SSE_LIFETIME_S
            while loop.time() < until:
                await asyncio.sleep(SSE_TICK_S)
                if await request.is_disconnected():
                    return
                now = await asyncio.to_thread(ledger.version, pid)
                if now != last:
                    last = now
                    yield f"event: change\ndata: {json.dumps({'version': now})}\n\n".encode()
                else:
                    yield b": keep-alive\n\n"

        return StreamingResponse(
            stream(), media_type="text/event-stream", headers={"cache-control": "no-store"}
        )

    async def media(request: Request) -> Response:
        p = state.get()
        art = ledger.artifact(request.path_params["sha"])
        if art is None:
            return JSONResponse({"error": "no such artifact"}, status_code=404)
        path = (p.root / art.path).resolve()
        if p.root.resolve() not in path.parents or not path.is_file():
            return JSONResponse({"error": "artifact file missing"}, status_code=404)
        return FileResponse(path, media_type=art.mime, headers={"cache-control": "private, max-age=3600"})

    async def out_file(request: Request) -> Response:
        """A deliverable under out/ (the report, the final cut, clips, thumbnails, sidecars), never outside it."""
        p = state.get()
        out = p.out_dir.resolve()
        path = (out / request.path_params["name"]).resolve()
        if out not in path.parents or not path.is_file() or path.suffix not in OUT_FILES:
            return JSONResponse({"error": "no such deliverable"}, status_code=404)
        headers = {"cache-control": "no-store"}
        if path.suffix == ".html":  # the report is a document of its own: no scripts at all
            headers["content-security-policy"] = (
                "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
            )
        return FileResponse(path, media_type=OUT_FILES[path.suffix], headers=headers)

    async def spend_plot(request: Request) -> Response:
        from goldenchain.reports.plots import plot_spend

        p = state.get()
        version = ledger.version(p.id)
        path = plot_dir / f"spend-{version}.png"
        if not path.is_file():
            summary = views.header(p, ledger, [])["costs"]
            await asyncio.to_thread(plot_spend, summary, path, budget=p.config.budget.project_usd)
        return FileResponse(path, media_type="image/png")

    def _decide(decision: str) -> Callable[[Request], Awaitable[Response]]:
        async def handler(request: Request) -> Response:
            take_id = int(request.path_params["take_id"])
            form = _form(request)
            reason = (form.get("reason") or "").strip() or None
            note = " ".join((form.get("note") or "").split())[:2000] or None
            try:
                t = api.review_take(
                    state.get(), take_id, decision, reason=reason, note=note, who=_who(request), ledger=ledger
                )
            except UsageError as e:
                return JSONResponse({"error": str(e)}, status_code=400)
            if _wants_json(request):
                return JSONResponse({"take": t.id, "review": t.review})
            return RedirectResponse(_back(request, f"/shots/{t.shot}"), status_code=303)

        return handler

    async def choose(request: Request) -> Response:
        try:
            t = api.use_take(
                state.get(), int(request.path_params["take_id"]), who=_who(request), ledger=ledger
            )
        except UsageError as e:
            return JSONResponse({"error": str(e)}, status_code=409)
        if _wants_json(request):
            return JSONResponse({"take": t.id, "chosen": True})
        return RedirectResponse(_back(request, f"/shots/{t.shot}"), status_code=303)

    async def reroll(request: Request) -> Response:
        shot_id = request.path_params["shot"]
        form = _form(request)
        stage = form.get("stage") or request.query_params.get("stage", "clip")
        if stage not in ("still", "clip"):
            return JSONResponse({"error": "stage must be still or clip"}, status_code=400)
        if form.get("confirm") != "yes":
            return JSONResponse({"error": "a re-roll costs money: confirm it (confirm=yes)"}, status_code=400)
        try:
            api.reroll(state.get(), shot_id, stage, who=_who(request), ledger=ledger)
        except UsageError as e:
            return JSONResponse({"error": str(e)}, status_code=404)
        if _wants_json(request):
            return JSONResponse({"shot": shot_id, "reroll": stage})
        return RedirectResponse(_back(request, f"/shots/{shot_id}"), status_code=303)

    async def edit_prompt(request: Request) -> Response:
        """A new prompt in the shot list; the still (and so the clip) is made again by the next run."""
        from goldenchain.shotlist import set_prompt

        p = state.get()
        shot_id, form = request.path_params["shot"], _form(request)
        field = form.get("field", "prompt")
        try:
            p.shot(shot_id)
            set_prompt(p.root, shot_id, field, form.get("text", ""))
        except GoldenchainError as e:
            return JSONResponse({"error": str(e)}, status_code=400)
        p = state.get()
        ledger.ensure_project(
            p.id, p.config.project.client, str(p.root), [s.model_dump() for s in p.shots.shots]
        )
        ledger.log_review(p.id, shot_id, "prompt", who=_who(request), note=f"{field}: {form.get('text', '')}")
        stage = "still" if field == "prompt" else "clip"
        if form.get("rerun") == "yes":
            why = f"{field.replace('_', ' ')} changed"
            api.reroll(p, shot_id, stage, who=_who(request), why=why, ledger=ledger)
        if _wants_json(request):
            return JSONResponse({"shot": shot_id, "field": field, "rerun": form.get("rerun") == "yes"})
        return RedirectResponse(f"/shots/{shot_id}", status_code=303)

    routes: list[BaseRoute] = [
        Route("/", index),
        Route("/favicon.ico", lambda request: Response(status_code=204)),  # no icon, and no 404 in consoles
        Route("/shots/{shot}", shot_page),
        Route("/failures", failures),
        Route("/quotes", quotes),
        Route("/quotes/{quote}/approve", _quote_decision("approved"), methods=["POST"]),
        Route("/quotes/{quote}/revoke", _quote_decision("revoked"), methods=["POST"]),
        Route("/api/shots", api_shots),
        Route("/api/version", api_version),
        Route("/events", events),
        Route("/media/{sha}", media),
        Route("/out/{name:path}", out_file),
        Route("/plot/spend.png", spend_plot),
        Route("/takes/{take_id:int}/approve", _decide("approved"), methods=["POST"]),
        Route("/takes/{take_id:int}/reject", _decide("rejected"), methods=["POST"]),
        Route("/takes/{take_id:int}/choose", choose, methods=["POST"]),
        Route("/shots/{shot}/reroll", reroll, methods=["POST"]),
        Route("/shots/{shot}/prompt", edit_prompt, methods=["POST"]),
        *abtests.routes(state.get, ledger, page),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        db.dispose()

    app = Starlette(routes=routes, lifespan=lifespan, middleware=[Middleware(GuardMiddleware, guard=guard)])
    app.state.project_root = Path(project.root)
    return app
