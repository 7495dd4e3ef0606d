"""Container servers through the whole cloud: ``openstack server create --image onestack-tiny-container``
(registered by ``onestack image register``) on a tenant network behind a router runs an OCI container under
runc on the QEMU host, which gets its address from the network's DHCP server and serves its page to the
outside through its floating IP only while its security group lets TCP 80 in.  Stop and start, suspend
refused, a VM on the same network fetching both containers' pages and pinged from one of them, an onestack
restart that re-adopts the running containers, and a delete (and a ``down --purge``)
that leaves nothing of the container in the kernel.

The outside world is a namespace of the test's own on the external bridge, holding the external subnet's
gateway address and no route to the tenant subnet.  One test, so the steps run in order.
"""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

from onestack.drivers.runc import network, runtime
from onestack.guestimage import build
from tests.api.helpers import console_output, nova_error, ok, wait
from tests.cloudfixture import Cloud
from tests.dataplane.kernel import Namespace, link_index, require_dataplane, sh
from tests.dataplane.test_multihost_migration import shell_of

pytestmark = [pytest.mark.dataplane, pytest.mark.xdist_group("dataplane")]
NOVA = {"X-OpenStack-Nova-API-Version": "2.1"}
OUTSIDE = "203.0.113.1"
CIDR = "10.83.0.0/24"
MARKER = re.compile(r"onestack-tiny-container: up hostname=(\S+) addresses=(\S+)")


def page(outside: Namespace, address: str) -> str | None:
    """The container's page as the outside world fetches it; None when nothing answers within 2 s."""
    # under timeout: Debian's static busybox wget crashes with -T
    done = outside.run("timeout", "2", "busybox", "wget", "-q", "-O", "-", f"http://{address}/", check=False)
    return done.stdout if done.returncode == 0 else None


def first_answer(outside: Namespace, address: str, seconds: float) -> tuple[str, float]:
    """The page and the time it first answered, asked every 50 ms."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = page(outside, address)
        if found:
            return found, time.monotonic()
        time.sleep(0.05)
    raise AssertionError(f"no HTTP answer from {address} within {seconds}s")


def container_state(cloud: Cloud, server_id: str) -> dict | None:
    """``runc state`` of the server's container in the cloud's runc root, or None if runc knows none."""
    done = subprocess.run(["runc", "--root", str(cloud.data_dir / "compute" / "runc" / "runc"), "state", server_id],
                          capture_output=True, text=True)
    return json.loads(done.stdout) if done.returncode == 0 else None


def _state(pid: int) -> str:
    """A process's state letter; "Z" for a zombie, killed and waiting for its reaper (pid 1 here)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return ""


def leftovers(server_id: str, port_ids: list[str], pid: int) -> list[str]:
    """What of the container is still in the kernel: its init (``pid``) and processes naming it (the DHCP
    clients), mounts, cgroups, veths, its namespace."""
    found = [f"process {pid}"] if Path(f"/proc/{pid}").exists() and _state(pid) != "Z" else []
    if any(server_id in line for line in Path("/proc/mounts").read_text().splitlines()):
        found.append("mount")
    found += [str(p) for p in Path("/sys/fs/cgroup").glob(f"*/onestack/{server_id}")]
    found += [f"veth {p}" for p in (f"tap{p[:11]}" for p in port_ids) if link_index(p) is not None]
    if Path(network.NETNS_DIR / network.netns_name(server_id)).exists():
        found.append("namespace")
    ps = sh("ps", "-eo", "pid,args").stdout
    found += [line for line in ps.splitlines() if server_id in line]
    return found


