"""Group commit: the writes of several concurrent callers committed by one transaction.

On SQLite every commit fsyncs the WAL and only one writer runs at a time, so small concurrent writes (an
object PUT's few rows) queue behind each other's fsync.  Here the first caller to find no commit under way
becomes the leader: it takes every write queued at that moment, runs each in a savepoint of its own (so one
caller's error rolls back its own rows only and is raised to that caller alone), commits once, and only then
wakes the callers, each answered with its own result.  While it commits, new writes queue for the next
leader, so the batch grows with the load and a lone write pays no wait.  A caller returns only once its rows
are durable, exactly as with its own transaction; a crash before the commit loses only writes no caller was
answered for.

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

    def run(self, work: Work) -> Any:
        """``work(session)``'s result once its writes are committed (or its error, with nothing kept)."""
        if not self.db.is_sqlite:
            with self.db.write() as session:
                return work(session)
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
            with self.db.write() as session:
                for write in batch:
                    try:
                        with session.begin_nested():
                            write.result = write.work(session)
                    except Exception as exc:  # that caller's own failure: its savepoint is rolled back
                        write.error = exc
                    # the next write reads the database, not objects this one left in the session (its
                    # results stay loaded, detached, as from a session of their own)
                    session.expunge_all()
        except BaseException as exc:  # the commit itself failed: no write of the batch was kept
            for write in batch:
                write.error = write.error or exc
        finally:
            for write in batch:
                write.done = True
