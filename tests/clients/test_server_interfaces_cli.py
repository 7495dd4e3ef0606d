"""The unmodified `openstack` CLI on interfaces (server add/remove port and network) and on the flavor a
server embeds from microversion 2.47."""

from tests.api.helpers import name
from tests.clients.test_compute_cli import cli_json, cli_server


def test_add_and_remove_port_and_embedded_flavor_with_the_cli(cloud):
    demo = {"os_cloud": "onestack"}
    server, net = cli_server(cloud, "10.46.0.0/24")
    port = cli_json(cloud, "port", "create", "--network", net, name("cli-port"), **demo)
    cloud.openstack("server", "add", "port", server["id"], port["id"], cloud="onestack")
    assert cli_json(cloud, "port", "show", port["id"], **demo)["device_id"] == server["id"]
    cloud.openstack("server", "add", "network", server["id"], net, cloud="onestack")
    ports = cli_json(cloud, "port", "list", "--server", server["id"], **demo)
    assert len(ports) == 3
    cloud.openstack("server", "remove", "port", server["id"], port["id"], cloud="onestack")
    assert cli_json(cloud, "port", "show", port["id"], **demo)["device_id"] == ""
    assert len(cli_json(cloud, "port", "list", "--server", server["id"], **demo)) == 2

    old = cli_json(cloud, "--os-compute-api-version", "2.46", "server", "show", server["id"], **demo)
    new = cli_json(cloud, "--os-compute-api-version", "2.47", "server", "show", server["id"], **demo)
    assert "m1.tiny" in str(old["flavor"]) and "vcpus" not in str(old["flavor"])
    assert "vcpus='1'" in str(new["flavor"]) or "'vcpus': 1" in str(new["flavor"]) or "vcpus=1" in str(new["flavor"])
    cloud.openstack("server", "delete", "--wait", server["id"], cloud="onestack")
    cloud.openstack("port", "delete", port["id"], cloud="onestack")
