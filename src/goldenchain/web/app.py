"""A small server-rendered review app (Starlette). It reads and writes only the ledger; the next
``goldenchain run`` makes the new takes that a rejection or a re-roll asks for."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from goldenchain.config import Project
from goldenchain.errors import LedgerError
from goldenchain.store.db import Database
from goldenchain.store.ledger import Ledger, Take
from goldenchain.web.security import Guard, GuardMiddleware

# Every template is HTML whatever its file name says: escape always (``select_autoescape`` goes by extension,
# and ``*.html.j2`` is not one it knows).
_env = Environment(loader=PackageLoader("goldenchain.web", "templates"), autoescape=True)
STATIC = Path(__file__).parent / "static"
_env.filters["usd"] = lambda v: "—" if v is None else f"${v:,.2f}"


def _take(ledger: Ledger, t: Take) -> dict[str, Any]:
    return {
        "id": t.id,
        "stage": t.stage,
        "take": t.take_no,
        "state": t.state,
        "verdict": t.verdict,
        "review": t.review,
        "review_note": t.review_note,
        "failure_class": t.failure_class,
        "reason": t.failure_reason,
        "cost_usd": t.cost_usd,
        "sha256": t.artifact_sha256,
        "seed": t.seed,
        "checks": [
            {"name": c.name, "verdict": c.verdict, "message": c.message}
            for c in ledger.checks(t.id)
            if c.verdict != "pass"
        ],
    }


def shots_view(project: Project, ledger: Ledger) -> list[dict[str, Any]]:
    takes = ledger.takes(project.id)
    out = []
    for row in ledger.shots(project.id):
        st = [t for t in takes if t.shot_id == row.shot_id]
        out.append(
            {
                "id": row.shot_id,
                "prompt": row.spec.get("prompt"),
                "status": row.status,
                "stage": row.stage,
                "detail": row.detail,
                "still_take_id": row.still_take_id,
                "clip_take_id": row.clip_take_id,
                "takes": [_take(ledger, t) for t in st],
            }
        )
    return out


def _who(request: Request) -> str:
    return str(getattr(request.state, "who", "local"))


def _form(request: Request) -> dict[str, str]:
    return dict(getattr(request.state, "form", {}) or {})


def create_app(project: Project, db: Database | None = None, guard: Guard | None = None) -> Starlette:
    """The review app. ``guard`` says who may connect and which writes are believed (loopback only, no token,
    by default); every write is logged in the ledger with the caller's name."""
    db = db or Database(project.database_url)
    ledger = Ledger(db)
    guard = guard or Guard()
    ledger.ensure_project(  # the page lists every shot of the list, run or not
        project.id,
        project.config.project.client,
        str(project.root),
        [s.model_dump() for s in project.shots.shots],
    )

    async def index(request: Request) -> Response:
        html = _env.get_template("review.html.j2").render(
            project=project.id, shots=shots_view(project, ledger), csrf=request.state.csrf
        )
        return HTMLResponse(html)

    async def api_shots(request: Request) -> Response:
        return JSONResponse(shots_view(project, ledger))

    async def media(request: Request) -> Response:
        art = ledger.artifact(request.path_params["sha"])
        if art is None:
            return JSONResponse({"error": "no such artifact"}, status_code=404)
        path = (project.root / art.path).resolve()
        if project.root.resolve() not in path.parents or not path.is_file():
            return JSONResponse({"error": "artifact file missing"}, status_code=404)
        return FileResponse(path, media_type=art.mime)

    def _decide(decision: str) -> Callable[[Request], Awaitable[Response]]:
        async def handler(request: Request) -> Response:
            take_id = int(request.path_params["take_id"])
            form = _form(request)
            note = (form.get("note") or "").strip()[:2000] or None
            reason = (form.get("reason") or "").strip()[:40] or None
            try:
                t = ledger.review_take(take_id, decision, note, who=_who(request), reason=reason)
            except LedgerError as e:
                return JSONResponse({"error": str(e)}, status_code=409)
            if "application/json" in request.headers.get("accept", ""):
                return JSONResponse({"take": t.id, "review": t.review})
            return RedirectResponse("/", status_code=303)

        return handler

    async def reroll(request: Request) -> Response:
        shot_id, stage = request.path_params["shot"], request.query_params.get("stage", "clip")
        if stage not in ("still", "clip"):
            return JSONResponse({"error": "stage must be still or clip"}, status_code=400)
        try:
            ledger.reroll(project.id, shot_id, stage, who=_who(request))
        except LedgerError as e:
            return JSONResponse({"error": str(e)}, status_code=404)
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse({"shot": shot_id, "reroll": stage})
        return RedirectResponse("/", status_code=303)

    routes = [
        Route("/", index),
        Route("/api/shots", api_shots),
        Route("/media/{sha}", media),
        Route("/takes/{take_id:int}/approve", _decide("approved"), methods=["POST"]),
        Route("/takes/{take_id:int}/reject", _decide("rejected"), methods=["POST"]),
        Route("/shots/{shot}/reroll", reroll, methods=["POST"]),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        db.dispose()

    app = Starlette(routes=routes, lifespan=lifespan, middleware=[Middleware(GuardMiddleware, guard=guard)])
    app.state.project_root = Path(project.root)
    return app
