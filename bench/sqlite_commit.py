"""What a durable commit costs on SQLite: commit latency in WAL mode with ``synchronous=NORMAL`` (no fsync
at commit: a power cut may lose the last transactions) and ``synchronous=FULL`` (the WAL is fsynced at
every commit), on a file of the disk the data dir lives on, and through onestack's own ``Database`` (which
settings it runs with).  docs/operations.md#durability quotes the figures.

    .venv/bin/python bench/sqlite_commit.py [--commits 500] [--dir /var/tmp]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from onestack.db.engine import Database  # noqa: E402


def figures(seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return f"p50 {statistics.median(ms):6.2f} ms  p99 {p99:6.2f} ms  {len(ms) / sum(seconds):7.0f} commits/s"


def raw(path: Path, synchronous: str, commits: int) -> list[float]:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)")
    taken = []
    for i in range(commits):
        start = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t (body) VALUES (?)", (f"row {i}" * 10,))
        conn.execute("COMMIT")
        taken.append(time.perf_counter() - start)
    conn.close()
    return taken


def onestack(path: Path, commits: int) -> tuple[str, list[float]]:
    db = Database(f"sqlite:///{path}")
    with db.write() as session:
        session.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)"))
    with db.read() as session:
        mode = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}[session.execute(text("PRAGMA synchronous")).scalar()]
    taken = []
    for i in range(commits):
        start = time.perf_counter()
        with db.write() as session:
            session.execute(text("INSERT INTO t (body) VALUES (:b)"), {"b": f"row {i}" * 10})
        taken.append(time.perf_counter() - start)
    db.dispose()
    return mode, taken


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=500)
    parser.add_argument("--dir", default="/var/tmp", help="a directory on the disk to measure (not a tmpfs)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as scratch:
        for synchronous in ("NORMAL", "FULL"):
            taken = raw(Path(scratch) / synchronous, synchronous, args.commits)
            print(f"sqlite3, WAL, synchronous={synchronous:6}  {figures(taken)}")
        mode, taken = onestack(Path(scratch) / "onestack.db", args.commits)
        print(f"onestack Database (synchronous={mode})  {figures(taken)}")


if __name__ == "__main__":
    main()
