"""The pure retry decisions: which outcomes allow a second create or read, and the exact backoff arithmetic."""

from __future__ import annotations

import random

import pytest

from goldenchain.core.retry import backoff_delay, create_may_retry, read_may_retry


class FixedRandom(random.Random):
    """A random source whose ``random()`` always returns the same number, so delays are exact."""

    def __init__(self, value: float) -> None:
        super().__init__(0)
        self.value = value

    def random(self) -> float:
        return self.value


@pytest.mark.parametrize(
    ("outcome", "create", "read"),
    [
        ("connect_error", True, True),
        ("rate_limited", True, True),
        ("sent_no_answer", False, True),  # ambiguous: the provider may have accepted and will bill
        ("server_error", False, True),  # a 5xx after sending may still have created the task
        ("client_error", False, False),
    ],
)
def test_which_outcomes_may_be_sent_again(outcome: str, create: bool, read: bool) -> None:
    assert create_may_retry(outcome) is create  # type: ignore[arg-type]
    assert read_may_retry(outcome) is read  # type: ignore[arg-type]


def test_backoff_is_exponential_with_half_fixed_half_jitter() -> None:
    # ceiling = base * 2**(attempt-1); delay = ceiling/2 + random * ceiling/2
    assert backoff_delay(1, rng=FixedRandom(0.0)) == 0.25  # default base 0.5
    assert backoff_delay(1, rng=FixedRandom(0.5)) == 0.375
    assert backoff_delay(2, rng=FixedRandom(0.0)) == 0.5
    assert backoff_delay(3, rng=FixedRandom(0.0)) == 1.0
    assert backoff_delay(3, base=2.0, rng=FixedRandom(0.5)) == 6.0
    assert backoff_delay(4, base=1.0, cap=100.0, rng=FixedRandom(0.25)) == 5.0


def test_backoff_ceiling_is_the_cap() -> None:
    # attempt 8 with base 0.5 would be 64 s; the default cap is 30
    assert backoff_delay(8, rng=FixedRandom(0.0)) == 15.0
    assert backoff_delay(8, rng=FixedRandom(0.5)) == 22.5
    assert backoff_delay(8, cap=10.0, rng=FixedRandom(0.0)) == 5.0
    # exactly at the cap: both sides of the min agree
    assert backoff_delay(7, cap=32.0, rng=FixedRandom(0.0)) == 16.0


def test_retry_after_wins_only_when_longer() -> None:
    assert backoff_delay(1, retry_after=20, rng=FixedRandom(0.0)) == 20.0
    assert isinstance(backoff_delay(1, retry_after=20, rng=FixedRandom(0.0)), float)
    assert backoff_delay(8, retry_after=10.0, rng=FixedRandom(0.0)) == 15.0
    assert backoff_delay(8, retry_after=0.0, rng=FixedRandom(0.0)) == 15.0
    assert backoff_delay(8, retry_after=None, rng=FixedRandom(0.0)) == 15.0


def test_backoff_without_rng_uses_the_module_random() -> None:
    random.seed(1234)
    expected = 0.5 + random.random() * 0.5
    random.seed(1234)
    assert backoff_delay(2) == expected


@pytest.mark.parametrize("attempt", [0, -1])
def test_backoff_attempt_is_one_based(attempt: int) -> None:
    with pytest.raises(ValueError, match=r"^attempt is 1-based$"):
        backoff_delay(attempt)
