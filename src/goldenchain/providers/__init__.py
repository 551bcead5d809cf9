"""Provider adapters: typed requests in, normalised statuses out, errors from :mod:`goldenchain.errors`."""

from goldenchain.providers.base import (
    Camera,
    CapabilityError,
    ClipRequest,
    Failed,
    Pending,
    Provider,
    StillRequest,
    Submitted,
    Succeeded,
    TaskStatus,
)
from goldenchain.providers.fal import FalFluxTextToImage, FalKlingImageToVideo, FalQueue
from goldenchain.providers.http import (
    CREATE_POLICY,
    DEFAULT_TIMEOUT,
    READ_POLICY,
    RetryPolicy,
    classify,
    make_client,
    send_create,
    send_read,
)
from goldenchain.providers.kling import (
    KLING_CHINA_URL,
    KLING_GLOBAL_URL,
    KLING_LEGACY_GLOBAL_URL,
    KlingAuth,
    KlingImageToVideo,
)
from goldenchain.providers.replicate import ReplicateFluxTextToImage, ReplicateKlingImageToVideo
from goldenchain.providers.together import TogetherFluxTextToImage

__all__ = [
    "CREATE_POLICY",
    "DEFAULT_TIMEOUT",
    "KLING_CHINA_URL",
    "KLING_GLOBAL_URL",
    "KLING_LEGACY_GLOBAL_URL",
    "READ_POLICY",
    "Camera",
    "CapabilityError",
    "ClipRequest",
    "Failed",
    "FalFluxTextToImage",
    "FalKlingImageToVideo",
    "FalQueue",
    "KlingAuth",
    "KlingImageToVideo",
    "Pending",
    "Provider",
    "ReplicateFluxTextToImage",
    "ReplicateKlingImageToVideo",
    "RetryPolicy",
    "StillRequest",
    "Submitted",
    "Succeeded",
    "TaskStatus",
    "TogetherFluxTextToImage",
    "classify",
    "make_client",
    "send_create",
    "send_read",
]
