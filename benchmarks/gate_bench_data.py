"""gate-bench: the offline photographs, the labelled set built from them, and the CleanVision peer."""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

Image.MAX_IMAGE_PIXELS = None  # trusted Debian wallpapers up to 6000 px


PACKAGES = ("lomiri-wallpapers-16.04", "mate-backgrounds", "lomiri-wallpapers-20.04", "ukui-wallpapers")
BG = "usr/share/backgrounds"
PHOTOS = (
    # lomiri-wallpapers-16.04: 14 photographs (CC-BY / CC-BY-SA 4.0)
    "Bridge_by_Sander_Klootwijk.jpg",
    "Dragonfly_by_Bolly.jpg",
    "Picture_0B_by_freespace.jpg",
    "Picture_1A_by_freespace.jpg",
    "Wine_by_Jakkub_Mede.jpg",
    "aitzgorri_by_Aitzol_Berasategi.jpg",
    "analogpattern_by_Peter_Nerlich.jpg",
    "free_by_Peter_Nerlich.jpg",
    "friends_by_Aitzol_Berasategi.jpg",
    "greentock_by_Peter_Nerlich.jpg",
    "life_by_Aitzol_Berasategi.jpg",
    "picosdeeuropa_by_Aitzol_Berasategi.jpg",
    "seeding_by_Clements_Engelhardt.jpg",
    "sunset_by_Aitzol_Berasategi.jpg",
    # lomiri-wallpapers-20.04 (CC-BY-SA)
    "Kleiber_by_Lukas_Baubkus.jpg",
    # mate-backgrounds nature/ (GPL-2+)
    *(
        f"mate/nature/{n}.jpg"
        for n in [
            "Aqua",
            "Blinds",
            "Dune",
            "FreshFlower",
            "Garden",
            "GreenMeadow",
            "LadyBird",
            "RainDrops",
            "Storm",
            "TwoWings",
            "Wood",
            "YellowFlower",
        ]
    ),
)
GRADIENT_CANDIDATES = (
    "umang_by_Abhishek_Mudgal.jpg",
    "Fossa_by_Jasper_Roks.jpg",
    "Infinite-Sea_by_Aury88.jpg",
    "Painting-Colors_by__herobrine7gamer.jpg",
    *(
        f"{n}"
        for n in [
            "2004default.jpg",
            "calla.png",
            "city.png",
            "desert.png",
            "firstgeneration.jpg",
            "fluent-color.png",
            "focal-ubuntukylin.png",
            "goldfish.png",
            "rhythm.jpg",
            "rollpaper.png",
            "string.jpg",
            "the-mouse.jpg",
        ]
    ),
)
SMOOTH_SHARE = 0.6  # a gradient wallpaper counts as smooth when >= 60 % of its 1024² crop has |∇| < 1.5
#: ... and as a *gradient* when >= 30 % of it is slow ramps (see ramp_share). Bit-depth reduction only draws
#: false contours where the luma changes slowly; flat-fill vector art has no ramps, so its 5-bit version looks
#: like the original and is no banding positive (measured shares: flat-fill art 0.01-0.21, ramps 0.43-0.84).
RAMP_SHARE = 0.3
SET_VERSION = 3  # bump when the labelled set's recipe changes (the cache is rebuilt)

PHOTO_VARIANTS = ("clean", "q90", "q30", "q20", "q10", "blur1.5", "blur3", "down4x", "bits5")
GRADIENT_VARIANTS = ("clean", "bits6", "bits5")
NEGATIVE = ("clean", "q90")


@dataclass(frozen=True)
class Defect:
    name: str
    check: str  # the gate check meant to catch it
    keys: tuple[str, ...]  # the thresholds fitted for it
    positives: tuple[str, ...]  # variant labels ("photo:q30", "gradient:bits5")
    target: float  # held-out recall target (NaN: reported only)
    cleanvision: str | None  # CleanVision issue mapped to it


