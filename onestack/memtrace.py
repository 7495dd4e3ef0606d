"""Where a serving process's memory grows, for hunting a leak under load (``bench/sustained.py --tracemalloc``).

With ``ONESTACK_TRACEMALLOC=SECONDS`` in its environment the server traces its allocations (``tracemalloc``,
10 frames) and, every SECONDS, writes to ``tracemalloc-<pid>.txt`` in the data dir the 25 places whose
memory grew most since the first snapshot (taken SECONDS after the start, once caches have filled).  Each
worker forked later traces and writes its own.  Tracing slows the server several times over: for diagnosis,
never for figures.
"""

from __future__ import annotations

import linecache
import os
import threading
import time
import tracemalloc
from pathlib import Path

from onestack.watching import watch_if_asked

FRAMES = 10
TOP = 25


def start_if_asked(data_dir: Path) -> None:
    watch_if_asked("ONESTACK_TRACEMALLOC", lambda every: _watch(data_dir, every), before=lambda: tracemalloc.start(FRAMES))


def _snapshot() -> tracemalloc.Snapshot:
    # not what this module's own reports allocate (the source lines linecache reads to print them)
    return tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(False, linecache.__file__),
                                                      tracemalloc.Filter(False, tracemalloc.__file__)])


def _watch(data_dir: Path, every: float) -> None:
    def run() -> None:
        time.sleep(every)
        first = _snapshot()
        while True:
            time.sleep(every)
            now = _snapshot()
            grown = now.compare_to(first, "traceback")[:TOP]
            current, peak = tracemalloc.get_traced_memory()
            lines = [f"pid {os.getpid()}: traced {current / 1e6:.1f} MB (peak {peak / 1e6:.1f} MB); "
                     f"growth since the first snapshot, largest first"]
            for stat in grown:
                lines.append(f"{stat.size_diff / 1024:+.1f} KiB in {stat.count_diff:+d} blocks")
                lines.extend(f"    {line}" for line in stat.traceback.format()[-2 * FRAMES:])
            (data_dir / f"tracemalloc-{os.getpid()}.txt").write_text("\n".join(lines) + "\n")

    threading.Thread(target=run, name="memtrace", daemon=True).start()
