"""Small helpers that turn a score and its thresholds into a :class:`Check`."""

from __future__ import annotations

import math

from goldenchain.core.checks import Check, Direction, Verdict


def worse(score: float, threshold: float, direction: Direction, *, inclusive: bool = False) -> bool:
    """True when ``score`` is on the bad side of ``threshold`` (a NaN threshold never fires)."""
    if math.isnan(threshold) or math.isnan(score):
        return False
    if direction == "higher_is_worse":
        return score >= threshold if inclusive else score > threshold
    return score <= threshold if inclusive else score < threshold


def graded(
    name: str,
    score: float,
    direction: Direction,
    reject: float,
    warn: float = math.nan,
    *,
    ok: str,
    bad: str,
    inclusive: bool = False,
) -> Check:
    """A check with a reject and an optional warn threshold.

    ``ok`` and ``bad`` are message templates; ``{score}`` and ``{thr}`` are filled in.
    The reported threshold is the one that fired, else the reject one (the warn one for warn-only checks).
    """
    verdict: Verdict = "pass"
    thr = reject if not math.isnan(reject) else warn
    if worse(score, reject, direction, inclusive=inclusive):
        verdict, thr = "reject", reject
    elif worse(score, warn, direction, inclusive=inclusive):
        verdict, thr = "warn", warn
    template = ok if verdict == "pass" else bad
    return Check(
        name=name,
        verdict=verdict,
        score=_finite(score),
        threshold=_finite(thr),
        direction=direction,
        message=template.format(score=score, thr=thr),
    )


def make(name: str, verdict: Verdict, score: float, thr: float, direction: Direction, message: str) -> Check:
    return Check(name, verdict, _finite(score), _finite(thr), direction, message)


def _finite(x: float) -> float:
    x = float(x)
    if math.isnan(x):
        return 0.0
    if math.isinf(x):
        return 1e9 if x > 0 else -1e9
    return round(x, 4)
