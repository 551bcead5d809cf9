"""The one exception tree of goldenchain.

::

    GoldenchainError
    ├── UsageError                 bad usage or bad input: exit code 2, one line, never a spend
    │   └── ConfigError            a project file is invalid (names the file, the field and the line)
    ├── ProviderError              a provider said no, or could not be reached; carries the provider's own reason
    │   ├── AuthError              401/403 on credentials                       failure_class = "auth"
    │   ├── BillingError           no credit, arrears, exhausted balance        failure_class = "billing"
    │   ├── RateLimited            429 rate or concurrency limit (retry_after)  failure_class = "rate_limit"
    │   ├── InvalidInput           the provider rejected the request body      failure_class = "invalid_input"
    │   ├── ModerationError        content policy at submit or at poll time     failure_class = "moderation"
    │   ├── ProviderFailed         5xx, or the task itself failed               failure_class = "provider_error"
    │   ├── ProviderUnreachable    no connection could be made (nothing sent)   failure_class = "network"
    │   ├── ProviderTimeout        the provider did not answer in time          failure_class = "timeout"
    │   ├── SubmissionUncertain    a create call may have been accepted         failure_class = "ambiguous"
    │   └── ResultExpired          the result file is gone (404 on download)    failure_class = "provider_error"
    ├── BudgetExceeded             the next paid call would overspend a budget
    ├── ProjectLocked              another run holds the project (the message names it): exit 1
    ├── DatabaseUnavailable        the ledger's database did not answer (an environment failure)
    └── LedgerError                the ledger is in a state that needs a human

Messages never contain secrets: providers build them from response bodies and status codes only.
"""

from __future__ import annotations

__all__ = [
    "AuthError",
    "BillingError",
    "BudgetExceeded",
    "ConfigError",
    "DatabaseUnavailable",
    "GoldenchainError",
    "InvalidInput",
    "LedgerError",
    "ModerationError",
    "ProjectLocked",
    "ProviderError",
    "ProviderFailed",
    "ProviderTimeout",
    "ProviderUnreachable",
    "RateLimited",
    "ResultExpired",
    "SubmissionUncertain",
    "UsageError",
]


class GoldenchainError(Exception):
    """Base of every error goldenchain raises on purpose."""


class UsageError(GoldenchainError):
    """Bad usage or bad input. The CLI prints ``str(err)`` on one line and exits 2."""


class ConfigError(UsageError):
    """A project file is invalid."""

    def __init__(self, path: str, field: str | None, line: int | None, reason: str) -> None:
        self.path = path
        self.field = field
        self.line = line
        self.reason = reason
        where = path
        if line is not None:
            where += f":{line}"
        if field:
            where += f": {field}"
        super().__init__(f"{where}: {reason}")


class ProviderError(GoldenchainError):
    """A provider call failed. ``reason`` is the provider's own words (Kling ``task_status_msg`` or
    ``message``, fal ``detail``, Replicate ``error``)."""

    failure_class = "provider_error"
    #: may the *same* request be sent again (polls, downloads; never blindly a create)
    retryable = False

    def __init__(
        self,
        provider: str,
        reason: str,
        *,
        status_code: int | None = None,
        code: str | int | None = None,
        task_id: str | None = None,
        request_id: str | None = None,
    ) -> None:
        self.provider = provider
        self.reason = reason
        self.status_code = status_code
        self.code = code
        self.task_id = task_id
        self.request_id = request_id
        parts = [f"{provider}: {reason}"]
        if status_code is not None:
            parts.append(f"HTTP {status_code}")
        if code is not None:
            parts.append(f"code {code}")
        super().__init__(" | ".join(parts))


class AuthError(ProviderError):
    failure_class = "auth"


class BillingError(ProviderError):
    """Out of credit. Stops the run; never retried."""

    failure_class = "billing"


class RateLimited(ProviderError):
    failure_class = "rate_limit"
    retryable = True

    def __init__(self, provider: str, reason: str, *, retry_after: float | None = None, **kw: object) -> None:
        super().__init__(provider, reason, **kw)  # type: ignore[arg-type]
        self.retry_after = retry_after


class InvalidInput(ProviderError):
    failure_class = "invalid_input"


class ModerationError(ProviderError):
    failure_class = "moderation"


class ProviderFailed(ProviderError):
    failure_class = "provider_error"

    def __init__(self, provider: str, reason: str, *, retryable: bool = False, **kw: object) -> None:
        super().__init__(provider, reason, **kw)  # type: ignore[arg-type]
        self.retryable = retryable


class ProviderUnreachable(ProviderFailed):
    """No connection could be made (DNS, refused, TLS, connect timeout): nothing was sent, nothing billed.
    An environment failure: it never uses up a take."""

    failure_class = "network"

    def __init__(self, provider: str, reason: str, **kw: object) -> None:
        super().__init__(provider, reason, retryable=True, **kw)


class ProviderTimeout(ProviderError):
    failure_class = "timeout"
    retryable = True


class SubmissionUncertain(ProviderError):
    """The create request left the machine and no answer came back: it may have been accepted (and billed).
    Never resubmit blindly: reconcile by our own id, or hold for review."""

    failure_class = "ambiguous"


class ResultExpired(ProviderError):
    failure_class = "provider_error"


class BudgetExceeded(GoldenchainError):
    def __init__(self, scope: str, cap_usd: float, committed_usd: float, needed_usd: float) -> None:
        self.scope = scope
        self.cap_usd = cap_usd
        self.committed_usd = committed_usd
        self.needed_usd = needed_usd
        super().__init__(
            f"budget {scope}: ${committed_usd:.2f} spent or reserved of ${cap_usd:.2f}; the next call needs "
            f"${needed_usd:.2f}. Raise the budget (goldenchain.toml [budget] or --max-cost) and run again."
        )


class LedgerError(GoldenchainError):
    pass


class DatabaseUnavailable(GoldenchainError):
    """The ledger's database could not be reached (stopped, restarting, cut off) for longer than the store
    waits, or it went away while a write that must not run twice was committing. The environment's fault:
    it never uses up a take; the engine runs the step again once the database answers."""


class ProjectLocked(GoldenchainError):
    """Another run holds this project's lock; the message names the holder (exit 1)."""
