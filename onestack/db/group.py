"""Group commit: the writes of several concurrent callers committed by one transaction.

On SQLite every commit fsyncs the WAL and only one writer runs at a time, so small concurrent writes (an
object PUT's few rows) queue behind each other's fsync.  Here the first caller to find no commit under way
becomes the leader: it takes every write queued at that moment, runs each in a savepoint of its own (so one
caller's error rolls back its own rows only and is raised to that caller alone), commits once, and only then
wakes the callers, each answered with its own result.  While it commits, new writes queue for the next
leader, so the batch grows with the load and a lone write pays no wait.  A caller returns only once its rows
are durable, exactly as with its own transaction; a crash before the commit loses only writes no caller was
answered for.

A batch is first run without savepoints (two statements less for each write, and the writes nearly always
succeed); if one of them fails, the whole transaction is rolled back, that caller gets its error, and the
others are run again, this time each in a savepoint of its own, so a batch is run at most twice.

Counters several writes of a batch move (a container's object count, say) can be summed and written once, just
before the commit: ``add`` (see there).

On PostgreSQL each write keeps its own transaction: the server commits concurrent transactions side by side
(and groups their WAL flushes itself), and one transaction locking the rows of several callers, in whatever
order they came, could deadlock with another process's.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from onestack.db.engine import Database

Work = Callable[[Session], Any]
TALLIES = "onestack.group.tallies"  # session.info: (statement, key) -> amounts added by the write under way


class _Again(Exception):
    """A write of an optimistic pass failed: the pass is rolled back and the batch run again."""


class _Write:
    __slots__ = ("work", "done", "result", "error")

    def __init__(self, work: Work):
        self.work = work
        self.done = False
        self.result: Any = None
        self.error: BaseException | None = None

    def outcome(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.result


class GroupCommit:
    def __init__(self, db: Database, most: int = 64):
        """``most``: the writes one transaction takes at most (the rest wait for the next)."""
        self.db = db
        self.most = most
        self._cond = threading.Condition()
        self._queue: list[_Write] = []
        self._leading = False

    @staticmethod
    def add(session: Session, statement, key: dict[str, Any], amounts: dict[str, int]) -> None:
        """Have ``statement`` (an UPDATE adding its bound ``amounts`` to counters of the row ``key`` names) run
        once for this transaction, just before it commits, with every write's amounts for that row summed:
        one statement for a batch instead of one per write.  Only for counters that no write of the batch
        reads (a quota check must read them up to date: its writes update them at once instead).  A write that
        fails adds nothing.  Only inside ``run``'s work."""
        tallies = session.info[TALLIES]
        found = tallies.setdefault((statement, tuple(sorted(key.items()))), dict.fromkeys(amounts, 0))
        for name, amount in amounts.items():
            found[name] += amount

    def run(self, work: Work) -> Any:
        """``work(session)``'s result once its writes are committed (or its error, with nothing kept)."""
        if not self.db.is_sqlite:
            with self.db.write() as session:
                session.info[TALLIES] = {}
                result = work(session)
                _apply(session, [session.info.pop(TALLIES)])
                return result
        write = _Write(work)
        with self._cond:
            self._queue.append(write)
        while True:  # a leader whose write was past the batch's ``most`` leads the next one too
            with self._cond:
                while not write.done and self._leading:
                    self._cond.wait()
                if write.done:
                    return write.outcome()
                self._leading = True
                batch, self._queue = self._queue[:self.most], self._queue[self.most:]
            try:
                self._commit(batch)
            finally:
                with self._cond:
                    self._leading = False
                    self._cond.notify_all()

    def _commit(self, batch: list[_Write]) -> None:
        try:
            try:
                self._transaction(batch, careful=False)
            except _Again:  # one write failed (its error kept): the others again, each in a savepoint
                self._transaction([w for w in batch if w.error is None], careful=True)
        except BaseException as exc:  # the commit itself failed: no write of the batch was kept
            for write in batch:
                write.error = write.error or exc
        finally:
            for write in batch:
                write.done = True

    def _transaction(self, batch: list[_Write], careful: bool) -> None:
        """The batch's writes in one transaction, committed; without ``careful`` (no savepoints) the first
        write to fail rolls the whole of it back (``_Again``)."""
        with self.db.write() as session:
            kept: list[dict] = []
            for write in batch:
                session.info[TALLIES] = {}
                try:
                    if careful:
                        with session.begin_nested():
                            write.result = write.work(session)
                    else:
                        write.result = write.work(session)
                        session.flush()  # (what leaving a savepoint does): its ORM changes are written now
                    kept.append(session.info[TALLIES])
                except Exception as exc:  # that caller's own failure: its savepoint (or the pass) rolled back
                    write.error = exc
                    if not careful:
                        raise _Again() from exc
                # the next write reads the database, not objects this one left in the session (its
                # results stay loaded, detached, as from a session of their own)
                session.expunge_all()
            _apply(session, kept)


def _apply(session: Session, kept: list[dict]) -> None:
    """The summed amounts of ``add``, one statement for each row, in the order the rows were first named
    (the order a write alone would have taken their locks in)."""
    totals: dict = {}
    for tallies in kept:
        for (statement, key), amounts in tallies.items():
            found = totals.setdefault((statement, key), dict.fromkeys(amounts, 0))
            for name, amount in amounts.items():
                found[name] += amount
    if totals:
        conn = session.connection()
        for (statement, key), amounts in totals.items():
            conn.execute(statement, {**dict(key), **amounts})
