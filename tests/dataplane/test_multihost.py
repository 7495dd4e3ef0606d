"""Two joined hosts, each a network namespace of this machine running `onestack compute join` (fake compute
driver, data plane on) and reaching PostgreSQL through its Unix socket; their tunnel addresses sit on an
underlay bridge of the test's own.  A "guest" on each (a veth `tap<port>` in the host namespace, its peer in
a guest namespace with the port's MAC and address) pings the other across VXLAN."""

import contextlib
import dataclasses
import os
import random
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator

import httpx
import pytest
import yaml
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from tests.api.helpers import console_output, name, ok, upload_image, wait
from tests.cloudfixture import Cloud
from tests.dataplane import probes
from tests.dataplane.kernel import free_subnet, require_dataplane, sh
from tests.drivers import serial
from tests.pgtools import scratch_database

pytestmark = [pytest.mark.dataplane, pytest.mark.xdist_group("dataplane"), pytest.mark.hosts]
V253 = {"X-OpenStack-Nova-API-Version": "2.53"}
PG_SOCKET_DIR = "/var/run/postgresql"


def socket_url(url: str) -> str:
    """The same database through the server's Unix socket (namespaces share the filesystem, not loopback)."""
    credentials, database = url.split("@", 1)[0], url.rsplit("/", 1)[1]
    found = f"{credentials}@/{database}?host={PG_SOCKET_DIR}"
    engine = create_engine(found)
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
    except OperationalError as exc:
        pytest.skip(f"PostgreSQL does not take the test role through its Unix socket (scripts/postgres-up.sh "
                    f"allows it): {str(exc).splitlines()[0]}")
    finally:
        engine.dispose()
    return found


class Host:
    """A namespace on the underlay bridge with ``tunnel_ip``, running ``onestack compute join`` inside."""

    def __init__(self, underlay: str, tunnel_ip: str, data_dir, database: str, host: str, driver: str = "fake",
                 image_dir: str | None = None, settings: dict | None = None):
        """``settings``: more of the host's ``onestack.yaml`` (e.g. ``{"compute": {...}}``)."""
        tag = uuid.uuid4().hex[:8]
        self.netns, self.outer, self.host, self.data_dir = f"ostest-h{tag}", f"osth{tag}", host, data_dir
        self.process = None
        sh("ip", "netns", "add", self.netns)
        sh("ip", "link", "add", self.outer, "type", "veth", "peer", "name", "eth0", "netns", self.netns)
        sh("ip", "link", "set", self.outer, "master", underlay, "up")
        sh("ip", "-n", self.netns, "addr", "add", f"{tunnel_ip}/24", "dev", "eth0")
        sh("ip", "-n", self.netns, "link", "set", "eth0", "up")
        sh("ip", "-n", self.netns, "link", "set", "lo", "up")
        data_dir.mkdir(parents=True)
        (data_dir / "onestack.yaml").write_text(yaml.safe_dump({"network": {"dataplane": True}, **(settings or {})}))
        self.log = open(data_dir / "join.log", "w")
        self.argv = ["ip", "netns", "exec", self.netns, sys.executable, "-m", "onestack", "compute", "join",
                     "--database", database, "--data-dir", str(data_dir), "--host", host, "--tunnel-ip", tunnel_ip,
                     "--compute-driver", driver, *(["--image-dir", image_dir] if image_dir else [])]
        self.restart()

    def restart(self) -> None:
        """Start its ``compute join`` process (again, after it stopped or was killed)."""
        self.process = subprocess.Popen(self.argv, stdout=self.log, stderr=subprocess.STDOUT,
                                        env={**os.environ, "PYTHONPATH": os.getcwd(), "PYTHONFAULTHANDLER": "1"})

    def stop(self) -> int | None:
        """SIGTERM; the exit code (None if it had to be killed: its threads' stacks are then in its log)."""
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.send_signal(signal.SIGABRT)  # PYTHONFAULTHANDLER: every thread's stack to the log
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            return None

    def log_tail(self, size: int = 6000) -> str:
        return f"\n--- {self.host}:\n{(self.data_dir / 'join.log').read_text()[-size:]}"

    def close(self) -> None:
        self.stop()
        self.log.close()
        # a guest the test could not delete through the API must not outlive its host
        subprocess.run([sys.executable, "-m", "onestack", "down", "--purge", "--data-dir", str(self.data_dir)],
                       capture_output=True, timeout=120, env={**os.environ, "PYTHONPATH": os.getcwd()})
        sh("ip", "netns", "del", self.netns, check=False)  # its bridges, VXLAN devices and taps go with it
        sh("ip", "link", "del", self.outer, check=False)


