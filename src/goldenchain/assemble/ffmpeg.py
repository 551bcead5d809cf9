"""The ffmpeg binary of the imageio-ffmpeg wheel (what encodes every delivered file: ``assemble/encode.py``)."""

from __future__ import annotations


def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())
