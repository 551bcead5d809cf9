"""Typed results of the image gate and the clip check (pure data)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Verdict = Literal["pass", "warn", "reject"]
FileVerdict = Literal["pass", "warn", "reject", "error"]
Direction = Literal["higher_is_worse", "lower_is_worse"]

_RANK = {"pass": 0, "warn": 1, "reject": 2, "error": 3}


@dataclass(frozen=True)
class Check:
    """One measured check: a score against a threshold, and a one-line reason a producer understands."""

    name: str
    verdict: Verdict
    score: float
    threshold: float
    direction: Direction
    message: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class CheckReport:
    """All checks of one file (a still or a clip)."""

    path: str
    verdict: FileVerdict
    seconds: float
    checks: list[Check] = field(default_factory=list)
    message: str | None = None  # set when verdict == "error"

    @staticmethod
    def combine(checks: list[Check]) -> Verdict:
        worst: Verdict = "pass"
        for c in checks:
            if _RANK[c.verdict] > _RANK[worst]:
                worst = c.verdict
        return worst

    @property
    def reasons(self) -> list[str]:
        """The messages of the checks that did not pass, worst first."""
        bad = [c for c in self.checks if c.verdict != "pass"]
        bad.sort(key=lambda c: -_RANK[c.verdict])
        return [f"{c.name}: {c.message}" for c in bad] or ([self.message] if self.message else [])

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "path": self.path,
            "verdict": self.verdict,
            "seconds": round(self.seconds, 4),
            "checks": [c.to_json() for c in self.checks],
        }
        if self.message:
            out["message"] = self.message
        return out


def worst_verdict(verdicts: list[str]) -> FileVerdict:
    worst = max(verdicts, key=lambda v: _RANK[v]) if verdicts else "pass"
    return worst  # type: ignore[return-value]