class Guest:
    """A guest of ``host``: ``tap<port[:11]>`` in the host's namespace, ``eth0`` with the port's MAC and address
    in a namespace of its own."""

    def __init__(self, host: Host, port: dict):
        self.netns = f"ostest-g{uuid.uuid4().hex[:8]}"
        self.address = port["fixed_ips"][0]["ip_address"]
        sh("ip", "netns", "add", self.netns)
        sh("ip", "-n", host.netns, "link", "add", f"tap{port['id'][:11]}", "type", "veth", "peer", "name", "eth0",
           "netns", self.netns)
        sh("ip", "-n", self.netns, "link", "set", "eth0", "address", port["mac_address"])
        sh("ip", "-n", self.netns, "addr", "add", f"{self.address}/24", "dev", "eth0")
        sh("ip", "-n", self.netns, "link", "set", "eth0", "up")
        sh("ip", "-n", host.netns, "link", "set", f"tap{port['id'][:11]}", "up")

    def pings(self, address: str) -> bool:
        return sh("ip", "netns", "exec", self.netns, "busybox", "ping", "-c", "1", "-W", "1", address,
                  check=False).returncode == 0

    def close(self) -> None:
        sh("ip", "netns", "del", self.netns, check=False)


@dataclasses.dataclass
class TwoHosts:
    """A controller (one fake host, disabled by ``only_joined_hosts_schedule``) and two (or more) joined QEMU
    hosts on an underlay of their own, with admin clients of the compute API (2.53) and of the whole cloud."""

    cloud: Cloud
    hosts: list[Host]
    tunnels: tuple[str, ...]
    nova: httpx.Client
    http: httpx.Client


@contextlib.contextmanager
def two_qemu_hosts(tmp_path, network_node: bool = False, external: str | None = None,
                   count: int = 2, host_settings: dict | None = None) -> Iterator[TwoHosts]:
    """``count`` joined hosts, ``host-a``, ``host-b``...  ``network_node``: the controller runs the data plane
    too, DHCP and metadata for every host's guests across VXLAN on the underlay.  ``external``: and routers, with physical network ``public`` on that
    bridge (made by the controller's agent) for an external network, so floating IPs reach the guests.
    ``host_settings``: more of each joined host's ``onestack.yaml``."""
    require_dataplane()
    underlay, (controller, *tunnels) = f"ostu{uuid.uuid4().hex[:8]}", list(free_subnet().hosts())[:count + 1]
    settings: dict = {"compute": {"driver": "fake", "fake_hosts": 1, "host": "controller"}}
    if network_node:
        vni = random.randrange(100000, 16000000)
        settings["network"] = {"dataplane": True, "physical_networks": {"public": external} if external else {},
                               "vni_ranges": [[vni, vni + 9]],
                               "tunnel_ip": str(controller)}
    hosts: list[Host] = []
    with scratch_database() as url:
        database = socket_url(url)
        cloud = Cloud(tmp_path / "controller", database=url, settings=settings)
        sh("ip", "link", "add", underlay, "type", "bridge")
        try:
            sh("ip", "addr", "add", f"{controller}/24", "dev", underlay)
            sh("ip", "link", "set", underlay, "up")
            cloud.start()
            for letter, address in zip("abcdefgh", tunnels, strict=False):
                hosts.append(Host(underlay, str(address), tmp_path / f"host-{letter}", database, f"host-{letter}",
                                  driver="qemu", image_dir=str(cloud.data_dir / "images"), settings=host_settings))
            headers = {"X-Auth-Token": cloud.token()}
            with httpx.Client(base_url=f"{cloud.url}/compute/v2.1", headers={**headers, **V253}, timeout=60) as nova, \
                    httpx.Client(base_url=cloud.url, headers=headers, timeout=120) as http:
                only_joined_hosts_schedule(nova, hosts, 90)
                yield TwoHosts(cloud, hosts, tuple(str(t) for t in tunnels), nova, http)
        finally:
            for host in hosts:  # down --purge stops any guest left under a host's data dir
                host.close()
            cloud.purge(check=False)
            sh("ip", "link", "del", underlay, check=False)


