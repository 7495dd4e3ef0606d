"""Level-triggered reconcile loops: a queue of keys, never events.

A key says "look at this object again"; the handler re-reads the object and does whatever makes
the world match it, so a lost or repeated wake-up costs nothing.  A key queued while it is being
handled is handled once more afterwards; a handler that fails is retried with backoff; and a
periodic resync queues every key that still needs work, which is what recovers after a crash.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable

LOG = logging.getLogger("onestack.reconcile")
# how long a stopping loop waits for its busy handlers, all together (a wait per thread added up to more
# than a joined host's 30 s to stop when several were busy)
STOP_GRACE = 5.0


class KeyedQueue:
    """FIFO of distinct keys; a key already waiting is not queued twice."""

    def __init__(self):
        self._order: list[str] = []
        self._waiting: set[str] = set()
        self._busy: set[str] = set()
        self._again: set[str] = set()
        self._delayed: dict[str, float] = {}
        self._cond = threading.Condition()
        self._closed = False

    def put(self, key: str, delay: float = 0.0) -> None:
        with self._cond:
            if delay > 0:
                due = time.monotonic() + delay
                self._delayed[key] = min(due, self._delayed.get(key, due))
            elif key in self._busy:
                self._again.add(key)
            elif key not in self._waiting:
                self._waiting.add(key)
                self._order.append(key)
            self._cond.notify()

    def get(self, timeout: float) -> str | None:
        """The next key to handle (marked busy until ``done``), or None after ``timeout`` or once closed."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not self._closed:
                self._promote_due()
                if self._order:
                    key = self._order.pop(0)
                    self._waiting.discard(key)
                    self._busy.add(key)
                    return key
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                # a busy key's turn comes at its ``done`` (which wakes the waiters), not before: counting
                # it here would make every idle worker spin while a long step runs
                next_due = min((due for key, due in self._delayed.items() if key not in self._busy),
                               default=None)
                wait = left if next_due is None else max(0.0, min(left, next_due - time.monotonic()))
                self._cond.wait(wait)
            return None

    def close(self) -> None:
        """Wake every waiting ``get`` with None, now and from now on (a stopping loop's workers end at once)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def done(self, key: str) -> None:
        with self._cond:
            self._busy.discard(key)
            if key in self._delayed:
                self._cond.notify()  # a delay that ran out while the key was busy is due now
            if key in self._again:
                self._again.discard(key)
                if key not in self._waiting:
                    self._waiting.add(key)
                    self._order.append(key)
                    self._cond.notify()

    def _promote_due(self) -> None:
        now = time.monotonic()
        for key, due in list(self._delayed.items()):
            if due <= now and key not in self._busy:
                del self._delayed[key]
                if key not in self._waiting:
                    self._waiting.add(key)
                    self._order.append(key)

    def __len__(self) -> int:
        with self._cond:
            return len(self._order) + len(self._busy)


class Loop:
    """``workers`` threads handling keys from one queue; ``resync`` lists the keys that need work.  ``queue``:
    one the loop's owner hands keys to without knowing the loop (a service waking its reconciler)."""

    def __init__(self, name: str, handle: Callable[[str], float | None], resync: Callable[[], Iterable[str]],
                 workers: int = 4, resync_every: float = 1.0, max_backoff: float = 30.0,
                 queue: KeyedQueue | None = None):
        self.name = name
        self.queue = queue if queue is not None else KeyedQueue()
        self._handle = handle
        self._resync = resync
        self._workers = workers
        self._resync_every = resync_every
        self._max_backoff = max_backoff
        self._failures: dict[str, int] = {}
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for i in range(self._workers):
            thread = threading.Thread(target=self._work, name=f"{self.name}-{i}", daemon=True)
            thread.start()
            self._threads.append(thread)
        resync = threading.Thread(target=self._resync_forever, name=f"{self.name}-resync", daemon=True)
        resync.start()
        self._threads.append(resync)

    def stop(self, grace: float = STOP_GRACE) -> None:
        """Stop taking keys and wait at most ``grace`` seconds in all for the handlers under way (the
        threads are daemons: one still busy after that ends with the process)."""
        self._stop.set()
        self.queue.close()
        deadline = time.monotonic() + grace
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))

    def wake(self, key: str) -> None:
        self.queue.put(key)

    def _resync_forever(self) -> None:
        while not self._stop.is_set():
            try:
                for key in self._resync():
                    self.queue.put(key)
            except Exception:  # noqa: BLE001 - a failed resync is retried at the next tick
                LOG.exception("%s: resync failed", self.name)
            self._stop.wait(self._resync_every)

    def _work(self) -> None:
        while not self._stop.is_set():
            key = self.queue.get(timeout=0.5)
            if key is None:
                continue
            try:
                again = self._handle(key)
                self._failures.pop(key, None)
            except Exception:  # noqa: BLE001 - temporary by contract: retried with backoff
                count = self._failures.get(key, 0) + 1
                self._failures[key] = count
                again = min(self._max_backoff, 0.1 * 2 ** count)
                LOG.exception("%s: %s failed (attempt %d), retrying in %.1fs", self.name, key, count, again)
            finally:
                self.queue.done(key)
            if again is not None:
                self.queue.put(key, delay=again)
