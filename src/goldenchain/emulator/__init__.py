"""The provider emulator: one loopback server speaking Kling's and fal's wire protocols with real media."""

from .scenarios import SCENARIOS, Fault
from .server import Emulator, serve

__all__ = ["SCENARIOS", "Emulator", "Fault", "serve"]
