"""Engine factory: SQLite in WAL mode (one writer at a time, ``BEGIN IMMEDIATE``) or PostgreSQL.

PostgreSQL may go away for a while (a restart, a failover, a network cut). Every store method is one
transaction, run through :meth:`Database.retrying` (the :func:`retried` decorator): when its connection
fails or drops, the whole method runs again on a fresh connection (the pool discards the dead ones), at once
and then with a growing pause, for up to :attr:`Database.retry_seconds`; after that it raises
:class:`~goldenchain.errors.DatabaseUnavailable`. A method is re-run only while its transaction cannot have
committed, or when running it twice is harmless: one that must not run twice (a person's review, a quote)
raises instead when the connection dropped during its commit, whose outcome is then unknown."""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, exc
from sqlalchemy.orm import Session, sessionmaker

from goldenchain.errors import DatabaseUnavailable

MIGRATIONS = Path(__file__).parent / "migrations"
log = logging.getLogger(__name__)
T = TypeVar("T")
P = ParamSpec("P")

#: how long a store method waits for the database to answer again before it raises DatabaseUnavailable
RETRY_SECONDS = 60.0
#: the first pause between two attempts, and the longest
FIRST_PAUSE, LONGEST_PAUSE = 0.2, 5.0
#: server states that end or refuse sessions while it stops or starts: admin shutdown, crash shutdown,
#: "the database system is starting up / shutting down"
_GOING_AWAY = ("57P01", "57P02", "57P03")


def is_disconnect(e: BaseException) -> bool:
    """A connection to the database could not be made or was lost: what another attempt on a fresh
    connection may mend. Never a statement's own error (a constraint, a lock or statement timeout)."""
    if not isinstance(e, exc.DBAPIError):
        return False
    if e.connection_invalidated:  # the dialect saw the connection die under a statement
        return True
    if not isinstance(e, exc.OperationalError) or type(e.orig).__module__.split(".")[0] != "psycopg":
        return False
    state = getattr(e.orig, "sqlstate", None)  # None: the client's own (refused, reset, closed)
    return state is None or state.startswith("08") or state in _GOING_AWAY


class _Phase(threading.local):
    #: the transaction of the store method running on this thread has sent its COMMIT
    committing = False


_phase = _Phase()


def _on_commit(_conn: Any) -> None:
    _phase.committing = True


def _reason(e: BaseException) -> str:
    orig = getattr(e, "orig", None) or e
    return " ".join(str(orig).split())[:300]


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _rec: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=60000")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            # writers take the write lock up front: read-modify-write (budget checks, claims) cannot
            # interleave; read-only sessions (see Database.read_session) only need a snapshot
            conn.exec_driver_sql(
                "BEGIN" if conn.get_execution_options().get("gc_read_only") else "BEGIN IMMEDIATE"
            )

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    engine = create_engine(url)
    _ping_when_idle(engine)
    return engine


def with_idle_transaction_timeout(url: str, seconds: float) -> str:
    """A PostgreSQL URL whose sessions the server ends when they sit inside an open transaction for
    ``seconds``: a worker that freezes mid-transaction (paused, its machine hung) holds no row lock for
    longer than that, so whoever takes its work over is not kept waiting. Other URLs come back unchanged."""
    if not url.startswith(("postgresql://", "postgresql+psycopg://", "postgres://")):
        return url
    from urllib.parse import quote

    opt = quote(f"-c idle_in_transaction_session_timeout={int(seconds * 1000)}", safe="")
    return f"{url}{'&' if '?' in url else '?'}options={opt}"


#: a pooled connection unused this long is pinged before it is handed out (the server may have restarted)
IDLE_PING_SECONDS = 10.0


def _ping_when_idle(engine: Engine) -> None:
    """Pessimistic disconnect handling without a round trip per transaction: a connection back from the pool
    after a pause is checked first; a dead one is replaced (``DisconnectionError`` makes the pool connect
    again). A busy worker reuses its connections within milliseconds and pings none of them."""

    @event.listens_for(engine, "connect")
    @event.listens_for(engine, "checkin")
    def _on_use(_dbapi_conn: Any, rec: Any) -> None:
        rec.info["gc_used"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_conn: Any, rec: Any, _proxy: Any) -> None:
        if time.monotonic() - rec.info.get("gc_used", 0.0) < IDLE_PING_SECONDS:
            return
        try:
            cur = dbapi_conn.cursor()
            cur.execute("SELECT 1")
            cur.close()
            dbapi_conn.rollback()
        except Exception as e:
            raise exc.DisconnectionError(f"stale pooled connection: {type(e).__name__}") from e


