"""Transactions for identity, and the revision that keeps every cache honest.

Every identity write goes through ``Transactions.write``: it bumps one
counter row in the same transaction.  Caches (validated tokens, the catalog,
role trees) are keyed by that counter: the process that wrote drops them at
once, other processes sharing the database notice within ``poll_seconds``: ``POLL_SECONDS`` when one
process serves the API (the others, joined hosts and the CLI, write identity rarely), none with several
serving workers, where a client's next request may reach another worker and must see what it just wrote
(the revision is then one single-row read a request).
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Iterator

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from onestack.db.engine import Database
from onestack.services.identity.models import Revision

POLL_SECONDS = 1.0


class Transactions:
    def __init__(self, db: Database, poll_seconds: float = POLL_SECONDS):
        self.db = db
        self.poll_seconds = poll_seconds
        self._lock = threading.Lock()
        self._revision = -1
        # -inf, not 0: time.monotonic() counts from boot, so 0 reads as checked on a machine up for less
        # than poll_seconds
        self._checked = -math.inf

    @contextlib.contextmanager
    def write(self) -> Iterator[Session]:
        with self.db.write() as session:
            yield session
            session.execute(update(Revision).where(Revision.id == 1).values(value=Revision.value + 1))
        with self._lock:
            self._checked = -math.inf

    def read(self):
        return self.db.read()

    def fresh_revision(self) -> int | None:
        """The revision if it is known to be current without asking the database, else None."""
        if time.monotonic() - self._checked >= self.poll_seconds:
            return None
        return self._revision

    def revision(self) -> int:
        """The database revision, re-read when our writes or time say it may have moved."""
        now = time.monotonic()
        if now - self._checked >= self.poll_seconds:
            with self.db.engine.connect() as conn:
                value = conn.execute(select(Revision.value).where(Revision.id == 1)).scalar_one_or_none()
                conn.rollback()
            with self._lock:
                self._revision = value if value is not None else 0
                self._checked = now
        return self._revision
