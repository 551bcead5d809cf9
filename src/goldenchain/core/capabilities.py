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

IMAGE_MODELS: dict[tuple[str, str], ImageModel] = {
    (m.provider, m.model): m
    for m in (
        ImageModel("fal", "fal-ai/flux/dev", 2000),
        ImageModel("fal", "fal-ai/flux/schnell", 2000),
        ImageModel("fal", "fal-ai/flux-pro/v1.1", 2000),
    )
}


def video_model(provider: str, model: str) -> VideoModel | None:
    return VIDEO_MODELS.get((provider, model))


def image_model(provider: str, model: str) -> ImageModel | None:
    return IMAGE_MODELS.get((provider, model))
