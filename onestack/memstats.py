"""What a serving process's memory is made of, sampled as it serves, for telling a leak from caches filling
(``bench/sustained.py --memstats``).

With ``ONESTACK_MEMSTATS=SECONDS`` in its environment the server appends, every SECONDS, one JSON line to
``memstats-<pid>.jsonl`` in the data dir: its RSS and anonymous memory (``/proc``), glibc's heap (``mallinfo2``:
in use, free but kept, mapped), SQLite's own memory (``sqlite3_memory_used``, outside the Python heap, and per
open connection its page cache, parsed schema and prepared statements), the Python heap's object count, the
object types whose count grew most since the first sample, and the sizes of the caches that fill as requests
come (SQLAlchemy's compiled statements per engine, the token cache).  Unlike ``ONESTACK_TRACEMALLOC`` it does
not slow the server (a sample costs tens of milliseconds), and it sees the memory C libraries allocate.
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import gc
import json
import os
import sqlite3
import sys
import threading
import time
from pathlib import Path

from onestack.watching import watch_if_asked

TOP_TYPES = 12
# sqlite3_db_status() verbs: a connection's page cache, parsed schema, prepared statements (bytes)
DBSTATUS = {"cache": 1, "schema": 2, "statements": 3}


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]


def start_if_asked(data_dir: Path) -> None:
    watch_if_asked("ONESTACK_MEMSTATS", lambda every: _watch(data_dir, every))


def _watch(data_dir: Path, every: float) -> None:
    def run() -> None:
        started, first = time.monotonic(), None
        path = data_dir / f"memstats-{os.getpid()}.jsonl"
        while True:
            time.sleep(every)
            counts = _type_counts()
            first = first or counts
            grown = sorted(((n - first.get(t, 0), t) for t, n in counts.items()), reverse=True)[:TOP_TYPES]
            line = {"t": round(time.monotonic() - started, 1), **sample(),
                    "types_grown": {t: n for n, t in grown if n > 0}}
            with path.open("a") as fh:
                fh.write(json.dumps(line) + "\n")

    threading.Thread(target=run, name="memstats", daemon=True).start()


def sample() -> dict:
    """One reading of every figure (see the module's doc); kB unless named otherwise."""
    found: dict = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "Threads"):
            found[key] = int(value.split()[0])
    found["malloc"] = _malloc()
    found["sqlite"] = _sqlite()
    found["py_blocks"] = sys.getallocatedblocks()
    found["caches"] = _caches()
    return found


def _malloc() -> dict:
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = _MallInfo2
        info = libc.mallinfo2()
        return {"in_use": info.uordblks // 1024, "free_kept": info.fordblks // 1024, "mapped": info.hblkhd // 1024}
    return {}


def _libsqlite():
    lib = ctypes.CDLL("libsqlite3.so.0")
    lib.sqlite3_memory_used.restype = ctypes.c_int64
    return lib


def _sqlite() -> dict:
    """SQLite's memory: all of it, and what the open connections' caches hold (sum over connections)."""
    try:
        lib = _libsqlite()
    except OSError:
        return {}
    found = {"used": lib.sqlite3_memory_used() // 1024, "connections": 0, **{k: 0 for k in DBSTATUS},
             "statements_each": []}
    for conn in _connections():
        found["connections"] += 1
        for key, verb in DBSTATUS.items():
            found[key] += db_status(lib, conn, verb) // 1024
        found["statements_each"].append(db_status(lib, conn, DBSTATUS["statements"]) // 1024)
    found["statements_each"].sort(reverse=True)
    return found


def _connections() -> list[sqlite3.Connection]:
    return [o for o in gc.get_objects() if type(o) is sqlite3.Connection]


def db_status(lib, conn: sqlite3.Connection, verb: int) -> int:
    """``sqlite3_db_status(db, verb)``'s current value for an open connection, in bytes.  The ``sqlite3*``
    handle is the first field after the object header of CPython's connection object (3.11-3.13)."""
    handle = ctypes.c_void_p.from_address(id(conn) + object.__basicsize__).value
    if not handle:  # closed
        return 0
    current, highest = ctypes.c_int(), ctypes.c_int()
    lib.sqlite3_db_status(ctypes.c_void_p(handle), verb, ctypes.byref(current), ctypes.byref(highest), 0)
    return current.value


def _caches() -> dict:
    from sqlalchemy.engine import Engine  # noqa: PLC0415 - only when sampling

    found = {}
    for obj in gc.get_objects():
        if isinstance(obj, Engine) and getattr(obj, "_compiled_cache", None) is not None:
            found[f"sqlalchemy_compiled:{obj.url.drivername}:{id(obj):x}"] = len(obj._compiled_cache)
        elif type(obj).__name__ == "TokenService" and isinstance(getattr(obj, "_cache", None), dict):
            found["tokens"] = len(obj._cache)
        elif type(obj).__name__ == "RenderedBodies" and isinstance(getattr(obj, "_bodies", None), dict):
            bodies = list(obj._bodies.values())
            found["rendered_token_bodies"] = len(bodies)
            found["rendered_token_bodies_kb"] = sum(len(body) for _, body in bodies) // 1024
    return found


def _type_counts() -> collections.Counter:
    return collections.Counter(type(o).__qualname__ for o in gc.get_objects())
