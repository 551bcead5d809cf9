"""Pure: which clips go into the cut, in shot order."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Cut:
    shot_id: str
    path: str
    duration: float


def total_duration(cuts: list[Cut]) -> float:
    return sum(c.duration for c in cuts)
