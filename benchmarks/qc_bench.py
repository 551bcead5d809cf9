"""qc-bench: the clip check against clips it was not tuned on, beside the check comparable tools ship.

    .venv/bin/python benchmarks/qc_bench.py [--split held-out] [--scenes N] [--jobs 2] [--json OUT]

Clips (``qc_bench_data``): slow pans, diagonal pans, push-ins, zoom-outs and handheld shake over real
photographs (Debian ``plasma-workspace-wallpapers``, fetched with ``apt-get download`` into the cache),
1920x1080, 24 fps, 5 s, one defect each, plus clean ones (a dark scene, and a still that carries the same
overlay). Thresholds were tuned on the ``dev`` scenes; the default split is ``held-out``.

Each clip goes through ``goldenchain qc --json`` in-process (``check_clip``: decode, every check) and
through the peer: FFmpeg ``blackdetect`` + ``freezedetect`` in one pass plus a size/fps/duration probe
(the FFmpeg binary of imageio-ffmpeg), scored in the same run. Recall = share of a defect's clips rejected;
false rejects = clean clips rejected. Seconds are wall and CPU per clip, one clip at a time.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from qc_bench_data import FPS, SECONDS, H, W, build

from goldenchain.gates.clip import check_clip


def _cpu() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + ch.ru_utime + ch.ru_stime


def peer(path: Path) -> tuple[bool, list[str]]:
    """FFmpeg blackdetect (d=0.25) + freezedetect (d=0.5) + a probe of size, fps and duration."""
    import imageio_ffmpeg

    cmd = [
        imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path),
        "-vf", "blackdetect=d=0.25:pix_th=0.10,freezedetect=n=0.001:d=0.5", "-an", "-f", "null", "-",
    ]  # fmt: skip
    err = subprocess.run(cmd, capture_output=True, text=True).stderr
    why = []
    if "black_start" in err:
        why.append("black")
    if "freeze_start" in err:
        why.append("freeze")
    m = re.search(r"Video: (\w+).*?, (\d+)x(\d+).*?, ([\d.]+) fps", err)
    d = re.search(r"Duration: (\d+):(\d+):([\d.]+)", err)
    if m is None or d is None:
        return True, ["unreadable"]
    w, h, fps = int(m.group(2)), int(m.group(3)), float(m.group(4))
    dur = int(d.group(1)) * 3600 + int(d.group(2)) * 60 + float(d.group(3))
    if (w, h) != (W, H) or abs(fps - FPS) > 0.01 * FPS or abs(dur - SECONDS) > 0.1:
        why.append("spec")
    return bool(why), why


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    default_cache = os.environ.get(
        "GOLDENCHAIN_QC_BENCH_CACHE", str(Path.home() / ".cache/goldenchain-qc-bench")
    )
    ap.add_argument("--cache", type=Path, default=Path(default_cache))
    ap.add_argument("--split", choices=("dev", "held-out"), default="held-out")
    ap.add_argument("--scenes", type=int, default=None, help="only the first N scenes of the split")
    ap.add_argument("--jobs", type=int, default=2, help="processes for rendering the clips (once)")
    ap.add_argument("--limit", type=int, default=None, help="only the first N clips (a smoke run)")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    clips = build(args.cache.expanduser(), args.split, args.jobs, n_scenes=args.scenes)[: args.limit]
    print(
        f"qc-bench: {len(clips)} clips ({args.split}), {W}x{H} {FPS} fps {SECONDS} s unless the defect is the spec"
    )

    rows = []
    check_clip(clips[0][1], still=clips[0][2])  # warm up imports and the ffmpeg lookup
    for spec, clip, still in clips:
        c0, t0 = _cpu(), time.perf_counter()
        r = check_clip(clip, still=still, duration=SECONDS, size=(W, H), fps=FPS)
        ours_s, ours_cpu = time.perf_counter() - t0, _cpu() - c0
        c0, t0 = _cpu(), time.perf_counter()
        p_rej, p_why = peer(clip)
        peer_s, peer_cpu = time.perf_counter() - t0, _cpu() - c0
        scores = {c.name: c.score for c in r.checks}
        rejected_by = [c.name for c in r.checks if c.verdict == "reject"]
        warned_by = [c.name for c in r.checks if c.verdict == "warn"]
        rows.append(
            {"clip": spec.name, "defect": spec.defect, "variant": spec.variant, "camera": spec.camera,
             "verdict": r.verdict, "rejected_by": rejected_by, "warned_by": warned_by, "scores": scores,
             "seconds": ours_s, "cpu": ours_cpu, "peer_reject": p_rej, "peer_why": p_why,
             "peer_seconds": peer_s, "peer_cpu": peer_cpu}
        )  # fmt: skip
        print(
            f"  {spec.name:55s} ours {r.verdict:6s} {','.join(rejected_by or warned_by):24s} "
            f"warp {scores.get('warp', 0.0):5.1f} wm {scores.get('watermark', 0.0):5.1f} "
            f"{ours_s:5.2f} s {ours_cpu:4.2f} cpu | peer {'reject' if p_rej else 'pass':6s} {','.join(p_why):12s} "
            f"{peer_s:5.2f} s",
            flush=True,
        )

    def frac(xs: list[bool]) -> float:
        return sum(xs) / len(xs) if xs else math.nan

    print("\nPer defect (recall = clips rejected; 'own' = rejected by the check named after the defect):")
    print(f"  {'defect':14s} {'n':>3s} {'ours':>6s} {'own':>6s} {'warn+':>6s} {'peer':>6s}")
    defects = sorted({r["defect"] for r in rows} - {"clean"})
    table = {}
    for d in defects:
        sub = [r for r in rows if r["defect"] == d]
        own = d if d != "warp_subtle" else "warp"
        ours = frac([r["verdict"] == "reject" for r in sub])
        own_r = frac([own in r["rejected_by"] for r in sub])
        warn = frac([r["verdict"] in ("reject", "warn") for r in sub])
        pr = frac([bool(r["peer_reject"]) for r in sub])
        table[d] = {"n": len(sub), "ours": ours, "own": own_r, "ours_warn_or_reject": warn, "peer": pr}
        print(f"  {d:14s} {len(sub):3d} {ours:6.2f} {own_r:6.2f} {warn:6.2f} {pr:6.2f}")
    missed = [r for r in rows if r["defect"] != "clean" and r["verdict"] != "reject"]
    for r in missed:
        print(f"    missed: {r['clip']}: {r['verdict']} {r['warned_by']} scores {r['scores']}")
    clean = [r for r in rows if r["defect"] == "clean"]
    fr = frac([r["verdict"] == "reject" for r in clean])
    fw = frac([r["verdict"] == "warn" for r in clean])
    pfr = frac([bool(r["peer_reject"]) for r in clean])
    print(f"\nClean clips: n = {len(clean)}; false rejects ours {fr:.2f} (warnings {fw:.2f}), peer {pfr:.2f}")
    for r in clean:
        if r["verdict"] != "pass":
            print(f"    {r['clip']}: {r['verdict']} {r['rejected_by'] or r['warned_by']}")
    med = statistics.median(r["seconds"] for r in rows)
    cpu = statistics.median(r["cpu"] for r in rows)
    pmed = statistics.median(r["peer_seconds"] for r in rows)
    pcpu = statistics.median(r["peer_cpu"] for r in rows)
    full = [r for r in rows if r["defect"] == "clean" or r["verdict"] == "pass"]
    fmed = statistics.median(r["seconds"] for r in full) if full else math.nan
    load = os.getloadavg()[0]
    print(f"\nSeconds per clip (median; load average {load:.1f} on {os.cpu_count()} cores):")
    print(
        f"  goldenchain qc: wall {med:.2f} s, CPU {cpu:.2f} s; clips that run every check: wall {fmed:.2f} s"
    )
    print(f"  peer (ffmpeg blackdetect+freezedetect+probe): wall {pmed:.2f} s, CPU {pcpu:.2f} s")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "defects": table, "false_reject": fr,
                                         "peer_false_reject": pfr, "seconds": med, "cpu": cpu,
                                         "peer_seconds": pmed, "peer_cpu": pcpu}, indent=2))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
