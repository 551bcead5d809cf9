"""goldenchain: the golden chain from prompt to broadcast-quality clip, with money safety."""

from __future__ import annotations

__version__ = "0.1.0"

from goldenchain.core.checks import Check, CheckReport
from goldenchain.errors import (
    AuthError,
    BillingError,
    BudgetExceeded,
    ConfigError,
    GoldenchainError,
    InvalidInput,
    LedgerError,
    ModerationError,
    ProviderError,
    ProviderFailed,
    ProviderTimeout,
    RateLimited,
    ResultExpired,
    SubmissionUncertain,
    UsageError,
)

__all__ = [
    "AuthError",
    "BillingError",
    "BudgetExceeded",
    "Check",
    "CheckReport",
    "ConfigError",
    "GoldenchainError",
    "InvalidInput",
    "LedgerError",
    "ModerationError",
    "ProviderError",
    "ProviderFailed",
    "ProviderTimeout",
    "RateLimited",
    "ResultExpired",
    "SubmissionUncertain",
    "UsageError",
    "__version__",
]
