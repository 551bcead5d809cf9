from __future__ import annotations

import jwt
import pytest

from goldenchain.errors import UsageError
from goldenchain.providers.kling.auth import KlingAuth

AK, SK = "ak-test-access", "sk-test-secret-0123456789abcdef-0123"


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def claims(token: str) -> dict[str, int | str]:
    return jwt.decode(token, SK, algorithms=["HS256"], options={"verify_exp": False, "verify_nbf": False})


def test_claims_and_header() -> None:
    auth = KlingAuth(AK, SK, clock=Clock(1_700_000_000.7))
    token = auth.token()
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
    assert claims(token) == {"iss": AK, "exp": 1_700_000_000 + 1800, "nbf": 1_700_000_000 - 5}
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, "wrong-secret-wrong-secret-wrong!!", algorithms=["HS256"])
    assert auth.headers()["Authorization"] == f"Bearer {token}"


def test_cached_then_refreshed_a_minute_before_expiry() -> None:
    clock = Clock(1_000_000.0)
    auth = KlingAuth(AK, SK, clock=clock)
    first = auth.token()
    clock.now += 1800 - 61
    assert auth.token() == first
    clock.now += 1  # 60 s before exp
    second = auth.token()
    assert second != first
    assert claims(second)["exp"] == int(clock.now) + 1800


def test_invalidate_forces_a_new_token() -> None:
    clock = Clock(1_000_000.0)
    auth = KlingAuth(AK, SK, clock=clock)
    first = auth.token()
    clock.now += 1
    auth.invalidate()
    assert auth.token() != first


def test_repr_hides_keys() -> None:
    auth = KlingAuth(AK, SK)
    auth.token()
    assert AK not in repr(auth) and SK not in repr(auth)
    assert set(auth.secrets) >= {AK, SK}


def test_missing_keys() -> None:
    with pytest.raises(UsageError):
        KlingAuth("", SK)
