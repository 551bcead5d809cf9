"""The blur measures behind the ``blur`` check (PIQE, crisp-edge ratio) and the banding check on gradients."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

from goldenchain.gates import check_image
from goldenchain.gates.piqe import piqe
from goldenchain.gates.profiles import resolve
from goldenchain.gates.quality import crisp_edge_ratio, fft_hf_share
from tests.gates.conftest import natural_rgb

KLING = resolve("kling-i2v", None)


def luma(img: Image.Image | np.ndarray) -> np.ndarray:
    a = np.asarray(img, dtype=np.float32)
    return a[..., 0] * 0.299 + a[..., 1] * 0.587 + a[..., 2] * 0.114


def blur_check(path):  # type: ignore[no-untyped-def]
    return next(c for c in check_image(path).checks if c.name == "blur")


@pytest.fixture(scope="module")
def sharp() -> Image.Image:
    return Image.fromarray(natural_rgb(seed=4))


@pytest.fixture(scope="module")
def soft_in_focus(sharp: Image.Image) -> Image.Image:
    """Mostly out of focus (Gaussian sigma 2) with one small feathered in-focus disc (~0.7 % of the frame)."""
    soft = sharp.filter(ImageFilter.GaussianBlur(2))
    mask = Image.new("L", sharp.size, 0)
    ImageDraw.Draw(mask).ellipse((600, 600, 696, 696), fill=255)
    return Image.composite(sharp, soft, mask.filter(ImageFilter.GaussianBlur(12)))


def test_piqe_orders_sharp_below_blurred(sharp: Image.Image) -> None:
    s = piqe(luma(sharp))
    b15 = piqe(luma(sharp.filter(ImageFilter.GaussianBlur(1.5))))
    b3 = piqe(luma(sharp.filter(ImageFilter.GaussianBlur(3))))
    assert 0 <= s.score < 55 < 65 < b15.score <= b3.score <= 100
    assert s.active > 0 and s.blocks == 64 * 64 and 0 < s.active_share <= 1
    assert b15.noticeable / max(b15.active, 1) > s.noticeable / max(s.active, 1)


def test_piqe_flat_image_is_worst() -> None:
    assert piqe(np.full((100, 90), 128.0)).score == 100.0  # padded to 112 x 96, no active block
    assert piqe(np.zeros((32, 32))).score == 100.0


def test_crisp_edge_ratio_separates_focus(sharp: Image.Image) -> None:
    assert crisp_edge_ratio(luma(sharp)) > 1.0
    assert crisp_edge_ratio(luma(sharp.filter(ImageFilter.GaussianBlur(1.5)))) < KLING["blur.edge"]
    assert crisp_edge_ratio(luma(sharp.filter(ImageFilter.GaussianBlur(3)))) < 0.42
    # contrast does not matter, only how fast the edges rise
    low = 128 + (luma(sharp) - 128) * 0.4
    assert crisp_edge_ratio(low) > KLING["blur.edge"]
    assert crisp_edge_ratio(np.full((64, 64), 7.0)) == 1.0  # flat: nothing to judge


def test_sharp_passes_and_blurred_rejected(save, sharp: Image.Image) -> None:  # type: ignore[no-untyped-def]
    assert blur_check(save(sharp, "sharp.png")).verdict == "pass"
    for sigma in (1.5, 3):
        c = blur_check(save(sharp.filter(ImageFilter.GaussianBlur(sigma)), f"b{sigma}.png"))
        assert c.verdict == "reject" and c.score < c.threshold and "crispest edges" in c.message
    small = sharp.resize((256, 256), Image.Resampling.BICUBIC).resize((1024, 1024), Image.Resampling.BICUBIC)
    assert blur_check(save(small, "down4x.png")).verdict == "reject"


def test_soft_photo_with_in_focus_detail_is_not_rejected(save, soft_in_focus: Image.Image) -> None:  # type: ignore[no-untyped-def]
    y = luma(soft_in_focus)
    # the spectral measure alone (and PIQE) would call it blurred ...
    assert fft_hf_share(y) < KLING["blur"] and piqe(y).score > 60
    # ... but its crispest edges are in focus (clear of the warning band too), so the gate passes it: one soft
    # measure alone is a shallow depth of field, not a blurred still
    crisp = crisp_edge_ratio(y)
    assert crisp > KLING["blur.edge.warn"]
    path = save(soft_in_focus, "soft.png")
    assert blur_check(path).verdict == "pass"
    # with its edges inside the warning band ("nearly blurred") it warns, and says where to look
    c = next(
        k for k in check_image(path, thresholds={"blur.edge.warn": crisp + 0.01}).checks if k.name == "blur"
    )
    assert c.verdict == "warn" and "nearly blurred" in c.message and "PIQE" in c.message
    assert "subject's edges" in c.message


def _gradient() -> np.ndarray:
    x = np.linspace(0, 1, 1024)[None, :] * 0.6 + np.linspace(0, 1, 1024)[:, None] * 0.4
    return 40 + 120 * x


def test_5bit_gradient_flagged_dithered_8bit_not(save) -> None:  # type: ignore[no-untyped-def]
    g = _gradient()
    banded = (g // 8 * 8).astype(np.uint8)
    rng = np.random.default_rng(0)
    dithered = np.clip(np.floor(g + rng.uniform(-1.0, 1.0, g.shape) + 0.5), 0, 255).astype(np.uint8)
    bad = next(c for c in check_image(save(np.dstack([banded] * 3), "b5.png")).checks if c.name == "banding")
    ok = next(c for c in check_image(save(np.dstack([dithered] * 3), "d8.png")).checks if c.name == "banding")
    assert bad.verdict in ("warn", "reject") and bad.score >= 5
    assert ok.verdict == "pass" and ok.score < 5
