"""The serving process.  ``onestack up`` runs it in the foreground in the CLI's own process; ``up --detach``
starts it apart as ``python -m onestack.serve DATA_DIR [--no-user-clouds]``, a process that needs none of
the CLI's libraries (typer, rich) and so does not import them: they would cost its start a tenth of a
second and its memory for as long as it serves.
"""

from __future__ import annotations

import gc
import sys
from pathlib import Path

from onestack import config
from onestack.seedsecrets import FirstHashes


def run(settings: config.Settings, *, user_clouds: bool) -> None:
    """Migrate or make the database, seed, serve until stopped."""
    early = FirstHashes.begin(settings)  # a first start's bcrypt hashing, beside the import
    server = _import_server()
    server.configure_logging(settings.log_level)
    runtime = server.prepare(settings, user_clouds=user_clouds, early=early)
    server.serve(settings, runtime)


def _import_server():
    """The whole application.  Its import makes some 150,000 tracked objects that live as long as the process:
    the collector, run during it, would only walk them over and over (a tenth of the import's time), and
    frozen afterwards they stay out of every later collection."""
    # httpx imports its command-line tool (click, rich, pygments: 6 MB) when they are installed; a None
    # here makes that import fail, and httpx then goes without its `main`, which onestack never runs.
    sys.modules.setdefault("httpx._main", None)
    gc.disable()
    try:
        from onestack import server
    finally:
        gc.enable()
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION_EVERY, 10, 10)
    return server


# A request answering a thousand allocation candidates or servers makes tens of thousands of containers that
# die with it.  At Python's 700 the young collection ran ten times such a request and promoted what the
# request still held, and the promotions called a full collection (30-50 ms over the placement tree and the
# caches) every dozen requests: that was the p99 of placement at 1,000 providers (docs/benchmarks.md).  At
# 10,000 reference counting frees a request's objects before the collector sees them; a young collection
# still finds cycles after 10,000 more live containers, a few MB at most.
YOUNG_COLLECTION_EVERY = 10_000


def main(argv: list[str]) -> None:
    """``python -m onestack.serve DATA_DIR [--no-user-clouds]``: the settings the CLI saved in the data dir."""
    run(config.load(Path(argv[0])), user_clouds="--no-user-clouds" not in argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
