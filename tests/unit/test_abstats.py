"""The A/B test statistics against values worked out by hand from the textbook formulas (exact binomial sums,
the Wilson score interval, Holm's step-down), and the report's winner rule."""

from __future__ import annotations

import math

import pytest

from goldenchain.core.abstats import analyse, holm, mcnemar_exact, pairs_needed, sign_test_p, wilson

Z95 = 1.959963984540054  # the 97.5 % point of the standard normal


def _two_sided_binomial(k: int, n: int) -> float:
    """The exact two-sided p-value of the smaller count ``k`` of ``n`` fair coin tosses, by hand."""
    return min(1.0, 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2**n)


def test_mcnemar_exact_is_the_binomial_test_on_the_discordant_pairs() -> None:
    assert mcnemar_exact(1, 9) == pytest.approx(22 / 1024)  # 2 * (1 + 10) / 2**10
    # the often-quoted table [[59, 6], [16, 80]]: 6 and 16 discordant pairs
    assert mcnemar_exact(6, 16) == pytest.approx(_two_sided_binomial(6, 22))
    assert mcnemar_exact(6, 16) == pytest.approx(0.052478, abs=1e-6)
    assert mcnemar_exact(8, 0) == pytest.approx(2 / 2**8)
    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(5, 5) == 1.0


def test_wilson_interval_by_hand() -> None:
    k, n = 8, 10
    p, z2 = k / n, Z95**2
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    low, high = wilson(k, n)
    assert low == pytest.approx(centre - half, abs=1e-9)
    assert high == pytest.approx(centre + half, abs=1e-9)
    assert (round(low, 4), round(high, 4)) == (0.4902, 0.9433)
    assert wilson(0, 10)[0] == 0.0 and wilson(0, 10)[1] == pytest.approx(z2 / (10 + z2), abs=1e-9)
    assert wilson(0, 0) == (0.0, 1.0)


def test_sign_test_and_holm() -> None:
    assert sign_test_p([1, 2, 1, 3, 1, 2]) == pytest.approx(2 / 2**6)  # six of six positive
    assert sign_test_p([1, -1, 0, 2, 0]) == pytest.approx(_two_sided_binomial(1, 3))  # ties left out
    assert sign_test_p([0, 0]) == 1.0
    # Holm: sorted 0.01, 0.03, 0.04 times 3, 2, 1, then running maximum
    assert holm([0.01, 0.04, 0.03], 0.05) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.2], 0.05) == [0.2]


def test_pairs_needed_scales_the_observed_discordance() -> None:
    # 3 of 10 pairs discordant, all one way: the exact test needs 6 of 6 (p = 2 / 64 < 0.05, 5 of 5 is 0.0625),
    # and 0.3 * n rounds to 6 first at n = 19
    assert _two_sided_binomial(0, 5) > 0.05 >= _two_sided_binomial(0, 6)
    assert pairs_needed(10, 3, 0, 0.05) == 19
    assert pairs_needed(10, 0, 3, 0.05) == 19
    assert pairs_needed(10, 0, 0, 0.05) is None  # no discordant pair: nothing to scale
    assert pairs_needed(10, 2, 2, 0.05) is None  # an even split never reaches significance
    assert pairs_needed(10, 1, 9, 0.05) == 11  # significant already: the next pair keeps it so


def _all(n: int, value: bool) -> dict[int, bool]:
    return {i: value for i in range(1, n + 1)}


def test_a_winner_only_when_the_paired_test_is_significant() -> None:
    costs = {"a": {i: 0.5 for i in range(1, 9)}, "b": {i: 0.5 for i in range(1, 9)}}
    rep = analyse(["a", "b"], {"a": _all(8, True), "b": _all(8, False)}, costs, {})
    assert rep.winner == "a" and rep.winner_by == "verdicts"
    (c,) = rep.comparisons
    assert (c.only_base, c.only_other, c.p_verdicts) == (8, 0, pytest.approx(2 / 2**8))
    a, b = rep.variants
    assert (a.accepted, a.takes, a.cost_per_accepted, b.cost_per_accepted) == (8, 8, 0.5, None)
    assert "winner: a" in rep.summary

    same = analyse(["a", "b"], {"a": _all(8, True), "b": _all(8, True)}, costs, {})
    assert same.winner is None and same.summary.startswith("no difference yet")
    assert "agreed on every pair" in same.summary

    few = analyse(["a", "b"], {"a": _all(4, True), "b": {1: False, 2: False, 3: True, 4: True}}, {}, {})
    assert few.winner is None and few.comparisons[0].p_verdicts == pytest.approx(0.5)
    # 2 of 4 discordant, one way: 6 of 6 needed, 0.5 * n reaches 6 at n = 11 (5.5 rounds to 6): 7 more
    assert few.comparisons[0].more_pairs == 7
    assert few.summary == "no difference yet, about 7 more pairs needed at the observed discordance"


def test_ratings_decide_when_the_verdicts_do_not() -> None:
    verdicts = {"a": _all(6, True), "b": _all(6, True)}
    ratings = {"a": {i: 2.0 for i in range(1, 7)}, "b": {i: 4.0 for i in range(1, 7)}}
    rep = analyse(["a", "b"], verdicts, {}, ratings)
    assert rep.winner == "b" and rep.winner_by == "ratings"
    assert rep.comparisons[0].p_ratings == pytest.approx(2 / 2**6)
    assert rep.variants[1].mean_rating == 4.0


def test_more_than_two_variants_are_holm_corrected_against_the_first() -> None:
    v = {"a": _all(7, False), "b": _all(7, True), "c": {**_all(7, False), 1: True}}
    rep = analyse(["a", "b", "c"], v, {}, {})
    b, c = rep.comparisons
    assert b.p_verdicts == pytest.approx(2 * (2 / 2**7))  # the smaller p-value times 2 under Holm
    assert c.p_verdicts == pytest.approx(1.0)
    assert rep.winner == "b"
    # at 0.05 / 2 = 0.025 a result that would pass uncorrected does not: 2 / 2**6 = 0.03125
    close = analyse(["a", "b", "c"], {"a": _all(6, False), "b": _all(6, True), "c": _all(6, False)}, {}, {})
    assert close.comparisons[0].p_verdicts == pytest.approx(0.0625) and close.winner is None