DEFECTS = (
    Defect(
        "jpeg q<=30",
        "jpeg_blocking",
        ("jpeg_blocking", "jpeg_blocking.ratio"),
        ("photo:q30", "photo:q20", "photo:q10"),
        0.95,
        None,
    ),
    Defect("jpeg q30", "jpeg_blocking", (), ("photo:q30",), 0.95, None),
    Defect(
        "blur s>=1.5 / down4x",
        "blur",
        ("blur", "blur.edge"),
        ("photo:blur1.5", "photo:blur3", "photo:down4x"),
        0.95,
        "blurry",
    ),
    Defect("blur s1.5", "blur", (), ("photo:blur1.5",), 0.95, "blurry"),
    Defect("down4x", "blur", (), ("photo:down4x",), 0.95, "blurry"),
    Defect("5-bit gradient", "banding", ("banding",), ("gradient:bits5",), 0.85, None),
    Defect("6-bit gradient", "banding", (), ("gradient:bits6",), math.nan, None),
    Defect("5-bit photo", "banding", (), ("photo:bits5",), math.nan, None),
)
PRIMARY = {"jpeg_blocking": "jpeg_blocking", "blur": "blur", "banding": "banding"}
CV_ISSUES = ("blurry", "dark", "light", "low_information", "odd_aspect_ratio")


@dataclass
class Item:
    path: str
    scene: str
    kind: str  # photo | gradient
    variant: str
    split: str  # dev | held-out

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.variant}"


# --- setup ------------------------------------------------------------------------------------------


def ensure_sources(cache: Path) -> Path:
    root = cache / "root"
    if all((root / BG / p).exists() for p in (*PHOTOS, *GRADIENT_CANDIDATES)):
        return root / BG
    if not (shutil.which("apt-get") and shutil.which("dpkg-deb")):
        print(
            "gate-bench: apt-get / dpkg-deb not available; cannot fetch the Debian wallpaper photos",
            file=sys.stderr,
        )
        sys.exit(2)
    debs = cache / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    print(f"setup: apt-get download {' '.join(PACKAGES)} -> {debs}")
    proc = subprocess.run(["apt-get", "download", *PACKAGES], cwd=debs, capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"gate-bench: apt-get download failed:\n{proc.stderr}", file=sys.stderr)
        sys.exit(2)
    for deb in sorted(debs.glob("*.deb")):
        subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    missing = [p for p in (*PHOTOS, *GRADIENT_CANDIDATES) if not (root / BG / p).exists()]
    if missing:
        print(f"gate-bench: unpacked packages lack {missing}", file=sys.stderr)
        sys.exit(2)
    return root / BG


def cleanvision_python(cache: Path) -> tuple[list[str], dict[str, str]] | None:
    """How to run Python with CleanVision importable (installed into cache/cv with pip --target)."""
    target = cache / "cv"
    env = {**os.environ, "PYTHONPATH": str(target)}
    probe = [sys.executable, "-c", "import cleanvision; print(cleanvision.__version__)"]
    if subprocess.run(probe, env=env, capture_output=True).returncode != 0:
        print(f"setup: pip install --target {target} cleanvision==0.3.7")
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--target",
                str(target),
                "cleanvision==0.3.7",
            ],
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0 or subprocess.run(probe, env=env, capture_output=True).returncode != 0:
            print(f"CleanVision unavailable (pip failed): {proc.stderr[-500:]}")
            return None
    return [sys.executable], env


# --- the labelled set ---------------------------------------------------------------------------------


def _resize_short(im: Image.Image, short: int) -> Image.Image:
    w, h = im.size
    s = short / min(w, h)
    return im.resize((max(short, round(w * s)), max(short, round(h * s))), Image.Resampling.LANCZOS)


