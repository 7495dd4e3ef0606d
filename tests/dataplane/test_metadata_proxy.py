"""The metadata proxy of each network: a real haproxy in its ``qdhcp-`` namespace in front of the cloud's
real metadata service.  "Guests" are namespaces of the test's own holding the MAC of a server's port (the
servers run on the fake driver): they take their address from the network's dnsmasq and ask
169.254.169.254 over the route it gives, as cloud-init does.  The proxy killed comes back, a tampered
configuration is rewritten and the proxy restarted, and a deleted network leaves no proxy behind.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from onestack.drivers.netns import converge, metadata_proxy
from tests.api.helpers import name, ok, wait
from tests.cloudfixture import Cloud
from tests.dataplane.kernel import Namespace, require_dataplane

pytestmark = [pytest.mark.dataplane, pytest.mark.xdist_group("dataplane")]
NOVA = {"X-OpenStack-Nova-API-Version": "2.1"}
ADDRESS = "10.87.0.50"  # every network's guest holds it: only the network tells them apart
NOTHING = {"namespaces": set(), "links": set(), "dnsmasq": set(), "proxies": set(), "radvd": set()}

# Run in a guest's namespace: one request for argv[1] with the headers of argv[2] (a POST of argv[3] if
# given); prints status and body.
FETCH = """
import json, sys, urllib.error, urllib.request
data = sys.argv[3].encode() if len(sys.argv) > 3 else None
request = urllib.request.Request("http://169.254.169.254" + sys.argv[1], headers=json.loads(sys.argv[2]), data=data)
try:
    with urllib.request.urlopen(request, timeout=10) as resp:
        print(json.dumps([resp.status, resp.read().decode()]))
except urllib.error.HTTPError as exc:
    print(json.dumps([exc.code, exc.read().decode()]))
"""


def data_dir_processes(data_dir: Path) -> list[str]:
    """The command lines of every process naming the cloud's data dir, the tests' own aside."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and int(proc.name) != os.getpid():
            try:
                cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if str(data_dir) in cmdline:
                found.append(cmdline)
    return found


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    require_dataplane()
    vni = random.randrange(100000, 16000000)  # clouds sharing the machine must not share a VXLAN device
    c = Cloud(tmp_path_factory.mktemp("mdproxy"), settings={"compute": {"driver": "fake"}, "network": {
        "dataplane": True, "physical_networks": {}, "vni_ranges": [[vni, vni + 19]]}}).start()
    yield c
    owner = (c.data_dir / "dataplane" / "owner").read_text().strip()
    c.purge()
    assert converge.owned_objects(owner, c.data_dir / "dataplane") == NOTHING
    assert not [p for p in data_dir_processes(c.data_dir) if "haproxy" in p or "dnsmasq" in p]


@pytest.fixture(scope="module")
def api(cloud):
    with httpx.Client(base_url=cloud.url, headers={"X-Auth-Token": cloud.token()}, timeout=60) as http:
        yield http


@pytest.fixture(scope="module")
def image(api):
    made = ok(api.post("/image/v2/images", json={"name": name("img"), "disk_format": "raw",
                                                 "container_format": "bare"}), 201)
    ok(api.put(f"/image/v2/images/{made['id']}/file", content=b"\0" * 4096,
               headers={"Content-Type": "application/octet-stream"}), 204)
    return made["id"]


class Guest:
    """A server of the fake driver on a network of its own, and a namespace wearing its port's MAC that
    took the port's address from the network's dnsmasq."""

    def __init__(self, api: httpx.Client, image: str, cloud: Cloud):
        self.net = ok(api.post("/network/v2.0/networks", json={"network": {"name": name("md")}}), 201)["network"]
        ok(api.post("/network/v2.0/subnets", json={"subnet": {"network_id": self.net["id"], "ip_version": 4,
                                                              "cidr": "10.87.0.0/24"}}), 201)
        port = ok(api.post("/network/v2.0/ports", json={"port": {
            "network_id": self.net["id"], "fixed_ips": [{"ip_address": ADDRESS}]}}), 201)["port"]
        self.name = name("vm")
        body = {"server": {"name": self.name, "imageRef": image, "flavorRef": "1", "metadata": {"net": self.net["id"]},
                           "networks": [{"port": port["id"]}]}}
        self.server = ok(api.post("/compute/v2.1/servers", headers=NOVA, json=body), 202)["server"]["id"]
        wait(lambda: ok(api.get(f"/compute/v2.1/servers/{self.server}", headers=NOVA))["server"]["status"] == "ACTIVE",
             60, "the server to be ACTIVE")
        self.folder = cloud.data_dir / "dataplane" / "dhcp" / self.net["id"]
        self.netns = f"qdhcp-{self.net['id']}"
        self.proxy = wait(lambda: metadata_proxy.pid(self.folder, self.netns), 30, "the network's metadata proxy")
        self.port = port["id"]
        self.ns = Namespace(f"brq{self.net['id'][:11]}", port["mac_address"])
        lease = self.ns.dhcp()
        assert lease["ip"] == ADDRESS
        routes = lease["staticroutes"].split()
        hop = routes[routes.index("169.254.169.254/32") + 1]  # the DHCP port's address, as Neutron gives it
        self.ns.address(f"{ADDRESS}/24")
        self.ns.run("ip", "route", "add", "169.254.169.254/32", "via", hop)

    def fetch(self, path: str, headers: dict | None = None, post: str | None = None) -> tuple[int, str]:
        extra = [post] if post is not None else []
        done = self.ns.run(sys.executable, "-c", FETCH, path, json.dumps(headers or {}), *extra, check=False)
        if done.returncode != 0:
            return 0, done.stderr
        status, body = json.loads(done.stdout)
        return status, body

    def meta_data(self) -> dict:
        status, body = wait(lambda: (got := self.fetch("/openstack/latest/meta_data.json"))[0] == 200 and got, 30,
                            "the metadata through the proxy")
        return json.loads(body)

    def close(self) -> None:
        self.ns.close()


