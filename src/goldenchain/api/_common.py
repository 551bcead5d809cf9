"""The ledger the API reads and writes: one opened for the call, or one the caller keeps open (the review app)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from goldenchain.config import Project
from goldenchain.store.db import Database
from goldenchain.store.ledger import Ledger

T = TypeVar("T")


def open_ledger(p: Project) -> Ledger | None:
    """The project's ledger, or None when the project has no state yet (a read never creates it)."""
    if p.settings.get("GOLDENCHAIN_DATABASE_URL") is None and not p.db_path.exists():
        return None
    return Ledger(Database(p.database_url))


def with_ledger(p: Project, fn: Callable[[Ledger], T], ledger: Ledger | None = None) -> T:
    """``fn`` on ``ledger``, or on one opened (and created when new) for this call and closed after it."""
    if ledger is not None:
        return fn(ledger)
    led = Ledger(Database(p.database_url))
    try:
        return fn(led)
    finally:
        led.db.dispose()


def reading(p: Project, fn: Callable[[Ledger | None], T], ledger: Ledger | None = None) -> T:
    """``fn`` on ``ledger``, or on the project's ledger if it has one (None when it has never run)."""
    if ledger is not None:
        return fn(ledger)
    led = open_ledger(p)
    try:
        return fn(led)
    finally:
        if led is not None:
            led.db.dispose()
