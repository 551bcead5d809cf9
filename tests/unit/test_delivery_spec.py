"""The delivery spec: its rules, the project file's one-line errors, encoding to it and the check that a file
meets it (each codec, and a file encoded wrongly on purpose)."""

from __future__ import annotations

import subprocess
from datetime import date
from pathlib import Path

import pytest

from goldenchain.assemble.check import check_delivered
from goldenchain.assemble.encode import FinalInputs, cut_duration, encode_clip, encode_final
from goldenchain.assemble.ffmpeg import ffmpeg_exe
from goldenchain.assemble.slate import render_slate
from goldenchain.config import load_project
from goldenchain.core.delivery import DeliverySection, clip_name, spec_issues
from goldenchain.errors import ConfigError
from goldenchain.templates import write_example
from tests.integration.helpers import run_cli


def _spec(**kw: object) -> DeliverySection:
    return DeliverySection.model_validate(kw)


def _fields(**kw: object) -> list[str]:
    return [f for f, _ in spec_issues(_spec(**kw))]


def test_the_default_spec_is_todays_delivery() -> None:
    d = _spec()
    assert spec_issues(d) == []
    assert (d.size, d.fps, d.codec, d.pix_fmt, d.final_name) == (
        (1920, 1080),
        24,
        "h264",
        "yuv420p",
        "final.mp4",
    )
    assert "-crf" in d.video_args() and d.video_args()[d.video_args().index("-crf") + 1] == "18"
    assert not d.has_audio
    assert clip_name(d, client="c", project="p", shot="s01", take=2, day=date(2026, 1, 2)) == "s01.mp4"


@pytest.mark.parametrize(
    ("keys", "field"),
    [
        ({"codec": "prores", "pixel_format": "yuv420p", "naming": "{shot}.mov"}, "pixel_format"),
        ({"codec": "prores"}, "naming"),  # ProRes needs a QuickTime file
        ({"codec": "h264", "pixel_format": "yuv422p10le"}, "pixel_format"),
        ({"crf": 20, "bitrate": "8M"}, "bitrate"),
        ({"codec": "prores", "naming": "{shot}.mov", "crf": 10}, "crf"),
        ({"resolution": "1281x720"}, "resolution"),
        ({"resolution": "1280x720", "width": 1920}, "resolution"),
        ({"naming": "{client}_{take}.mp4"}, "naming"),  # no {shot}: two clips, one name
        ({"naming": "{shot}_{reel}.mp4"}, "naming"),
        ({"naming": "{shot}.mkv"}, "naming"),
        ({"naming": "../{shot}.mp4"}, "naming"),
        ({"naming": "{shot!r}.mp4"}, "naming"),
        ({"c2pa": True, "c2pa_key": "k.pem"}, "c2pa"),
    ],
)
def test_combinations_the_spec_refuses(keys: dict[str, object], field: str) -> None:
    assert _fields(**keys)[:1] == [field]


def test_combinations_the_spec_takes() -> None:
    assert _fields(codec="prores", naming="{shot}.mov", pixel_format="yuv444p10le") == []
    assert _fields(codec="hevc", pixel_format="yuv420p10le", bitrate="6M") == []
    assert _fields(resolution="1280x720", width=1280, height=720) == []
    d = _spec(naming="{client}_{project}_{shot}_t{take}_{date}.mp4")
    name = clip_name(d, client="Acme Inc/EU", project="spring", shot="s01", take=3, day=date(2026, 5, 1))
    assert name == "Acme-Inc-EU_spring_s01_t3_2026-05-01.mp4"


def _project(tmp_path: Path, delivery: str, duration: int = 5) -> Path:
    root = tmp_path / "p"
    write_example(root, shots=2)
    cfg = root / "goldenchain.toml"
    text = cfg.read_text().replace(
        "[delivery]\nwidth = 1920\nheight = 1080\nfps = 24\n", "[delivery]\n" + delivery
    )
    cfg.write_text(text)
    shots = root / "shots.yaml"
    shots.write_text(shots.read_text().replace("duration: 5", f"duration: {duration}"))
    return root


def _line_of(root: Path, key: str) -> int:
    lines = (root / "goldenchain.toml").read_text().splitlines()
    return next(i for i, s in enumerate(lines, 1) if s.startswith(f"{key} ="))


@pytest.mark.parametrize(
    ("delivery", "field", "words"),
    [
        (
            'codec = "prores"\npixel_format = "yuv420p"\nnaming = "{shot}.mov"\n',
            "pixel_format",
            "yuv422p10le",
        ),
        ("crossfade = 5\n", "crossfade", "not shorter than shot s01's 5 s clip"),
        ('logo = "brand/none.png"\n', "logo", "no such file"),
        ('codec = "av1"\n', "codec", "h264"),
    ],
)
def test_the_project_file_refuses_a_bad_delivery_section_in_one_line(
    tmp_path: Path, delivery: str, field: str, words: str
) -> None:
    root = _project(tmp_path, delivery)
    with pytest.raises(ConfigError) as ei:
        load_project(root)
    e = ei.value
    assert e.field == f"delivery.{field}" and e.line == _line_of(root, field) and words in e.reason
    r = run_cli(["estimate", str(root)], {})
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "Traceback" not in r.stderr
    assert f"goldenchain.toml:{e.line}: delivery.{field}" in r.stderr


