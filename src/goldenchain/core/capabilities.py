"""One capability matrix of every model we drive: modes, durations, end frame, camera control, limits.
Shared by lint (before any spend) and the adapters' ``check_inputs`` (before submit). Pure data."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class VideoModel:
    provider: str
    model: str
    modes: tuple[str, ...]
    durations: tuple[int, ...]
    #: (mode, duration) pairs where camera control is honoured; empty = no camera control
    camera: tuple[tuple[str, int], ...] = ()
    end_frame: tuple[tuple[str, int], ...] = ()
    prompt_max: int = 2500
    image_min_px: int = 300
    image_max_bytes: int = 10 * 1024 * 1024
    aspect_min: float = 1 / 2.5
    aspect_max: float = 2.5
    output: dict[str, tuple[int, int]] = field(default_factory=dict)  # mode -> 16:9 output size


@dataclass(frozen=True)
class ImageModel:
    provider: str
    model: str
    prompt_max: int
    sizes: str = "any multiple of 16"
    max_side: int = 2048


_P = ("pro",)
_SP = ("std", "pro")
_HD = {"std": (1280, 720), "pro": (1920, 1080)}
_REPLICATE_RATIOS = "aspect ratio 1:1, 16:9, 21:9, 2:3, 3:2, 4:5, 5:4, 9:16, 9:21"

VIDEO_MODELS: dict[tuple[str, str], VideoModel] = {
    (m.provider, m.model): m
    for m in (
        VideoModel(
            "kling",
            "kling-v1",
            _SP,
            (5, 10),
            camera=(),
            end_frame=(("std", 5), ("pro", 5)),
            output={"std": (1280, 720), "pro": (1280, 720)},
        ),
        VideoModel(
            "kling",
            "kling-v1-5",
            _SP,
            (5, 10),
            camera=(("pro", 5),),
            end_frame=(("pro", 5), ("pro", 10)),
            output=_HD,
        ),
        VideoModel("kling", "kling-v1-6", _SP, (5, 10), end_frame=(("pro", 5), ("pro", 10)), output=_HD),
        VideoModel("kling", "kling-v2-1", _SP, (5, 10), end_frame=(("pro", 5), ("pro", 10)), output=_HD),
        VideoModel("kling", "kling-v2-6", _SP, (5, 10), end_frame=(("pro", 5), ("pro", 10)), output=_HD),
        VideoModel(
            "kling",
            "kling-v2-5-turbo",
            _P,
            (5, 10),
            end_frame=(("pro", 5), ("pro", 10)),
            output={"pro": (1920, 1080)},
        ),
        VideoModel(
            "kling",
            "kling-v2-master",
            ("std", "pro"),
            (5, 10),
            output={"std": (1280, 720), "pro": (1280, 720)},
        ),
        VideoModel(
            "kling",
            "kling-v2-1-master",
            ("std", "pro"),
            (5, 10),
            output={"std": (1920, 1080), "pro": (1920, 1080)},
        ),
    )
}

_FAL_KLING = "fal-ai/kling-video/{}/pro/image-to-video"
_PRO_ENDS = (("pro", 5), ("pro", 10))

# Kling on fal (providers.md §2.6): every endpoint is a "pro" one; none of fal's I2V endpoints takes camera
# control; tail (end) frame on all but v2.6.
VIDEO_MODELS.update(
    {
        (m.provider, m.model): m
        for m in (
            VideoModel("fal-kling", _FAL_KLING.format("v1.5"), _P, (5, 10), end_frame=_PRO_ENDS, output=_HD),
            VideoModel("fal-kling", _FAL_KLING.format("v1.6"), _P, (5, 10), end_frame=_PRO_ENDS, output=_HD),
            VideoModel("fal-kling", _FAL_KLING.format("v2.1"), _P, (5, 10), end_frame=_PRO_ENDS, output=_HD),
            VideoModel(
                "fal-kling", _FAL_KLING.format("v2.5-turbo"), _P, (5, 10), end_frame=_PRO_ENDS, output=_HD
            ),
            VideoModel("fal-kling", _FAL_KLING.format("v2.6"), _P, (5, 10), output=_HD),
            # Kling on Replicate (§3.5): v1.6-pro is a pro model; v2.1 takes mode standard|pro (std = 720p).
            # end_image on v1.6-pro is uncertain; v2.1's needs pro. Durations 5|10 (v2.1's 10 s uncertain).
            VideoModel("replicate-kling", "kwaivgi/kling-v1.6-pro", _P, (5, 10), output=_HD),
            VideoModel(
                "replicate-kling", "kwaivgi/kling-v2.1", _SP, (5, 10), end_frame=_PRO_ENDS, output=_HD
            ),
        )
    }
)

IMAGE_MODELS: dict[tuple[str, str], ImageModel] = {
    (m.provider, m.model): m
    for m in (
        ImageModel("fal", "fal-ai/flux/dev", 2000),
        ImageModel("fal", "fal-ai/flux/schnell", 2000),
        ImageModel("fal", "fal-ai/flux-pro/v1.1", 2000),
        # Replicate FLUX (§3.5): dev/schnell take an aspect ratio, not pixel sizes (about 1 MP out);
        # 1.1-pro takes aspect_ratio "custom" + width/height (multiples of 32, 256..1440; uncertain).
        ImageModel("replicate", "black-forest-labs/flux-dev", 2000, sizes=_REPLICATE_RATIOS, max_side=2048),
        ImageModel(
            "replicate", "black-forest-labs/flux-schnell", 2000, sizes=_REPLICATE_RATIOS, max_side=2048
        ),
        ImageModel(
            "replicate",
            "black-forest-labs/flux-1.1-pro",
            2000,
            sizes="multiple of 32, 256..1440",
            max_side=1440,
        ),
        # Together FLUX (§4.1): width/height in pixels (multiple-of-16 rule uncertain).
        ImageModel("together", "black-forest-labs/FLUX.1-schnell", 2000),
        ImageModel("together", "black-forest-labs/FLUX.1-dev", 2000),
        ImageModel("together", "black-forest-labs/FLUX.1.1-pro", 2000),
    )
}


def video_model(provider: str, model: str) -> VideoModel | None:
    return VIDEO_MODELS.get((provider, model))


def image_model(provider: str, model: str) -> ImageModel | None:
    return IMAGE_MODELS.get((provider, model))
