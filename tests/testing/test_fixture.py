"""The in-process test cloud, used as its users would: the ``onestack_cloud`` fixture (or
``onestack.testing.cloud()``) and openstacksdk, nothing of onestack's insides."""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import openstack
import openstack.exceptions
import pytest

import onestack.testing

BUILD_WAIT = 30


def boot(conn, name: str, network_id: str | None = None):
    image = conn.image.find_image("onestack-tiny", ignore_missing=False)
    flavor = conn.compute.find_flavor("m1.tiny", ignore_missing=False)
    networks = [{"uuid": network_id}] if network_id else "none"
    return conn.compute.create_server(name=name, image_id=image.id, flavor_id=flavor.id, networks=networks)


def settle(conn, server):
    """The server once its build is over, whatever its end (ACTIVE or ERROR)."""
    deadline = time.monotonic() + BUILD_WAIT
    while True:
        server = conn.compute.get_server(server.id)
        if server.status != "BUILD" or time.monotonic() > deadline:
            return server
        time.sleep(0.05)


def accepts_connections(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return False
    return True


def test_a_server_on_a_new_network_goes_active(onestack_cloud):
    conn = onestack_cloud.connection
    network = conn.network.create_network(name="app")
    conn.network.create_subnet(network_id=network.id, ip_version=4, cidr="10.20.0.0/24", name="app-v4")
    server = settle(conn, boot(conn, "web", network.id))
    assert server.status == "ACTIVE", server.fault
    assert [a["addr"] for a in server.addresses["app"]][0].startswith("10.20.0.")
    ports = list(conn.network.ports(device_id=server.id))
    assert [p.network_id for p in ports] == [network.id]
    assert "onestack-tiny: up hostname=web" in conn.compute.get_server_console_output(server)["output"]


def test_the_cloud_is_the_demo_member_for_code_that_connects_by_itself(onestack_cloud):
    """Code under test that calls ``openstack.connect()`` finds the cloud through the environment."""
    conn = openstack.connect()
    try:
        assert conn.current_project.name == "demo"
        assert conn.auth["auth_url"] == onestack_cloud.auth_url
        with pytest.raises(openstack.exceptions.ForbiddenException):
            list(conn.compute.hypervisors())
    finally:
        conn.close()
    assert [h.name for h in onestack_cloud.admin_connection.compute.hypervisors()]


def test_injected_build_failures_put_servers_in_error_with_the_fault(onestack_cloud):
    conn = onestack_cloud.connection
    fault = "No valid host was found. There are not enough hosts available."
    onestack_cloud.faults.fail_builds(2, fault=fault)
    failed = [settle(conn, boot(conn, f"doomed-{i}")) for i in range(2)]
    assert [(s.status, s.fault["message"]) for s in failed] == [("ERROR", fault)] * 2
    assert settle(conn, boot(conn, "fine")).status == "ACTIVE"  # only the next two builds fail


def test_injected_latency_slows_one_service_only(onestack_cloud):
    conn = onestack_cloud.connection
    list(conn.compute.flavors())
    list(conn.network.networks())  # authenticated and discovered: what follows is one request each

    def seconds(call) -> float:
        started = time.monotonic()
        list(call())
        return time.monotonic() - started

    onestack_cloud.faults.add_latency("compute", 0.6)
    assert seconds(conn.compute.flavors) >= 0.6
    assert seconds(conn.network.networks) < 0.6
    onestack_cloud.faults.clear()
    assert seconds(conn.compute.flavors) < 0.6


def test_an_injected_error_answers_for_one_path(onestack_cloud):
    conn = onestack_cloud.connection
    body = {"computeFault": {"code": 503, "message": "The compute service is down for maintenance."}}
    onestack_cloud.faults.fail_requests("/compute/v2.1/flavors/detail", 503, body, method="GET", count=1)
    with pytest.raises(openstack.exceptions.HttpException) as failed:
        list(conn.compute.flavors())
    assert failed.value.status_code == 503
    assert "down for maintenance" in str(failed.value)
    assert "m1.tiny" in [f.name for f in conn.compute.flavors()]  # count=1: the next request is served


def test_an_injected_error_matches_a_pattern_until_cleared(onestack_cloud):
    conn = onestack_cloud.connection
    network = conn.network.create_network(name="kept")
    onestack_cloud.faults.fail_requests("/network/v2.0/networks/*", 409, method="DELETE")
    for _ in range(2):
        with pytest.raises(openstack.exceptions.ConflictException):
            conn.network.delete_network(network)
    assert conn.network.get_network(network.id).name == "kept"  # other methods are served
    onestack_cloud.faults.clear()
    conn.network.delete_network(network)
    assert conn.network.find_network("kept") is None


@pytest.mark.onestack_cloud(settings={"compute": {"fake_hosts": 2}})
def test_settings_come_from_the_marker(onestack_cloud):
    assert len(list(onestack_cloud.admin_connection.compute.hypervisors())) == 2


def test_two_clouds_in_one_process_are_isolated(onestack_cloud):
    with onestack.testing.cloud() as other:
        assert other.url != onestack_cloud.url
        onestack_cloud.connection.network.create_network(name="only-here")
        assert onestack_cloud.connection.network.find_network("only-here") is not None
        assert other.connection.network.find_network("only-here") is None
        # each cloud has its own users: a password of one opens nothing in the other
        mine = onestack_cloud.clouds_yaml["clouds"][onestack_cloud.cloud_name]
        with pytest.raises(openstack.exceptions.SDKException, match=r"HTTP 401"):
            other.connect(auth={**mine["auth"], "auth_url": other.auth_url}).authorize()
        # and its own faults
        other.faults.fail_builds(1)
        assert settle(onestack_cloud.connection, boot(onestack_cloud.connection, "here")).status == "ACTIVE"
        assert settle(other.connection, boot(other.connection, "there")).status == "ERROR"


def test_teardown_leaves_no_port_thread_or_file():
    threads_before = set(threading.enumerate())
    with onestack.testing.cloud() as c:
        port, data_dir = c.port, Path(c.clouds_yaml_path).parent
        assert c.connection.compute.find_flavor("m1.tiny") is not None
        assert accepts_connections(port)
        assert data_dir.is_dir()
    assert not accepts_connections(port)
    assert not data_dir.exists()
    assert set(threading.enumerate()) - threads_before == set()


def test_a_tls_cloud_serves_https_to_its_connections_and_trusts_its_ca_only_while_it_runs(monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    with onestack.testing.cloud(settings={"tls": {"enabled": True}}) as cloud:
        assert cloud.url.startswith("https://127.0.0.1:")
        assert cloud.clouds_yaml["clouds"]["onestack"]["cacert"] == str(cloud.data_dir / "tls" / "ca.pem")
        assert cloud.connection.image.find_image("onestack-tiny", ignore_missing=False).status == "active"
        assert Path(os.environ["SSL_CERT_FILE"]).is_file()  # the cloud's own clients trust its CA
    assert "SSL_CERT_FILE" not in os.environ
