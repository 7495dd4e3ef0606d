"""The pytest plugin (entry point ``onestack`` in group ``pytest11``): the ``onestack_cloud`` fixture.

pytest loads it in every session of an environment where onestack is installed, so it imports nothing of
onestack until a test asks for the fixture (``-p no:onestack`` leaves it out altogether).
"""

from __future__ import annotations

import os

import pytest

MARKER = "onestack_cloud"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARKER}(settings=None, image=True): options of the test's "
                                       "onestack_cloud, as onestack.testing.cloud() takes them")


@pytest.fixture
def onestack_cloud(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch):
    """A fresh onestack cloud in this process for this test, removed after it.

    While the test runs, ``OS_CLOUD`` and ``OS_CLIENT_CONFIG_FILE`` name it as the demo member and no other
    ``OS_`` variable is set, so code under test that calls ``openstack.connect()`` or runs the ``openstack``
    CLI reaches this cloud.  ``@pytest.mark.onestack_cloud(settings={...})`` changes its settings.
    """
    from onestack.testing import cloud

    marker = request.node.get_closest_marker(MARKER)
    options = dict(marker.kwargs) if marker else {}
    with cloud(**options) as started:
        for name in [name for name in os.environ if name.startswith("OS_")]:
            monkeypatch.delenv(name)
        for name, value in started.environ.items():
            monkeypatch.setenv(name, value)
        yield started
