"""`onestack compute join`: one more host of a cloud on PostgreSQL registers itself (service, hypervisor,
placement provider, tunnel address), heartbeats, converges the instances placed on it, and stops cleanly
on SIGTERM."""

import signal

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.api.helpers import name, ok, wait
from tests.clients.joined import HOST, TUNNEL_IP, controller_and_joined_host


@pytest.mark.postgres
@pytest.mark.hosts
def test_a_joined_host_registers_heartbeats_runs_its_instances_and_stops_on_sigterm(tmp_path):
    with controller_and_joined_host(tmp_path) as world:
        nova = world.nova
        assert world.joined.poll() is None, (world.data_dir / "join.log").read_text()
        providers = ok(httpx.get(f"{world.cloud.url}/placement/resource_providers", headers=world.headers))
        assert HOST in {p["name"] for p in providers["resource_providers"]}
        engine = create_engine(world.url)
        with engine.connect() as conn:
            tunnels = dict(conn.execute(text("select host, tunnel_ip from compute_host")).all())
        engine.dispose()
        assert tunnels == {"controller": None, HOST: TUNNEL_IP}

        # the controller's own host disabled: the scheduler can only choose the joined one
        ok(nova.put(f"/os-services/{world.services()['controller']['id']}", json={"status": "disabled"}))
        image, net = world.image_and_network("10.78.0.0/24")
        server = ok(nova.post("/servers", json={"server": {"name": name("vm"), "imageRef": image["id"],
                                                           "flavorRef": "1", "networks": [{"uuid": net["id"]}]}}),
                    202)["server"]

        def active():
            shown = ok(nova.get(f"/servers/{server['id']}"))["server"]
            assert shown["status"] != "ERROR", shown.get("fault")
            return shown if shown["status"] == "ACTIVE" else None

        shown = wait(active, 60, "the server ACTIVE on the joined host")
        assert shown["OS-EXT-SRV-ATTR:host"] == HOST

        world.joined.send_signal(signal.SIGTERM)
        assert world.joined.wait(timeout=30) == 0
        world.joined = None
        assert ok(nova.get(f"/servers/{server['id']}"))["server"]["status"] == "ACTIVE"
