"""Fixtures of the real-VM tests."""

import pytest


@pytest.fixture(scope="session")
def tiny():
    """onestack-tiny, built once per machine (cached in ~/.cache/onestack/images); skipped where it cannot be."""
    from onestack.guestimage import build

    try:
        return build.build()
    except build.BuildError as exc:
        pytest.skip(str(exc))