def only_joined_hosts_schedule(nova: httpx.Client, hosts: list[Host], seconds: float) -> None:
    """Wait for the joined hosts' services to be up, then disable the controller's own host."""
    def services():
        return {s["host"]: s for s in ok(nova.get("/os-services"))["services"]}

    try:
        wait(lambda: all(services().get(h.host, {}).get("state") == "up" for h in hosts), seconds,
             "the joined hosts up")
    except AssertionError as exc:  # their logs go with their data dirs at close: say what they said
        logs = "".join(f"\n--- {h.host}:\n{(h.data_dir / 'join.log').read_text()[-3000:]}" for h in hosts)
        raise AssertionError(f"{exc}{logs}") from None
    ok(nova.put(f"/os-services/{services()['controller']['id']}", json={"status": "disabled"}))


@pytest.mark.postgres
def test_a_guest_on_host_a_pings_a_guest_on_host_b_across_vxlan(tmp_path):
    require_dataplane()
    underlay, (controller, tunnel_a, tunnel_b) = f"ostu{uuid.uuid4().hex[:8]}", list(free_subnet().hosts())[:3]
    hosts: list[Host] = []
    guests: list[Guest] = []
    with scratch_database() as url:
        database = socket_url(url)
        cloud = Cloud(tmp_path / "controller", database=url,
                      settings={"compute": {"driver": "fake", "fake_hosts": 1, "host": "controller"}}).start()
        sh("ip", "link", "add", underlay, "type", "bridge")
        try:
            sh("ip", "addr", "add", f"{controller}/24", "dev", underlay)  # the API reaches the hosts' links
            sh("ip", "link", "set", underlay, "up")
            for letter, address in (("a", tunnel_a), ("b", tunnel_b)):
                hosts.append(Host(underlay, str(address), tmp_path / f"host-{letter}", database, f"host-{letter}"))
            headers = {"X-Auth-Token": cloud.token()}
            nova = httpx.Client(base_url=f"{cloud.url}/compute/v2.1", headers={**headers, **V253}, timeout=60)
            http = httpx.Client(base_url=cloud.url, headers=headers, timeout=60)
            only_joined_hosts_schedule(nova, hosts, 60)
            image = upload_image(http, image_name=name("img"))
            net = ok(http.post("/network/v2.0/networks", json={"network": {"name": name("net")}}), 201)["network"]
            ok(http.post("/network/v2.0/subnets", json={"subnet": {"network_id": net["id"], "ip_version": 4,
                                                                  "cidr": "10.79.0.0/24", "enable_dhcp": False}}),
               201)
            group = ok(nova.post("/os-server-groups", json={"server_group": {"name": name("g"),
                                                                             "policies": ["anti-affinity"]}}))
            servers = [ok(nova.post("/servers", json={
                "server": {"name": name("vm"), "imageRef": image["id"], "flavorRef": "1",
                           "networks": [{"uuid": net["id"]}]},
                "os:scheduler_hints": {"group": group["server_group"]["id"]}}), 202)["server"] for _ in hosts]

            def placed(server_id):
                shown = ok(nova.get(f"/servers/{server_id}"))["server"]
                assert shown["status"] != "ERROR", shown.get("fault")
                return shown["OS-EXT-SRV-ATTR:host"] if shown["status"] == "ACTIVE" else None

            where = {wait(lambda s=s: placed(s["id"]), 90, "a server ACTIVE"): s["id"] for s in servers}
            assert set(where) == {"host-a", "host-b"}
            for host in hosts:
                (port,) = ok(http.get("/network/v2.0/ports", params={"device_id": where[host.host]}))["ports"]
                guests.append(Guest(host, port))
                wait(lambda p=port["id"]: ok(http.get(f"/network/v2.0/ports/{p}"))["port"]["status"] == "ACTIVE",
                     60, f"the tap on {host.host} plugged and its port ACTIVE")

            vni = ok(http.get(f"/network/v2.0/networks/{net['id']}"))["network"]["provider:segmentation_id"]
            fdb = sh("ip", "netns", "exec", hosts[0].netns, "bridge", "fdb", "show", "dev", f"vxlan-{vni}").stdout
            assert f"dst {tunnel_b}" in fdb and f"dst {tunnel_a}" not in fdb, fdb
            wait(lambda: guests[0].pings(guests[1].address), 60, "a ping from host A's guest to host B's")
            assert guests[1].pings(guests[0].address)

            # calls that need the guest go to its host's link, which takes only calls signed with its secret
            answer = nova.post(f"/servers/{where['host-a']}/action", json={"os-getConsoleOutput": {}})
            assert answer.status_code == 200, answer.text
            assert "onestack-tiny: up" in answer.json()["output"], answer.text  # what host A's fake guest printed
            link = f"http://{tunnel_a}:8790/hosts/host-a/instances/{where['host-a']}/console_output"
            forged = httpx.post(link, json={}, headers={"X-Onestack-Link-Time": "0",
                                                        "X-Onestack-Link-Signature": "0" * 64})
            assert forged.status_code == 401, forged.text
            stopped_cleanly(hosts)
        finally:
            for guest in guests:
                guest.close()
            for host in hosts:
                host.close()
            sh("ip", "link", "del", underlay, check=False)
            cloud.purge(check=False)  # its agent's links and firewall rules too


