"""Engine and transactions.

SQLite gets WAL with a synchronous (fsynced) commit and one writer at a time
inside the process (Tempest runs tests in parallel and SQLite answers
"database is locked" otherwise); PostgreSQL needs neither, and keeps its own
defaults (fsync on, synchronous_commit on).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from onestack.forksafe import renew_in_children


def normalise_url(url: str) -> str:
    """``postgresql://`` means psycopg 3 here, the driver onestack ships with (SQLAlchemy would pick psycopg2)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class Database:
    def __init__(self, url: str):
        url = normalise_url(url)
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict = {"future": True}
        if self.is_sqlite:
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
            # as many pooled connections as requests in flight (the server's worker threads): past the pool's
            # size each checkout opens a new connection, running the pragmas again, and closes it after
            kwargs.update(pool_size=16, max_overflow=48)
        else:
            kwargs.update(pool_size=10, max_overflow=20, pool_pre_ping=True)
        self.engine: Engine = create_engine(url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "begin", _sqlite_begin)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._write_lock = threading.Lock() if self.is_sqlite else contextlib.nullcontext()
        # the parent's pooled connections stay the parent's (psycopg does not close them when collected here)
        renew_in_children(self, lambda db: db.engine.dispose(close=False))

    @contextlib.contextmanager
    def write(self) -> Iterator[Session]:
        """One transaction that may write; committed on success, rolled back on error."""
        with self._write_lock, self._sessions() as session, session.begin():
            if self.is_sqlite:
                # BEGIN IMMEDIATE: other processes' writers wait for the lock at the start instead
                # of failing when a read transaction later tries to write.
                session.connection(execution_options={"sqlite_immediate": True})
            yield session

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; closing it ends its transaction and detaches what it loaded."""
        with self._sessions() as session:
            yield session

    def read_one(self, stmt, params: dict | None = None):
        """The first row (a Core ``Row``) of one read-only statement, or None.  On SQLite the statement is
        its own read transaction (no ``BEGIN`` around it: one statement reads one snapshot anyway), which
        saves a round of the driver on the hot read paths."""
        with self.engine.connect().execution_options(single_statement=True) as conn:
            return conn.execute(stmt, params or {}).first()

    def listen(self, name: str, handler) -> None:
        """A SQLAlchemy session event (``after_commit``...) on every session of this database."""
        event.listen(self._sessions, name, handler)

    def dispose(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    # The driver's own transaction handling is switched off so that BEGIN is ours.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    # FULL: the WAL is fsynced at every commit, so a write the API acknowledged survives a power cut. NORMAL
    # would fsync only at checkpoints, losing the last commits (never the file's consistency) when the power
    # goes; a commit costs a few milliseconds more on a disk (docs/operations.md#durability has the figures).
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    # LIKE is case-sensitive on PostgreSQL; make SQLite agree so `__contains` filters mean the same on both.
    cur.execute("PRAGMA case_sensitive_like=ON")
    cur.close()


def _sqlite_begin(conn) -> None:
    options = conn.get_execution_options()
    if options.get("single_statement"):
        return  # autocommit: the driver's isolation_level is None, so the statement runs in its own transaction
    conn.exec_driver_sql("BEGIN IMMEDIATE" if options.get("sqlite_immediate") else "BEGIN")
