"""Remote consoles through the API on the fake driver: its guests have no console, which it says as Nova
does for a console type a host lacks; the request and token checks around it.  The real proxy is proven
with a QEMU guest in tests/drivers/test_qemu_compute.py."""

import pytest

from tests.api import test_servers
from tests.api.helpers import nova, nova_error
from tests.api.test_servers import boot, wait

tenant, image_id = test_servers.tenant, test_servers.image_id  # the servers tests' fixtures

V26 = {"OpenStack-API-Version": "compute 2.6"}


@pytest.fixture
def server(tenant, image_id):
    server = boot(tenant, image_id)
    wait(tenant, server["id"], "ACTIVE")
    return server


def test_remote_console_on_a_guest_without_one(tenant, server):
    url = f"/servers/{server['id']}/remote-consoles"
    body = {"remote_console": {"protocol": "serial", "type": "serial"}}
    assert "Unavailable console type serial" in nova_error(tenant.post(url, json=body, headers=V26), 400)
    for protocol, kind in (("spice", "spice-html5"), ("rdp", "rdp-html5")):
        body = {"remote_console": {"protocol": protocol, "type": kind}}
        assert "Unavailable console type" in nova_error(tenant.post(url, json=body, headers=V26), 400)
    nova_error(tenant.post(url, json={"remote_console": {"protocol": "vnc"}}, headers=V26), 400)
    nova_error(tenant.post(url, json={"remote_console": {"protocol": "telnet", "type": "serial"}}, headers=V26), 400)
    nova_error(tenant.post(url, json=body), 404)  # remote-consoles begins at 2.6


def test_console_actions_before_2_6(tenant, server):
    url = f"/servers/{server['id']}/action"
    assert "Unavailable console type" in nova_error(
        tenant.post(url, json={"os-getSerialConsole": {"type": "serial"}}), 400)
    nova_error(tenant.post(url, json={"os-getVNCConsole": {"type": "bogus"}}), 400)
    nova_error(tenant.post(url, json={"os-getSerialConsole": {"type": "serial"}}, headers=V26), 404)


def test_console_auth_tokens_are_for_admins(cloud, tenant):
    token = "7d2b3d3c-0f6e-4a55-9a8b-1c2d3e4f5a6b"
    nova_error(tenant.get(f"/os-console-auth-tokens/{token}", headers={"OpenStack-API-Version": "compute 2.31"}),
               403)
    with nova(cloud, version="2.31") as admin:
        nova_error(admin.get(f"/os-console-auth-tokens/{token}"), 404)