@pytest.mark.qemu
@pytest.mark.postgres
def test_real_guests_on_two_joined_hosts_reach_each_other_and_the_controllers_dhcp_and_metadata(tmp_path,
                                                                                                 tiny_image):
    """QEMU guests on hosts A and B: each gets its address from the controller's dnsmasq and its identity
    from the controller's metadata proxy, both across VXLAN, and pings the other host's guest."""
    with two_qemu_hosts(tmp_path, network_node=True) as two:
        hosts, nova, http = two.hosts, two.nova, two.http
        image = upload_image(http, tiny_image.path)
        net = ok(http.post("/network/v2.0/networks", json={"network": {"name": name("net")}}), 201)["network"]
        ok(http.post("/network/v2.0/subnets", json={"subnet": {"network_id": net["id"], "ip_version": 4,
                                                              "cidr": "10.79.1.0/24"}}), 201)
        ports = [ok(http.post("/network/v2.0/ports", json={"port": {"network_id": net["id"]}}), 201)["port"]
                 for _ in hosts]
        addresses = [p["fixed_ips"][0]["ip_address"] for p in ports]
        group = ok(nova.post("/os-server-groups", json={"server_group": {"name": name("g"),
                                                                         "policies": ["anti-affinity"]}}))
        servers = [ok(nova.post("/servers", json={
            "server": {"name": f"vm-{i}", "imageRef": image["id"], "flavorRef": "42",
                       "networks": [{"port": port["id"]}],
                       "user_data": probes.user_data((addresses[1 - i], 120))},
            "os:scheduler_hints": {"group": group["server_group"]["id"]}}), 202)["server"]["id"]
            for i, port in enumerate(ports)]

        def placed(server_id):
            shown = ok(nova.get(f"/servers/{server_id}"))["server"]
            assert shown["status"] != "ERROR", shown.get("fault")
            return shown["OS-EXT-SRV-ATTR:host"] if shown["status"] == "ACTIVE" else None

        where = [wait(lambda s=s: placed(s), 120, "a server ACTIVE") for s in servers]
        assert sorted(where) == ["host-a", "host-b"]

        def console(server_id: str) -> str:  # the controller's API asks the guest's host over its link
            return console_output(nova, server_id)

        for i, (server_id, host) in enumerate(zip(servers, where, strict=True)):
            try:
                log = wait(lambda s=server_id: probes.found(console(s), 1) and console(s), 300,
                           f"vm-{i}'s probe on {host}", every=1)
            except AssertionError as exc:
                raise AssertionError(f"{exc}; its console:\n{console(server_id)}") from None
            assert f"hostname=vm-{i} addresses={addresses[i]} source=metadata-service" in log, log
            assert probes.found(log, 1) == {f"reach {addresses[1 - i]}": "yes"}, log
        # the serial console of a joined host's guest, through the controller's proxy and that host's link
        url = ok(nova.post(f"/servers/{servers[1]}/remote-consoles", json={
            "remote_console": {"protocol": "serial", "type": "serial"}}))["remote_console"]["url"]
        assert serial.shell_answers(url)
        for server_id in servers:
            ok(nova.delete(f"/servers/{server_id}"), 204)
        for server_id in servers:
            wait(lambda s=server_id: nova.get(f"/servers/{s}").status_code == 404, 120, "the server to go")
        stopped_cleanly(hosts)


def stopped_cleanly(hosts: list[Host]) -> None:
    """Each host ends on SIGTERM within 30 s with status 0; the logs of all (with the stacks of one that
    hung) otherwise."""
    codes = [h.stop() for h in hosts]
    assert codes == [0] * len(hosts), (codes, "".join(h.log_tail() for h in hosts))
