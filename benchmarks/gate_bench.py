"""gate-bench: the image gate against real photographs with labelled synthetic defects (research gate.md §5).

    .venv/bin/python benchmarks/gate_bench.py [--cache DIR] [--jobs 2] [--no-cleanvision] [--json OUT]

Setup (once, cached in ~/.cache/goldenchain-bench or $GOLDENCHAIN_BENCH_CACHE):
  * ``apt-get download`` the Debian wallpaper packages with real photographs and smooth gradients, and unpack
    them with ``dpkg-deb -x`` into the cache (nothing is installed system-wide; exit 2 if apt is missing);
  * CleanVision 0.3.7 with ``pip install --target`` into the cache (never a project dependency).

The labelled set: every photo is resized (Lanczos) and cropped to 1024² twice (centre at short side 1024,
and an off-centre crop at short side 1408), then written as clean PNG, JPEG q90 (both negatives), JPEG
q30/q20/q10, Gaussian blur σ1.5/σ3, 4x down-up bicubic and 5-bit quantisation. Smooth gradients are written
clean, 6-bit and 5-bit: the gradient wallpapers that are smooth and made of slow ramps (flat-fill art is left
out: quantising it draws no contours), and 12 gradients made in code at float precision (clean = dithered). Scenes are split 60/40 into dev and held-out (all variants of a scene
stay on one side). Thresholds are fitted on dev only with :mod:`goldenchain.gates.calibrate`; every figure
printed is measured on held-out. This is a script, not a test; it takes a few minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from gate_bench_data import (
    CV_ISSUES,
    DEFECTS,
    GRADIENT_VARIANTS,
    NEGATIVE,
    PHOTO_VARIANTS,
    PRIMARY,
    Item,
    build_set,
    ensure_sources,
    run_cleanvision,
)
from PIL import Image

from goldenchain.gates.calibrate import (
    FEATURE_BY_KEY,
    Measurement,
    calibrate_scores,
    measure_all,
    roc_auc,
)
from goldenchain.gates.image import check_image

Image.MAX_IMAGE_PIXELS = None  # trusted Debian wallpapers up to 6000 px


# --- evaluation ----------------------------------------------------------------------------------------


def _measure_with(args: tuple[str, dict[str, float]]) -> tuple[str, dict[str, str]]:
    path, overrides = args
    r = check_image(path, thresholds=overrides)
    return path, {c.name: c.verdict for c in r.checks}


def _pct(x: float) -> str:
    return "  –  " if math.isnan(x) else f"{x:5.0%}"


def _cambi(m: Measurement) -> str:
    return f"{m.features.get('banding', math.nan):.1f}"


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _time_cli(paths: Sequence[str]) -> dict[str, float]:
    """``goldenchain gate --json`` on every path in one process: wall and CPU (its ffmpeg runs included)."""
    return _run_cli(paths)[0]


def _run_cli(paths: Sequence[str]) -> tuple[dict[str, float], dict[str, dict[str, str]]]:
    """As :func:`_time_cli`, plus each path's verdict per check from the command's JSON."""
    c0, t0 = _children_cpu(), time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "goldenchain", "gate", "--json", *paths], capture_output=True, text=True
    )
    wall, cpu = time.perf_counter() - t0, _children_cpu() - c0
    if proc.returncode not in (0, 1):
        print(f"  goldenchain gate exited {proc.returncode}: {proc.stderr[-500:]}")
        return {"wall": wall, "cpu": cpu}, {}
    verdicts = {r["path"]: {c["name"]: c["verdict"] for c in r["checks"]} for r in json.loads(proc.stdout)}
    return {"wall": wall, "cpu": cpu}, verdicts


def cli_only(items: Sequence[Item], cache: Path, out: Path | None) -> int:
    """The shipped profile through the whole command line beside CleanVision, one process each, one run:
    seconds (wall and CPU) per still, held-out recall per defect, false rejects and warnings on clean stills."""
    n = len(items)
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    (cli, verdicts) = _run_cli([i.path for i in items])
    c0, t0 = _children_cpu(), time.perf_counter()
    cv = run_cleanvision(list(items), cache, 1)
    cv_cpu, cv_wall = _children_cpu() - c0, time.perf_counter() - t0
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    print(f"\nSeconds per still, {n} stills, one process each:")
    print(
        f"  goldenchain gate (CLI, start-up included): wall {cli['wall'] / n:.3f}, CPU {cli['cpu'] / n:.3f}"
    )
    print(
        f"  CleanVision find_issues n_jobs=1 (interpreter and imports included): wall {cv_wall / n:.3f}, CPU {cv_cpu / n:.3f}"
    )
    flags = cv["flags"] if cv is not None else {}
    assert isinstance(flags, dict)
    held = [i for i in items if i.split == "held-out"]
    neg = [i for i in held if i.label in tuple(f"photo:{v}" for v in NEGATIVE)]
    print("\nHeld-out recall (rejected by the defect's own check) / CleanVision (any flag):")
    rows = {}
    for d in DEFECTS:
        pos = [i for i in held if i.label in d.positives and i.path in verdicts]
        ours = _frac([verdicts[i.path].get(d.check) == "reject" for i in pos])
        cvr = _frac([any(flags.get(i.path, {}).values()) for i in pos]) if flags else math.nan
        rows[d.name] = {"n": len(pos), "ours": ours, "cleanvision": cvr}
        print(f"  {d.name:22s} n {len(pos):3d}  ours {_pct(ours)}  CleanVision {_pct(cvr)}")
    # near_duplicate is left out: one batch holds each photo clean and as JPEG q90, near duplicates by design
    fr = _frac(
        [any(v == "reject" for c, v in verdicts[i.path].items() if c != "near_duplicate") for i in neg]
    )
    warned = [i for i in neg if any(v == "warn" for v in verdicts[i.path].values())]
    print(
        f"\nHeld-out clean + q90 photos: n {len(neg)}, false rejects (but near_duplicate) {_pct(fr)}, with a warning {_pct(len(warned) / len(neg))}"
    )
    for i in warned:
        print(f"    {Path(i.path).stem}: {[c for c, v in verdicts[i.path].items() if v == 'warn']}")
    if out is not None:
        out.write_text(json.dumps({"cli": cli, "cleanvision_cpu": cv_cpu, "cleanvision_wall": cv_wall, "n": n,
                                   "recall": rows, "false_reject": fr, "warned": len(warned) / len(neg)}, indent=2))  # fmt: skip
    return 0


def _frac(mask: Sequence[bool]) -> float:
    return sum(mask) / len(mask) if mask else math.nan


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    default_cache = os.environ.get("GOLDENCHAIN_BENCH_CACHE", str(Path.home() / ".cache/goldenchain-bench"))
    ap.add_argument("--cache", type=Path, default=Path(default_cache))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--no-cleanvision", action="store_true")
    ap.add_argument("--reuse", action="store_true", help="reuse the cached gate measurements of the last run")
    ap.add_argument("--json", type=Path, default=None, help="also write all figures as JSON here")
    ap.add_argument(
        "--cli-only", action="store_true", help="only the command line beside CleanVision (no fit)"
    )
    args = ap.parse_args(argv)
    cache: Path = args.cache.expanduser()
    cache.mkdir(parents=True, exist_ok=True)

    src = ensure_sources(cache)
    items = build_set(src, cache)
    if args.cli_only:
        return cli_only(items, cache, args.json)
    by_path = {i.path: i for i in items}
    n_photo_scenes = len({i.scene for i in items if i.kind == "photo"})
    n_grad = len({i.scene for i in items if i.kind == "gradient"})
    print(
        f"gate-bench: {len(items)} images ({n_photo_scenes} photo scenes x 2 crops x {len(PHOTO_VARIANTS)} "
        f"variants, {n_grad} smooth gradients x {len(GRADIENT_VARIANTS)}); "
        f"dev {sum(i.split == 'dev' for i in items)}, held-out {sum(i.split == 'held-out' for i in items)}"
    )

    # 1. sequential timing of the gate on a sample of 1024² images (one core)
    sample = [i.path for i in items if i.variant in ("clean", "q30", "blur1.5")][:30]
    check_image(sample[0])  # warm caches (ffmpeg binary lookup)
    times = []
    for p in sample:
        t0 = time.perf_counter()
        check_image(p)
        times.append(time.perf_counter() - t0)

    # 1b. the whole CLI over every image in one process (start-up, decoding, every check, the table)
    cli = _time_cli([i.path for i in items])

    # 2. batch: every image through the gate with the features kept, N worker processes
    saved = cache / "measurements.json"
    if args.reuse and saved.exists():
        data = json.loads(saved.read_text())
        ms = [Measurement(**d) for d in data["measurements"]]
        batch_wall = float(data["batch_wall"])
        print(f"  (reusing gate measurements from {saved})")
    else:
        t0 = time.perf_counter()
        ms = measure_all([i.path for i in items], jobs=args.jobs)
        batch_wall = time.perf_counter() - t0
        saved.write_text(json.dumps({"batch_wall": batch_wall, "measurements": [m.__dict__ for m in ms]}))
    meas = {m.path: m for m in ms}
    errors = [m for m in ms if m.error]
    for m in errors:
        print(f"  error: {m.path}: {m.error}")

    def select(split: str, labels: Sequence[str]) -> list[Measurement]:
        return [
            meas[i.path] for i in items if i.split == split and i.label in labels and not meas[i.path].error
        ]

    neg_labels = tuple(f"photo:{v}" for v in NEGATIVE)

    # 3. fit on dev
    overrides: dict[str, float] = {}
    fit_rows = []
    for d in DEFECTS:
        if not d.keys:
            continue
        res = calibrate_scores(
            [m.features for m in select("dev", neg_labels)],
            [m.features for m in select("dev", d.positives)],
            keys=d.keys,
        )
        for f in res.fits:
            fit_rows.append((d.name, f))
            if f.useful:
                overrides[f.key] = f.proposed

    # 4. held-out with the fitted thresholds
    held = [i for i in items if i.split == "held-out"]
    t1 = time.perf_counter()
    with ProcessPoolExecutor(args.jobs) as pool:
        fitted_verdicts = dict(pool.map(_measure_with, [(i.path, overrides) for i in held], chunksize=4))
    refit_wall = time.perf_counter() - t1

    # 5. CleanVision on the same images
    cv1 = cv2 = None
    cv_cpu = math.nan
    if not args.no_cleanvision:
        c0 = _children_cpu()
        cv1 = run_cleanvision(items, cache, 1)
        cv_cpu = _children_cpu() - c0
        cv2 = run_cleanvision(items, cache, args.jobs)
    cv_flags: dict[str, dict[str, bool]] = {}
    if cv1 is not None:
        raw = cv1["flags"]
        assert isinstance(raw, dict)
        for k, v in raw.items():
            cv_flags[k] = v
        # CleanVision indexes by file path
        if not any(k in by_path for k in cv_flags):
            print("  warning: CleanVision index is not the file path; mapping by order")
            cv_flags = dict(zip([i.path for i in items], cv_flags.values(), strict=False))

    # --- report ---------------------------------------------------------------------------------------
    held_neg = select("held-out", neg_labels)
    held_neg_paths = [m.path for m in held_neg]
    any_rej_profile = [m.verdict == "reject" for m in held_neg]
    any_rej_fitted = [any(v == "reject" for v in fitted_verdicts[p].values()) for p in held_neg_paths]
    report: dict[str, object] = {"overrides": overrides}

    print("\nThresholds fitted on dev (accepted = clean + q90 photos; false rejects <= 3 %):")
    print(f"  {'defect':22s} {'threshold':20s} {'AUC':>6s} {'profile':>9s} {'fitted':>9s} applied")
    for name, f in fit_rows:
        print(
            f"  {name:22s} {f.key:20s} {f.auc:6.3f} {f.current:9.4g} {f.proposed:9.4g} "
            f"{'yes' if f.key in overrides else 'no'}"
        )

    print("\nHeld-out, per defect (recall = rejected by the defect's own check; FR = false rejects):")
    hdr = (
        f"  {'defect':22s} {'n':>4s} {'AUC':>6s} {'recall':>7s} {'recall':>7s} {'target':>7s} "
        f"{'CV flag':>8s} {'CV any':>7s}"
    )
    print(f"  {'':22s} {'':>4s} {'':>6s} {'profile':>7s} {'fitted':>7s}")
    print(hdr)
    rows = []
    for d in DEFECTS:
        pos = select("held-out", d.positives)
        key = PRIMARY[d.check]
        auc = roc_auc(
            [m.features.get(key, math.nan) for m in held_neg],
            [m.features.get(key, math.nan) for m in pos],
            FEATURE_BY_KEY[key].direction,
        )
        r_prof = _frac([m.verdicts.get(d.check) == "reject" for m in pos])
        r_fit = _frac([fitted_verdicts[m.path].get(d.check) == "reject" for m in pos])
        cv_map = (
            _frac([cv_flags[m.path].get(d.cleanvision, False) for m in pos])
            if cv_flags and d.cleanvision
            else math.nan
        )
        cv_any = _frac([any(cv_flags[m.path].values()) for m in pos]) if cv_flags else math.nan
        ok = "" if math.isnan(d.target) else ("ok" if r_fit >= d.target else "MISSED")
        tgt = "  –  " if math.isnan(d.target) else f"{d.target:5.2f}"
        print(
            f"  {d.name:22s} {len(pos):4d} {auc:6.3f} {_pct(r_prof):>7s} {_pct(r_fit):>7s} {tgt:>7s} "
            f"{_pct(cv_map):>8s} {_pct(cv_any):>7s} {ok}"
        )
        rows.append(
            {"defect": d.name, "n": len(pos), "auc": auc, "recall_profile": r_prof, "recall_fitted": r_fit,
             "target": d.target, "cleanvision_flag": cv_map, "cleanvision_any": cv_any}
        )  # fmt: skip
    report["defects"] = rows

    print("\nHeld-out false rejects (any check rejects) on clean + JPEG q90 photos (target <= 3 %):")
    fr_prof, fr_fit = _frac(any_rej_profile), _frac(any_rej_fitted)
    print(f"  n = {len(held_neg)}: profile {fr_prof:.1%}, fitted {fr_fit:.1%}")
    for lab in neg_labels:
        sub = [m for m in held_neg if by_path[m.path].label == lab]
        print(
            f"    {lab:12s} profile {_frac([m.verdict == 'reject' for m in sub]):.1%}, fitted "
            f"{_frac([any(v == 'reject' for v in fitted_verdicts[m.path].values()) for m in sub]):.1%}"
        )
    for what, verdicts in (("profile", {m.path: m.verdicts for m in held_neg}), ("fitted", fitted_verdicts)):
        culprits: dict[str, list[str]] = {}
        for m in held_neg:
            for c, v in verdicts[m.path].items():
                if v == "reject":
                    culprits.setdefault(c, []).append(Path(m.path).stem)
        print(f"    rejecting checks ({what}): {culprits or 'none'}")
    warn_rate = _frac([any(v == "warn" for v in fitted_verdicts[p].values()) for p in held_neg_paths])
    print(f"    share with at least one warning (fitted): {warn_rate:.1%}")
    if cv_flags:
        cv_fr = _frac([any(cv_flags[p].values()) for p in held_neg_paths])
        per = {k: sum(cv_flags[p].get(k, False) for p in held_neg_paths) for k in CV_ISSUES}
        print(f"  CleanVision, any of {', '.join(CV_ISSUES)}: {cv_fr:.1%} {per}")
        report["cleanvision_false_reject"] = cv_fr
    grads = [m for m in select("held-out", ("gradient:clean",))] + [
        m for m in select("dev", ("gradient:clean",))
    ]
    print(
        "  clean 8-bit smooth gradients (all splits; some are banded as shipped): "
        f"banding reject {_frac([m.verdicts.get('banding') == 'reject' for m in grads]):.0%} of {len(grads)}; "
        f"CAMBI {', '.join(_cambi(m) for m in grads)}"
    )
    report["false_reject_profile"], report["false_reject_fitted"] = fr_prof, fr_fit

    print("\nCost per 1024² image (target <= 0.35 s):")
    med, p95 = statistics.median(times), sorted(times)[max(0, math.ceil(0.95 * len(times)) - 1)]
    print(f"  goldenchain gate, 1 process, {len(times)} images: median {med:.3f} s, p95 {p95:.3f} s")
    print(
        f"  goldenchain gate + features, batch {len(items)} images, ProcessPoolExecutor({args.jobs}): "
        f"{batch_wall:.1f} s wall = {batch_wall / len(items):.3f} s/image"
    )
    print(
        f"  held-out re-run with fitted thresholds ({len(held)} images, {args.jobs} processes): {refit_wall:.1f} s"
    )
    n = len(items)
    print(
        f"  goldenchain gate CLI, one process, {n} images: wall {cli['wall']:.1f} s = {cli['wall'] / n:.3f} "
        f"s/image, CPU (with ffmpeg) {cli['cpu']:.1f} s = {cli['cpu'] / n:.3f} s/image"
    )
    report["cli_wall_per_image"], report["cli_cpu_per_image"] = cli["wall"] / n, cli["cpu"] / n
    if not math.isnan(cv_cpu):
        print(
            f"  CleanVision n_jobs=1 CPU (its process, imports included): {cv_cpu:.1f} s = {cv_cpu / n:.3f} s/image"
        )
        report["cleanvision_cpu_per_image"] = cv_cpu / n
    if cv1 is not None and cv2 is not None:
        w1, w2 = float(cv1["wall"]), float(cv2["wall"])  # type: ignore[arg-type]
        print(
            f"  CleanVision find_issues ({', '.join(CV_ISSUES)}), {len(items)} images: n_jobs=1 {w1:.1f} s "
            f"= {w1 / len(items):.3f} s/image; n_jobs={args.jobs} {w2:.1f} s = {w2 / len(items):.3f} s/image"
        )
        report["cleanvision_seconds_per_image"] = w1 / len(items)
    report["seconds_median"], report["seconds_p95"], report["batch_wall"] = med, p95, batch_wall
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