def test_c2pa_without_its_files_is_refused(tmp_path: Path) -> None:
    root = _project(tmp_path, 'c2pa = true\nc2pa_key = "keys/k.pem"\nc2pa_cert = "keys/c.pem"\n')
    with pytest.raises(ConfigError, match=r"delivery\.c2pa_key: keys/k.pem: no such file"):
        load_project(root)


# --- encoding to the spec, and the check --------------------------------------------------------------------


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A provider-like clip: 2 s of H.264 at 24 fps, 16:9, no audio."""
    out = tmp_path_factory.mktemp("src") / "clip.mp4"
    subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
         "testsrc2=size=480x270:rate=24:duration=2", "-c:v", "libx264", "-pix_fmt", "yuv420p", str(out)],
        check=True,
    )  # fmt: skip
    return out


@pytest.mark.parametrize(
    "keys",
    [
        {"resolution": "320x180", "fps": 25, "crf": 30, "audio": "silence", "naming": "{shot}.mp4"},
        {
            "resolution": "320x180",
            "fps": 24,
            "codec": "hevc",
            "pixel_format": "yuv420p10le",
            "bitrate": "300k",
        },
        {"resolution": "320x180", "fps": 30, "codec": "prores", "naming": "{shot}.mov"},
    ],
    ids=["h264-silence", "hevc-10bit", "prores"],
)
def test_a_clip_encoded_to_a_spec_meets_it(tmp_path: Path, source: Path, keys: dict[str, object]) -> None:
    spec = _spec(**keys)
    out = encode_clip(source, tmp_path / ("c" + spec.extension), spec, duration=2.0)
    row = check_delivered(out, spec, duration=2.0)
    assert row["ok"], row["reason"]
    assert row["facts"]["pixel_format"] == spec.pix_fmt and row["facts"]["codec"] == spec.codec


def test_a_file_encoded_wrongly_on_purpose_fails_the_check_with_each_reason(
    tmp_path: Path, source: Path
) -> None:
    want = _spec(resolution="320x180", fps=25, audio="silence")
    wrong = _spec(resolution="256x144", fps=24, pixel_format="yuv444p")
    out = encode_clip(source, tmp_path / "wrong.mp4", wrong, duration=2.0)
    row = check_delivered(out, want, duration=3.0, name="clips/wrong.mp4")
    assert not row["ok"]
    reason = row["reason"]
    assert "\n" not in reason and reason.startswith("clips/wrong.mp4: ")
    for words in ("size 256x144 (spec 320x180)", "24 fps (spec 25)", "pixel format yuv444p (spec yuv420p)",
                  "no audio track", "duration 2.00 s (expected 3.00 s"):  # fmt: skip
        assert words in reason, reason
    assert check_delivered(out, wrong, duration=2.0)["ok"]
    hevc = _spec(resolution="256x144", fps=24, pixel_format="yuv444p", codec="hevc")
    assert "codec h264 (spec hevc)" in str(check_delivered(out, hevc, duration=None)["reason"])
    (tmp_path / "junk.mp4").write_bytes(b"not a video")
    assert "not a readable video" in str(
        check_delivered(tmp_path / "junk.mp4", want, duration=None)["reason"]
    )


def _loudness(path: Path) -> list[float]:
    """RMS of the first audio track, per whole second."""
    import av
    import numpy as np

    per: dict[int, list[float]] = {}
    with av.open(str(path)) as c:
        for frame in c.decode(c.streams.audio[0]):
            a = frame.to_ndarray().astype(np.float64)
            per.setdefault(int(frame.time or 0.0), []).append(float(np.sqrt(np.mean(a * a))))
    return [max(per[k]) for k in sorted(per)]


def test_the_final_cut_has_its_slate_crossfades_and_audio(tmp_path: Path, source: Path) -> None:
    spec = _spec(resolution="320x180", fps=25, audio="silence", crossfade=0.5, slate=1.0)
    clips = [encode_clip(source, tmp_path / f"c{i}.mp4", spec, duration=2.0) for i in range(3)]
    slate = render_slate(
        tmp_path / "slate.png", spec.size, client="acme", project="spring", day=date(2026, 5, 1)
    )
    out = encode_final(FinalInputs([(c, 2.0) for c in clips], slate=slate), tmp_path / "final.mp4", spec)
    expected = cut_duration(spec, [2.0, 2.0, 2.0])
    assert expected == pytest.approx(1.0 + 6.0 - 1.0)
    row = check_delivered(out, spec, duration=expected)
    assert row["ok"], row["reason"]
    # an audio file under the cut: trimmed to it (a longer one) or padded with silence (a shorter one)
    for secs in (9, 2):
        tone = tmp_path / f"tone{secs}.wav"
        subprocess.run(
            [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
             f"sine=frequency=440:duration={secs}", str(tone)],
            check=True,
        )  # fmt: skip
        music = spec.model_copy(update={"audio": str(tone)})
        scored = encode_final(
            FinalInputs([(c, 2.0) for c in clips], slate=slate, audio=tone), tmp_path / f"m{secs}.mp4", music
        )
        row = check_delivered(scored, music, duration=expected)
        assert row["ok"] and row["facts"]["audio"] == "aac", row["reason"]
        loud = _loudness(scored)
        assert loud[0] > 0.05 and loud[1] > 0.05  # the tone from the start, under the slate too
        assert (loud[4] > 0.05) == (secs == 9)  # a 2 s tone ends, and silence fills the rest
    hard = _spec(resolution="320x180", fps=25)
    cut = encode_final(FinalInputs([(c, 2.0) for c in clips]), tmp_path / "hard.mp4", hard)
    assert check_delivered(cut, hard, duration=6.0)["ok"]
