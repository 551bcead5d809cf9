"""goldenchain's public Python API: what the CLI, the review app and the MCP server do, for scripts.

Every front end sits on it: the command line formats what these functions compute, the review app and the MCP
server call them. A take is one :class:`Take` everywhere, with one JSON form (:meth:`Take.to_json`).

Spending needs a person's yes: :func:`quote` prices the remaining work of the shots asked for; a person approves
it (``goldenchain approve QUOTE``, or a standing policy: ``GOLDENCHAIN_AUTO_APPROVE_USD_PER_DAY`` in the
environment or ``.env``); :func:`run` then spends at most the quoted amount, only on the quoted shots, and only
while the quote stays approved (a revoke stops the run before its next paid call). A changed plan needs a new
quote. Errors are the documented tree of :mod:`goldenchain.errors`.

::

    from goldenchain import api

    p = api.open_project("myshoot")
    q = api.quote(p, shots=["s01", "s02"])
    # ... a person runs: goldenchain approve <q.id>
    report = api.run(p, q.id)
    for t in api.takes(p, "s01"):
        print(t.stage, t.take, t.verdict, t.in_cut)
"""

from __future__ import annotations

from pathlib import Path

from goldenchain.api._abtest import (
    abtest_estimate,
    abtest_list,
    abtest_new,
    abtest_pair,
    abtest_pairs,
    abtest_rate,
    abtest_report,
    abtest_run,
)
from goldenchain.api._calibrate import (
    CalibrationPlan,
    CalibrationReport,
    calibrate,
    calibration_plan,
    calibration_report,
    calibrations,
)
from goldenchain.api._common import open_ledger
from goldenchain.api._reads import (
    FailurePatterns,
    ShotInfo,
    costs,
    estimate,
    failure_patterns,
    failures,
    gate,
    lint,
    post_alerts,
    qc,
    status,
    take,
    takes,
)
from goldenchain.api._review import approve_take, reject_take, reroll, review_take, use_draft, use_take
from goldenchain.api._runs import (
    QUOTE_TTL_S,
    Interrupted,
    RunPlan,
    RunReport,
    approve,
    check_cap,
    check_quote,
    decide_quote,
    deliver_run,
    fetch_artifacts,
    plan_hash,
    plan_run,
    quote,
    quotes,
    revoke,
    run,
    run_plan,
)
from goldenchain.config import Project, load_project
from goldenchain.core.checks import Check, CheckReport
from goldenchain.core.takes import Take
from goldenchain.errors import GoldenchainError, UsageError
from goldenchain.store.quotes import Quote

#: the name of :class:`Take` in the first release
TakeInfo = Take

__all__ = [
    "QUOTE_TTL_S",
    "CalibrationPlan",
    "CalibrationReport",
    "Check",
    "CheckReport",
    "FailurePatterns",
    "GoldenchainError",
    "Interrupted",
    "Quote",
    "RunPlan",
    "RunReport",
    "ShotInfo",
    "Take",
    "TakeInfo",
    "UsageError",
    "abtest_estimate",
    "abtest_list",
    "abtest_new",
    "abtest_pair",
    "abtest_pairs",
    "abtest_rate",
    "abtest_report",
    "abtest_run",
    "approve",
    "approve_take",
    "calibrate",
    "calibration_plan",
    "calibration_report",
    "calibrations",
    "check_cap",
    "check_quote",
    "costs",
    "decide_quote",
    "deliver_run",
    "estimate",
    "failure_patterns",
    "failures",
    "fetch_artifacts",
    "gate",
    "lint",
    "open_ledger",
    "open_project",
    "plan_hash",
    "plan_run",
    "post_alerts",
    "qc",
    "quote",
    "quotes",
    "reject_take",
    "reroll",
    "review_take",
    "revoke",
    "run",
    "run_plan",
    "status",
    "take",
    "takes",
    "use_draft",
    "use_take",
]


def open_project(path: str | Path = ".") -> Project:
    """Load and validate a project (raises :class:`~goldenchain.errors.ConfigError` with file, field, line)."""
    return load_project(path)
