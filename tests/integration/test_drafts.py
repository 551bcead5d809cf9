"""Draft stills: ``run --draft`` pays for cheap drafts only (the route's FLUX.1 schnell), a person chooses one,
and the next run makes the final still from it (its prompt and seed, with the final model), then the clip;
the ledger keeps the draft spend apart and the estimate shows both. Real runs of the CLI against the emulator."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from goldenchain import api
from goldenchain.emulator import Emulator
from tests.integration.helpers import make_project, run_cli
from tests.integration.paid import create_requests

SCHNELL, DEV = "fal-ai/flux/schnell", "fal-ai/flux/dev"


def _fal_jobs(emu: Emulator) -> list[Any]:
    return sorted(emu.fal.jobs.values(), key=lambda j: j.created)


def _by_model(emu: Emulator) -> Counter[str]:
    return Counter(j.endpoint for j in _fal_jobs(emu))


def _status(project: Path, env: dict[str, str]) -> dict[str, dict[str, Any]]:
    r = run_cli(["status", str(project), "--json"], env)
    assert r.returncode == 0, r.stderr
    return {s["shot"]: s for s in json.loads(r.stdout)}


def _json(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    r = run_cli(args, env)
    assert r.returncode == 0, r.stdout + r.stderr
    out: dict[str, Any] = json.loads(r.stdout)
    return out


def choose_in_review_app(project: Path, draft_id: int, shown: list[int]) -> None:
    """A person chooses a draft in the review app, over real HTTP: the shot page shows the drafts side by side
    with a "use this draft" action each; a write without the CSRF token or from another origin is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    proc = subprocess.Popen(
        [sys.executable, "-m", "goldenchain", "review", str(project), "--port", str(port)],
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip().endswith(f":{port}/")  # listening: requests wait in its backlog
        origin = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=origin, timeout=30) as c:
            page = c.get("/shots/s01")
            assert page.status_code == 200
            assert 'data-testid="takes-draft"' in page.text
            for tid in shown:
                assert f'action="/takes/{tid}/choose"' in page.text
            assert page.text.count('data-testid="use-draft"') == len(shown)
            m = re.search(r'name="csrf" (?:value|content)="([0-9a-f]+)"', page.text)
            assert m is not None
            write = {"accept": "application/json", "origin": origin}
            url = f"/takes/{draft_id}/choose"
            assert c.post(url, data={}, headers=write).status_code == 403  # no CSRF token
            foreign = {**write, "origin": "http://evil.example"}
            assert c.post(url, data={"csrf": m.group(1)}, headers=foreign).status_code == 403
            ok = c.post(url, data={"csrf": m.group(1)}, headers=write)
            assert ok.status_code == 200 and ok.json() == {"take": draft_id, "chosen": True}, ok.text
            after = c.get("/shots/s01").text
            assert re.search(rf'action="/takes/{draft_id}/choose"[^>]*>.*?<button disabled', after)
            assert "draft 2 chosen in review by local" in after
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert "Traceback" not in err, err
    events = [(e.action, e.who, e.take_id) for e in _events(project)]
    assert events == [("chosen", "local", draft_id)]


