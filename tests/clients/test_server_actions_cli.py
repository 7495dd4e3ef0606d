"""The unmodified `openstack` CLI on server actions: resize with --wait, confirm, a snapshot image; cold migration."""

import openstack
from openstack.config.loader import OpenStackConfig

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


def test_cold_migration_with_the_cli_and_openstacksdk(cloud):
    """`openstack server migrate --wait` (admin) moves the server to the other host; `server migration list`
    shows the move; confirmed through openstacksdk."""
    server, _ = cli_server(cloud, "10.45.1.0/24")
    source = cli_json(cloud, "server", "show", server["id"])["OS-EXT-SRV-ATTR:host"]
    cloud.openstack("--os-compute-api-version", "2.56", "server", "migrate", "--wait", server["id"])
    shown = cli_json(cloud, "server", "show", server["id"])
    assert shown["status"] == "VERIFY_RESIZE" and shown["OS-EXT-SRV-ATTR:host"] != source
    listed = cli_json(cloud, "--os-compute-api-version", "2.59", "server", "migration", "list", "--server",
                      server["id"])
    assert [(m["Source Compute"], m["Dest Compute"], m["Type"]) for m in listed] == \
        [(source, shown["OS-EXT-SRV-ATTR:host"], "migration")]
    config = OpenStackConfig(config_files=[str(cloud.data_dir / "clouds.yaml")], vendor_files=[],
                             load_envvars=False)
    conn = openstack.connection.Connection(config=config.get_one(cloud="onestack-admin"))
    try:
        conn.compute.confirm_server_resize(server["id"])
        moved = conn.compute.wait_for_server(conn.compute.get_server(server["id"]), status="ACTIVE", wait=60)
        assert moved.compute_host == shown["OS-EXT-SRV-ATTR:host"]
    finally:
        conn.close()
    cloud.openstack("server", "delete", "--wait", server["id"])


def test_live_migration_with_the_cli_and_openstacksdk(cloud):
    """`openstack server migrate --live-migration --wait` moves the running server; openstacksdk's
    live_migrate_server moves it back."""
    server, _ = cli_server(cloud, "10.45.2.0/24")
    source = cli_json(cloud, "server", "show", server["id"])["OS-EXT-SRV-ATTR:host"]
    cloud.openstack("--os-compute-api-version", "2.30", "server", "migrate", "--live-migration",
                    "--wait", server["id"])
    shown = cli_json(cloud, "server", "show", server["id"])
    assert shown["status"] == "ACTIVE" and shown["OS-EXT-SRV-ATTR:host"] != source
    listed = cli_json(cloud, "--os-compute-api-version", "2.59", "server", "migration", "list", "--server",
                      server["id"], "--type", "live-migration")
    assert [(m["Status"], m["Source Compute"]) for m in listed] == [("completed", source)]
    config = OpenStackConfig(config_files=[str(cloud.data_dir / "clouds.yaml")], vendor_files=[],
                             load_envvars=False)
    conn = openstack.connection.Connection(config=config.get_one(cloud="onestack-admin"),
                                           compute_api_version="2.68")
    try:
        conn.compute.live_migrate_server(server["id"], host=source, block_migration="auto")
        back = conn.compute.wait_for_server(conn.compute.get_server(server["id"]), status="ACTIVE", wait=60)
        assert back.compute_host == source
    finally:
        conn.close()
    cloud.openstack("server", "delete", "--wait", server["id"])
