"""Local GPU routes (the ``local`` extra): ``local-flux`` (FLUX.1 stills) and ``local-svd`` (SVD-XT
image-to-video) run diffusers in-process on a GPU worker, behind the same adapter protocol as the HTTP
providers, and are billed by the GPU-hour. Importing this package imports neither torch nor diffusers."""

from goldenchain.providers.local.flux import LocalFlux
from goldenchain.providers.local.svd import LocalSvd

__all__ = ["LocalFlux", "LocalSvd"]
