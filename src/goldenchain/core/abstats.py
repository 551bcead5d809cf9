"""The statistics of an A/B test of prompt or setting variants over paired seeds (pure; statsmodels and scipy).

Every pair is one seed run through each variant. Per variant: takes, accepted clips, the acceptance rate with a
Wilson interval, and what one accepted clip cost. Each variant after the first is compared with the first on
the same pairs: McNemar's exact test on the paired verdicts (accepted or not), and a sign test on the paired
blind ratings where a person rated both clips of a pair; with more than two variants the p-values of each kind
are Holm-corrected. A winner is named only when a corrected p-value is below ``alpha``; otherwise the report
says how many pairs the observed discordance would need before the exact test could reach ``alpha``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

#: the most pairs the "more pairs needed" estimate looks at before it says "more than this"
MAX_PAIRS = 10_000


def wilson(k: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    """The Wilson score interval of ``k`` successes in ``n`` trials (``(0, 1)`` when ``n`` is 0)."""
    from statsmodels.stats.proportion import proportion_confint

    if n == 0:
        return 0.0, 1.0
    low, high = proportion_confint(k, n, alpha=alpha, method="wilson")
    return float(low), float(high)


def mcnemar_exact(only_base: int, only_other: int) -> float:
    """McNemar's exact p-value from the discordant pairs (accepted with one variant only, each way)."""
    from statsmodels.stats.contingency_tables import mcnemar

    if only_base + only_other == 0:
        return 1.0
    return float(mcnemar([[0, only_base], [only_other, 0]], exact=True).pvalue)


def sign_test_p(diffs: Sequence[float]) -> float:
    """The sign test's p-value of paired differences against 0 (ties left out; 1.0 with none left)."""
    from statsmodels.stats.descriptivestats import sign_test

    if not any(d != 0 for d in diffs):
        return 1.0
    return float(sign_test(list(diffs), 0)[1])


def holm(pvalues: Sequence[float], alpha: float) -> list[float]:
    """Holm-corrected p-values (as given with one comparison)."""
    from statsmodels.stats.multitest import multipletests

    if len(pvalues) <= 1:
        return [float(p) for p in pvalues]
    return [float(p) for p in multipletests(list(pvalues), alpha=alpha, method="holm")[1]]


def pairs_needed(pairs: int, only_base: int, only_other: int, alpha: float) -> int | None:
    """The smallest number of pairs (more than ``pairs``) at which the observed discordance (its rate among the pairs, and its split
    between the two variants) would make McNemar's exact test reach ``alpha``; None when it never would (no
    discordant pair yet, or an even split) or not within :data:`MAX_PAIRS`."""
    from scipy.stats import binomtest

    disc = only_base + only_other
    if pairs <= 0 or disc == 0 or only_base == only_other:
        return None
    rate, share = disc / pairs, max(only_base, only_other) / disc
    for n in range(pairs + 1, MAX_PAIRS + 1):
        d = round(rate * n)
        k = round(share * d)
        if d and binomtest(k, d, 0.5).pvalue <= alpha:
            return n
    return None


@dataclass(frozen=True)
class VariantStats:
    name: str
    takes: int  #: pairs this variant finished (a verdict either way)
    accepted: int  #: of them, clips that passed the image gate and the clip check
    rate: float | None
    low: float
    high: float
    cost_usd: float
    cost_per_accepted: float | None
    mean_rating: float | None
    ratings: int

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Comparison:
    """One variant against the first on the pairs both finished."""

    base: str
    other: str
    pairs: int  #: pairs with a verdict for both
    only_base: int  #: pairs accepted with the first variant only
    only_other: int  #: pairs accepted with the other variant only
    p_verdicts: float  #: McNemar's exact p-value (Holm-corrected with more than one comparison)
    rated_pairs: int  #: pairs with a rating of both clips
    other_better_rated: int
    base_better_rated: int
    p_ratings: float | None  #: the sign test's p-value (Holm-corrected), None with no rated pair
    better: str | None  #: the variant the paired verdicts show better at ``alpha``, else None
    better_rated: str | None  #: the variant the paired ratings show better at ``alpha``, else None
    more_pairs: int | None  #: about how many more pairs the exact test would need (see :func:`pairs_needed`)

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class AbReport:
    alpha: float
    pairs: int
    variants: tuple[VariantStats, ...]
    comparisons: tuple[Comparison, ...]
    winner: str | None
    winner_by: str | None  #: ``verdicts`` or ``ratings``
    summary: str
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "alpha": self.alpha,
            "pairs": self.pairs,
            "variants": [v.to_json() for v in self.variants],
            "comparisons": [c.to_json() for c in self.comparisons],
            "winner": self.winner,
            "winner_by": self.winner_by,
            "summary": self.summary,
            **self.extra,
        }


def _variant(
    name: str,
    verdicts: Mapping[int, bool],
    costs: Mapping[int, float],
    ratings: Mapping[int, float],
    alpha: float,
) -> VariantStats:
    n, k = len(verdicts), sum(1 for v in verdicts.values() if v)
    low, high = wilson(k, n, alpha)
    cost = round(sum(costs.values()), 4)
    mean = round(sum(ratings.values()) / len(ratings), 3) if ratings else None
    return VariantStats(
        name,
        n,
        k,
        round(k / n, 4) if n else None,
        round(low, 4),
        round(high, 4),
        cost,
        round(cost / k, 4) if k else None,
        mean,
        len(ratings),
    )