def base_crops(src: Path) -> list[Image.Image]:
    with Image.open(src) as raw:
        im = raw.convert("RGB")
    a = _resize_short(im, 1024)
    w, h = a.size
    crops = [a.crop(((w - 1024) // 2, (h - 1024) // 2, (w - 1024) // 2 + 1024, (h - 1024) // 2 + 1024))]
    b = _resize_short(im, 1408)
    w, h = b.size
    x0, y0 = (w - 1024) // 5, (h - 1024) // 3  # off-centre: left fifth, upper third
    crops.append(b.crop((x0, y0, x0 + 1024, y0 + 1024)))
    return crops


def _quantise_levels(a: np.ndarray, bits: int) -> np.ndarray:
    """8-bit levels (int or float) reduced to ``bits`` bits, each kept at the middle of its step."""
    step = 2 ** (8 - bits)
    return np.clip(np.floor(a / step) * step + step // 2, 0, 255).astype(np.uint8)


def _quantise(im: Image.Image, bits: int) -> Image.Image:
    return Image.fromarray(_quantise_levels(np.asarray(im, dtype=np.int32), bits))


def write_variant(im: Image.Image, variant: str, out: Path) -> Path:
    if variant.startswith("q"):
        p = out.with_suffix(".jpg")
        im.save(p, quality=int(variant[1:]), subsampling=2)
        return p
    p = out.with_suffix(".png")
    if variant == "clean":
        v = im
    elif variant.startswith("blur"):
        v = im.filter(ImageFilter.GaussianBlur(float(variant[4:])))
    elif variant == "down4x":
        v = im.resize((256, 256), Image.Resampling.BICUBIC).resize((1024, 1024), Image.Resampling.BICUBIC)
    elif variant.startswith("bits"):
        v = _quantise(im, int(variant[4:]))
    else:
        raise ValueError(variant)
    v.save(p, compress_level=1)
    return p


def smooth_share(im: Image.Image) -> float:
    y = np.asarray(im.convert("L"), dtype=np.float32)
    gx, gy = np.abs(np.diff(y, axis=1))[:-1], np.abs(np.diff(y, axis=0))[:, :-1]
    return float(np.mean(np.hypot(gx, gy) < 1.5))


def ramp_share(im: Image.Image) -> float:
    """Share of 8x8 blocks whose mean luma differs from the next block's by 0.25-12 levels (0.03-1.5 levels
    per pixel): a slow ramp, where a 5-bit step of 8 levels becomes a visible contour. Flat fills score 0."""
    y = np.asarray(im.convert("L").reduce(8), dtype=np.float32)
    g = np.hypot(np.abs(np.diff(y, axis=1))[:-1], np.abs(np.diff(y, axis=0))[:, :-1])
    return float(np.mean((g > 0.25) & (g < 12)))


SYNTH_GRADIENTS = 12  # gradients made in code at float precision, beside the wallpapers (gate.md §5)


def synth_gradient(i: int) -> np.ndarray:
    """A smooth 1024² RGB gradient in float (0-255): linear, radial or sky-like, 2-3 colour stops spanning
    40-160 levels per channel inside 15-240, seeded by ``i``. Written dithered to 8 bits it is a clean negative; quantised from the
    float to 6 or 5 bits it is a banding positive."""
    rng = np.random.default_rng(7000 + i)
    yy, xx = np.mgrid[0:1024, 0:1024].astype(np.float32) / 1023.0
    kind = i % 3
    if kind == 0:  # linear at an angle
        a = rng.uniform(0, np.pi)
        t = (np.cos(a) * xx + np.sin(a) * yy - min(0, np.cos(a)) - min(0, np.sin(a))) / (
            abs(np.cos(a)) + abs(np.sin(a))
        )
    elif kind == 1:  # radial from an off-centre point
        cx, cy = rng.uniform(0.2, 0.8, 2)
        t = np.hypot(xx - cx, yy - cy) / np.sqrt(2)
    else:  # sky: vertical ramp bent by a very low-frequency swell
        t = yy + 0.08 * np.cos(2 * np.pi * (xx * rng.uniform(0.3, 0.8) + rng.uniform()))
    t = (t - t.min()) / (t.max() - t.min())
    span = rng.uniform(40, 160, 3) * rng.choice([-1, 1])  # every channel the same way: luma moves too
    lo = np.where(span > 0, 15.0, 15.0 - span)
    hi = np.where(span > 0, 240.0 - span, 240.0)
    base = rng.uniform(lo, hi)
    out = base[None, None, :] + t[..., None] * span[None, None, :]
    return np.clip(out, 0, 255)


def write_synth_variant(src: np.ndarray, variant: str, out: Path, rng: np.random.Generator) -> Path:
    p = out.with_suffix(".png")
    if variant == "clean":  # triangular dither of one 8-bit step: no contours
        noise = rng.uniform(-0.5, 0.5, src.shape) + rng.uniform(-0.5, 0.5, src.shape)
        v = np.clip(np.round(src + noise), 0, 255)
    elif variant.startswith("bits"):
        v = _quantise_levels(src, int(variant[4:]))
    else:
        raise ValueError(variant)
    Image.fromarray(v.astype(np.uint8)).save(p, compress_level=1)
    return p


def gradient_rule(im: Image.Image, name: str) -> bool:
    """Whether a gradient candidate enters the set (smooth and made of ramps); prints its shares and why."""
    share, ramps = smooth_share(im), ramp_share(im)
    verdict = "kept"
    if share < SMOOTH_SHARE:
        verdict = "not smooth"
    elif ramps < RAMP_SHARE:
        verdict = "flat fills, no ramps: not a banding positive"
    print(f"  gradient {name}: smooth share {share:.2f}, ramp share {ramps:.2f} ({verdict})")
    return verdict == "kept"


def split_of(scene: str, kind: str, names: Sequence[str]) -> str:
    """Deterministic 60/40 split: rank of a stable hash among the scenes of that kind."""
    ranked = sorted(names, key=lambda n: hashlib.sha256(n.encode()).hexdigest())
    return "dev" if ranked.index(scene) < round(0.6 * len(ranked)) else "held-out"


def build_set(src: Path, cache: Path) -> list[Item]:
    out = cache / f"set-v{SET_VERSION}"
    out.mkdir(parents=True, exist_ok=True)
    manifest = out / "manifest.json"
    if manifest.exists():
        items = [Item(**d) for d in json.loads(manifest.read_text())]
        if all(Path(i.path).exists() for i in items):
            return items
    print("setup: building the labelled set (once) ...", flush=True)
    items: list[Item] = []
    photo_scenes = [Path(p).stem for p in PHOTOS]
    for rel in PHOTOS:
        scene = Path(rel).stem
        for ci, crop in enumerate(base_crops(src / rel)):
            for v in PHOTO_VARIANTS:
                p = write_variant(crop, v, out / f"photo-{scene}-c{ci}-{v}")
                items.append(Item(str(p), scene, "photo", v, split_of(scene, "photo", photo_scenes)))
    grads: list[tuple[str, Image.Image]] = []
    for rel in GRADIENT_CANDIDATES:
        crop = base_crops(src / rel)[0]
        if gradient_rule(crop, rel):
            grads.append((Path(rel).stem, crop))
    # the split is drawn over every candidate, so a scene's side never depends on which others were kept
    gscenes = [Path(rel).stem for rel in GRADIENT_CANDIDATES]
    for scene, crop in grads:
        for v in GRADIENT_VARIANTS:
            p = write_variant(crop, v, out / f"gradient-{scene}-{v}")
            items.append(Item(str(p), scene, "gradient", v, split_of(scene, "gradient", gscenes)))
    synth = [f"synth-{i:02d}" for i in range(SYNTH_GRADIENTS)]
    for i, scene in enumerate(synth):
        src_f = synth_gradient(i)
        if not gradient_rule(Image.fromarray(np.round(src_f).astype(np.uint8)), scene):
            continue
        rng = np.random.default_rng(9000 + i)
        for v in GRADIENT_VARIANTS:
            p = write_synth_variant(src_f, v, out / f"gradient-{scene}-{v}", rng)
            items.append(Item(str(p), scene, "gradient", v, split_of(scene, "synth", synth)))
    manifest.write_text(json.dumps([i.__dict__ for i in items], indent=1))
    return items


# --- CleanVision ---------------------------------------------------------------------------------------

_CV_SCRIPT = textwrap.dedent(
    f"""
    import json, sys, time, warnings
    warnings.filterwarnings("ignore")
    from cleanvision import Imagelab
    paths, n_jobs, out = json.loads(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    lab = Imagelab(filepaths=paths, verbose=False)
    t0 = time.perf_counter()
    issues = {{k: {{}} for k in {CV_ISSUES!r}}}
    lab.find_issues(issues, n_jobs=n_jobs, verbose=False)
    wall = time.perf_counter() - t0
    df = lab.issues
    cols = [c for c in df.columns if c.startswith("is_") and c.endswith("_issue")]
    flags = {{str(i): {{c[3:-6]: bool(df.loc[i, c]) for c in cols}} for i in df.index}}
    json.dump({{"wall": wall, "flags": flags}}, open(out, "w"))
    """
)


def run_cleanvision(items: list[Item], cache: Path, n_jobs: int) -> dict[str, object] | None:
    py = cleanvision_python(cache)
    if py is None:
        return None
    cmd, env = py
    paths = [i.path for i in items]
    out = cache / f"cleanvision-{n_jobs}.json"
    lst = cache / "cleanvision-paths.json"
    lst.write_text(json.dumps(paths))
    script = "import json,sys; sys.argv[1] = open(sys.argv[1]).read()\n" + _CV_SCRIPT
    proc = subprocess.run(
        [*cmd, "-c", script, str(lst), str(n_jobs), str(out)], env=env, capture_output=True, text=True
    )
    if proc.returncode != 0:
        print(f"CleanVision failed: {proc.stderr[-1500:]}")
        return None
    data: dict[str, object] = json.loads(out.read_text())
    return data
