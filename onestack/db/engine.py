"""Engine and transactions.

SQLite gets WAL with a synchronous (fsynced) commit and one writer at a time
(``WriterLock``: Tempest runs tests in parallel and SQLite answers "database
is locked" otherwise); PostgreSQL needs neither, and keeps its own defaults
(fsync on, synchronous_commit on).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

from sqlalchemy import create_engine, event, exc
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from onestack.forksafe import renew_in_children

LOG = logging.getLogger("onestack.db")
T = TypeVar("T")
# How many times a read-modify-write that lost the race on a versioned row is run again.  Each loss means
# another writer committed a change to that row meanwhile; five in a row only under a storm of writers.
CONFLICT_ATTEMPTS = 5
# Seconds a pooled PostgreSQL connection may sit unused before it is checked (a round trip) as it is lent
# again.  A connection in steady use is not checked: were the server restarted under it, the statement fails
# and SQLAlchemy then marks every connection of the pool taken before as dead, so each is opened afresh at
# its next checkout.  Checking on every checkout (``pool_pre_ping``) cost a round trip per transaction.
IDLE_BEFORE_PING = 10.0


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
            kwargs.update(pool_size=10, max_overflow=20)
        self.engine: Engine = create_engine(url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "begin", _sqlite_begin)
        else:
            event.listen(self.engine, "checkin", _note_return)
            event.listen(self.engine, "checkout", self._ping_if_idle)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # PostgreSQL reads without BEGIN and ROLLBACK: at READ COMMITTED each statement reads its own snapshot
        # anyway, so a read session's statements see the same whether or not a transaction wraps them, and two
        # round trips (and the server's work for them) are saved per read.  Read sessions take no locks (those
        # are the write transactions'), which a statement on its own would drop at once.
        self._reads = self._sessions if self.is_sqlite else sessionmaker(
            self.engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False)
        self._write_lock = WriterLock(self.engine.url.database) if self.is_sqlite else contextlib.nullcontext()
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

    def write_retrying(self, work: Callable[[Session], T], attempts: int = CONFLICT_ATTEMPTS) -> T:
        """``work(session)`` in one write transaction, run again from the start when another transaction
        changed a versioned row it changes (``version_id_col``: the network's ``revision_number``) between
        its read and its write.  SQLAlchemy's UPDATE then matches no row (``WHERE revision_number = <read>``)
        and raises ``StaleDataError``: the transaction is rolled back whole, and the next try reads the rows
        as the winner left them and decides again, so neither change is lost.  ``work`` must only touch the
        database (it may run more than once).  On SQLite a write transaction holds the one write lock from
        its first read, so no conflict arises there; on PostgreSQL (several hosts, READ COMMITTED) it does.
        The last conflict is raised when every try lost."""
        for attempt in range(1, attempts):
            try:
                with self.write() as session:
                    return work(session)
            except StaleDataError as exc:
                LOG.info("a concurrent change to the same row won (%s); running the change again (try %d)",
                         exc, attempt + 1)
        with self.write() as session:  # the last try: its conflict is the caller's
            return work(session)

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; closing it ends its transaction and detaches what it loaded."""
        with self._reads() as session:
            yield session

    def read_one(self, stmt, params: dict | None = None):
        """The first row (a Core ``Row``) of one read-only statement, or None.  The statement is its own read
        transaction (no ``BEGIN`` around it: one statement reads one snapshot anyway), which saves a round of
        the driver on the hot read paths."""
        options = {"single_statement": True} if self.is_sqlite else {"isolation_level": "AUTOCOMMIT"}
        with self.engine.connect().execution_options(**options) as conn:
            return conn.execute(stmt, params or {}).first()

    def listen(self, name: str, handler) -> None:
        """A SQLAlchemy session event (``after_commit``...) on every session of this database."""
        event.listen(self._sessions, name, handler)
        if self._reads is not self._sessions:
            event.listen(self._reads, name, handler)

    def dispose(self) -> None:
        self.engine.dispose()

    def _ping_if_idle(self, dbapi_conn, record, _proxy) -> None:
        """A connection that sat in the pool longer than ``IDLE_BEFORE_PING`` is checked before it is lent: the
        server may have closed it meanwhile (a restart, an idle timeout).  A dead one is replaced (the pool
        takes ``DisconnectionError`` to mean: open another)."""
        returned = record.info.get("returned")
        if returned is None or time.monotonic() - returned < IDLE_BEFORE_PING:
            return
        try:
            self.engine.dialect.do_ping(dbapi_conn)
        except Exception as error:  # whatever the driver raises: this connection is of no use
            raise exc.DisconnectionError(f"the pooled connection was closed while idle: {error}") from error


class WriterLock:
    """SQLite's one writer at a time, taken before ``BEGIN IMMEDIATE``: among this process's threads, and with
    several processes on one file (API workers) among them too, by ``flock`` on ``<database>.writer``.

    Without the file lock a process that finds another's write under way waits in SQLite's busy handler,
    which sleeps and looks again (after 1, 2, 5, 10... up to 100 ms): with two workers writing without pause
    a write waited up to a second (the 99th percentile of 4 KiB object PUTs) while the lock lay free.  A
    process waiting in ``flock`` is woken as the holder lets go."""

    def __init__(self, database: str | None):
        self._threads = threading.Lock()
        in_memory = database in (None, "", ":memory:")  # one connection's own database: no other process
        self._path = None if in_memory else f"{database}.writer"
        self._fd: int | None = None
        self._pid = 0

    def __enter__(self) -> None:
        self._threads.acquire()
        if self._path is None:
            return
        try:
            fcntl.flock(self._own_fd(), fcntl.LOCK_EX)
        except BaseException:
            self._threads.release()
            raise

    def __exit__(self, *_exc) -> None:
        try:
            if self._path is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()

    def _own_fd(self) -> int:
        """This process's own open file: a forked child shares its parent's, and with it the parent's lock."""
        if self._pid != os.getpid():
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._pid = os.getpid()
        return self._fd


def _note_return(_dbapi_conn, record) -> None:
    record.info["returned"] = time.monotonic()


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
