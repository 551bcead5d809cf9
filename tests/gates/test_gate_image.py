"""The still gate: one or more tests per check that can fail, and the file-handling edge cases."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

from goldenchain.core.checks import Check, CheckReport
from goldenchain.errors import UsageError
from goldenchain.gates import IMAGE_CHECKS, check_image, image_phash


def by_name(report: CheckReport, name: str) -> Check:
    return next(c for c in report.checks if c.name == name)


def on_bad_side(c: Check) -> bool:
    if c.direction == "higher_is_worse":
        return c.score >= c.threshold
    return c.score <= c.threshold


def test_good_image_passes_every_check(save, good_rgb):
    r = check_image(save(good_rgb, "good.png"))
    assert r.verdict == "pass", r.reasons
    assert [c.name for c in r.checks] == list(IMAGE_CHECKS)
    js = r.to_json()
    assert js["verdict"] == "pass" and len(js["checks"]) == 10
    assert all(
        set(c) == {"name", "verdict", "score", "threshold", "direction", "message"} for c in js["checks"]
    )


def test_dark_image_rejected(save, good_rgb):
    r = check_image(save((good_rgb * 0.2).astype(np.uint8), "dark.png"))
    c = by_name(r, "exposure")
    assert r.verdict == "reject" and c.verdict == "reject"
    assert c.direction == "lower_is_worse" and c.score < c.threshold == 0.32
    assert "too dark" in c.message


def test_washed_out_image_rejected(save, good_rgb):
    r = check_image(save((250 + good_rgb // 50).astype(np.uint8), "light.png"))
    c = by_name(r, "exposure")
    assert c.verdict == "reject" and c.direction == "higher_is_worse" and c.score > c.threshold


def test_clipped_highlights_warn(save, good_rgb):
    img = good_rgb.copy()
    img[:200] = 255
    c = by_name(check_image(save(img, "hi.png")), "exposure")
    assert c.verdict == "warn" and "highlights" in c.message


def test_lamps_with_a_soft_glow_do_not_count_as_blown_highlights(save, good_rgb):
    """Two clipped lamps (22 % of the frame) whose light falls off smoothly into a plain ceiling: white by
    nature, nothing lost; the same clipped discs cut hard into the photo's texture are blown highlights."""
    h = w = 1024
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    ceiling = np.full((h, w), 120.0)
    hard = np.zeros((h, w), dtype=bool)
    for cx, cy, r in ((300, 350, 190), (760, 600, 190)):
        d = np.hypot(xx - cx, yy - cy)
        ceiling = np.maximum(ceiling, 255.0 - np.clip(d - r, 0, None) * 0.9)  # clipped disc, then a glow
        hard |= d <= r + 12
    lamps = np.dstack([np.clip(ceiling, 0, 255).round().astype(np.uint8)] * 3)
    c = by_name(check_image(save(lamps, "lamps.png")), "exposure")
    assert c.verdict == "pass" and "soft-edged" in c.message, c.message
    pasted = good_rgb.copy()
    pasted[hard] = 255
    c = by_name(check_image(save(pasted, "pasted.png")), "exposure")
    assert c.verdict == "warn" and "highlights" in c.message and c.score > 0.16, c.message


