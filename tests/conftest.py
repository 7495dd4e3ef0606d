from __future__ import annotations

import contextlib
import os

import httpx
import pytest

from tests.cloudfixture import Cloud
from tests.pgtools import scratch_database

# `make test-workers`: the API suites against a cloud of this many serving processes on PostgreSQL
WORKERS = int(os.environ.get("ONESTACK_TEST_WORKERS", "1"))

# Network (nadmin, tenant, other_tenant, make_tenant), volume (storage, cinder_admin), object (swift) and
# orchestration (heat, make_heat) fixtures.
pytest_plugins = ["tests.api.network_helpers", "tests.api.volume_helpers", "tests.api.object_helpers",
                  "tests.api.orchestration_helpers", "tests.cephcluster"]


def _one_ssl_context_for_every_client() -> None:
    """httpx builds a new SSL context for every client it makes, plain-HTTP ones too, and each reads
    certifi's whole CA bundle: 28 ms of CPU, 30% of a test worker's time in the API suites (cProfile).  The
    tests make thousands of clients, so those that ask for the default verification share one context,
    made the same way (httpx's ``verify=<context>``); a test that passes its own (a TLS cloud's CA) keeps it."""
    shared = httpx.create_ssl_context()
    for client in (httpx.Client, httpx.AsyncClient):
        made = client.__init__

        def __init__(self, *args, verify=True, _made=made, **kwargs):
            _made(self, *args, verify=shared if verify is True else verify, **kwargs)

        client.__init__ = __init__


_one_ssl_context_for_every_client()


@pytest.fixture(scope="session")
def cloud(tmp_path_factory):
    """One real server per test worker; tests create their own projects and users in it."""
    with scratch_database() if WORKERS > 1 else contextlib.nullcontext() as url:
        c = Cloud(tmp_path_factory.mktemp("cloud"), database=url,
                  settings={"workers": WORKERS} if WORKERS > 1 else None).start()
        yield c
        c.stop()


@pytest.fixture
def admin(cloud):
    with cloud.client() as http:
        yield http


@pytest.fixture
def glance(cloud):
    """A client for the image service, as the admin project."""
    with httpx.Client(base_url=f"{cloud.url}/image", headers={"X-Auth-Token": cloud.token()}, timeout=60) as c:
        yield c
