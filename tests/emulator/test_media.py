from __future__ import annotations

import io
import itertools
import time

import av
import numpy as np
import pytest

from goldenchain.emulator.media import encode_image, render_bad_still, render_clip, render_still


def _luma(img) -> np.ndarray:
    return np.asarray(img.convert("L"), dtype=np.float64)


def test_still_is_good_and_deterministic() -> None:
    t = time.process_time()  # CPU time of this process: other processes on a busy machine do not count
    img = render_still("Medium shot of a dragon, neutral overcast lighting", 7, 1824, 1024)
    cpu = time.process_time() - t
    assert img.size == (1824, 1024) and img.mode == "RGB"
    y = _luma(img)
    assert np.percentile(y, 99) > 0.32 * 255 * 1.5
    assert np.percentile(y, 5) < 0.95 * 255 * 0.6
    assert ((y >= 250) | (y <= 5)).mean() < 0.02
    lap = np.abs(4 * y[1:-1, 1:-1] - y[:-2, 1:-1] - y[2:, 1:-1] - y[1:-1, :-2] - y[1:-1, 2:])
    assert lap.var() > 20  # high-frequency detail
    centre = lap[300:800, 600:1200].mean()
    assert centre > lap[:, :40].mean()  # sharpest in the middle (the subject), not at the border
    assert img.entropy() > 6
    again = render_still("Medium shot of a dragon, neutral overcast lighting", 7, 1824, 1024)
    assert np.array_equal(np.asarray(img), np.asarray(again))
    other = render_still("Medium shot of a dragon, neutral overcast lighting", 8, 1824, 1024)
    assert np.abs(_luma(other) - y).mean() > 5
    assert cpu < 4.0  # 0.3-0.7 s of CPU measured (the first still of a process is the slowest)


def test_bad_still_is_dark() -> None:
    img = render_bad_still("x", 1, 1024, 576)
    assert np.percentile(_luma(img), 99) < 0.25 * 255


@pytest.mark.parametrize(
    ("camera", "defect"), [({"type": "simple", "config": {"zoom": -5}}, None), ({"horizontal": 6}, "freeze"),
                           (None, "black"), ({"roll": 4}, None)]
)  # fmt: skip
def test_clip(camera, defect) -> None:
    still = render_still("harbour", 1, 800, 450)
    png = encode_image(still, "png")
    mp4 = render_clip(png, 2, 640, 360, 24, camera, defect)
    with av.open(io.BytesIO(mp4)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264" and stream.codec_context.pix_fmt == "yuv420p"
        assert stream.average_rate == 24
        frames = [f.to_ndarray(format="rgb24").astype(np.int16) for f in container.decode(stream)]
        duration = float(container.duration) / av.time_base if container.duration else 0
    assert len(frames) == 48 and frames[0].shape == (360, 640, 3)
    assert abs(duration - 2.0) < 0.1
    ref = np.asarray(still.resize((640, 360)), dtype=np.int16)
    assert np.abs(frames[0] - ref).mean() < 6  # frame 0 is the submitted image
    diffs = [np.abs(a - b).mean() for a, b in itertools.pairwise(frames)]
    means = [f.mean() for f in frames]
    if defect == "freeze":
        run = longest = 0
        for d in diffs:
            run = run + 1 if d < 0.01 else 0
            longest = max(longest, run)
        assert longest + 1 >= 1.5 * 24 * 0.66  # clip is 2 s here: 1.6 s held is clipped at the end
    elif defect == "black":
        assert sum(1 for m in means if m < 8) >= 12
    else:
        assert min(diffs) > 0.05  # it moves in every frame
        assert min(means) > 30
    assert np.abs(frames[-1] - frames[0]).mean() > 3


def test_clip_mp4_faststart_and_1080p_speed() -> None:
    png = encode_image(render_still("city", 2, 1824, 1024), "png")
    t = time.process_time()  # CPU time of this process (the encoder's threads included), not the wall clock
    mp4 = render_clip(png, 5, 1920, 1080, 24, {"type": "simple", "config": {"horizontal": 4}}, None)
    cpu = time.process_time() - t
    assert mp4.index(b"moov") < mp4.index(b"mdat")  # +faststart
    with av.open(io.BytesIO(mp4)) as container:
        assert container.streams.video[0].frames in (0, 120)
        assert sum(1 for _ in container.decode(video=0)) == 120
    assert cpu < 12.0  # ~1.3 s of CPU measured