def analyse(
    names: Sequence[str],
    verdicts: Mapping[str, Mapping[int, bool]],
    costs: Mapping[str, Mapping[int, float]],
    ratings: Mapping[str, Mapping[int, float]],
    *,
    alpha: float = 0.05,
) -> AbReport:
    """The report of variants ``names`` (the first is the baseline): ``verdicts[v][pair]`` accepted or not,
    ``costs[v][pair]`` dollars spent on the pair, ``ratings[v][pair]`` a person's mean blind rating (1-5)."""
    base = names[0]
    stats = tuple(
        _variant(v, verdicts.get(v, {}), costs.get(v, {}), ratings.get(v, {}), alpha) for v in names
    )
    raw: list[dict[str, Any]] = []
    for other in names[1:]:
        vb, vo = verdicts.get(base, {}), verdicts.get(other, {})
        both = sorted(set(vb) & set(vo))
        ob = sum(1 for i in both if vb[i] and not vo[i])
        oo = sum(1 for i in both if vo[i] and not vb[i])
        rb, ro = ratings.get(base, {}), ratings.get(other, {})
        rated = sorted(set(rb) & set(ro))
        diffs = [ro[i] - rb[i] for i in rated]
        raw.append(
            {
                "other": other,
                "pairs": len(both),
                "only_base": ob,
                "only_other": oo,
                "p_verdicts": mcnemar_exact(ob, oo),
                "rated_pairs": len(rated),
                "other_better_rated": sum(1 for d in diffs if d > 0),
                "base_better_rated": sum(1 for d in diffs if d < 0),
                "p_ratings": sign_test_p(diffs) if rated else None,
            }
        )
    pv = holm([r["p_verdicts"] for r in raw], alpha)
    rated_idx = [i for i, r in enumerate(raw) if r["p_ratings"] is not None]
    pr = dict(zip(rated_idx, holm([raw[i]["p_ratings"] for i in rated_idx], alpha), strict=True))
    m = max(1, len(raw))
    comps: list[Comparison] = []
    for i, r in enumerate(raw):
        better = None
        if pv[i] < alpha and r["only_base"] != r["only_other"]:
            better = r["other"] if r["only_other"] > r["only_base"] else base
        p_rat = pr.get(i)
        better_rated = None
        if p_rat is not None and p_rat < alpha and r["other_better_rated"] != r["base_better_rated"]:
            better_rated = r["other"] if r["other_better_rated"] > r["base_better_rated"] else base
        more = None
        if better is None:  # Holm's first step is at alpha / m: the estimate asks for that much
            total = pairs_needed(r["pairs"], r["only_base"], r["only_other"], alpha / m)
            more = None if total is None else total - r["pairs"]
        comps.append(
            Comparison(
                base,
                r["other"],
                r["pairs"],
                r["only_base"],
                r["only_other"],
                pv[i],
                r["rated_pairs"],
                r["other_better_rated"],
                r["base_better_rated"],
                p_rat,
                better,
                better_rated,
                more,
            )
        )
    winner, by = _winner(base, comps, stats, "better"), "verdicts"
    if winner is None:
        winner, by = _winner(base, comps, stats, "better_rated"), "ratings"
    pairs = max((v.takes for v in stats), default=0)
    return AbReport(
        alpha,
        pairs,
        stats,
        tuple(comps),
        winner,
        by if winner else None,
        _summary(winner, by, comps, alpha),
    )


def _winner(base: str, comps: Sequence[Comparison], stats: Sequence[VariantStats], attr: str) -> str | None:
    """A challenger significantly better than the first variant (the best of them by acceptance rate), or the
    first variant when it is significantly better than every challenger; else None."""
    if not comps:
        return None
    better = [getattr(c, attr) for c in comps]
    challengers = [b for b in better if b is not None and b != base]
    if challengers:
        rate = {s.name: s.rate or 0.0 for s in stats}
        return max(challengers, key=lambda v: rate[v])
    return base if all(b == base for b in better) else None


def _summary(winner: str | None, by: str, comps: Sequence[Comparison], alpha: float) -> str:
    if winner is not None:
        what = "paired verdicts (McNemar, exact)" if by == "verdicts" else "paired blind ratings (sign test)"
        return f"winner: {winner}, by the {what} at alpha {alpha:g}"
    if not comps or all(c.pairs == 0 for c in comps):
        return "no difference yet: no pair has a verdict for every variant"
    needs = [c.more_pairs for c in comps]
    if all(c.only_base + c.only_other == 0 for c in comps):
        return "no difference yet: the variants agreed on every pair, so the data give no estimate of the pairs needed"
    known = [n for n in needs if n is not None]
    if known:
        return f"no difference yet, about {min(known)} more pairs needed at the observed discordance"
    return (
        f"no difference yet: at the observed discordance no number of pairs up to {MAX_PAIRS} would show one"
    )
