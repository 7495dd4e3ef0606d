"""The unmodified `openstack` CLI on server actions: resize with --wait, confirm, a snapshot image."""

from tests.api.helpers import name
from tests.clients.test_compute_cli import cli_json, cli_server, wait_status


def test_resize_confirm_and_snapshot_with_the_cli(cloud):
    demo = {"os_cloud": "onestack"}
    server, _ = cli_server(cloud, "10.45.0.0/24")
    cloud.openstack("server", "resize", "--flavor", "m1.nano", "--wait", server["id"], cloud="onestack")
    assert cli_json(cloud, "server", "show", server["id"], **demo)["status"] == "VERIFY_RESIZE"
    cloud.openstack("server", "resize", "confirm", server["id"], cloud="onestack")
    assert wait_status(cloud, server["id"], "ACTIVE")  # the confirmation finishes in the background
    snapshot = cli_json(cloud, "server", "image", "create", "--name", name("cli-snap"), "--wait", server["id"],
                        **demo)
    assert snapshot["status"] == "active"
    shown = cli_json(cloud, "server", "show", server["id"], **demo)
    assert shown["status"] == "ACTIVE" and "m1.nano" in str(shown["flavor"])
    cloud.openstack("server", "delete", "--wait", server["id"], cloud="onestack")
