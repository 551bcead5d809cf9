"""Kling authentication: an HS256 JWT signed with the secret key (providers.md §1.2), cached and refreshed
shortly before it expires."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable

import jwt

from goldenchain.errors import UsageError

__all__ = ["KlingAuth"]


class KlingAuth:
    """Builds ``Authorization: Bearer <jwt>`` for Kling.

    Claims: ``iss`` = access key, ``exp`` = now + ``ttl`` (1800 s), ``nbf`` = now - 5 (clock skew). The token
    is reused until ``refresh_margin`` seconds (60) before ``exp``. ``clock`` returns Unix seconds."""

    def __init__(
        self,
        access_key: str,
        secret_key: str,
        *,
        ttl: int = 1800,
        refresh_margin: int = 60,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not access_key or not secret_key:
            raise UsageError(
                "kling: both an access key and a secret key are needed (KLING_ACCESS_KEY, KLING_SECRET_KEY)"
            )
        if refresh_margin >= ttl:
            raise ValueError("refresh_margin must be shorter than ttl")
        self._access_key = access_key
        self._secret_key = secret_key
        self._ttl = ttl
        self._margin = refresh_margin
        self._clock = clock
        self._token: str | None = None
        self._exp = 0

    def __repr__(self) -> str:
        return "KlingAuth(access_key=***, secret_key=***)"

    @property
    def secrets(self) -> tuple[str, ...]:
        """Strings that must never appear in a message or a log (see ``http.scrub``)."""
        return tuple(s for s in (self._access_key, self._secret_key, self._token) if s)

    def token(self) -> str:
        now = int(self._clock())
        if self._token is None or now >= self._exp - self._margin:
            self._exp = now + self._ttl
            payload = {"iss": self._access_key, "exp": self._exp, "nbf": now - 5}
            with warnings.catch_warnings():
                # Kling issues the secret key; its length is not ours to choose
                warnings.filterwarnings("ignore", message=".*HMAC key.*")
                self._token = jwt.encode(
                    payload, self._secret_key, algorithm="HS256", headers={"alg": "HS256", "typ": "JWT"}
                )
        return self._token

    def invalidate(self) -> None:
        """Forget the cached token (after Kling answered 1004, token expired)."""
        self._token = None

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token()}", "Content-Type": "application/json"}
