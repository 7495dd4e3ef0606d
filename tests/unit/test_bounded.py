"""``onestack.bounded.pruned``: the bound of the caches keyed by what requests bring."""

from __future__ import annotations

from onestack.bounded import pruned


def test_under_the_limit_the_same_dict():
    entries = {n: n for n in range(3)}
    assert pruned(entries, 4, lambda v: True) is entries


def test_full_the_dead_go_then_the_older_half():
    entries = {n: n for n in range(8)}
    assert pruned(entries, 8, lambda v: v % 2 == 0) == {0: 0, 2: 2, 4: 4, 6: 6}
    kept = pruned(entries, 8, lambda v: True)
    assert kept == {4: 4, 5: 5, 6: 6, 7: 7} and len(entries) == 8  # a new dict: readers keep theirs


def test_many_insertions_never_pass_the_limit():
    entries: dict = {}
    for n in range(10_000):
        entries = pruned(entries, 100, lambda v: True)
        entries[n] = n
        assert len(entries) <= 100
    assert 9_999 in entries
