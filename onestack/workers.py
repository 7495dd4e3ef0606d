"""Several serving processes on one socket, so that a busy cloud uses every core.

The parent holds the bound socket, forks the workers and stays their supervisor: it restarts one that
dies and, on SIGTERM or SIGINT, stops them all.  Each worker asks the kernel to kill it when the
parent goes (``PR_SET_PDEATHSIG``), so even ``kill -9`` of the parent leaves no worker behind.
Pools of connections the supervisor opened are dropped in each new worker, which opens its own
(``onestack.forksafe``): the supervisor goes on converging the cloud while it forks replacements.
"""

from __future__ import annotations

import ctypes
import logging
import os
import select
import signal
import time
from collections.abc import Callable

import uvicorn

from onestack.serving import Server

LOG = logging.getLogger("onestack.workers")
PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def _spawn(config: uvicorn.Config, sockets: list, parent: int) -> int:
    pid = os.fork()
    if pid:
        return pid
    code = 0
    try:
        _die_with_parent(parent)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        Server(config).run(sockets=sockets)
    except BaseException:  # noqa: BLE001 - a worker reports and exits, whatever happened
        LOG.exception("worker %d failed", os.getpid())
        code = 1
    os._exit(code)


def _reap(pid: int) -> int | None:
    """The exit status of worker ``pid`` once it has ended (the zombie reaped), else None.

    Only ever by pid: this process also has children that are not workers (``qemu-img``, QEMU, dnsmasq,
    started by the engine ``then`` runs), and ``waitpid(-1)`` would take their exit from whoever waits for
    them (their status read as 0) and count each as a worker lost (a worker too many started)."""
    try:
        reaped, status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:  # already reaped (cannot happen when nobody else waits for our workers)
        return 0
    return status if reaped else None


def _wait_for_one(pidfds: dict[int, int], timeout: float) -> list[int]:
    """The workers that have ended within ``timeout`` seconds, woken by their pidfds rather than polling."""
    try:
        ready, _, _ = select.select(list(pidfds.values()), [], [], timeout)
    except InterruptedError:  # a signal (SIGTERM): the caller looks at why
        return []
    return [pid for pid, fd in pidfds.items() if fd in ready]


def run(config: uvicorn.Config, sockets: list, count: int, then: Callable[[], None] | None = None) -> None:
    """Serve on ``sockets`` (bound by the caller) with ``count`` workers; ``then`` runs in this supervising
    process once they are forked."""
    parent = os.getpid()
    stopping = False

    def stop(signum, _frame) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    pidfds: dict[int, int] = {}  # worker pid -> its pidfd, readable once it has ended

    def start_one() -> None:
        pid = _spawn(config, sockets, parent)
        pidfds[pid] = os.pidfd_open(pid)

    for _ in range(count):
        start_one()
    LOG.info("serving with %d workers: %s", count, sorted(pidfds))
    if then is not None:
        then()
    try:
        while not stopping:
            for pid in _wait_for_one(pidfds, 0.5):
                status = _reap(pid)
                if status is None:
                    continue
                os.close(pidfds.pop(pid))
                if not stopping:
                    LOG.warning("worker %d exited (status %d); starting another", pid, status)
                    start_one()
    finally:
        _stop_all(pidfds)


def _stop_all(pidfds: dict[int, int]) -> None:
    """SIGTERM every worker, give them 10 s to finish their requests, then SIGKILL those left."""
    for pid in pidfds:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 10
    while pidfds and time.monotonic() < deadline:
        for pid in _wait_for_one(pidfds, max(0.0, deadline - time.monotonic())):
            if _reap(pid) is not None:
                os.close(pidfds.pop(pid))
    for pid, fd in pidfds.items():
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(fd)
    pidfds.clear()