def _tinted(rgb: np.ndarray, centre_log_rb: float, surround_log_rb: float) -> np.ndarray:
    """``rgb`` lit by one light colour in the centre half and another around it (log R/B shifts)."""
    h, w = rgb.shape[:2]
    shift = np.full((h, w), surround_log_rb)
    shift[h // 4 : h - h // 4, w // 4 : w - w // 4] = centre_log_rb
    out = rgb.astype(np.float64)
    out[..., 0] *= np.exp(shift / 2)
    out[..., 2] *= np.exp(-shift / 2)
    return np.clip(out, 0, 255).round().astype(np.uint8)


def test_lighting_reads_the_light_not_a_vivid_subject(save, good_rgb):
    """Warm light on the centre and cool light around it warns; a vivid red object in the centre under one
    light does not (gray world on every pixel read the object's colour as the light's: Δlog R/B > 1)."""
    gray = np.repeat(good_rgb.mean(axis=2, keepdims=True), 3, axis=2).astype(np.uint8)
    mixed = by_name(check_image(save(_tinted(gray, 0.6, -0.6), "mixed.png")), "lighting")
    assert mixed.verdict == "warn" and "warmer" in mixed.message and mixed.score > 1.0, mixed.message
    bowl = gray.copy()
    bowl[300:724, 300:724] = (gray[300:724, 300:724].astype(np.float64) * [1.8, 0.35, 0.15]).clip(0, 255)
    assert np.log(bowl[300:724, 300:724, 0].mean() / bowl[300:724, 300:724, 2].mean()) > 1.5
    one = by_name(check_image(save(bowl, "bowl.png")), "lighting")
    assert one.verdict == "pass" and one.score < 0.3, one.message


def test_wrong_aspect_rejected_and_right_aspect_passes(save, natural):
    square = save(natural(1024, 1024, seed=1), "sq.png")
    c = by_name(check_image(square, aspect="16:9"), "aspect")
    assert c.verdict == "reject" and on_bad_side(c)
    wide = save(natural(1820, 1024, seed=2), "wide.png")
    assert by_name(check_image(wide, aspect="16:9"), "aspect").verdict == "pass"
    assert by_name(check_image(wide, aspect="9:16"), "aspect").verdict == "reject"


def test_bad_aspect_string_is_usage_error(save, good_rgb):
    with pytest.raises(UsageError):
        check_image(save(good_rgb, "g.png"), aspect="wide")


def test_low_resolution_rejected(save, natural):
    r = check_image(save(natural(800, 800), "small.png"))
    c = by_name(r, "resolution")
    assert c.verdict == "reject" and c.score == 800 and c.threshold == 1024
    # an override or the lenient profile lets it through
    assert by_name(check_image(r.path, thresholds={"resolution": 768}), "resolution").verdict == "pass"
    assert by_name(check_image(r.path, profile="preview"), "resolution").verdict == "pass"


def test_provider_aspect_limit(save, natural):
    c = by_name(check_image(save(natural(2800, 1024), "pano.png")), "resolution")
    assert c.verdict == "reject" and "elongated" in c.message


def test_unknown_profile_and_threshold_are_usage_errors(save, good_rgb):
    p = save(good_rgb, "g.png")
    with pytest.raises(UsageError):
        check_image(p, profile="nope")
    with pytest.raises(UsageError):
        check_image(p, thresholds={"sharpness": 1.0})


def test_low_information_rejected(save):
    img = np.full((1024, 1024, 3), 120, np.uint8)
    img[:, 512:] = 140
    c = by_name(check_image(save(img, "flat.png")), "low_information")
    assert c.verdict == "reject" and c.score < 3


def test_jpeg_q10_blocking_rejected(save, good_rgb):
    r = check_image(save(good_rgb, "q10.jpg", quality=10))
    c = by_name(r, "jpeg_blocking")
    assert c.verdict == "reject" and c.score < c.threshold
    assert by_name(check_image(save(good_rgb, "q95.jpg", quality=95)), "jpeg_blocking").verdict == "pass"


def test_blurred_image_rejected(save, good_rgb):
    blurred = Image.fromarray(good_rgb).filter(ImageFilter.GaussianBlur(3))
    c = by_name(check_image(save(blurred, "blur.png")), "blur")
    assert c.verdict == "reject" and c.score < c.threshold


def test_clearly_banded_still_is_rejected(save):
    # a smooth sky-like gradient quantised to 16 levels, 8 code values apart: wide flat bands, false contours
    x = np.linspace(0, 1, 1024)[None, :] * 0.6 + np.linspace(0, 1, 1024)[:, None] * 0.4
    smooth = 40 + 120 * x
    banded = (smooth // 8 * 8).astype(np.uint8)
    assert len(np.unique(banded)) == 16
    r = check_image(save(np.dstack([banded] * 3), "band.png"))
    c = by_name(r, "banding")
    assert c.verdict == "reject" and c.direction == "higher_is_worse"
    assert c.score >= c.threshold == 10.0  # CAMBI at or past the reject line, not in the warn band
    assert r.verdict == "reject" and [k.name for k in r.checks if k.verdict == "reject"] == ["banding"]
    assert any("banding" in reason for reason in r.reasons)
    # the same gradient, dithered at full 8-bit depth: no banding
    rng = np.random.default_rng(0)
    dithered = np.clip(np.floor(smooth + rng.uniform(-1.0, 1.0, smooth.shape) + 0.5), 0, 255).astype(np.uint8)
    assert by_name(check_image(save(np.dstack([dithered] * 3), "dithered.png")), "banding").verdict == "pass"


def test_subject_cut_off_warns(save, natural):
    rng = np.random.default_rng(3)
    bg = Image.fromarray(natural(1024, 1024, seed=4)).filter(ImageFilter.GaussianBlur(8))
    fg = Image.fromarray(rng.integers(0, 255, (1024, 1024, 3), dtype=np.uint8))
    mask = Image.new("L", (1024, 1024), 0)
    ImageDraw.Draw(mask).ellipse((700, 300, 1200, 800), fill=255)  # runs past the right edge
    cut = Image.composite(fg, bg, mask)
    c = by_name(check_image(save(cut, "cut.png")), "subject_cutoff")
    assert c.verdict == "warn" and "right" in c.message
    centred = Image.new("L", (1024, 1024), 0)
    ImageDraw.Draw(centred).ellipse((300, 300, 700, 700), fill=255)
    ok = by_name(check_image(save(Image.composite(fg, bg, centred), "ok.png")), "subject_cutoff")
    assert ok.verdict == "pass"
    # the same cut disc with fine in-focus detail (thin bright stripes) across the left half: the sharp detail
    # spans the frame (a close-up that fills it), so the disc at the edge is framing, not a cut-off subject
    filled = np.asarray(cut).astype(np.int16)
    for x in range(40, 500, 12):
        filled[100:924, x : x + 3] += 80
    c = by_name(check_image(save(np.clip(filled, 0, 255).astype(np.uint8), "filled.png")), "subject_cutoff")
    assert c.verdict == "pass" and "fills the frame" in c.message and c.score >= 0.07, c.message


def test_near_duplicate_rejected(save, good_rgb, natural):
    a = save(good_rgb, "a.png")
    b = save(good_rgb, "b.jpg", quality=85)
    h = image_phash(a)
    assert len(h) == 16 and int(h, 16) >= 0
    c = by_name(check_image(b, recent_hashes=[h]), "near_duplicate")
    assert c.verdict == "reject" and c.score <= c.threshold
    other = image_phash(save(natural(seed=9), "c.png"))
    assert by_name(check_image(a, recent_hashes=[other, "zz"]), "near_duplicate").verdict == "pass"


def test_batch_gives_the_single_still_reports_in_one_cambi_run_per_size(save, good_rgb, natural, monkeypatch):
    """check_images measures CAMBI for a chunk of stills in one ffmpeg run per frame size, takes the pHash from
    the same decode, and compares each still with those before it; the reports equal check_image's."""
    from goldenchain.gates import banding
    from goldenchain.gates.image import check_images

    x = np.linspace(0, 1, 1024)[None, :] * 0.6 + np.linspace(0, 1, 1024)[:, None] * 0.4
    banded = np.dstack([((40 + 120 * x) // 8 * 8).astype(np.uint8)] * 3)
    paths = [
        save(good_rgb, "a.png"),
        save(banded, "band.png"),
        save(natural(1280, 720, seed=2), "wide.png"),
        save(good_rgb, "a-again.jpg", quality=90),  # a near duplicate of the first
        _write(save, b"not an image", "broken.png"),
    ]
    single = [check_image(p) for p in paths[:3]]
    runs: list[int] = []
    real = banding.cambi_start

    def counting(frames, timeout=60.0, threads=2):  # type: ignore[no-untyped-def]
        runs.append(len(frames))
        return real(frames, timeout=timeout, threads=threads)

    monkeypatch.setattr(banding, "cambi_start", counting)
    got = list(check_images(paths))
    assert sorted(runs) == [1, 3]  # the three 1024² stills together, the 1280x720 one alone
    for r, s in zip(got[:3], single, strict=True):
        same = [(c.name, c.verdict, c.score) for c in s.checks if c.name != "near_duplicate"]
        assert [(c.name, c.verdict, c.score) for c in r[0].checks if c.name != "near_duplicate"] == same
    assert by_name(got[1][0], "banding").verdict == "reject"
    assert got[0][1] == image_phash(paths[0]) and got[2][1] == image_phash(paths[2])
    assert by_name(got[3][0], "near_duplicate").verdict == "reject"
    assert got[4][0].verdict == "error" and got[4][1] is None


def test_batch_measures_the_next_chunk_while_cambi_runs_and_stops_runs_nobody_reads(
    save, natural, monkeypatch
):
    """With chunks of one still, a chunk's CAMBI run is started before its report is given (the next still is
    measured meanwhile); reports keep their order and values; closing the iterator early stops the run under
    way and removes its files."""
    from goldenchain.gates import banding
    from goldenchain.gates.image import check_images

    paths = [save(natural(1024, 1024, seed=10 + i), f"s{i}.png") for i in range(3)]
    single = [check_image(p) for p in paths]
    started: list[banding.CambiRun] = []
    real = banding.cambi_start

    def recording(frames, timeout=60.0, threads=2):  # type: ignore[no-untyped-def]
        started.append(real(frames, timeout=timeout, threads=threads))
        return started[-1]

    monkeypatch.setattr(banding, "cambi_start", recording)
    got = list(check_images(paths, chunk=1))
    assert [r.path for r, _ in got] == [str(p) for p in paths]
    for (r, _), s in zip(got, single, strict=True):
        want = [(c.name, c.verdict, c.score) for c in s.checks if c.name != "near_duplicate"]
        assert [(c.name, c.verdict, c.score) for c in r.checks if c.name != "near_duplicate"] == want
    started.clear()
    it = check_images(paths, chunk=1)
    first, _ = next(it)
    assert first.path == str(paths[0]) and len(started) == 2  # the second still's run is under way
    pending = started[1]
    tmp = Path(pending._tmp.name)
    assert tmp.exists()
    it.close()
    assert pending._proc is None and not tmp.exists()
    with pytest.raises(banding.CambiUnavailable):
        pending.scores()


def test_no_room_for_cambi_frames_leaves_banding_unmeasured_not_the_gate_broken(save, good_rgb, monkeypatch):
    from goldenchain.gates import banding

    def full(*a, **k):  # type: ignore[no-untyped-def]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(banding.tempfile, "TemporaryDirectory", full)
    r = check_image(save(good_rgb, "g.png"))
    c = by_name(r, "banding")
    assert c.verdict == "warn" and "not measured" in c.message and "No space left" in c.message
    assert r.verdict == "warn" and by_name(r, "blur").verdict == "pass"


def _write(save, data: bytes, name: str) -> Path:  # type: ignore[no-untyped-def]
    p = save(np.zeros((2, 2, 3), np.uint8), name)
    p.write_bytes(data)
    return p


# --- file handling ------------------------------------------------------------------------------


def test_truncated_file_is_error(tmp_path: Path, good_rgb):
    buf = io.BytesIO()
    Image.fromarray(good_rgb).save(buf, format="PNG")
    p = tmp_path / "trunc.png"
    p.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    r = check_image(p)
    assert r.verdict == "error" and r.checks == [] and "truncated" in (r.message or "")


@pytest.mark.parametrize("content", [b"", b"hello, not an image\n" * 10])
def test_non_image_is_error(tmp_path: Path, content: bytes):
    p = tmp_path / "x.png"
    p.write_bytes(content)
    r = check_image(p)
    assert r.verdict == "error" and r.message
    assert r.to_json()["message"] == r.message


def test_missing_file_is_error(tmp_path: Path):
    r = check_image(tmp_path / "absent.png")
    assert r.verdict == "error" and "cannot read" in (r.message or "")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def test_decompression_bomb_header_is_error(tmp_path: Path):
    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 1000)
    p = tmp_path / "bomb.png"
    p.write_bytes(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b""))
    r = check_image(p)
    assert r.verdict == "error" and "bomb" in (r.message or "")


def test_cmyk_jpeg_is_read(save, good_rgb):
    cmyk = Image.fromarray(good_rgb).convert("CMYK")
    r = check_image(save(cmyk, "cmyk.jpg", quality=95))
    assert r.verdict != "error"
    assert by_name(r, "resolution").verdict == "pass"
    assert by_name(r, "exposure").verdict == "pass"


def test_16bit_grayscale_is_scaled_not_clipped(save, good_rgb):
    g16 = (good_rgb[..., 1].astype(np.uint16) * 257).astype(np.uint16)
    im = Image.fromarray(g16)
    assert im.mode.startswith("I;16")
    r = check_image(save(im, "g16.png"))
    assert r.verdict != "error"
    c = by_name(r, "exposure")
    assert c.verdict == "pass" and 0.5 < c.score < 0.95  # clipping would give a white image


def test_palette_with_alpha(save, good_rgb):
    pal = Image.fromarray(good_rgb).quantize(256)
    pal.info["transparency"] = 0
    r = check_image(save(pal, "pal.png", transparency=0))
    assert r.verdict != "error"
    assert by_name(r, "resolution").score == 1024


def test_exif_rotation_applied(save, natural):
    portrait_stored = Image.fromarray(natural(1024, 1820, seed=5))  # 1024 wide, 1820 tall on disk
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise on display -> 1820 x 1024
    p = save(portrait_stored, "rot.jpg", quality=95, exif=exif.tobytes())
    r = check_image(p, aspect="16:9")
    assert by_name(r, "aspect").verdict == "pass"
    assert "1820x1024" in by_name(r, "resolution").message
