"""A controller on a scratch PostgreSQL database and one host joined to it with ``onestack compute join``
(fake driver, no data plane), for the tests of joined hosts."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import httpx
import yaml

from tests.api.helpers import name, ok, upload_image, wait
from tests.cloudfixture import Cloud
from tests.pgtools import scratch_database

V253 = {"X-OpenStack-Nova-API-Version": "2.53"}
HOST, TUNNEL_IP = "joined-1", "192.0.2.11"


def join(data_dir: Path, url: str, host: str = HOST, tunnel_ip: str = TUNNEL_IP) -> subprocess.Popen:
    data_dir.mkdir(parents=True, exist_ok=True)  # a host that comes back keeps its data dir
    (data_dir / "onestack.yaml").write_text(yaml.safe_dump({"network": {"dataplane": False}}))
    log = open(data_dir / "join.log", "w")
    return subprocess.Popen([sys.executable, "-m", "onestack", "compute", "join", "--database", url, "--data-dir",
                             str(data_dir), "--host", host, "--tunnel-ip", tunnel_ip, "--compute-driver", "fake",
                             # the tunnel address is not this machine's: the link listens on loopback
                             "--link-bind", "127.0.0.1:0"],
                            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONPATH": os.getcwd()})


@dataclasses.dataclass
class JoinedCloud:
    cloud: Cloud
    url: str  # the shared database
    data_dir: Path  # the joined host's
    nova: httpx.Client  # as the admin, at 2.53
    joined: subprocess.Popen | None  # None while the joined host is down

    @property
    def headers(self) -> dict:
        return {"X-Auth-Token": self.nova.headers["X-Auth-Token"]}

    def services(self) -> dict[str, dict]:
        return {s["host"]: s for s in ok(self.nova.get("/os-services"))["services"]}

    def start_joined(self) -> None:
        self.joined = join(self.data_dir, self.url)
        wait(lambda: self.services().get(HOST, {}).get("state") == "up", 60, "the joined host's service up")
        # as in Nova, the host's resource provider comes with its first resource report, after its service
        wait(lambda: HOST in self.provider_names(), 60, "the joined host's resource provider")

    def provider_names(self) -> set[str]:
        listed = ok(httpx.get(f"{self.cloud.url}/placement/resource_providers", headers=self.headers, timeout=60))
        return {p["name"] for p in listed["resource_providers"]}

    def image_and_network(self, cidr: str) -> tuple[dict, dict]:
        with httpx.Client(base_url=self.cloud.url, headers=self.headers, timeout=60) as http:
            image = upload_image(http, image_name=name("img"))
            net = ok(http.post("/network/v2.0/networks", json={"network": {"name": name("net")}}), 201)["network"]
            ok(http.post("/network/v2.0/subnets", json={"subnet": {"network_id": net["id"], "ip_version": 4,
                                                                  "cidr": cidr}}), 201)
        return image, net


@contextlib.contextmanager
def controller_and_joined_host(tmp_path: Path, controller: dict | None = None):
    """``controller``: more compute settings of the controller's own host."""
    with scratch_database() as url:
        cloud = Cloud(tmp_path / "controller", database=url, settings={"compute": {
            "driver": "fake", "fake_hosts": 1, "host": "controller", **(controller or {})}}).start()
        nova = httpx.Client(base_url=f"{cloud.url}/compute/v2.1", timeout=60,
                            headers={"X-Auth-Token": cloud.token(), **V253})
        world = JoinedCloud(cloud, url, tmp_path / "joined", nova, None)
        try:
            world.start_joined()
            yield world
        finally:
            if world.joined is not None:
                world.joined.kill()
                world.joined.wait()
            nova.close()
            cloud.stop()
