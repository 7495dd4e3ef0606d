"""Serving in the foreground: migrate, seed, write client files, run uvicorn."""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import sys

import uvicorn

from onestack import bootstrap, memstats, memtrace, redact, registry, tls, workers
from onestack.app import build
from onestack.config import Settings
from onestack.daemon import pid_path, running_pid, stop_when_disowned
from onestack.db.migrate import upgrade
from onestack.runtime import Runtime
from onestack.seedsecrets import FirstHashes
from onestack.serving import Server
from onestack.sideservers import SideServers

M_ARENA_MAX = -8  # glibc's mallopt parameter


def fewer_malloc_arenas() -> None:
    """At most two glibc malloc arenas, as ``MALLOC_ARENA_MAX=2`` would.  Each of the many threads that run
    handlers otherwise gets an arena of its own, whose freed memory is fragmented and seldom returned: under
    `make load` RSS grew 10.6% between the first and the fifth minute with the Python heap steady (tracemalloc),
    and 1.7% with two arenas, at the same latencies."""
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to do
        ctypes.CDLL("libc.so.6").mallopt(M_ARENA_MAX, 2)


def prepare(settings: Settings, *, user_clouds: bool, early: FirstHashes | None = None) -> Runtime:
    """Migrate, seed and write client files; the returned runtime is ready to serve.  ``early``: the first
    start's password hashes, begun before this module was imported (``serve.run``)."""
    fewer_malloc_arenas()  # before any thread starts
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    if settings.tls.enabled:
        # before the services start: their clients of the cloud's own HTTPS URLs trust its CA
        tls.trust_in_process(settings, tls.ensure(settings))
    runtime = Runtime(settings)
    upgrade(runtime.db, registry.METADATA)  # a new database is made at head, an older one migrated
    found = bootstrap.seed(runtime, early)
    runtime.image.reconcile()
    bootstrap.write_client_files(settings, found, bootstrap.user_clouds_path() if user_clouds else None)
    return runtime


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s",
                        stream=sys.stderr)
    redact.install()  # no secret a message quotes (a signed URL, a header) reaches the log


def serving_tls(settings: Settings) -> dict:
    """uvicorn's options for HTTPS when ``tls.enabled`` (the files ``prepare`` made), else none."""
    return tls.uvicorn_options(tls.files(settings)) if settings.tls.enabled else {}


def serve(settings: Settings, runtime: Runtime) -> None:
    side = SideServers(runtime)

    def start_host() -> None:
        runtime.start()
        side.start()

    try:
        config = uvicorn.Config(build(runtime), host=settings.host, port=settings.port, log_config=None,
                                access_log=False, loop="auto", http="auto", lifespan="off",
                                server_header=False, timeout_keep_alive=30, **serving_tls(settings))
        # Bound before the pid file names this process: ``up --detach`` believes an answer on the port only
        # once it does, so another server already there (it makes this bind fail) is never taken for this one.
        sockets = [config.bind_socket()]
        pid_path(settings.data_dir).write_text(str(os.getpid()))
        stop_when_disowned(settings.data_dir)
        memtrace.start_if_asked(settings.data_dir)  # ONESTACK_TRACEMALLOC: leak hunting under load
        memstats.start_if_asked(settings.data_dir)  # ONESTACK_MEMSTATS: what the memory is made of, under load
        if settings.workers > 1:
            # The serving processes take requests; this one supervises them and converges the compute hosts.
            workers.run(config, sockets, settings.workers, then=start_host)
        else:
            start_host()
            Server(config).run(sockets=sockets)
    finally:
        side.stop()
        runtime.stop()
        runtime.close()
        if running_pid(settings.data_dir) in (os.getpid(), None):
            pid_path(settings.data_dir).unlink(missing_ok=True)
