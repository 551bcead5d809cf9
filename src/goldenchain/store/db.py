"""Engine factory: SQLite in WAL mode (one writer at a time, ``BEGIN IMMEDIATE``) or PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, exc
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"


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

    def __init__(self, url: str) -> None:
        if url.startswith("sqlite:///"):
            Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
        self.url = url
        self.engine = make_engine(url)
        migrate(self.engine)
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

    def ping(self) -> None:
        """One round trip (``goldenchain doctor``); raises when the database cannot answer."""
        with self.read() as conn:
            conn.exec_driver_sql("select 1").scalar()

    def dispose(self) -> None:
        self.engine.dispose()
