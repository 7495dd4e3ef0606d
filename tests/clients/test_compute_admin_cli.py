"""The unmodified `openstack` CLI on compute's admin APIs: host aggregates and zones, usage."""

import json
import socket

from tests.api.helpers import name
from tests.api.test_servers import boot, image_id, tenant, wait  # noqa: F401  (fixtures used by name)


def cli_json(cloud, *args):
    return json.loads(cloud.openstack(*args, "-f", "json").stdout)


def test_aggregate_zone_and_usage_with_the_cli(cloud, tenant, image_id):  # noqa: F811
    host = f"{socket.gethostname()}-fake-1"
    agg, zone = name("cli-agg"), name("cli-az")
    made = cli_json(cloud, "aggregate", "create", "--zone", zone, agg)
    assert made["availability_zone"] == zone
    try:
        # The zone is renamed before the host joins: other tests' servers may run on it.
        cloud.openstack("aggregate", "set", "--zone", zone + "-b", agg)
        cloud.openstack("aggregate", "add", "host", agg, host)
        cloud.openstack("aggregate", "set", "--property", "ssd=true", agg)
        shown = cli_json(cloud, "aggregate", "show", agg)
        assert shown["availability_zone"] == zone + "-b" and shown["hosts"] == [host]
        assert shown["properties"].get("ssd") == "true"
        zones = cli_json(cloud, "availability", "zone", "list", "--compute", "--long")
        assert any(z["Zone Name"] == zone + "-b" and z["Host Name"] == host for z in zones)
        cloud.openstack("aggregate", "remove", "host", agg, host)
    finally:
        cloud.openstack("aggregate", "remove", "host", agg, host, check=False)
        cloud.openstack("aggregate", "delete", agg)
    assert cloud.openstack("aggregate", "show", agg, check=False).returncode != 0
    # A server of the tenant's project shows in its usage, through the CLI's list and show.
    wait(tenant, boot(tenant, image_id)["id"], "ACTIVE")
    period = ("--start", "2020-01-01", "--end", "2999-01-01")
    listed = cli_json(cloud, "usage", "list", *period)
    (mine,) = [row for row in listed if tenant.project_id in row["Project"]]
    assert [s["flavor"] for s in mine["Servers"]] == ["m1.tiny"] and mine["RAM MB-Hours"] > 0
    shown = cli_json(cloud, "usage", "show", "--project", tenant.project_id, *period)
    assert len(shown["Servers"]) == 1 and float(shown["CPU Hours"]) > 0