def test_drafts_then_the_chosen_one_made_final_then_video(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shoot", shots=2)
    with Emulator(host="127.0.0.1", port=0, scenario="clean", latency=0.2, log_path=None) as emu:
        env = emu.env()
        # the estimate shows both: the final chain's cost and, apart, what the drafts cost
        est = _json(["estimate", str(project), "--json"], env)
        one_draft = 0.006  # FLUX.1 schnell on fal: $0.003 per megapixel, 1824x1024 rounded up to 2 megapixels
        assert est["shots"]["s01"]["draft_usd"] == pytest.approx(3 * one_draft)
        assert est["draft_usd"] == pytest.approx(6 * one_draft)
        assert est["total_usd"] == pytest.approx(sum(r["expected_usd"] for r in est["shots"].values()))
        assert est["total_usd"] > est["draft_usd"] * 10
        table = run_cli(["estimate", str(project)], env).stdout
        assert "drafts" in table and "$0.04" in table  # the drafts' column, its total apart
        assert api.estimate(api.open_project(project), drafts=True)["total_usd"] == pytest.approx(
            6 * one_draft
        )
        draft_est = _json(["estimate", str(project), "--draft", "--json"], env)
        assert draft_est["total_usd"] == pytest.approx(6 * one_draft)
        assert draft_est["by_provider"] == {"fal": pytest.approx(6 * one_draft)}
        assert draft_est["shots"]["s02"]["needs"] == ["3 drafts"]

        r = run_cli(["run", str(project), "--draft", "--quiet"], env)
        assert r.returncode == 0, r.stdout + r.stderr
        # only drafts were paid for: three per shot with the draft model, each with its own seed; no video
        assert _by_model(emu) == {SCHNELL: 6}
        assert emu.count(provider="kling", creates=True) == 0
        assert len({(j.body["prompt"], j.body["seed"]) for j in _fal_jobs(emu)}) == 6
        st = _status(project, env)
        for sid in ("s01", "s02"):
            assert st[sid]["status"] == "drafts_ready", st[sid]
            assert st[sid]["takes"] == {"still": 0, "clip": 0, "draft": 3}
            # the gate ran on each draft, for the person who chooses
            assert sorted(st[sid]["verdicts"]) == ["draft1:pass", "draft2:pass", "draft3:pass"]
            assert "--draft N" in st[sid]["next"]
        assert st["s01"]["draft"]["how"] == "gate" and st["s01"]["draft"]["take"] == 3

        drafts = {(t.shot, t.take): t for t in api.takes(api.open_project(project)) if t.stage == "draft"}
        assert all(t.model == SCHNELL and t.state == "downloaded" for t in drafts.values())
        choose_in_review_app(
            project, drafts[("s01", 2)].id, [t.id for k, t in drafts.items() if k[0] == "s01"]
        )
        chosen = next(t for t in api.takes(api.open_project(project), "s01") if t.id == drafts[("s01", 2)].id)
        assert chosen.review == "approved"
        assert _status(project, env)["s01"]["draft"] == {"take": 2, "take_id": chosen.id, "how": "chosen"}

        r = run_cli(["run", str(project), "--quiet"], env)
        assert r.returncode == 0, r.stdout + r.stderr
        finals = [j for j in _fal_jobs(emu) if j.endpoint == DEV]
        assert _by_model(emu) == {SCHNELL: 6, DEV: 2}  # no draft paid again; one final still per shot
        assert emu.count(provider="kling", creates=True) == 2
        by_seed = {j.body["seed"]: j.body["prompt"] for j in finals}
        # s01: the person's draft 2, same prompt and seed, final model; s02: no choice, its newest passing draft
        for key in (("s01", 2), ("s02", 3)):
            d = drafts[key]
            assert d.seed in by_seed
            draft_job = next(j for j in _fal_jobs(emu) if j.endpoint == SCHNELL and j.body["seed"] == d.seed)
            assert by_seed[d.seed] == draft_job.body["prompt"]
        st = _status(project, env)
        assert [st[s]["status"] for s in ("s01", "s02")] == ["done", "done"]
        assert st["s01"]["draft"] == {"take": 2, "take_id": chosen.id, "how": "made"}
        assert st["s02"]["draft"]["take"] == 3 and st["s02"]["draft"]["how"] == "made"
        assert (project / "out" / "final.mp4").stat().st_size > 0

        # the ledger keeps the draft spend apart
        costs = _json(["costs", str(project), "--json"], env)
        paid = {t.id: t for t in api.takes(api.open_project(project))}
        draft_paid = sum(t.cost_usd or 0 for t in paid.values() if t.stage == "draft")
        assert draft_paid > 0
        assert costs["by_kind"]["draft"] == pytest.approx(draft_paid, abs=1e-4)
        assert costs["draft_usd"] == pytest.approx(draft_paid, abs=1e-4)
        assert set(costs["by_kind"]) == {"draft", "still", "clip"}
        assert sum(costs["by_kind"].values()) == pytest.approx(costs["total_usd"], abs=1e-3)
        month = run_cli(["costs", "monthly", str(project), "--json"], env)
        assert month.returncode == 0, month.stderr
        assert json.loads(month.stdout)[0]["by_kind"]["draft"] == pytest.approx(draft_paid, abs=1e-4)
        shown = run_cli(["costs", str(project)], env)
        assert "by kind" in shown.stdout and "draft" in shown.stdout

        # a draft run on shots in the cut pays for nothing; the next estimate has no drafts left for them
        r = run_cli(["run", str(project), "--draft", "--quiet"], env)
        assert r.returncode == 0, r.stdout + r.stderr
        assert _by_model(emu) == {SCHNELL: 6, DEV: 2}
        assert _json(["estimate", str(project), "--draft", "--json"], env)["total_usd"] == 0


def test_choosing_another_draft_after_the_final_still_makes_it_again(tmp_path: Path) -> None:
    """A person's choice always wins: a draft chosen after the shot is done sends it back; the next run makes
    the final still from that draft (and a new clip), paying for nothing else."""
    project = make_project(tmp_path / "shoot", shots=1)
    with Emulator(host="127.0.0.1", port=0, scenario="clean", latency=0.2, log_path=None) as emu:
        env = emu.env()
        assert run_cli(["run", str(project), "--draft", "--quiet"], env).returncode == 0
        assert run_cli(["run", str(project), "--quiet"], env).returncode == 0
        assert _status(project, env)["s01"]["draft"]["take"] == 3
        r = run_cli(["use", "s01", str(project), "--draft", "1"], env)
        assert r.returncode == 0, r.stderr
        st = _status(project, env)["s01"]
        assert st["status"] == "needs_retake" and st["draft"]["how"] == "chosen" and st["draft"]["take"] == 1
        assert run_cli(["run", str(project), "--quiet"], env).returncode == 0
        d1 = next(t for t in api.takes(api.open_project(project)) if t.stage == "draft" and t.take == 1)
        finals = [j.body["seed"] for j in _fal_jobs(emu) if j.endpoint == DEV]
        assert len(finals) == 2 and finals[-1] == d1.seed
        assert emu.count(provider="kling", creates=True) == 2
        st = _status(project, env)["s01"]
        assert st["status"] == "done" and st["draft"] == {"take": 1, "take_id": d1.id, "how": "made"}
        events = [(e.action, e.who, e.take_id) for e in _events(project)]
        assert ("chosen", "cli", d1.id) in events


def _events(project: Path) -> list[Any]:
    from goldenchain.store.db import Database
    from goldenchain.store.ledger import Ledger

    p = api.open_project(project)
    db = Database(p.database_url)
    try:
        return Ledger(db).review_events(p.id)
    finally:
        db.dispose()


def test_a_route_without_a_draft_model_is_refused_before_any_spend(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shoot", shots=1)
    cfg = project / "goldenchain.toml"
    text = cfg.read_text()
    cfg.write_text(
        text.replace(
            'model = "fal-ai/flux/dev"\n', 'model = "fal-ai/flux/dev"\ndraft_model = "fal-ai/flux/nope"\n', 1
        )
    )
    with Emulator(host="127.0.0.1", port=0, scenario="clean", latency=0.2, log_path=None) as emu:
        for args in (["run", str(project), "--draft", "--quiet"], ["estimate", str(project), "--draft"]):
            r = run_cli(args, emu.env())
            assert r.returncode == 2, r.stdout + r.stderr
            assert "fal-ai/flux/nope" in r.stderr and "Traceback" not in r.stderr
            assert len(r.stderr.strip().splitlines()) == 1
        assert "draft_model" in cfg.read_text()
        cfg.write_text(
            text.replace('model = "fal-ai/flux/dev"\n', 'model = "fal-ai/flux/dev"\ndraft_takes = 0\n', 1)
        )
        r = run_cli(["run", str(project), "--draft", "--quiet"], emu.env())
        assert r.returncode == 2 and "draft_takes" in r.stderr and "Traceback" not in r.stderr
        cfg.write_text(text)
        r = run_cli(["run", str(project), "--draft", "--only", "stills", "--quiet"], emu.env())
        assert r.returncode == 2 and "--only" in r.stderr
        # drafts count against the run's cap like any paid call: below what they need, refused before any spend
        r = run_cli(["run", str(project), "--draft", "--max-cost", "0.01", "--quiet"], emu.env())
        assert r.returncode == 1 and "$0.02 the remaining work needs" in r.stderr, r.stderr
        assert emu.requests == []
    assert not (project / ".goldenchain" / "state.db").exists() or not api.takes(api.open_project(project))


@pytest.mark.parametrize("point", ["after_create@fal", "downloading@fal"])
def test_a_draft_run_killed_at_a_paid_boundary_pays_each_draft_once(tmp_path: Path, point: str) -> None:
    project = make_project(tmp_path / "shoot", shots=1)
    with Emulator(host="127.0.0.1", port=0, scenario="clean", latency=0.3, log_path=None) as emu:
        mark = tmp_path / "crashed"
        env = {**emu.env(), "GOLDENCHAIN_CRASHPOINT": point, "GOLDENCHAIN_CRASHPOINT_MARK": str(mark)}
        r = run_cli(["run", str(project), "--draft", "--quiet"], env)
        assert r.returncode == -signal.SIGKILL, r.stdout + r.stderr
        assert mark.exists()
        r = run_cli(["run", str(project), "--draft", "--quiet"], emu.env())
        assert r.returncode == 0, r.stdout + r.stderr
        sent = create_requests(emu.requests)
        assert all(n == 1 for n in sent.values()), sent  # no create went out twice
        drafts = [t for t in api.takes(api.open_project(project)) if t.stage == "draft"]
        assert len(drafts) == 3 and _by_model(emu) == {SCHNELL: 3}  # one create per draft, no more
        held = [t for t in drafts if t.state == "needs_review"]
        # fal cannot be asked by our id: a draft whose create may have gone out is held, never sent again
        assert len(held) == (1 if point == "after_create@fal" else 0)
        assert all(t.state == "downloaded" for t in drafts if t not in held)
        assert _status(project, emu.env())["s01"]["status"] == "drafts_ready"
        assert emu.count(provider="kling", creates=True) == 0
