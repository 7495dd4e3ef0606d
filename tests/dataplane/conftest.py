"""Fixtures of the data-plane tests: a Neutron client of the module's ``cloud`` and namespaces of the
test's own plugged into the cloud's bridges."""

import httpx
import pytest

from tests.dataplane.kernel import Namespace

# The real-VM data-plane tests boot the same onestack-tiny image as the compute driver's tests.
from tests.drivers.conftest import tiny_image  # noqa: F401


@pytest.fixture
def neutron(cloud):
    """The network API as the cloud's admin; ``cloud`` is the requesting module's own."""
    with httpx.Client(base_url=f"{cloud.url}/network/v2.0", headers={"X-Auth-Token": cloud.token()},
                      timeout=60) as http:
        yield http


@pytest.fixture
def scratch():
    """Makes namespaces plugged into a bridge (``scratch(bridge, mac=None)``); removes them afterwards."""
    made: list[Namespace] = []
    yield lambda bridge, mac=None: made.append(Namespace(bridge, mac)) or made[-1]
    for ns in made:
        ns.close()