@pytest.fixture
def guests(api, image, cloud):
    made: list[Guest] = []
    yield lambda: made.append(Guest(api, image, cloud)) or made[-1]
    for guest in made:
        guest.close()


def test_each_guest_reads_its_own_servers_metadata_through_its_networks_haproxy(guests):
    first, second = guests(), guests()
    for guest in (first, second):
        cmdline = Path(f"/proc/{guest.proxy}/cmdline").read_bytes().split(b"\0")
        assert Path(cmdline[0].decode()).name == "haproxy", cmdline
        assert os.stat(f"/proc/{guest.proxy}/ns/net").st_ino == os.stat(f"/run/netns/{guest.netns}").st_ino
        # the same address on two networks: the network id the proxy adds is what tells the servers apart
        meta = guest.meta_data()
        assert (meta["uuid"], meta["name"], meta["meta"]) == (guest.server, guest.name, {"net": guest.net["id"]})

    # what a guest says about itself is dropped: it cannot pass for the other network's server
    forged = {"X-Forwarded-For": "10.87.0.99", "X-Neutron-Network-ID": second.net["id"],
              "X-Instance-ID": second.server, "X-Tenant-ID": "x", "X-Instance-ID-Signature": "0" * 64}
    status, body = first.fetch("/openstack/latest/meta_data.json", forged)
    assert status == 200 and json.loads(body)["uuid"] == first.server

    # the EC2 tree, and a POST with its body (the password a guest sets once), pass through as well
    assert first.fetch("/latest/meta-data/local-ipv4") == (200, ADDRESS)
    assert first.fetch("/openstack/latest/password", post="sealed-by-the-guest")[0] == 200
    assert first.fetch("/openstack/latest/password") == (200, "sealed-by-the-guest")
    assert second.fetch("/openstack/latest/password") == (200, "")


def test_a_killed_proxy_is_started_again_by_the_next_pass(guests):
    guest = guests()
    os.kill(guest.proxy, signal.SIGKILL)
    again = wait(lambda: (p := metadata_proxy.pid(guest.folder, guest.netns)) not in (None, guest.proxy) and p, 30,
                 "the proxy to be started again")
    assert Path(f"/proc/{again}/exe").resolve().name == "haproxy"
    assert guest.meta_data()["uuid"] == guest.server


def test_a_proxy_whose_configuration_was_changed_is_restarted_with_the_planned_one(guests, api):
    guest = guests()
    config = guest.folder / "haproxy.cfg"
    planned = config.read_text()
    config.write_text(planned.replace("timeout client 60s", "timeout client 1s"))
    # any change to the network makes the agent take a full pass over it
    ok(api.post("/network/v2.0/ports", json={"port": {"network_id": guest.net["id"]}}), 201)
    again = wait(lambda: (p := metadata_proxy.pid(guest.folder, guest.netns)) not in (None, guest.proxy) and p, 30,
                 "the proxy to be restarted")
    assert config.read_text() == planned
    assert guest.meta_data()["uuid"] == guest.server
    assert metadata_proxy.pid(guest.folder, guest.netns) == again


# What an earlier version's Python proxy looked like to its successor: a process in the namespace holding
# port 80, whose command line names its pidfile, which it wrote.
LEGACY = """
import os, socket, sys, time
listener = socket.create_server(("169.254.169.254", 80))
open(sys.argv[1], "w").write(str(os.getpid()))
time.sleep(600)
"""


def test_a_python_proxy_left_by_an_earlier_version_gives_way_to_haproxy(guests, cloud):
    guest = guests()
    cloud.stop()  # the proxy keeps running, as dnsmasq does
    os.kill(guest.proxy, signal.SIGKILL)
    pidfile = guest.folder / "metadata-proxy.pid"
    legacy = subprocess.Popen(["ip", "netns", "exec", guest.netns, sys.executable, "-c", LEGACY, str(pidfile)],
                              start_new_session=True)
    try:
        wait(lambda: pidfile.exists(), 10, "the old proxy to listen")
        cloud.start()
        assert legacy.wait(timeout=30) == -signal.SIGTERM
        again = wait(lambda: metadata_proxy.pid(guest.folder, guest.netns), 30, "haproxy in its place")
        assert again != guest.proxy and not pidfile.exists()
        assert guest.meta_data()["uuid"] == guest.server
    finally:
        if legacy.poll() is None:
            legacy.kill()
            legacy.wait()


def test_deleting_the_network_stops_its_proxy(guests, api, cloud):
    guest = guests()
    ok(api.delete(f"/compute/v2.1/servers/{guest.server}", headers=NOVA), 204)
    wait(lambda: api.get(f"/compute/v2.1/servers/{guest.server}", headers=NOVA).status_code == 404, 60,
         "the server to go")
    guest.close()
    ok(api.delete(f"/network/v2.0/ports/{guest.port}"), 204)  # made before the server: Nova leaves it
    ok(api.delete(f"/network/v2.0/networks/{guest.net['id']}"), 204)
    wait(lambda: not Path(f"/proc/{guest.proxy}").exists(), 30, "the network's haproxy to exit")
    wait(lambda: not guest.folder.exists() and not Path(f"/run/netns/{guest.netns}").exists(), 30,
         "the network's folder and namespace to go")
    assert not [p for p in data_dir_processes(cloud.data_dir) if guest.net["id"] in p]
