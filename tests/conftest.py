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
