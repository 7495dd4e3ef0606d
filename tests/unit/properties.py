"""Hypothesis settings shared by the property tests (tests/unit/test_properties_*.py).

Derandomized and without an example database, so CI draws the same examples every run and a failure
reproduces; ``ONESTACK_PROPERTY_SCALE`` (``make fuzz`` sets 10) multiplies every test's example count.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings


def bounded(examples: int) -> settings:
    """``examples`` cases (times the scale), the same ones on every run, no per-example deadline (the
    machine running the suite is shared, so a slow example is not a failure)."""
    scale = max(1, int(os.environ.get("ONESTACK_PROPERTY_SCALE", "1")))
    return settings(max_examples=examples * scale, derandomize=True, database=None, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
