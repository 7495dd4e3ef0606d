"""`make load`'s leak verdict (bench/sustained.py ``leaks``, with ``--assert-steady``): RSS drift beyond the limit,
or open fds whose lowest count in the last third of the run is above the highest of the first third."""

from __future__ import annotations

from bench.sustained import _fd_thirds, leaks


def result(drift: float, fds: list[int]) -> dict:
    samples = [{"fds": n} for n in fds]
    return {"rss_mb": {"drift_pct": drift, "baseline_at_s": 60.0},
            "fds": {"min": min(fds), "max": max(fds), **_fd_thirds(samples)}}


def test_a_steady_server_has_no_leak():
    # connections come and go: the counts swing, the floor stays
    assert leaks(result(6.7, [44, 90, 60, 101, 47, 88, 52, 95, 45]), 10.0) == []


def test_rss_beyond_the_limit_is_a_leak():
    found = leaks(result(10.6, [44, 90, 60, 101, 47, 88]), 10.0)
    assert found == ["RSS grew +10.6% from 60.0 s to the end (more than 10.0%)"]


def test_fds_whose_floor_rises_above_the_early_peak_are_a_leak():
    found = leaks(result(1.0, [40, 50, 45, 60, 70, 80, 102, 110, 105]), 10.0)
    assert found == ["open fds not steady: at least 102 throughout the last third of the run, at most 50 in the first"]
