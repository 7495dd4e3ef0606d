"""`onestack compute join`: one more host of a cloud on PostgreSQL registers itself (service, hypervisor,
placement provider, tunnel address), heartbeats, converges the instances placed on it, and stops cleanly
on SIGTERM."""

import os
import signal
import subprocess
import sys

import httpx
import pytest
import yaml
from sqlalchemy import create_engine, text

from tests.api.helpers import name, ok, upload_image, wait
from tests.cloudfixture import Cloud
from tests.pgtools import scratch_database

V253 = {"X-OpenStack-Nova-API-Version": "2.53"}


def join(data_dir, url: str, host: str, tunnel_ip: str) -> subprocess.Popen:
    data_dir.mkdir(parents=True, exist_ok=True)  # a host that comes back keeps its data dir
    (data_dir / "onestack.yaml").write_text(yaml.safe_dump({"network": {"dataplane": False}}))
    log = open(data_dir / "join.log", "w")
    return subprocess.Popen([sys.executable, "-m", "onestack", "compute", "join", "--database", url, "--data-dir",
                             str(data_dir), "--host", host, "--tunnel-ip", tunnel_ip, "--compute-driver", "fake",
                             # the tunnel address is not this machine's: the link listens on loopback
                             "--link-bind", "127.0.0.1:0"],
                            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONPATH": os.getcwd()})


@pytest.mark.postgres
def test_a_joined_host_registers_heartbeats_runs_its_instances_and_stops_on_sigterm(tmp_path):
    with scratch_database() as url:
        cloud = Cloud(tmp_path / "controller", database=url,
                      settings={"compute": {"driver": "fake", "fake_hosts": 1, "host": "controller"}}).start()
        joined = None
        try:
            joined = join(tmp_path / "joined", url, "joined-1", "192.0.2.11")
            headers = {"X-Auth-Token": cloud.token()}
            nova = httpx.Client(base_url=f"{cloud.url}/compute/v2.1", headers={**headers, **V253}, timeout=60)

            def services():
                return {s["host"]: s for s in ok(nova.get("/os-services"))["services"]}

            wait(lambda: services().get("joined-1", {}).get("state") == "up", 60, "the joined host's service up")
            assert joined.poll() is None, (tmp_path / "joined" / "join.log").read_text()
            providers = ok(httpx.get(f"{cloud.url}/placement/resource_providers", headers=headers))
            assert "joined-1" in {p["name"] for p in providers["resource_providers"]}
            engine = create_engine(url)
            with engine.connect() as conn:
                tunnels = dict(conn.execute(text("select host, tunnel_ip from compute_host")).all())
            engine.dispose()
            assert tunnels == {"controller": None, "joined-1": "192.0.2.11"}

            # the controller's own host disabled: the scheduler can only choose the joined one
            ok(nova.put(f"/os-services/{services()['controller']['id']}", json={"status": "disabled"}))
            with httpx.Client(base_url=cloud.url, headers=headers, timeout=60) as http:
                image = upload_image(http, image_name=name("img"))
                net = ok(http.post("/network/v2.0/networks", json={"network": {"name": name("net")}}), 201)["network"]
                ok(http.post("/network/v2.0/subnets", json={"subnet": {"network_id": net["id"], "ip_version": 4,
                                                                      "cidr": "10.78.0.0/24"}}), 201)
            server = ok(nova.post("/servers", json={"server": {"name": name("vm"), "imageRef": image["id"],
                                                               "flavorRef": "1", "networks": [{"uuid": net["id"]}]}}),
                        202)["server"]

            def active():
                shown = ok(nova.get(f"/servers/{server['id']}"))["server"]
                assert shown["status"] != "ERROR", shown.get("fault")
                return shown if shown["status"] == "ACTIVE" else None

            shown = wait(active, 60, "the server ACTIVE on the joined host")
            assert shown["OS-EXT-SRV-ATTR:host"] == "joined-1"

            joined.send_signal(signal.SIGTERM)
            assert joined.wait(timeout=30) == 0
            joined = None
            assert ok(nova.get(f"/servers/{server['id']}"))["server"]["status"] == "ACTIVE"
        finally:
            if joined is not None:
                joined.kill()
                joined.wait()
            cloud.stop()
