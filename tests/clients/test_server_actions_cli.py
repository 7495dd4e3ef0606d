"""The unmodified `openstack` CLI on server actions: resize with --wait, confirm, a snapshot image; cold migration."""

import time

from tests.api.helpers import name
from tests.clients import sdk_connection
from tests.clients.test_compute_cli import cli_image, cli_json, cli_server, wait_status


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
    conn = sdk_connection(cloud, "onestack-admin")
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
    conn = sdk_connection(cloud, "onestack-admin", compute_api_version="2.68")
    try:
        conn.compute.live_migrate_server(server["id"], host=source, block_migration="auto")
        back = conn.compute.wait_for_server(conn.compute.get_server(server["id"]), status="ACTIVE", wait=60)
        assert back.compute_host == source
    finally:
        conn.close()
    cloud.openstack("server", "delete", "--wait", server["id"])


def test_a_running_live_migration_is_shown_aborted_and_forced_with_the_cli(cloud):
    """`openstack server migration show` gives a running live migration's progress (an 8 GB fake guest
    dirtying 1 GB/s: each pass takes 8 s over the fake 1 GB/s link, five passes before the policy switches
    to post-copy); `server migration abort` leaves the server on its source;
    `server migration force complete` ends the next one at once on the destination."""
    image = cli_image(cloud)
    server = cli_json(cloud, "--os-compute-api-version", "2.37", "server", "create", "--image", image,
                      "--flavor", "m1.large", "--nic", "none", "--property", "fake:dirty_mb_per_s=1024", "--wait",
                      name("cli-mover"))
    source = server["OS-EXT-SRV-ATTR:host"]
    v280 = ("--os-compute-api-version", "2.80")

    def running() -> dict:
        cloud.openstack(*v280, "server", "migrate", "--live-migration", server["id"])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            listed = cli_json(cloud, *v280, "server", "migration", "list", "--server", server["id"],
                              "--status", "running")
            if listed:
                return listed[0]
            time.sleep(0.2)
        raise AssertionError("no running live migration within 30 s")

    first = running()
    # by its UUID: python-openstackclient 10.5 passes a numeric id to openstacksdk 4.22's
    # get_server_migration in the wrong order (GET /servers/<id>/migrations/<server>), a client bug
    shown = cli_json(cloud, *v280, "server", "migration", "show", server["id"], first["UUID"])
    assert shown["Server UUID"] == server["id"] and shown["Source Compute"] == source
    assert shown["Memory Total Bytes"] == 8192 * 1024 * 1024 and 0 < shown["Memory Remaining Bytes"]
    cloud.openstack(*v280, "server", "migration", "abort", server["id"], str(first["Id"]))
    assert wait_status(cloud, server["id"], "ACTIVE", os_cloud="onestack-admin")
    assert cli_json(cloud, "server", "show", server["id"])["OS-EXT-SRV-ATTR:host"] == source
    (cancelled,) = cli_json(cloud, *v280, "server", "migration", "list", "--server", server["id"])
    assert cancelled["Status"] == "cancelled"

    second = running()
    cloud.openstack(*v280, "server", "migration", "force", "complete", server["id"], str(second["Id"]))
    assert wait_status(cloud, server["id"], "ACTIVE", timeout=15, os_cloud="onestack-admin")
    assert cli_json(cloud, "server", "show", server["id"])["OS-EXT-SRV-ATTR:host"] == second["Dest Compute"]
    cloud.openstack("server", "delete", "--wait", server["id"])
