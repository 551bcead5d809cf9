"""The cheap image checks: resolution, aspect, exposure, low information, near-duplicates, lighting."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from PIL import Image

from goldenchain.core.checks import Check
from goldenchain.errors import UsageError
from goldenchain.gates.grading import graded, make
from goldenchain.gates.loading import Still


def parse_aspect(aspect: str) -> float:
    """``"16:9"`` / ``"9:16"`` / ``"1:1"`` / ``"1.7778"`` -> width / height."""
    text = aspect.strip()
    try:
        if ":" in text:
            w, h = (float(x) for x in text.split(":", 1))
            ratio = w / h
        else:
            ratio = float(text)
    except (ValueError, ZeroDivisionError):
        raise UsageError(f"invalid aspect {aspect!r} (expected W:H such as 16:9)") from None
    if not math.isfinite(ratio) or ratio <= 0:
        raise UsageError(f"invalid aspect {aspect!r} (expected W:H such as 16:9)")
    return ratio


def check_resolution(s: Still, t: dict[str, float]) -> Check:
    w, h = s.width, s.height
    short = min(w, h)
    if t["resolution.provider_limits"]:
        mb = s.file_bytes / 1e6
        if mb > t["resolution.provider_max_mb"]:
            return make(
                "resolution",
                "reject",
                mb,
                t["resolution.provider_max_mb"],
                "higher_is_worse",
                f"file is {mb:.1f} MB; the video provider accepts at most "
                f"{t['resolution.provider_max_mb']:.0f} MB",
            )
        elong = max(w / h, h / w)
        lim = t["resolution.provider_max_aspect"]
        if elong > lim:
            return make(
                "resolution",
                "reject",
                elong,
                lim,
                "higher_is_worse",
                f"{w}x{h} is too elongated ({elong:.2f}:1); the video provider accepts at most {lim:g}:1",
            )
        if short < t["resolution.provider_min"] and short < t["resolution"]:
            pmin = t["resolution.provider_min"]
            return make(
                "resolution",
                "reject",
                short,
                pmin,
                "lower_is_worse",
                f"{w}x{h} is below the provider minimum of {pmin:.0f}x{pmin:.0f}",
            )
    return graded(
        "resolution",
        short,
        "lower_is_worse",
        t["resolution"],
        ok=f"{w}x{h}, short side {short} px",
        bad=f"too small: {w}x{h}, short side {short} px (needs ≥ {{thr:.0f}} px)",
    )


def check_aspect(s: Still, aspect: str | None, t: dict[str, float]) -> Check:
    ratio = s.width / s.height
    if aspect is None:
        return make(
            "aspect", "pass", 0.0, t["aspect"], "higher_is_worse", f"{ratio:.3f}:1, no video aspect given"
        )
    want = parse_aspect(aspect)
    diff = abs(ratio / want - 1.0)
    return graded(
        "aspect",
        diff,
        "higher_is_worse",
        t["aspect"],
        ok=f"{s.width}x{s.height} matches {aspect} (off by {diff * 100:.2f} %)",
        bad=(
            f"{s.width}x{s.height} is {ratio:.3f}:1 but the video is {aspect} ({want:.3f}:1), off by "
            f"{diff * 100:.1f} % (max {{thr:.1%}}); the provider would crop the subject"
        ),
    )


def _brightness(rgb: np.ndarray) -> np.ndarray:
    """CleanVision's perceived brightness sqrt(0.241 R² + 0.691 G² + 0.068 B²) / 255."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    return np.sqrt(0.241 * r * r + 0.691 * g * g + 0.068 * b * b) / 255.0


