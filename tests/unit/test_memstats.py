"""The memory probe of a serving process (``ONESTACK_MEMSTATS``, onestack/memstats.py): it must see the memory
C libraries hold outside the Python heap, SQLite's prepared statements above all, or it cannot tell a cache
filling from a leak."""

from __future__ import annotations

import sqlite3

from onestack import memstats


def test_prepared_statements_of_an_open_connection_are_counted(tmp_path):
    conn = sqlite3.connect(tmp_path / "x.db", cached_statements=256)
    try:
        conn.execute("CREATE TABLE t (a INTEGER, b TEXT, c TEXT, d REAL)")
        before = memstats.sample()["sqlite"]
        # distinct SQL texts: each is prepared and kept in the connection's statement cache
        for n in range(200):
            conn.execute(f"SELECT a, b, c, d FROM t WHERE a = ? AND b != '{n}'", (n,)).fetchall()
        after = memstats.sample()["sqlite"]
    finally:
        conn.close()
    assert after["connections"] >= 1
    assert after["statements"] - before["statements"] > 200  # kB: over 1 kB a statement
    assert after["used"] > before["used"]
    assert memstats.sample()["sqlite"]["statements"] <= before["statements"]  # closed: its statements freed


def test_a_sample_reads_the_heap_and_the_process():
    found = memstats.sample()
    assert found["VmRSS"] > 0 and found["RssAnon"] > 0 and found["Threads"] >= 1
    assert found["malloc"]["in_use"] > 0
    assert found["py_blocks"] > 1000