def test_a_container_server_on_a_routed_network_serves_its_page_through_its_floating_ip(tmp_path):
    require_dataplane()
    if not runtime.installed():
        pytest.skip("runc is not installed (make install installs it)")
    tag = uuid.uuid4().hex[:6]
    vni = random.randrange(100000, 16000000)
    cloud = Cloud(tmp_path / "data", settings={"compute": {"driver": "qemu"}, "network": {
        "dataplane": True, "physical_networks": {"public": f"brx{tag}"}, "vni_ranges": [[vni, vni + 9]]}}).start()
    http = httpx.Client(base_url=cloud.url, headers={"X-Auth-Token": cloud.token(), **NOVA}, timeout=120)
    outside = None
    try:
        # `make up`'s step: both tiny images registered, public (the image cache shared with the other tests)
        registered = subprocess.run([sys.executable, "-m", "onestack", "image", "register", "--data-dir",
                                     str(cloud.data_dir)], capture_output=True, text=True, timeout=300,
                                    env={**cloud.env, "ONESTACK_IMAGE_CACHE": str(build.default_cache_dir())})
        assert registered.returncode == 0, registered.stdout + registered.stderr
        [image] = ok(http.get("/image/v2/images", params={"name": "onestack-tiny-container"}))["images"]
        assert (image["container_format"], image["disk_format"], image["visibility"]) == ("oci", "raw", "public")
        assert ok(http.get("/image/v2/images", params={"name": "onestack-tiny"}))["images"]

        def create(plural: str, **body) -> dict:
            singular = plural[:-1].replace("-", "_")
            return ok(http.post(f"/network/v2.0/{plural}", json={singular: body}), 201)[singular]

        ext = create("networks", name="public", **{"router:external": True, "provider:network_type": "flat",
                                                    "provider:physical_network": "public"})
        create("subnets", network_id=ext["id"], cidr="203.0.113.0/24", ip_version=4, enable_dhcp=False,
               gateway_ip=OUTSIDE, allocation_pools=[{"start": "203.0.113.10", "end": "203.0.113.99"}])
        net = create("networks", name="private")
        subnet = create("subnets", network_id=net["id"], cidr=CIDR, ip_version=4)
        router = create("routers", name="router1", external_gateway_info={"network_id": ext["id"]})
        ok(http.put(f"/network/v2.0/routers/{router['id']}/add_router_interface", json={"subnet_id": subnet["id"]}))
        [default] = ok(http.get("/network/v2.0/security-groups", params={
            "name": "default", "project_id": net["project_id"]}))["security_groups"]
        wait(lambda: link_index(f"brx{tag}"), 30, "the external bridge")
        outside = Namespace(f"brx{tag}")
        outside.address(f"{OUTSIDE}/24")  # the "internet": no route to the tenant subnet

        # -- the first container, made with the CLI, behind the default group ----------------------------
        port = create("ports", network_id=net["id"], security_groups=[default["id"]])
        fip = create("floatingips", floating_network_id=ext["id"], port_id=port["id"])
        made = cloud.openstack("server", "create", "--image", "onestack-tiny-container", "--flavor", "m1.nano",
                               "--port", port["id"], "-f", "json", "web1")
        server_id = json.loads(made.stdout)["id"]
        wait(lambda: ok(http.get(f"/compute/v2.1/servers/{server_id}"))["server"]["status"] in ("ACTIVE", "ERROR"),
             60, "the container server to settle", every=0.05)
        server = ok(http.get(f"/compute/v2.1/servers/{server_id}"))["server"]
        assert server["status"] == "ACTIVE", server.get("fault")
        assert container_state(cloud, server_id)["status"] == "running"
        address = port["fixed_ips"][0]["ip_address"]
        log = wait(lambda: MARKER.search(cloud.openstack("console", "log", "show", server_id).stdout), 60,
                   "the container's marker line")
        assert log.groups() == ("web1", address), log.group(0)
        wait(lambda: ok(http.get(f"/network/v2.0/ports/{port['id']}"))["port"]["status"] == "ACTIVE", 30,
             "the container's port to be ACTIVE")
        wait(lambda: ok(http.get(f"/network/v2.0/floatingips/{fip['id']}"))["floatingip"]["status"] == "ACTIVE",
             30, "its floating IP to be ACTIVE")
        # the default group lets nobody outside in ...
        assert page(outside, fip["floating_ip_address"]) is None
        # ... until TCP 80 is let in
        rule = create("security-group-rules", security_group_id=default["id"], direction="ingress", ethertype="IPv4",
                      protocol="tcp", port_range_min=80, port_range_max=80)
        ruled = time.monotonic()
        served, answered = first_answer(outside, fip["floating_ip_address"], 30)
        assert MARKER.search(served).groups() == ("web1", address), served
        rule_to_answer = answered - ruled
        # the metadata service answers the container as it answers a VM: its own uuid and name
        meta = subprocess.run(["runc", "--root", str(cloud.data_dir / "compute" / "runc" / "runc"), "exec", server_id,
                               "timeout", "10", "busybox", "wget", "-q", "-O", "-",
                               "http://169.254.169.254/openstack/latest/meta_data.json"],
                              capture_output=True, text=True, timeout=30)
        assert meta.returncode == 0, meta.stdout + meta.stderr
        assert (json.loads(meta.stdout)["uuid"], json.loads(meta.stdout)["name"]) == (server_id, "web1"), meta.stdout

        # stop and start: the container goes and comes back with its address; suspend is refused
        ok(http.post(f"/compute/v2.1/servers/{server_id}/action", json={"os-stop": None}), 202)
        wait(lambda: ok(http.get(f"/compute/v2.1/servers/{server_id}"))["server"]["status"] == "SHUTOFF", 60,
             "SHUTOFF")
        assert container_state(cloud, server_id) is None and page(outside, fip["floating_ip_address"]) is None
        ok(http.post(f"/compute/v2.1/servers/{server_id}/action", json={"os-start": None}), 202)
        wait(lambda: ok(http.get(f"/compute/v2.1/servers/{server_id}"))["server"]["status"] == "ACTIVE", 60, "ACTIVE")
        served, _ = first_answer(outside, fip["floating_ip_address"], 30)
        assert len(MARKER.findall(console_output(http, server_id, "/compute/v2.1"))) == 2
        message = nova_error(http.post(f"/compute/v2.1/servers/{server_id}/action", json={"suspend": None}), 409)
        assert "it is a container" in message, message

        # the rule deleted: nothing answers any more
        ok(http.delete(f"/network/v2.0/security-group-rules/{rule['id']}"), 204)
        wait(lambda: page(outside, fip["floating_ip_address"]) is None, 30, "the page to stop answering")

        # -- a second container, timed: its group lets TCP 80 in from the start ----------------------------
        web = create("security-groups", name="web")
        create("security-group-rules", security_group_id=web["id"], direction="ingress", ethertype="IPv4",
               protocol="tcp", port_range_min=80, port_range_max=80)
        port2 = create("ports", network_id=net["id"], security_groups=[web["id"]])
        fip2 = create("floatingips", floating_network_id=ext["id"], port_id=port2["id"])
        wait(lambda: ok(http.get(f"/network/v2.0/floatingips/{fip2['id']}"))["floatingip"]["status"] == "ACTIVE",
             30, "the second floating IP to be ACTIVE")
        posted = time.monotonic()
        second = ok(http.post("/compute/v2.1/servers", json={"server": {
            "name": "web2", "imageRef": image["id"], "flavorRef": "42", "networks": [{"port": port2["id"]}]}}),
            202)["server"]["id"]
        wait(lambda: ok(http.get(f"/compute/v2.1/servers/{second}"))["server"]["status"] == "ACTIVE", 60,
             "the second container to be ACTIVE", every=0.02)
        to_active = time.monotonic() - posted
        served, answered = first_answer(outside, fip2["floating_ip_address"], 60)
        to_answer = answered - posted
        assert MARKER.search(served).groups() == ("web2", port2["fixed_ips"][0]["ip_address"]), served

        # -- a VM on the same network: it fetches both containers' pages, and a container pings it ---------
        vm_port = create("ports", network_id=net["id"], security_groups=[default["id"]])
        vm = ok(http.post("/compute/v2.1/servers", json={"server": {
            "name": "vm1", "imageRef": ok(http.get("/image/v2/images", params={"name": "onestack-tiny"}))[
                "images"][0]["id"], "flavorRef": "42", "networks": [{"port": vm_port["id"]}]}}), 202)["server"]["id"]
        wait(lambda: ok(http.get(f"/compute/v2.1/servers/{vm}"))["server"]["status"] == "ACTIVE", 120, "the VM")
        vm_address = vm_port["fixed_ips"][0]["ip_address"]
        with httpx.Client(base_url=f"{cloud.url}/compute/v2.1", timeout=60, headers={
                "X-Auth-Token": http.headers["X-Auth-Token"], "X-OpenStack-Nova-API-Version": "2.6"}) as nova:
            shell = shell_of(nova, vm).ready(300)
        wait(lambda: vm_address in shell.run("ip -4 addr show eth0"), 120, "the VM's address from DHCP")
        for name, container_port in (("web1", port), ("web2", port2)):
            container_address = container_port["fixed_ips"][0]["ip_address"]
            # without -T: that option crashes Debian's static busybox wget
            fetched = shell.run(f"timeout 5 wget -q -O - http://{container_address}/ || echo unanswered")
            found = MARKER.search(fetched)
            assert found and found.groups() == (name, container_address), f"{name}: {fetched}"
        shell.close()
        # web1 and the VM share the default group, which lets its members in
        pinged = subprocess.run(["runc", "--root", str(cloud.data_dir / "compute" / "runc" / "runc"), "exec",
                                 server_id, "busybox", "ping", "-c", "1", "-W", "5", vm_address],
                                capture_output=True, text=True, timeout=30)
        assert pinged.returncode == 0 and "1 packets received" in pinged.stdout, pinged.stdout + pinged.stderr
        # and the two containers reach each other: web1 fetches web2's page (web2's group lets TCP 80 in)
        fetched = subprocess.run(["runc", "--root", str(cloud.data_dir / "compute" / "runc" / "runc"), "exec",
                                  server_id, "timeout", "5", "busybox", "wget", "-q", "-O", "-",
                                  f"http://{port2['fixed_ips'][0]['ip_address']}/"],
                                 capture_output=True, text=True, timeout=30)
        found = MARKER.search(fetched.stdout)
        assert found and found.groups() == ("web2", port2["fixed_ips"][0]["ip_address"]), \
            fetched.stdout + fetched.stderr
        ok(http.delete(f"/compute/v2.1/servers/{vm}"), 204)

        # -- onestack restarts: both containers keep running and are its own again ------------------------
        pids = {s: container_state(cloud, s)["pid"] for s in (server_id, second)}
        cloud.stop()
        assert {s: container_state(cloud, s)["pid"] for s in pids} == pids
        cloud.start()
        http.headers["X-Auth-Token"] = cloud.token()
        for s in pids:
            assert ok(http.get(f"/compute/v2.1/servers/{s}"))["server"]["status"] == "ACTIVE"
        assert {s: container_state(cloud, s)["pid"] for s in pids} == pids
        assert page(outside, fip2["floating_ip_address"]) is not None
        ok(http.post(f"/compute/v2.1/servers/{second}/action", json={"os-stop": None}), 202)
        wait(lambda: ok(http.get(f"/compute/v2.1/servers/{second}"))["server"]["status"] == "SHUTOFF", 60,
             "the re-adopted container to stop")
        assert container_state(cloud, second) is None
        ok(http.post(f"/compute/v2.1/servers/{second}/action", json={"os-start": None}), 202)
        wait(lambda: ok(http.get(f"/compute/v2.1/servers/{second}"))["server"]["status"] == "ACTIVE", 60,
             "the re-adopted container to start again")
        first_answer(outside, fip2["floating_ip_address"], 30)

        # -- delete: nothing of the container is left in the kernel -----------------------------------------
        ok(http.delete(f"/compute/v2.1/servers/{server_id}"), 204)
        wait(lambda: http.get(f"/compute/v2.1/servers/{server_id}").status_code == 404, 60, "the server to go")
        assert leftovers(server_id, [port["id"]], pids[server_id]) == []
        assert not (cloud.data_dir / "compute" / "runc" / "instances" / server_id).exists()
        # the cached image stays for the next container
        assert any((cloud.data_dir / "compute" / "runc" / "_images").iterdir())
        # -- `down --purge` takes the running one with it ----------------------------------------------------
        running = container_state(cloud, second)
        assert running["status"] == "running"
        purged = cloud.purge()
        assert leftovers(second, [port2["id"]], running["pid"]) == [], purged.stdout + purged.stderr
        assert not cloud.data_dir.exists()
        print(f"container: POST -> ACTIVE {to_active:.2f}s, POST -> first HTTP answer on its floating IP "
              f"{to_answer:.2f}s; security group rule create -> first HTTP answer {rule_to_answer:.2f}s")
    finally:
        if outside is not None:
            outside.close()
        http.close()
        cloud.purge(check=False)  # containers too, whatever failed above
