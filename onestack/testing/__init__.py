"""An in-process test cloud for tests of OpenStack tooling, what moto is to AWS.

``with onestack.testing.cloud() as c:`` starts a fresh, complete cloud inside the calling process (the fake
compute driver, no kernel data plane, SQLite in a temporary directory, real HTTP on a free loopback port)
and removes every trace of it on exit; the pytest plugin's ``onestack_cloud`` fixture does the same for one
test.  See docs/testing-cloud.md.

This module imports nothing heavy: pytest loads the plugin in every session of an environment where
onestack is installed, so the application is imported only when a cloud is first asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from onestack.testing.inprocess import InProcessCloud

__all__ = ["cloud"]


def cloud(settings: dict | None = None, *, image: bool = True) -> InProcessCloud:
    """A cloud to use as a context manager.  ``settings``: onestack.yaml settings laid over the test cloud's
    (a section such as ``{"compute": {"fake_hosts": 2}}`` is merged into that section); ``image``: register
    the public image ``onestack-tiny`` so servers can be booted at once."""
    from onestack.testing.inprocess import InProcessCloud

    return InProcessCloud(settings, image=image)