def check_exposure(s: Still, t: dict[str, float]) -> Check:
    bright = _brightness(s.small_rgb)
    p99, p5 = (float(x) for x in np.percentile(bright, [99, 5]))
    dark, light = t["exposure"], t["exposure.light"]
    if p99 < dark:
        return make(
            "exposure",
            "reject",
            p99,
            dark,
            "lower_is_worse",
            f"too dark: brightest 1 % of pixels at {p99:.0%} (needs ≥ {dark:.0%})",
        )
    if p5 > light:
        return make(
            "exposure",
            "reject",
            p5,
            light,
            "higher_is_worse",
            f"too light / washed out: darkest 5 % of pixels at {p5:.0%} (needs ≤ {light:.0%})",
        )
    y = s.small_luma
    hi, soft = blown_highlights(y, t["exposure.highlights"])
    lo = float(np.mean(y <= 5.0))
    also = f" ({soft:.1%} more in soft-edged highlights, not counted)" if soft > 0 else ""
    if hi > t["exposure.highlights"]:
        return make(
            "exposure",
            "warn",
            hi,
            t["exposure.highlights"],
            "higher_is_worse",
            f"blown highlights: {hi:.1%} of pixels are clipped white next to detail (limit "
            f"{t['exposure.highlights']:.0%}){also}; look at the brightest areas (sky, skin, white fabric) "
            "for lost detail",
        )
    if lo > t["exposure.blacks"]:
        return make(
            "exposure",
            "warn",
            lo,
            t["exposure.blacks"],
            "higher_is_worse",
            f"crushed blacks: {lo:.1%} of pixels are clipped black (limit {t['exposure.blacks']:.0%}); "
            "look at the shadows for lost detail",
        )
    return make(
        "exposure",
        "pass",
        p99,
        dark,
        "lower_is_worse",
        f"exposure ok: brightest 1 % at {p99:.0%}, darkest 5 % at {p5:.0%}, {hi:.1%} clipped white{also}",
    )


SOFT_SURROUND = 10.0  # median |Laplacian| (codes, ~512 px luma) around a clipped area below this: soft-edged
SOFT_MIN_AREA = 0.005  # clipped areas smaller than this share of the frame are counted as they are


def blown_highlights(y: np.ndarray, limit: float = 0.0) -> tuple[float, float]:
    """(share of pixels clipped white (Y >= 250) where detail may be lost, share left out as soft-edged).

    A clipped area whose surroundings are smooth (the median |4-neighbour Laplacian| in a band of 3 % of the
    short side around it below ``SOFT_SURROUND``) is a light source, its glow, or an out-of-focus highlight or
    backdrop: white by nature, and the light falls off gently around it. Clipping that cuts into texture (a
    cloud, skin, fabric, a blown sky over a landscape) is what loses detail. On gate-bench's dev photos the
    soft-edged areas (the sun, lamps, a bright out-of-focus background) measure 0.9-8.2 and the textured ones
    23-26. Only the 8 largest areas of at least ``SOFT_MIN_AREA`` are examined, and only when all clipped
    pixels together exceed ``limit`` (below it the verdict cannot change).
    """
    clipped = (y >= 250.0).astype(np.uint8)
    total = float(clipped.mean())
    if total <= limit or total == 0.0:
        return total, 0.0
    import cv2

    h, w = y.shape
    n, labels, stats, _ = cv2.connectedComponentsWithStats(clipped, connectivity=8)
    big = [i for i in range(1, n) if stats[i, cv2.CC_STAT_AREA] >= SOFT_MIN_AREA * h * w]
    big = sorted(big, key=lambda i: -int(stats[i, cv2.CC_STAT_AREA]))[:8]
    if not big:
        return total, 0.0
    lap = np.abs(cv2.Laplacian(np.ascontiguousarray(y, dtype=np.float32), cv2.CV_32F, ksize=1))
    k = max(3, round(0.03 * min(h, w)) | 1)
    kernel = np.ones((k, k), np.uint8)
    soft = 0
    for i in big:
        x0, y0, bw, bh = (int(v) for v in stats[i, :4])
        win = (slice(max(0, y0 - k), min(h, y0 + bh + k)), slice(max(0, x0 - k), min(w, x0 + bw + k)))
        area = (labels[win] == i).astype(np.uint8)
        ring = (cv2.dilate(area, kernel) > 0) & (area == 0)
        if ring.any() and float(np.median(lap[win][ring])) < SOFT_SURROUND:
            soft += int(stats[i, cv2.CC_STAT_AREA])
    return total - soft / (h * w), soft / (h * w)


def check_low_information(s: Still, t: dict[str, float]) -> Check:
    import cv2

    codes = np.clip(s.luma, 0, 255).astype(np.uint8)
    hist = cv2.calcHist([codes], [0], None, [256], [0, 256]).ravel().astype(np.float64)
    p = hist[hist > 0] / hist.sum()
    entropy = float(-(p * np.log2(p)).sum())
    return graded(
        "low_information",
        entropy,
        "lower_is_worse",
        t["low_information"],
        t["low_information.warn"],
        ok=f"tonal entropy {entropy:.1f} bits",
        bad=(
            f"little visual information: tonal entropy {entropy:.2f} bits (needs ≥ {{thr:g}}); "
            "flat or posterised: look for large flat areas or too few tones"
        ),
    )


