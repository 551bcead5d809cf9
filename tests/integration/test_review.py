"""The review web app over a real run: a person rejects the delivered clip, the next run makes exactly one
new clip take and delivers it; re-roll asks for a new still."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import httpx
import pytest

from goldenchain.config import load_project
from goldenchain.emulator import Emulator
from goldenchain.store.db import Database
from goldenchain.store.ledger import Ledger
from goldenchain.web.app import create_app
from tests.integration.helpers import accepted_creates, make_project, report, run_cli


async def _client_calls(project_dir: Path) -> dict[str, object]:
    app = create_app(load_project(project_dir))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8765"
    ) as c:
        page = await c.get("/")
        m = re.search(r'name="csrf" (?:value|content)="([0-9a-f]+)"', page.text)
        assert m is not None
        csrf = m.group(1)
        write = {"accept": "application/json", "origin": "http://127.0.0.1:8765"}
        shots = (await c.get("/api/shots")).json()
        clip = next(t for t in shots[0]["takes"] if t["id"] == shots[0]["clip_take_id"])
        media = await c.get(f"/media/{clip['artifact_sha256']}")
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
        again = out["again"]  # the same rejection again (a double submit) changes nothing and grants no take
        assert isinstance(again, httpx.Response) and again.status_code == 200
        assert again.json() == {"take": out["clip"]["id"], "review": "rejected"}  # type: ignore[index]
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
        # the person's "no" counts everywhere: the report, status, waste and cost per accepted clip
        assert [(t["review"], t["review_note"]) for t in clips] == [("rejected", "horse melts"), (None, None)]
        st = json.loads(run_cli(["status", str(project), "--json"], emu.env()).stdout)[0]
        assert "clip1:rejected in review" in st["verdicts"] and "clip2:pass" in st["verdicts"]
        costs = json.loads(run_cli(["costs", str(project), "--json"], emu.env()).stdout)
        assert costs["waste_usd"] == pytest.approx(clips[0]["cost_usd"]) and costs["waste_usd"] > 0
        assert costs["accepted_clips"] == 1  # one shot, one clip in the cut
        assert costs["cost_per_accepted_clip"] == pytest.approx(costs["total_usd"])


async def _day_of_review(project_dir: Path) -> dict[str, object]:
    """Reject with a reason, refuse an unconfirmed re-roll, edit a prompt: what a producer does in a day."""
    app = create_app(load_project(project_dir))
    origin = "http://127.0.0.1:8765"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=origin) as c:
        page = await c.get("/shots/s01")
        m = re.search(r'name="csrf" (?:value|content)="([0-9a-f]+)"', page.text)
        assert m is not None
        csrf, write = m.group(1), {"accept": "application/json", "origin": origin}
        v0 = (await c.get("/api/version")).json()["version"]
        shots = (await c.get("/api/shots")).json()
        clip = next(t for t in shots[0]["takes"] if t["id"] == shots[0]["clip_take_id"])
        bad_reason = await c.post(
            f"/takes/{clip['id']}/reject", data={"csrf": csrf, "reason": "nope"}, headers=write
        )
        rejected = await c.post(
            f"/takes/{clip['id']}/reject",
            data={"csrf": csrf, "reason": "warp", "note": "background melts"},
            headers=write,
        )
        v1 = (await c.get("/api/version")).json()["version"]
        unconfirmed = await c.post("/shots/s02/reroll", data={"csrf": csrf, "stage": "clip"}, headers=write)
        prompt = await c.post(
            "/shots/s02/prompt",
            data={
                "csrf": csrf,
                "field": "prompt",
                "text": "Wide shot of a red barn, soft light",
                "rerun": "yes",
            },
            headers=write,
        )
        failures = await c.get("/failures")
        shot_page = await c.get("/shots/s01")
        filtered = await c.get("/?filter=rejected")
        done = await c.get("/?filter=done")
    return {
        "v": (v0, v1),
        "bad_reason": bad_reason.status_code,
        "rejected": rejected.status_code,
        "unconfirmed": unconfirmed.status_code,
        "prompt": prompt.status_code,
        "failures": failures.text,
        "shot_page": shot_page.text,
        "filtered": filtered.text,
        "done": done.text,
        "clip": clip,
    }


async def _choose(project_dir: Path, take_id: int) -> int:
    app = create_app(load_project(project_dir))
    origin = "http://127.0.0.1:8765"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=origin) as c:
        page = await c.get("/")
        m = re.search(r'name="csrf" (?:value|content)="([0-9a-f]+)"', page.text)
        assert m is not None
        r = await c.post(
            f"/takes/{take_id}/choose",
            data={"csrf": m.group(1)},
            headers={"accept": "application/json", "origin": origin},
        )
        return r.status_code


def test_reasons_prompt_edits_and_use_this_take(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shoot", shots=2)
    before_yaml = (project / "shots.yaml").read_text()
    with Emulator(host="127.0.0.1", port=0, scenario="clean", latency=0.3) as emu:
        assert run_cli(["run", str(project), "--quiet"], emu.env()).returncode == 0
        out = asyncio.run(_day_of_review(project))
        assert out["bad_reason"] == 400 and out["rejected"] == 200
        assert out["unconfirmed"] == 400  # a re-roll costs money: never without its confirmation
        assert out["prompt"] == 200
        v0, v1 = out["v"]  # type: ignore[misc]
        assert v0 != v1  # live views see the change
        assert "background melts" in str(out["failures"]) and "human" in str(out["failures"])
        assert 'data-shot="s01"' in str(out["filtered"])  # rejected: the person's "no"
        assert "data-shot=" not in str(out["done"])  # both shots wait for the next run
        after_yaml = (project / "shots.yaml").read_text()
        assert 'prompt: "Wide shot of a red barn, soft light"' in after_yaml
        # only that one line changed: the rest of the file is as the user wrote it
        changed = [
            a for a, b in zip(before_yaml.splitlines(), after_yaml.splitlines(), strict=True) if a != b
        ]
        assert len(changed) == 1 and "green valley" in changed[0]

        fails = run_cli(["failures", str(project), "--json"], emu.env())
        human = [r for r in json.loads(fails.stdout) if r["reason"] == "human"]
        assert [(r["shot"], r["stage"], r["message"]) for r in human] == [
            ("s01", "clip", "warp: background melts"),
            ("s02", "still", "prompt changed"),
        ]

        n = len(emu.requests)
        r = run_cli(["run", str(project), "--quiet"], emu.env())
        assert r.returncode == 0, r.stdout + r.stderr
        bodies = [q for q in emu.requests[n:] if q.get("accepted")]
        # s01: one new clip; s02: a new still with the new prompt, and a clip from it
        assert len(bodies) == 3, bodies
        shots = {s["id"]: s for s in report(project)["shots"]}
        assert shots["s02"]["prompt"] == "Wide shot of a red barn, soft light"
        clips = [t for t in shots["s01"]["takes"] if t["stage"] == "clip"]
        assert [t["take"] for t in clips] == [1, 2]
        first = out["clip"]["id"]  # type: ignore[index]
        assert asyncio.run(_choose(project, first)) == 200  # the person prefers the first clip after all

    db = Database(load_project(project).database_url)
    try:
        led = Ledger(db)
        row = led.shot(load_project(project).id, "s01")
        assert row.clip_take_id == first and row.status == "done"
        events = [(e.action, e.who, e.reason) for e in led.review_events(load_project(project).id)]
    finally:
        db.dispose()
    assert events == [
        ("rejected", "local", "warp"),
        ("prompt", "local", None),
        ("reroll", "local", None),
        ("chosen", "local", None),
    ]
