"""openstacksdk, as Ansible and scripts use it, against a real onestack server."""

import openstack
import pytest
from openstack.exceptions import SDKException

from tests.api.helpers import name
from tests.clients import sdk_connection


@pytest.fixture
def conn(cloud):
    c = sdk_connection(cloud, "onestack-admin")
    yield c
    c.close()


def test_sdk_identity_round_trip(conn):
    domain = conn.identity.create_domain(name=name("sdk-d"))
    project = conn.identity.create_project(name=name("sdk-p"), domain_id=domain.id, description="sdk")
    user = conn.identity.create_user(name=name("sdk-u"), domain_id=domain.id, password="sdk-pass-1")
    group = conn.identity.create_group(name=name("sdk-g"), domain_id=domain.id)
    conn.identity.add_user_to_group(user, group)
    assert conn.identity.check_user_in_group(user, group)
    role = conn.identity.find_role("reader")
    conn.identity.assign_project_role_to_user(project, user, role)
    assert conn.identity.validate_user_has_project_role(project, user, role)
    found = [p.id for p in conn.identity.projects(domain_id=domain.id)]
    assert found == [project.id]
    assert conn.identity.get_user(user.id).name == user.name
    conn.identity.unassign_project_role_from_user(project, user, role)
    conn.identity.delete_user(user)
    conn.identity.delete_group(group)
    conn.identity.delete_project(project)
    conn.identity.update_domain(domain, is_enabled=False)
    conn.identity.delete_domain(domain)
    assert conn.identity.find_domain(domain.name) is None


def test_sdk_catalog_and_version_discovery(conn):
    assert conn.identity.get_endpoint_data().api_version == (3, 14)
    services = {s.type for s in conn.identity.services()}
    assert "identity" in services and "compute" in services


def test_sdk_wrong_password(cloud):
    c = openstack.connect(auth_url=cloud.auth_url, username="admin", password="wrong", project_name="admin",
                          user_domain_name="Default", project_domain_name="Default", load_envvars=False,
                          load_yaml_config=False)
    with pytest.raises(SDKException, match="401"):
        c.authorize()


def test_sdk_port_bindings_as_nova_uses_them(conn):
    """openstacksdk's port binding calls (what a live migration's conductor does): an inactive binding on the
    destination, activated, the source's then deleted; the port follows the active binding."""
    network = conn.network.create_network(name=name("sdk-bind"))
    try:
        port = conn.network.create_port(network_id=network.id, device_owner="compute:nova", device_id="vm-sdk",
                                        binding_host_id="sdk-source")
        made = conn.network.create_port_binding(port, host="sdk-dest", profile={"migrating_to": "sdk-dest"})
        assert (made.host, made.status, made.vif_type) == ("sdk-dest", "INACTIVE", "bridge")
        listed = {b.host: b.status for b in conn.network.port_bindings(port)}
        assert listed == {"sdk-source": "ACTIVE", "sdk-dest": "INACTIVE"}
        conn.network.activate_port_binding(port, host="sdk-dest")
        assert conn.network.get_port(port.id).binding_host_id == "sdk-dest"
        conn.network.delete_port_binding(port, host="sdk-source", ignore_missing=False)
        assert {b.host: b.status for b in conn.network.port_bindings(port)} == {"sdk-dest": "ACTIVE"}
        assert [b.host for b in conn.network.port_bindings(port, status="INACTIVE")] == []
    finally:
        for p in conn.network.ports(network_id=network.id):
            conn.network.delete_port(p)
        conn.network.delete_network(network)
