"""qc-bench: the clip set. Slow camera moves over real photographs, one defect injected in each, plus clean ones.

Sources: the photographs in Debian's ``plasma-workspace-wallpapers`` (KDE, LGPL/CC-BY-SA; not a package the
gate benchmark uses), fetched with ``apt-get download`` and unpacked with ``dpkg-deb -x`` into the cache.
Every clip is rendered at 1920x1080, 24 fps, 5 s (unless its defect is the spec) from a 3x3 camera matrix per
frame (pan, diagonal pan, push-in, zoom-out, handheld shake) and encoded with libx264 (CRF 18, the dark
macroblocking defect CRF 44) by the FFmpeg binary of imageio-ffmpeg. The still is frame 0 rendered without
defects, saved as a 1920x1080 PNG.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

W, H, FPS, SECONDS = 1920, 1080, 24, 5
PACKAGES = ("plasma-workspace-wallpapers",)
WALL = "usr/share/wallpapers"
# the real photographs in the package (the rest are renders); split by scene, never mixed
DEV = ("ColdRipple", "FallenLeaf", "Kite")
HELD_OUT = ("BytheWater", "ColorfulCups", "EveningGlow", "Grey", "OneStandsOut", "Path")
CAMERAS = ("pan", "diagonal", "push_in", "zoom_out", "shake")
MELTS = ("noise", "swirl", "bulge", "sag")


@dataclass(frozen=True)
class ClipSpec:
    scene: str
    split: str
    camera: str
    defect: str  # "clean" or the defect family
    variant: str = ""  # e.g. melt shape + strength + onset
    params: tuple[tuple[str, float | str], ...] = field(default_factory=tuple)

    @property
    def name(self) -> str:
        v = f"-{self.variant}" if self.variant else ""
        return f"{self.scene}-{self.camera}-{self.defect}{v}"

    def p(self, key: str, default: float | str = 0.0) -> float | str:
        return dict(self.params).get(key, default)


def ensure_sources(cache: Path) -> Path:
    root = cache / "root"
    base = root / WALL
    if all(_photo_path(base, s) for s in (*DEV, *HELD_OUT)):
        return base
    if not (shutil.which("apt-get") and shutil.which("dpkg-deb")):
        print("qc-bench: apt-get / dpkg-deb not available; cannot fetch the photographs", file=sys.stderr)
        sys.exit(2)
    debs = cache / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    print(f"setup: apt-get download {' '.join(PACKAGES)} -> {debs}")
    proc = subprocess.run(["apt-get", "download", *PACKAGES], cwd=debs, capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"qc-bench: apt-get download failed:\n{proc.stderr}", file=sys.stderr)
        sys.exit(2)
    for deb in sorted(debs.glob("*.deb")):
        subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    missing = [s for s in (*DEV, *HELD_OUT) if not _photo_path(base, s)]
    if missing:
        print(f"qc-bench: unpacked package lacks {missing}", file=sys.stderr)
        sys.exit(2)
    return base


def _photo_path(base: Path, scene: str) -> Path | None:
    imgs = base / scene / "contents" / "images"
    if not imgs.is_dir():
        return None
    best = max(imgs.iterdir(), key=lambda p: int(p.stem.split("x")[0]) if "x" in p.stem else 0, default=None)
    return best


def specs(split: str, n_scenes: int | None = None) -> list[ClipSpec]:
    """The clips of one split: per scene 5 clean camera moves, a clean dark scene, a clean clip whose still has
    the same overlay, and the defects (cameras and variants rotate with the scene index)."""
    scenes = (DEV if split == "dev" else HELD_OUT)[:n_scenes]
    out: list[ClipSpec] = []
    for k, s in enumerate(scenes):

        def cam(j: int, k: int = k) -> str:
            return CAMERAS[(k + j) % len(CAMERAS)]

        out += [ClipSpec(s, split, c, "clean") for c in CAMERAS]
        out.append(ClipSpec(s, split, cam(1), "clean", "dark", (("dark", 1.0),)))
        out.append(ClipSpec(s, split, cam(2), "clean", "overlay_in_still", (("overlay", "logo"),)))
        out.append(ClipSpec(s, split, cam(0), "black_frames"))
        out.append(ClipSpec(s, split, cam(1), "freeze"))
        spec = ("size", "duration", "fps")[k % 3]
        out.append(ClipSpec(s, split, cam(2), "spec", spec, (("spec", spec),)))
        out.append(ClipSpec(s, split, cam(3), "compression", "dark_crf44", (("dark", 1.0),)))
        out.append(ClipSpec(s, split, cam(4), "first_frame", "other_photo", (("other", 1.0),)))
        out.append(ClipSpec(s, split, cam(0), "first_frame", "other_crop", (("shift", 0.3),)))
        out.append(ClipSpec(s, split, cam(1), "flicker", "dip3", (("flicker", "dip3"),)))
        out.append(ClipSpec(s, split, cam(2), "flicker", "strobe", (("flicker", "strobe"),)))
        for j, kind in enumerate(("logo", "textbox", "badge")):
            out.append(ClipSpec(s, split, cam(3 + j), "watermark", kind, (("overlay", kind),)))
        for j in range(3):
            shape = MELTS[(k + j) % len(MELTS)]
            amp = (12.0, 24.0, 40.0)[(k + 2 * j) % 3]
            onset = (0.5, 1.5, 2.5)[(k + j) % 3]
            out.append(
                ClipSpec(
                    s,
                    split,
                    cam(j),
                    "warp",
                    f"{shape}{amp:g}px@{onset:g}s",
                    (("shape", shape), ("amp", amp), ("onset", onset)),
                )
            )
        out.append(
            ClipSpec(
                s,
                split,
                cam(4),
                "warp_subtle",
                "noise6px@1s",
                (("shape", "noise"), ("amp", 6.0), ("onset", 1.0)),
            )
        )
    return out


# --- rendering ---------------------------------------------------------------------------------------------


def load_source(base: Path, scene: str) -> np.ndarray:
    p = _photo_path(base, scene)
    assert p is not None
    img = cv2.imread(str(p), cv2.IMREAD_COLOR)
    if img is None:
        raise SystemExit(f"qc-bench: cannot read {p}")
    h, w = img.shape[:2]
    scale = max(W * 1.35 / w, H * 1.35 / h)
    return cv2.resize(img, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)


def _smooth_noise(rng: np.random.Generator, n: int, hz: float, fps: int = FPS) -> np.ndarray:
    """n samples of smooth noise (unit std) with content up to ``hz``."""
    k = max(3, int(fps / hz))
    raw = rng.standard_normal(n + 2 * k)
    ker = np.hanning(2 * k + 1)
    sm = np.convolve(raw, ker / ker.sum(), mode="same")[k : k + n]
    return sm / (sm.std() + 1e-9)


def camera_matrices(
    camera: str, n: int, src_shape: tuple[int, ...], seed: int, size: tuple[int, int]
) -> list[np.ndarray]:
    """Per frame a 2x3 matrix from output pixels to source pixels."""
    hs, ws = src_shape[:2]
    w, h = size
    fit = min(ws / (w * 1.3), hs / (h * 1.3))  # source px per output px at zoom 1 (leaves a margin)
    fit = fit * (W / w)  # a smaller output shows the same field of view
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 1.0, n)
    cx, cy = ws / 2, hs / 2
    dx = np.zeros(n)
    dy = np.zeros(n)
    z = np.ones(n)
    rot = np.zeros(n)
    sign = 1 if rng.random() < 0.5 else -1
    if camera == "pan":
        dx = sign * (t - 0.5) * 0.22 * ws / 1.35
    elif camera == "diagonal":
        dx = sign * (t - 0.5) * 0.16 * ws / 1.35
        dy = (t - 0.5) * 0.12 * hs / 1.35
    elif camera == "push_in":
        z = 1.0 - 0.16 * (3 * t * t - 2 * t**3)  # eased
    elif camera == "zoom_out":
        z = 0.84 + 0.16 * t
    elif camera == "shake":
        amp = 7.0 * fit
        dx = amp * (_smooth_noise(rng, n, 2.0) + 0.3 * _smooth_noise(rng, n, 7.0)) + 30 * fit * t
        dy = amp * (_smooth_noise(rng, n, 2.0) + 0.3 * _smooth_noise(rng, n, 7.0))
        rot = np.deg2rad(0.35) * _smooth_noise(rng, n, 1.5)
    else:
        raise ValueError(camera)
    mats = []
    for i in range(n):
        s = fit * z[i]
        c, si = math.cos(rot[i]) * s, math.sin(rot[i]) * s
        # source = centre + R*s*(p - out_centre) + offset
        a = np.array([[c, -si, 0.0], [si, c, 0.0]])
        a[:, 2] = [cx + dx[i], cy + dy[i]] - a[:, :2] @ np.array([w / 2, h / 2])
        mats.append(a)
    return mats


def melt_field(
    shape: str, xs: np.ndarray, ys: np.ndarray, amp: float, rng_seed: int, ws: int, hs: int
) -> tuple[np.ndarray, np.ndarray]:
    """Displacement (in source px) of a non-rigid 'melt' of max magnitude about ``amp``, at source coordinates."""
    rng = np.random.default_rng(rng_seed)
    if shape == "noise":
        u = np.zeros_like(xs)
        v = np.zeros_like(xs)
        for _ in range(6):
            wl = rng.uniform(0.25, 0.6) * ws
            th = rng.uniform(0, 2 * np.pi)
            ph = rng.uniform(0, 2 * np.pi)
            arg = (np.cos(th) * xs + np.sin(th) * ys) * (2 * np.pi / wl) + ph
            d = rng.uniform(0, 2 * np.pi)
            sarg = np.sin(arg)
            u += np.cos(d) * sarg
            v += np.sin(d) * sarg
        norm = 2.2  # ~ the 99th percentile magnitude of six unit waves
        return u * (amp / norm), v * (amp / norm)
    cx = ws * rng.uniform(0.35, 0.65)
    cy = hs * rng.uniform(0.35, 0.65)
    sig = hs * rng.uniform(0.14, 0.22)
    rx, ry = xs - cx, ys - cy
    g = np.exp(-(rx * rx + ry * ry) / (2 * sig * sig))
    if shape == "swirl":
        # rotation angle phi(r) = a g(r); displacement ~ phi r, max at r = sig: phi_max = amp / (sig e^-0.5)
        phi = (amp / (sig * math.exp(-0.5))) * g
        c, s = np.cos(phi), np.sin(phi)
        return (c - 1) * rx - s * ry, s * rx + (c - 1) * ry
    if shape == "bulge":
        k = amp / (sig * math.exp(-0.5))
        return -k * g * rx, -k * g * ry
    if shape == "sag":
        band = np.exp(-(rx * rx) / (2 * (1.3 * sig) ** 2))
        ramp = 1.0 / (1.0 + np.exp(-ry / (0.5 * sig)))
        return np.zeros_like(xs), -amp * band * ramp
    raise ValueError(shape)


def _overlay(frame: np.ndarray, kind: str) -> None:
    h, w = frame.shape[:2]
    f = w / W
    if kind == "logo":  # opaque corner logo
        x0, y0 = int(w - 300 * f), int(h - 130 * f)
        cv2.rectangle(frame, (x0, y0), (int(w - 40 * f), int(h - 50 * f)), (245, 245, 245), -1)
        cv2.putText(frame, "STUDIO", (x0 + int(18 * f), int(h - 70 * f)), cv2.FONT_HERSHEY_DUPLEX, 1.6 * f,
                    (30, 30, 200), max(1, round(3 * f)), cv2.LINE_AA)  # fmt: skip
    elif kind == "textbox":  # translucent text box, lower third
        x0, y0, x1, y1 = int(w * 0.30), int(h * 0.80), int(w * 0.70), int(h * 0.90)
        roi = frame[y0:y1, x0:x1].astype(np.float32)
        frame[y0:y1, x0:x1] = (roi * 0.45).astype(np.uint8)
        cv2.putText(frame, "PREVIEW  sample", (x0 + int(30 * f), y1 - int(30 * f)), cv2.FONT_HERSHEY_SIMPLEX,
                    1.5 * f, (235, 235, 235), max(1, round(3 * f)), cv2.LINE_AA)  # fmt: skip
    elif kind == "badge":  # semi-transparent round badge, top left
        layer = frame.copy()
        c = (int(150 * f), int(150 * f))
        cv2.circle(layer, c, int(90 * f), (255, 255, 255), -1, cv2.LINE_AA)
        cv2.putText(layer, "AI", (c[0] - int(45 * f), c[1] + int(25 * f)), cv2.FONT_HERSHEY_DUPLEX, 2.4 * f,
                    (0, 0, 0), max(1, round(5 * f)), cv2.LINE_AA)  # fmt: skip
        cv2.addWeighted(layer, 0.35, frame, 0.65, 0, dst=frame)
    else:
        raise ValueError(kind)


def render(
    spec: ClipSpec, base: Path, seed: int
) -> tuple[Iterator[np.ndarray], np.ndarray, tuple[int, int], int, int]:
    """(frames, still BGR, size, fps, n) for one clip spec."""
    src = load_source(base, spec.scene)
    if spec.p("dark", 0.0):
        lut = (np.clip(np.arange(256) / 255.0, 0, 1) ** 1.4 * 100).astype(np.uint8)
        src = cv2.LUT(src, lut)
    size = (W, H)
    fps, seconds = FPS, float(SECONDS)
    kind = spec.p("spec", "")
    if kind == "size":
        size = (1280, 720)
    elif kind == "duration":
        seconds = 4.0
    elif kind == "fps":
        fps = 30
    n = round(fps * seconds)
    mats = camera_matrices(spec.camera, n, src.shape, seed, size)
    hs, ws = src.shape[:2]
    still_mat = mats[0]
    if spec.p("shift", 0.0):
        still_mat = still_mat.copy()
        still_mat[0, 2] += float(spec.p("shift")) * ws / 1.35
    if spec.p("other", 0.0):
        other_scene = next(s for s in (*HELD_OUT, *DEV) if s != spec.scene)
        other = load_source(base, other_scene)
        still = cv2.warpAffine(other, camera_matrices("pan", 1, other.shape, seed, size)[0], size,
                               flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)  # fmt: skip
    else:
        still = cv2.warpAffine(src, still_mat, size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
    overlay = str(spec.p("overlay", ""))
    if overlay and spec.defect == "clean":
        _overlay(still, overlay)
    shape = str(spec.p("shape", ""))
    amp = float(spec.p("amp", 0.0)) * (ws / 1.35) / W  # output px at 1080p -> source px
    onset = float(spec.p("onset", 0.0))
    flick = str(spec.p("flicker", ""))
    rng = np.random.default_rng(seed + 7)
    black_at = int(rng.integers(int(1.0 * fps), int(3.5 * fps)))
    freeze_at = int(rng.integers(int(1.0 * fps), int(3.2 * fps)))
    flick_at = int(rng.integers(int(0.8 * fps), int(4.0 * fps)))
    grid: tuple[np.ndarray, np.ndarray] | None = None
    if shape:
        step = 8  # coarse grid points at pixel centres of an 8x-reduced frame, as cv2.resize samples them
        xs = (np.arange(size[0] // step, dtype=np.float32) + 0.5) * step - 0.5
        ys = (np.arange(size[1] // step, dtype=np.float32) + 0.5) * step - 0.5
        gx, gy = np.meshgrid(xs, ys)
        grid = (gx, gy)

    def frames() -> Iterator[np.ndarray]:
        held: np.ndarray | None = None
        for i in range(n):
            tsec = i / fps
            a = mats[i]
            if shape and tsec > onset:
                assert grid is not None
                gx, gy = grid  # a coarse grid: the camera map is affine and the melt smooth
                sx = a[0, 0] * gx + a[0, 1] * gy + a[0, 2]
                sy = a[1, 0] * gx + a[1, 1] * gy + a[1, 2]
                grow = ((tsec - onset) / max(1e-6, seconds - 1.0 / fps - onset)) ** 1.5
                u, v = melt_field(shape, sx, sy, amp * min(1.0, grow), seed, ws, hs)
                mx = cv2.resize((sx + u).astype(np.float32), size, interpolation=cv2.INTER_LINEAR)
                my = cv2.resize((sy + v).astype(np.float32), size, interpolation=cv2.INTER_LINEAR)
                fr = cv2.remap(src, mx, my, cv2.INTER_LINEAR)
            else:
                fr = cv2.warpAffine(src, a, size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
            if overlay:
                _overlay(fr, overlay)
            if spec.defect == "black_frames" and black_at <= i < black_at + fps // 2:
                fr = np.zeros_like(fr)
            if spec.defect == "freeze":
                if i == freeze_at:
                    held = fr
                elif held is not None and i < freeze_at + int(0.75 * fps):
                    fr = held
            if flick == "dip3" and flick_at <= i < flick_at + 3:
                fr = cv2.convertScaleAbs(fr, alpha=0.86)
            if flick == "strobe" and flick_at <= i < flick_at + fps and i % 2:
                fr = cv2.convertScaleAbs(fr, alpha=1.12)
            yield fr

    return frames(), still, size, fps, n


def encode(frames: Iterator[np.ndarray], out: Path, size: tuple[int, int], fps: int, crf: int) -> None:
    import imageio_ffmpeg

    cmd = [
        imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
        "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{size[0]}x{size[1]}", "-r", str(fps), "-i", "pipe:0",
        "-c:v", "libx264", "-preset", "superfast", "-crf", str(crf), "-pix_fmt", "yuv420p",
        "-threads", "1", str(out),
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE)
    assert proc.stdin is not None
    for f in frames:
        proc.stdin.write(np.ascontiguousarray(f).tobytes())
    proc.stdin.close()
    if proc.wait() != 0:
        raise RuntimeError(f"ffmpeg failed writing {out}")


def make_clip(args: tuple[ClipSpec, str, str]) -> str:
    spec, base, out_dir = args
    out = Path(out_dir) / f"{spec.name}.mp4"
    still_path = Path(out_dir) / f"{spec.name}.png"
    if out.exists() and still_path.exists():
        return str(out)
    seed = abs(hash_str(spec.name)) % (2**31)
    frames, still, size, fps, _n = render(spec, Path(base), seed)
    if not out.exists():
        tmp = out.with_suffix(".part.mp4")
        encode(frames, tmp, size, fps, 44 if spec.defect == "compression" else 18)
        tmp.rename(out)
    if still.shape[1] != W:
        still = cv2.resize(still, (W, H), interpolation=cv2.INTER_CUBIC)
    cv2.imwrite(str(still_path), still)
    return str(out)


def hash_str(s: str) -> int:
    import hashlib

    return int.from_bytes(hashlib.sha256(s.encode()).digest()[:4], "big")


def build(
    cache: Path, split: str, jobs: int, log: Callable[[str], None] = print, n_scenes: int | None = None
) -> list[tuple[ClipSpec, Path, Path]]:
    from concurrent.futures import ProcessPoolExecutor

    base = ensure_sources(cache)
    out_dir = cache / "clips" / split
    out_dir.mkdir(parents=True, exist_ok=True)
    todo = specs(split, n_scenes)
    missing = [
        s
        for s in todo
        if not (out_dir / f"{s.name}.mp4").exists() or not (out_dir / f"{s.name}.png").exists()
    ]
    if missing:
        log(f"setup: rendering {len(missing)} clips into {out_dir}")
        with ProcessPoolExecutor(jobs) as pool:
            list(pool.map(make_clip, [(s, str(base), str(out_dir)) for s in missing]))
    return [(s, out_dir / f"{s.name}.mp4", out_dir / f"{s.name}.png") for s in todo]
