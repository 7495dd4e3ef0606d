"""Fixtures of the real-VM tests."""

import pytest


@pytest.fixture(scope="session")
def tiny_image():
    """The onestack-tiny guest image, built once per machine (cached in ~/.cache/onestack/images).
    A failing build fails the tests that need it: a broken image must never pass as a skip."""
    from onestack.guestimage import build

    return build.build()