def migrate(engine: Engine) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # workers starting together on a fresh database: one migrates, the others wait, then find it done
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(727002)")
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


class Database:
    """One ledger database: an engine, its session factory, migrated on open."""

    def __init__(self, url: str, *, retry_seconds: float = RETRY_SECONDS) -> None:
        if url.startswith("sqlite:///"):
            Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
        self.url = url
        self.retry_seconds = retry_seconds
        self.engine = make_engine(url)
        event.listen(self.engine, "commit", _on_commit)
        self.retrying(lambda: migrate(self.engine))
        self.reader = self.engine.execution_options(gc_read_only=True)
        #: single-statement reads: on PostgreSQL in autocommit (no BEGIN and ROLLBACK round trips around them)
        self.one_reader = (
            self.reader
            if url.startswith("sqlite")
            else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.read_sessions = sessionmaker(self.reader, expire_on_commit=False)

    def session(self) -> Session:
        return self.sessions()

    def read_session(self) -> Session:
        """A session for reads only: on SQLite it does not take the write lock."""
        return self.read_sessions()

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction on a bare connection (Core statements; SQLite: ``BEGIN IMMEDIATE``)."""
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """One read-only statement on a bare connection: on SQLite it does not take the write lock, on
        PostgreSQL it runs in autocommit (each statement is its own snapshot: use a read session for more)."""
        with self.one_reader.connect() as conn:
            yield conn

    def retrying(
        self, fn: Callable[[], T], *, seconds: float | None = None, rerun_after_commit: bool = True
    ) -> T:
        """``fn()`` (one transaction), run again while the database cannot be reached, for up to ``seconds``
        (:attr:`retry_seconds` by default; 0: no wait, one more attempt only after a dropped connection).
        ``rerun_after_commit``: whether ``fn`` may run again when the connection dropped during its COMMIT
        (it may have committed). Raises :class:`DatabaseUnavailable` when the database does not come back."""
        wait = self.retry_seconds if seconds is None else seconds
        started: float | None = None
        pause, immediate = FIRST_PAUSE, True  # a dropped pooled connection is replaced at once
        while True:
            _phase.committing = False
            try:
                out = fn()
            except exc.DBAPIError as e:
                if not is_disconnect(e):
                    raise
                if _phase.committing and not rerun_after_commit:
                    raise DatabaseUnavailable(
                        "the database went away while a write was committing; whether it was saved is "
                        f"unknown: check, and do it again if it was not ({_reason(e)})"
                    ) from e
                if immediate and e.connection_invalidated:
                    immediate = False
                    continue
                immediate, now = False, time.monotonic()
                if started is None:
                    started = now
                    if wait > 0:
                        log.warning("the database does not answer (%s); waiting for it", _reason(e))
                if now - started >= wait:
                    waited = f" for {now - started:.0f} s" if wait > 0 else ""
                    raise DatabaseUnavailable(
                        f"the database did not answer{waited} ({_reason(e)}); is it running? (goldenchain doctor)"
                    ) from e
                time.sleep(min(pause, started + wait - now))
                pause = min(LONGEST_PAUSE, pause * 2)
                continue
            if started is not None and wait > 0:
                log.warning("the database answers again after %.1f s", time.monotonic() - started)
            return out

    def ping(self) -> None:
        """One round trip (``goldenchain doctor``); raises when the database cannot answer."""
        with self.read() as conn:
            conn.exec_driver_sql("select 1").scalar()

    def dispose(self) -> None:
        self.engine.dispose()


class _HasDb(Protocol):
    db: Database


S = TypeVar("S", bound=_HasDb)


def retried(
    *, rerun_after_commit: bool = True
) -> Callable[[Callable[Concatenate[S, P], T]], Callable[Concatenate[S, P], T]]:
    """A store method (one transaction) run through :meth:`Database.retrying` of its ``self.db``."""

    def wrap(fn: Callable[Concatenate[S, P], T]) -> Callable[Concatenate[S, P], T]:
        @functools.wraps(fn)
        def inner(self: S, /, *args: P.args, **kwargs: P.kwargs) -> T:
            return self.db.retrying(lambda: fn(self, *args, **kwargs), rerun_after_commit=rerun_after_commit)

        return inner

    return wrap
