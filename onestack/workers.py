"""Several serving processes on one socket, so that a busy cloud uses every core.

The parent binds the socket, forks the workers and stays their supervisor: it restarts one that
dies and, on SIGTERM or SIGINT, stops them all.  Each worker asks the kernel to kill it when the
parent goes (``PR_SET_PDEATHSIG``), so even ``kill -9`` of the parent leaves no worker behind.
Pools of connections the supervisor opened are dropped in each new worker, which opens its own
(``onestack.forksafe``): the supervisor goes on converging the cloud while it forks replacements.
"""

from __future__ import annotations

import ctypes
import logging
import os
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


def run(config: uvicorn.Config, count: int, then: Callable[[], None] | None = None) -> None:
    """Serve with ``count`` workers; ``then`` runs in this supervising process once they are forked."""
    sockets = [config.bind_socket()]
    parent = os.getpid()
    stopping = False

    def stop(signum, _frame) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    children = {_spawn(config, sockets, parent) for _ in range(count)}
    LOG.info("serving with %d workers: %s", count, sorted(children))
    if then is not None:
        then()
    while not stopping:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            time.sleep(0.2)
            continue
        children.discard(pid)
        if not stopping:
            LOG.warning("worker %d exited (status %d); starting another", pid, status)
            children.add(_spawn(config, sockets, parent))
    for pid in children:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 10
    while children and time.monotonic() < deadline:
        pid, _ = os.waitpid(-1, os.WNOHANG)
        if pid:
            children.discard(pid)
        else:
            time.sleep(0.05)
    for pid in children:
        os.kill(pid, signal.SIGKILL)
