"""Delivery to spec, with provenance: a run against the emulator with a non-default [delivery] spec gives
files that meet it (probed), sidecars with the right hashes and a C2PA manifest read back by the library's own
reader; a file encoded wrongly on purpose fails the check; [qc] on_reject = "review" stops after one rejected
clip."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from PIL import Image

from goldenchain.emulator import Emulator
from goldenchain.emulator.scenarios import Fault
from tests.integration.helpers import accepted_creates, make_project, report, run_cli
from tests.integration.signing import make_signing_chain

SPEC = """[delivery]
resolution = "1280x720"
fps = 25
codec = "h264"
pixel_format = "yuv420p"
crf = 20
audio = "silence"
naming = "{client}_{project}_{shot}_t{take}.mp4"
crossfade = 0.5
slate = 1.0
logo = "brand/logo.png"
logo_corner = "bottom-right"
logo_opacity = 0.9
c2pa = true
c2pa_key = "keys/signer.key"
c2pa_cert = "keys/chain.pem"

[qc]
size = "1920x1080"
fps = 24
"""


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _with_spec(project: Path, spec: str) -> None:
    cfg = project / "goldenchain.toml"
    text = re.sub(r"\[delivery\]\nwidth = 1920\nheight = 1080\nfps = 24\n", "", cfg.read_text())
    assert "[delivery]" not in text
    cfg.write_text(re.sub(r'client = "[^"]*"', 'client = "acme"', text, count=1) + "\n" + spec)


def _logo(project: Path) -> Path:
    """A pure red, opaque square with a transparent border: easy to find in a frame."""
    a = np.zeros((64, 64, 4), np.uint8)
    a[8:56, 8:56] = (255, 0, 0, 255)
    path = project / "brand" / "logo.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(a, "RGBA").save(path)
    return path


def _probe(path: Path) -> dict[str, Any]:
    with av.open(str(path)) as c:
        vs = c.streams.video[0]
        frames = sum(1 for _ in c.decode(vs))
    with av.open(str(path)) as c:
        return {
            "codec": c.streams.video[0].codec_context.name,
            "size": (c.streams.video[0].width, c.streams.video[0].height),
            "fps": float(c.streams.video[0].average_rate or 0),
            "pix_fmt": c.streams.video[0].codec_context.pix_fmt,
            "audio": [a.codec_context.name for a in c.streams.audio],
            "frames": frames,
            "duration": float(c.duration or 0) / 1e6,
        }


def _frame_at(path: Path, t: float) -> np.ndarray:
    with av.open(str(path)) as c:
        for f in c.decode(c.streams.video[0]):
            if f.time is not None and f.time >= t:
                return f.to_ndarray(format="rgb24")
    raise AssertionError(f"no frame at {t} s in {path}")


def _manifest(path: Path) -> tuple[str | None, dict[str, Any]]:
    import c2pa

    with c2pa.Reader(str(path)) as reader:
        active = reader.get_active_manifest()
        assert active is not None
        return reader.get_validation_state(), active


def _assertion(active: dict[str, Any], label: str) -> dict[str, Any]:
    found = [a["data"] for a in active["assertions"] if a["label"] == label]
    assert found, [a["label"] for a in active["assertions"]]
    return found[0]


def test_a_run_delivers_files_that_meet_a_non_default_spec_with_provenance(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = make_project(tmp_path / "shoot", shots=2)
    _with_spec(project, SPEC)
    logo = _logo(project)
    make_signing_chain(project / "keys")
    with Emulator(host="127.0.0.1", port=0, scenario="clean", latency=0.3) as emu:
        r = run_cli(["run", str(project), "--quiet"], emu.env())
        assert r.returncode == 0, r.stdout + r.stderr
        rep = report(project)
        tasks = {q.get("task_id") for q in emu.requests if q.get("task_id")}
        n_creates = sum(accepted_creates(emu.requests).values())

        assert rep["shots_done"] == 2
        assert rep["delivery_ok"] is True
        checked = {c["file"] for c in rep["delivery_check"]}
        names = [f"clips/acme_{rep['project']}_{s}_t1.mp4" for s in ("s01", "s02")]
        assert checked == {*names, "final.mp4"}, checked
        assert all(c["ok"] and c["reason"] is None for c in rep["delivery_check"])

        for shot, name in zip(rep["shots"], names, strict=True):
            clip = project / "out" / name
            assert shot["clip"]["path"] == name
            facts = _probe(clip)
            assert facts["codec"] == "h264" and facts["size"] == (1280, 720) and facts["pix_fmt"] == "yuv420p"
            assert facts["fps"] == pytest.approx(25.0) and facts["audio"] == ["aac"]
            assert facts["frames"] == 125 and facts["duration"] == pytest.approx(5.0, abs=0.1)

            side = json.loads((project / "out" / shot["clip"]["sidecar"]).read_text())
            assert shot["clip"]["sidecar"] == name[:-4] + ".json"
            assert side["sha256"] == _sha(clip) == shot["clip"]["sha256"]  # the file as delivered (signed)
            still = next(t for t in shot["takes"] if t["stage"] == "still" and t["state"] == "downloaded")
            made = next(t for t in shot["takes"] if t["stage"] == "clip" and t["state"] == "downloaded")
            assert side["still"]["sha256"] == still["artifact_sha256"] == side["inputs"][0]["sha256"]
            assert side["clip"]["sha256"] == made["artifact_sha256"]
            for sha in (still["artifact_sha256"], made["artifact_sha256"]):  # the stored artifacts hash so
                stored = project / "artifacts" / "sha256" / sha[:2]
                assert [p for p in stored.iterdir() if p.name.startswith(sha[2:]) and _sha(p) == sha]
            inputs = {i["role"]: i for i in side["inputs"]}
            assert inputs["logo"]["sha256"] == _sha(logo)
            assert inputs["c2pa_cert"]["sha256"] == _sha(project / "keys" / "chain.pem")
            assert "signer.key" not in json.dumps(side)  # the key is never hashed or named
            assert side["still"]["provider_task_id"] in tasks and side["clip"]["provider_task_id"] in tasks
            assert side["clip"]["provider_task_id"] == made["provider_task_id"]
            assert side["model"]["route"] == "kling" and side["model"]["model"] == "kling-v1-5"
            assert side["model"]["version"] and side["still_model"]["model"] == "fal-ai/flux/dev"
            assert side["prompt"] == shot["prompt"] and side["video_prompt"]
            assert side["seed"] == still["seed"]
            assert side["settings"]["mode"] == "pro" and side["settings"]["duration"] == 5
            assert side["settings"]["aspect"] == "16:9" and side["settings"]["cfg"] == 0.5
            assert (
                side["costs"]["clip_usd"] == made["cost_usd"]
                and side["costs"]["still_usd"] == still["cost_usd"]
            )

            state, active = _manifest(clip)
            assert state in ("Valid", "Trusted"), state
            prov = _assertion(active, "org.goldenchain.provenance")
            assert prov["clip"]["provider_task_id"] == made["provider_task_id"]
            assert prov["clip"]["sha256"] == made["artifact_sha256"]
            actions = _assertion(active, "c2pa.actions.v2")["actions"]
            assert actions[0]["digitalSourceType"].endswith("trainedAlgorithmicMedia")
            assert side["c2pa"]["embedded"] is True
            assert shot["clip"]["c2pa"]["manifest_in"] == name and shot["clip"]["c2pa"]["alg"] == "es256"

        final = project / "out" / "final.mp4"
        facts = _probe(final)
        assert (
            facts["size"] == (1280, 720) and facts["fps"] == pytest.approx(25.0) and facts["audio"] == ["aac"]
        )
        # 1 s slate + 5 s + 5 s - one 0.5 s crossfade
        assert abs(facts["frames"] - 10.5 * 25) <= 1
        assert rep["final"]["expected_duration"] == pytest.approx(10.5)
        state, active = _manifest(final)
        assert state in ("Valid", "Trusted"), state
        assert rep["final"]["c2pa"]["manifest_in"] == "final.mp4"
        clips_in = _assertion(active, "org.goldenchain.provenance")["clips"]
        assert [c["sha256"] for c in clips_in] == [_sha(project / "out" / n) for n in names]

        slate = _frame_at(final, 0.3).astype(float)
        assert slate[:, :, :].mean() < 60  # the dark title card
        assert slate[320:400, 200:1080].max() > 150  # with light text in the middle
        body = _frame_at(final, 3.0).astype(float)
        # the logo: 12 % of the width (152 px), 4 % of the height (29 px) from the corner; its red square is
        # the middle 3/4 of it: x 1118-1232, y 558-672
        inside = (slice(590, 640), slice(1150, 1200))
        patch = body[inside]
        assert patch[:, :, 0].mean() > 180 and patch[:, :, 1].mean() < 80, patch.mean(axis=(0, 1))
        bare = _frame_at(project / "out" / names[0], 2.0).astype(float)
        assert not (bare[inside][:, :, 0].mean() > 180 and bare[inside][:, :, 1].mean() < 80)
        # mid crossfade (1 + 5 - 0.25 s) the picture is neither clip's: a blend of the two
        a_end = _frame_at(project / "out" / names[0], 4.74).astype(float)
        b_start = _frame_at(project / "out" / names[1], 0.24).astype(float)
        mid = _frame_at(final, 5.75).astype(float)
        centre = (slice(200, 500), slice(300, 900))
        d_a = np.abs(mid[centre] - a_end[centre]).mean()
        d_b = np.abs(mid[centre] - b_start[centre]).mean()
        d_ab = np.abs(a_end[centre] - b_start[centre]).mean()
        assert d_a > 0.2 * d_ab and d_b > 0.2 * d_ab, (d_a, d_b, d_ab)

        html = (project / "out" / "report.html").read_text()
        for n in names:
            assert f'href="{n}"' in html and f'href="{n[:-4]}.json"' in html
        assert "C2PA" in html and "delivery check" in html.lower()

        # again: nothing paid, the same files (reused, not encoded again), still checked
        before = {n: _sha(project / "out" / n) for n in names}
        r2 = run_cli(["run", str(project), "--quiet"], emu.env())
        assert r2.returncode == 0, r2.stdout + r2.stderr
        assert sum(accepted_creates(emu.requests).values()) == n_creates
        assert {n: _sha(project / "out" / n) for n in names} == before
        assert report(project)["delivery_ok"] is True

    # clips encoded wrongly on purpose (the provider's size and rate, not the spec's): the check names each
    # file and what is wrong in one line, and the run's exit code is 1
    import goldenchain.reports.delivery as delivery
    from goldenchain.api import deliver_run
    from goldenchain.cli.project import _said
    from goldenchain.config import load_project
    from goldenchain.orchestration.run import RunResult

    loaded = load_project(project)
    wrong = loaded.config.delivery.model_copy(update={"resolution": "1920x1080", "fps": 24.0})
    real = delivery.encode_clip
    monkeypatch.setattr(
        delivery, "encode_clip", lambda src, dst, spec, duration: real(src, dst, wrong, duration=duration)
    )
    for side in (project / "out" / "clips").glob("*.json"):
        side.unlink()  # not the files delivered before: encode again
    capsys.readouterr()
    done = RunResult("check", shots=[{"shot": s, "status": "done", "stage": "done"} for s in ("s01", "s02")])
    assert _said(deliver_run(loaded, done)) == 1
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("delivery check failed")]
    assert [line.split(": ")[1] for line in err] == names, err
    assert all("size 1920x1080 (spec 1280x720); 24 fps (spec 25)" in line for line in err), err
    rep = report(project)
    assert rep["delivery_ok"] is False
    failed = {c["file"]: c["reason"] for c in rep["delivery_check"] if not c["ok"]}
    assert set(failed) == set(names) and all(r.startswith(f) for f, r in failed.items())


def test_review_policy_stops_after_one_rejected_clip(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shoot", shots=1)
    cfg = project / "goldenchain.toml"
    cfg.write_text(cfg.read_text() + '\n[qc]\non_reject = "review"\n')
    freeze = [Fault(provider="kling", op="task", nth=1, kind="freeze")]
    with Emulator(host="127.0.0.1", port=0, scenario="clean", latency=0.3, faults=freeze) as emu:
        r = run_cli(["run", str(project), "--quiet"], emu.env())
        assert r.returncode == 1, r.stdout + r.stderr
        assert "s01: needs_review" in r.stderr
        clips = [q for q in emu.requests if q.get("op") == "create" and q["provider"] == "kling"]
        assert len(clips) == 1  # one clip paid for, no re-roll
        st = json.loads(run_cli(["status", str(project), "--json"], emu.env()).stdout)
        row = st[0] if isinstance(st, list) else st["shots"][0]
        assert row["status"] == "needs_review" and "freeze" in json.dumps(row)
        fails = run_cli(["failures", str(project), "--json"], emu.env())
        assert fails.returncode == 0, fails.stderr
        rows = json.loads(fails.stdout)
        assert [(f["stage"], f["reason"]) for f in rows] == [("clip", "qc_reject")]
        assert "freeze" in rows[0]["message"]
        rep = report(project)
        assert rep["final"] is None and rep["shots"][0]["status"] == "needs_review"

        # again without a person's decision: nothing is paid, the shot stays where it is
        r2 = run_cli(["run", str(project), "--quiet"], emu.env())
        assert r2.returncode == 1
        assert len([q for q in emu.requests if q.get("op") == "create" and q["provider"] == "kling"]) == 1
        assert report(project)["shots"][0]["status"] == "needs_review"

        # a person approves the rejected clip: the next run puts it in the cut, still without a second clip
        from goldenchain.store.db import Database
        from goldenchain.store.ledger import Ledger

        db = Database(f"sqlite:///{project / '.goldenchain' / 'state.db'}")
        try:
            led = Ledger(db)
            clip = next(t for t in led.takes(report(project)["project"]) if t.stage == "clip")
            led.review_take(clip.id, "approved", "the freeze reads as a held beat", who="tester")
        finally:
            db.dispose()
        r3 = run_cli(["run", str(project), "--quiet"], emu.env())
        assert r3.returncode == 0, r3.stdout + r3.stderr
        assert len([q for q in emu.requests if q.get("op") == "create" and q["provider"] == "kling"]) == 1
        rep = report(project)
        assert rep["shots"][0]["status"] == "done" and rep["final"] is not None
        assert rep["shots"][0]["clip"]["path"] == "clips/s01.mp4"


def test_reroll_policy_is_the_default_and_makes_the_next_clip(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shoot", shots=1)
    freeze = [Fault(provider="kling", op="task", nth=1, kind="freeze")]
    with Emulator(host="127.0.0.1", port=0, scenario="clean", latency=0.3, faults=freeze) as emu:
        r = run_cli(["run", str(project), "--quiet"], emu.env())
        assert r.returncode == 0, r.stdout + r.stderr
        clips = [q for q in emu.requests if q.get("op") == "create" and q["provider"] == "kling"]
        assert len(clips) == 2
        rep = report(project)
        assert rep["shots"][0]["status"] == "done" and rep["shots"][0]["clip"]["path"] == "clips/s01.mp4"
