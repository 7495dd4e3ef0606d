"""Draining a host for maintenance with the unmodified `openstack` CLI, as docs/services/compute.md gives the
procedure: `compute service set --disable`, then `server migrate --live-migration --wait` for each of its
servers.  The host ends with no server and takes no new one until it is enabled again (fake driver, the
cloud's two hosts, a cloud of this module's own: a disabled host would change other tests' placements)."""

import httpx

from tests.api.helpers import name, ok, upload_image, wait
from tests.clients.test_compute_cli import cli_json
from tests.cloudfixture import own_cloud

cloud = own_cloud("host-drain")
V274 = {"X-OpenStack-Nova-API-Version": "2.74"}


def test_a_host_is_drained_by_disabling_it_and_live_migrating_each_server_away(cloud):
    with httpx.Client(base_url=f"{cloud.url}/compute/v2.1", headers={"X-Auth-Token": cloud.token(), **V274},
                      timeout=60) as nova, \
            httpx.Client(base_url=cloud.url, headers={"X-Auth-Token": cloud.token()}, timeout=60) as http:
        hosts = sorted(s["host"] for s in ok(nova.get("/os-services"))["services"])
        assert len(hosts) == 2
        drained, other = hosts
        image = upload_image(http, image_name=name("img"))

        def boot(host: str | None = None) -> str:
            server = {"name": name("vm"), "imageRef": image["id"], "flavorRef": "1", "networks": "none"}
            server_id = ok(nova.post("/servers", json={"server": {**server, **({"host": host} if host else {})}}),
                           202)["server"]["id"]
            wait(lambda: ok(nova.get(f"/servers/{server_id}"))["server"]["status"] == "ACTIVE", 60, "ACTIVE")
            return server_id

        servers = [boot(drained) for _ in range(3)]

        def on(host: str) -> set[str]:
            listed = cli_json(cloud, "server", "list", "--all-projects", "--host", host)
            return {s["ID"] for s in listed}

        assert on(drained) == set(servers)
        cloud.openstack("compute", "service", "set", "--disable", "--disable-reason", "maintenance", drained,
                        "nova-compute")
        (service,) = [s for s in cli_json(cloud, "compute", "service", "list", "--long") if s["Host"] == drained]
        assert (service["Status"], service["Disabled Reason"]) == ("disabled", "maintenance")
        for server_id in sorted(on(drained)):
            cloud.openstack("--os-compute-api-version", "2.30", "server", "migrate", "--live-migration", "--wait",
                            server_id)

        assert on(drained) == set() and on(other) == set(servers)
        for server_id in servers:
            assert ok(nova.get(f"/servers/{server_id}"))["server"]["status"] == "ACTIVE"
        hypervisors = {h["hypervisor_hostname"]: h for h in ok(nova.get(
            "/os-hypervisors/detail", headers={"X-OpenStack-Nova-API-Version": "2.1"}))["hypervisors"]}
        assert hypervisors[drained]["running_vms"] == 0
        assert ok(nova.get(f"/servers/{boot()}"))["server"]["OS-EXT-SRV-ATTR:host"] == other

        cloud.openstack("compute", "service", "set", "--enable", drained, "nova-compute")
        assert ok(nova.get(f"/servers/{boot(drained)}"))["server"]["OS-EXT-SRV-ATTR:host"] == drained