# --- near duplicates: pHash (imagehash-compatible hex) -------------------------------------------


def _dct_matrix(n: int) -> np.ndarray:
    k = np.arange(n)[:, None]
    i = np.arange(n)[None, :]
    return np.cos(np.pi * k * (2 * i + 1) / (2 * n))


_DCT32 = _dct_matrix(32)


def phash_of(im: Image.Image) -> str:
    """64-bit DCT perceptual hash as 16 hex digits (the same bits as ``imagehash.phash``)."""
    small = im.convert("L").resize((32, 32), Image.Resampling.LANCZOS)
    px = np.asarray(small, dtype=np.float64)
    dct = _DCT32 @ px @ _DCT32.T
    low = dct[:8, :8]
    bits = (low > np.median(low)).ravel()
    value = 0
    for b in bits:
        value = (value << 1) | int(b)
    return f"{value:016x}"


def hamming(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def check_near_duplicate(s: Still, recent: Sequence[str], t: dict[str, float]) -> tuple[Check, str]:
    h = phash_of(Image.fromarray(s.rgb))
    best, best_hash = 65, ""
    for other in recent:
        try:
            d = hamming(h, other)
        except ValueError:
            continue
        if d < best:
            best, best_hash = d, other
    thr = t["near_duplicate"]
    if best > 64:
        return make("near_duplicate", "pass", 64.0, thr, "lower_is_worse", "no recent stills to compare"), h
    check = graded(
        "near_duplicate",
        float(best),
        "lower_is_worse",
        thr,
        inclusive=True,
        ok=f"closest recent still differs by {best}/64 pHash bits",
        bad=f"near-duplicate of a recent still (pHash {best_hash}, {best}/64 bits differ, limit {{thr:.0f}})",
    )
    return check, h


# (max - min) / max of RGB: above it a pixel shows its surface's colour, not the light's
NEUTRAL_SATURATION = 0.6


def check_lighting(s: Still, t: dict[str, float]) -> Check:
    """Warn-only heuristic: illuminant colour (gray world on the near-neutral pixels, log R/B) of the centre
    vs the surround.

    Only pixels below ``NEUTRAL_SATURATION`` are read: a red bowl or a yellow flower in the centre says what
    colour the bowl is, not the light (a light's cast alone leaves a gray surface below about 0.5 even at the
    warning's Δlog R/B of 1 split between centre and surround). A region with too few such pixels is not
    judged.
    """
    rgb = s.small_rgb
    h, w = rgb.shape[:2]
    y = s.small_luma
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    hi, lo = (
        np.maximum(np.maximum(r, g), b),
        np.minimum(np.minimum(r, g), b),
    )  # (numpy's max over axis 2: 10x)
    usable = (
        (y > 20) & (y < 245) & (hi - lo < NEUTRAL_SATURATION * hi)
    )  # no clipped, near-black or vivid pixels
    centre = np.zeros((h, w), dtype=bool)
    centre[h // 4 : h - h // 4, w // 4 : w - w // 4] = True

    def cast(mask: np.ndarray) -> float:
        m = mask & usable
        if m.sum() < 0.02 * h * w:
            return math.nan
        r = float(rgb[..., 0][m].mean()) + 1.0
        b = float(rgb[..., 2][m].mean()) + 1.0
        return math.log(r / b)

    c_in, c_out = cast(centre), cast(~centre)
    if math.isnan(c_in) or math.isnan(c_out):
        where = "centre" if math.isnan(c_in) else "surround"
        return make(
            "lighting",
            "pass",
            0.0,
            t["lighting"],
            "higher_is_worse",
            f"light colour not judged: too few near-neutral pixels in the {where} (vivid colours show the "
            "surfaces, not the light)",
        )
    diff = abs(c_in - c_out)
    warm = "warmer" if c_in > c_out else "cooler"
    return graded(
        "lighting",
        diff,
        "higher_is_worse",
        math.nan,
        t["lighting"],
        ok=f"light colour consistent between centre and surround (Δlog R/B {diff:.2f} on near-neutral pixels)",
        bad=(
            f"light on the centre is {warm} than the surround (Δlog R/B {diff:.2f} > {{thr:.2f}} on near-neutral "
            "pixels): possible mixed or composited lighting: look at the subject's light against the background's"
        ),
    )
