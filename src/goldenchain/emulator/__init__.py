"""The provider emulator: one loopback server speaking Kling's, fal's, Replicate's and Together's wire
protocols with real media."""

from .scenarios import SCENARIOS, Fault
from .server import Emulator, serve

__all__ = ["SCENARIOS", "Emulator", "Fault", "serve"]
