"""Swift's listing rules over a sorted list, with a fetch that counts how many rows it reads."""

import pytest

from onestack.services.object.public import Query, Subdir
from onestack.services.object.service.listing import page, successor


class Row:
    def __init__(self, name):
        self.name = name


class Table:
    def __init__(self, names):
        self.names = sorted(names, key=lambda n: n.encode())
        self.read = 0

    def fetch(self, bound, end_marker, low, high, reverse, count):
        rows = [n for n in self.names if (not low or n >= low) and (high is None or n < high)]
        if bound is not None:
            keep = (lambda n: n <= bound.name if bound.inclusive else n < bound.name) if reverse else \
                (lambda n: n >= bound.name if bound.inclusive else n > bound.name)
            rows = [n for n in rows if keep(n)]
        if end_marker:
            rows = [n for n in rows if (n > end_marker if reverse else n < end_marker)]
        rows = rows[::-1] if reverse else rows
        self.read += min(count, len(rows))
        return [Row(n) for n in rows[:count]]


def shown(entries):
    return ["D:" + e.name if isinstance(e, Subdir) else e.name for e in entries]


def test_successor_bounds_every_name_with_the_prefix():
    assert successor("ab") == "ac"
    assert successor("a\U0010ffff") == "b"
    assert successor("\ud7ff") == "\ue000"
    assert successor("") is None


def test_delimiter_jumps_over_directories_without_reading_them():
    table = Table([f"dir/{i:05}" for i in range(5000)] + ["a", "z"])
    out = page(table.fetch, Query(limit=100, delimiter="/"))
    assert shown(out) == ["a", "D:dir/", "z"]
    assert table.read < 300


def test_reverse_with_delimiter_and_prefix():
    table = Table(["p/a", "p/b/1", "p/b/2", "p/c", "q"])
    out = page(table.fetch, Query(limit=10, prefix="p/", delimiter="/", reverse=True))
    assert shown(out) == ["p/c", "D:p/b/", "p/a"]


def test_path_leaves_out_deeper_names():
    table = Table(["p", "p/a", "p/b/1", "p/c", "pq"])
    assert shown(page(table.fetch, Query(limit=10, path="p"))) == ["p/a", "p/c"]


@pytest.mark.parametrize("limit", [1, 2, 3, 7])
def test_pages_concatenate_to_the_whole_listing(limit):
    names = ["a", "a/1", "a/2", "b", "c/1", "c/2", "d", "e/x/y"]
    table = Table(names)
    seen, marker = [], ""
    while True:
        out = page(table.fetch, Query(limit=limit, marker=marker, delimiter="/"))
        if not out:
            break
        seen += shown(out)
        marker = out[-1].name
    assert seen == ["a", "D:a/", "b", "D:c/", "d", "D:e/"]


def test_a_page_reads_about_limit_rows_deep_in_a_big_table():
    table = Table([f"{i:07}" for i in range(100_000)])
    out = page(table.fetch, Query(limit=1000, marker="0099000"))
    assert [r.name for r in out] == [f"{i:07}" for i in range(99_001, 100_000)] and table.read == 999
