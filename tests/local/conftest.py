"""Tiny random-weight FLUX and SVD pipelines, built in code once per session and saved as diffusers folders,
and a project whose stills and clips run on them through the local routes on the CPU."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

if os.environ.get("GOLDENCHAIN_TEST_STRICT") != "1":  # the shipped suite installs the extra: never skip there
    pytest.importorskip("diffusers", reason="the local routes' tests need the local extra")

from goldenchain.providers.local.tiny import save_tiny_flux, save_tiny_svd
from tests.integration.helpers import make_project

#: what the tiny models are called: a project model like the real one, with fewer steps (and, for SVD, a
#: smaller clip: its temporal VAE decodes slowly on a CPU); FLUX renders the golden still size
TINY_MODELS = """
[models."local-flux:tiny-flux"]
like = "local-flux:black-forest-labs/FLUX.1-schnell"
body = {num_inference_steps = 2, guidance_scale = 0.0, max_sequence_length = 32}

[models."local-svd:tiny-svd"]
like = "local-svd:stabilityai/stable-video-diffusion-img2vid-xt"
body = {num_frames = 10, num_inference_steps = 2, width = 256, height = 144, motion_bucket_id = 127, noise_aug_strength = 0.02, min_guidance_scale = 1.0, max_guidance_scale = 3.0}
"""
#: the clip check expects what the tiny SVD makes: 10 frames over the shot's 5 s
CLIP = (256, 144, 2)


@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("weights")
    save_tiny_flux(root / "tiny-flux")
    save_tiny_svd(root / "tiny-svd")
    return root


def local_project(root: Path, weights: Path, *, shots: int = 1, gpu_usd_per_hour: float = 3.6) -> Path:
    """The example project on the local routes: stills on local-flux, clips on local-svd, the CPU as the
    device, the tiny models' weights, one take per stage and no camera moves (SVD takes none)."""
    make_project(root, shots=shots)
    cfg = root / "goldenchain.toml"
    text = cfg.read_text()
    text = text.replace(
        'provider = "fal"\nmodel = "fal-ai/flux/dev"', 'provider = "local-flux"\nmodel = "tiny-flux"'
    )
    text = text.replace(
        'provider = "kling"\nmodel = "kling-v1-5"', 'provider = "local-svd"\nmodel = "tiny-svd"'
    )
    text = re.sub(r"max_takes = 3", "max_takes = 1", text)
    text = text.replace(
        '[prices]                      # override any catalog price, e.g. "kling:kling-v1-5:pro:5" = 0.49',
        f"[prices]\ngpu_usd_per_hour = {gpu_usd_per_hour}",
    )
    w, h, fps = CLIP
    text = text.replace(
        "[delivery]",
        f'[qc]\nsize = "{w}x{h}"\nfps = {fps}\n\n[local]\nweights = "{weights}"\ndevice = "cpu"\n{TINY_MODELS}\n[delivery]',
    )
    cfg.write_text(text)
    shots_file = root / "shots.yaml"
    shots_file.write_text(
        re.sub(
            r"camera: \{[^}]*\}",
            "camera: {horizontal: 0, vertical: 0, zoom: 0, rotation: 0}",
            shots_file.read_text(),
        )
    )
    return root
