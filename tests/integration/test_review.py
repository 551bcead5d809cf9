"""The review web app over a real run: a person rejects the delivered clip, the next run makes exactly one
new clip take and delivers it; re-roll asks for a new still."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx

from goldenchain.config import load_project
from goldenchain.emulator import Emulator
from goldenchain.web.app import create_app
from tests.integration.helpers import accepted_creates, make_project, report, run_cli


async def _client_calls(project_dir: Path) -> dict[str, object]:
    app = create_app(load_project(project_dir))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8765"
    ) as c:
        page = await c.get("/")
        m = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
        assert m is not None
        csrf = m.group(1)
        write = {"accept": "application/json", "origin": "http://127.0.0.1:8765"}
        shots = (await c.get("/api/shots")).json()
        clip = next(t for t in shots[0]["takes"] if t["id"] == shots[0]["clip_take_id"])
        media = await c.get(f"/media/{clip['sha256']}")
        rejected = await c.post(
            f"/takes/{clip['id']}/reject", data={"csrf": csrf, "note": "horse melts"}, headers=write
        )
        again = await c.post(f"/takes/{clip['id']}/reject", data={"csrf": csrf}, headers=write)
        missing = await c.get("/media/" + "0" * 64)
        after = (await c.get("/api/shots")).json()
    return {
        "page": page,
        "media": media,
        "rejected": rejected,
        "again": again,
        "missing": missing,
        "after": after,
        "clip": clip,
    }


def test_reject_in_review_makes_one_new_take(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shoot", shots=1)
    with Emulator(host="127.0.0.1", port=0, scenario="clean", latency=0.3) as emu:
        assert run_cli(["run", str(project), "--quiet"], emu.env()).returncode == 0
        before = sum(accepted_creates(emu.requests).values())
        out = asyncio.run(_client_calls(project))
        page = out["page"]
        assert isinstance(page, httpx.Response) and page.status_code == 200 and "s01" in page.text
        media = out["media"]
        assert isinstance(media, httpx.Response) and media.headers["content-type"] == "video/mp4"
        assert media.content[4:8] == b"ftyp"
        assert out["rejected"].status_code == 200  # type: ignore[union-attr]
        assert out["missing"].status_code == 404  # type: ignore[union-attr]
        after = out["after"][0]  # type: ignore[index]
        assert after["status"] == "needs_retake" and "horse melts" in after["detail"]

        r = run_cli(["run", str(project), "--quiet"], emu.env())
        assert r.returncode == 0, r.stdout + r.stderr
        assert sum(accepted_creates(emu.requests).values()) == before + 1  # one new clip, nothing else
        shot = report(project)["shots"][0]
        assert shot["status"] == "done"
        clips = [t for t in shot["takes"] if t["stage"] == "clip"]
        assert [t["take"] for t in clips] == [1, 2]
        assert shot["clip"] is not None
