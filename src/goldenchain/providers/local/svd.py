"""``local-svd``: Stable Video Diffusion (SVD-XT) image-to-video from diffusers'
``StableVideoDiffusionPipeline`` on a GPU of ours. The start frame is fitted to the model's size; the frames
become an H.264 MP4 played over the shot's duration (SVD-XT: 25 frames over 5 s, 5 fps)."""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from typing import Any, ClassVar, Literal

from goldenchain.providers.base import ClipRequest
from goldenchain.providers.capcheck import check_clip_request, spec_for
from goldenchain.providers.local.adapter import LocalAdapter
from goldenchain.providers.local.pipelines import Setup, render

__all__ = ["LocalSvd", "encode_mp4"]

ROUTE = "local-svd"


def clip_seed(external_id: str) -> int:
    """The same take renders the same clip: its seed comes from the take's own id."""
    return int(hashlib.sha256(external_id.encode()).hexdigest()[:8], 16)


def encode_mp4(frames: list[Any], fps: float) -> bytes:
    """PIL frames -> H.264 MP4 (yuv420p, faststart) at ``fps``."""
    from fractions import Fraction

    import av
    import numpy as np

    fd, path = tempfile.mkstemp(prefix="gc-svd-", suffix=".mp4")
    os.close(fd)
    try:
        with av.open(path, "w", format="mp4", options={"movflags": "+faststart"}) as out:
            stream = out.add_stream("libx264", rate=Fraction(fps).limit_denominator(1000))
            stream.width, stream.height = frames[0].size
            stream.pix_fmt = "yuv420p"
            stream.options = {"crf": "18", "preset": "medium"}
            for i, img in enumerate(frames):
                frame = av.VideoFrame.from_ndarray(np.asarray(img.convert("RGB")), format="rgb24")
                frame.pts = i
                for packet in stream.encode(frame):
                    out.mux(packet)
            for packet in stream.encode(None):
                out.mux(packet)
        with open(path, "rb") as f:
            return f.read()
    finally:
        os.unlink(path)


class LocalSvd(LocalAdapter):
    name: ClassVar[str] = ROUTE
    kind: ClassVar[Literal["t2i", "i2v"]] = "i2v"
    family: ClassVar[str] = "svd"

    def check_request(self, request: ClipRequest) -> None:
        check_clip_request(ROUTE, request)

    def call_args(self, request: ClipRequest) -> dict[str, Any]:
        """The model's body (frames, steps, size, motion), with the conditioning fps of the clip it makes."""
        spec = spec_for(ROUTE, request.model, "i2v")
        body = dict(spec.wire_get("body", ()))
        fps = body["num_frames"] / request.duration
        # SVD is conditioned on the frame rate it was trained to make (it subtracts 1 itself)
        return {**body, "fps": max(1, round(fps))}

    def make(self, setup: Setup, request: ClipRequest) -> tuple[bytes, str, float, dict[str, Any]]:
        import torch
        from PIL import Image, ImageOps

        args = self.call_args(request)
        w, h = args["width"], args["height"]
        with Image.open(io.BytesIO(request.image)) as opened:
            start = ImageOps.fit(opened.convert("RGB"), (w, h), Image.Resampling.LANCZOS)
        seed = clip_seed(request.external_id)

        def call(pipe: Any) -> Any:
            gen = torch.Generator("cpu").manual_seed(seed)
            out = pipe(start, **args, decode_chunk_size=setup.preset.decode_chunk_size, generator=gen)
            return out.frames[0]

        frames, seconds, info = render(setup, call)
        data = encode_mp4(list(frames), len(frames) / request.duration)
        return data, ".mp4", seconds, {**info, "seed": seed, "frames": len(frames)}
