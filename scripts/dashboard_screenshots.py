"""`make screenshots`: a throwaway cloud with a little in it, and a PNG of each dashboard panel in docs/dashboard/.

It also prints each page's server time (the browser's request start to response start) and first
contentful paint; ``--servers 1000`` fills the demo project first, to see the pages at that size.
Runs Debian's chromium through Playwright, like the browser tests.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.cloudfixture import Cloud  # noqa: E402 — the same throwaway cloud the tests start

PROJECT_PANELS = ["/", "/instances", "/instances/launch", "/images", "/keypairs", "/api-access", "/topology",
                  "/networks", "/ports", "/routers", "/floating-ips", "/security-groups", "/volumes", "/snapshots", "/backups",
                  "/containers", "/containers/website", "/stacks", "/stacks/launch"]
# A stack with parameters, resources and outputs, for the Orchestration panels' pictures.
STACK_TEMPLATE = """heat_template_version: 2018-08-31
description: A password and a greeting
parameters:
  length: {type: number, default: 16, label: Password length, constraints: [{range: {min: 8, max: 64}}]}
  greeting: {type: string, default: hello, constraints: [{allowed_values: [hello, bonjour, hallo]}]}
resources:
  password: {type: OS::Heat::RandomString, properties: {length: {get_param: length}}}
  message: {type: OS::Heat::Value, depends_on: [password], properties: {value: {list_join: [' ', [{get_param: greeting}, world]]}}}
outputs:
  password: {value: {get_attr: [password, value]}, description: the generated password}
  message: {value: {get_attr: [message, value]}}
"""
ADMIN_PANELS = ["/admin/" + p for p in (
    "domains", "projects", "users", "groups", "roles", "assignments", "hypervisors", "instances", "volumes", "volume-types", "qos",
    "images", "networks", "routers", "floating-ips", "flavors", "services", "quotas")]
PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDXx3Xb8+7X0eHfY3Xc0Jv2dV0kq8Qm1rD0tV9n1W2pZ demo@laptop"


# The browser's own clock: request start to response start (the server's time, plus loopback), and the
# first contentful paint from the start of navigation.
PAGE_TIMES = """async () => {
    await new Promise(done => requestAnimationFrame(() => setTimeout(done, 50)));
    const n = performance.getEntriesByType('navigation')[0];
    const p = performance.getEntriesByName('first-contentful-paint')[0];
    return [n.responseStart - n.requestStart, p ? p.startTime : -1];
}"""


def _client(cloud: Cloud, service: str, token: str, **headers) -> httpx.Client:
    return httpx.Client(base_url=f"{cloud.url}/{service}", headers={"X-Auth-Token": token, **headers}, timeout=120)


def seed(cloud: Cloud, servers: int) -> None:
    """DevStack's shape: a public image, an external network, the demo project's network and router,
    a few instances on it, a floating IP and a security group; then ``servers`` more without networks."""
    admin, demo = cloud.token(), cloud.token("demo", project="demo")
    with _client(cloud, "image/v2", admin) as glance:
        image = glance.post("/images", json={"name": "cirros-0.6.2", "disk_format": "raw", "container_format": "bare",
                                             "visibility": "public"}).json()
        glance.put(f"/images/{image['id']}/file", content=b"\0" * (1 << 20),
                   headers={"Content-Type": "application/octet-stream"})
    with _client(cloud, "network/v2.0", admin) as neutron:
        public = neutron.post("/networks", json={"network": {"name": "public", "router:external": True,
                                                             "provider:network_type": "flat",
                                                             "provider:physical_network": "public"}}).json()["network"]
        neutron.post("/subnets", json={"subnet": {"network_id": public["id"], "cidr": "172.24.4.0/24",
                                                  "ip_version": 4, "enable_dhcp": False}})
    with _client(cloud, "network/v2.0", demo) as neutron:
        private = neutron.post("/networks", json={"network": {"name": "private"}}).json()["network"]
        subnet = neutron.post("/subnets", json={"subnet": {"network_id": private["id"], "cidr": "10.0.0.0/26",
                                                           "ip_version": 4, "name": "private-subnet"}}).json()["subnet"]
        router = neutron.post("/routers", json={"router": {"name": "router1", "external_gateway_info": {
            "network_id": public["id"]}}}).json()["router"]
        neutron.put(f"/routers/{router['id']}/add_router_interface", json={"subnet_id": subnet["id"]})
        neutron.put(f"/routers/{router['id']}/add_extraroutes", json={"router": {"routes": [
            {"destination": "192.168.50.0/24", "nexthop": "10.0.0.5"}]}})
        PROJECT_PANELS.append(f"/routers/{router['id']}")
        group = neutron.post("/security-groups", json={"security_group": {"name": "web"}}).json()["security_group"]
        for port in (22, 80, 443):
            neutron.post("/security-group-rules", json={"security_group_rule": {
                "security_group_id": group["id"], "direction": "ingress", "protocol": "tcp",
                "port_range_min": port, "port_range_max": port, "remote_ip_prefix": "0.0.0.0/0"}})
    project_id = cloud.client(demo).get("/auth/projects").json()["projects"][0]["id"]
    with _client(cloud, "compute/v2.1", admin) as nova:
        nova.put(f"/os-quota-sets/{project_id}", json={"quota_set": {"instances": -1, "cores": -1, "ram": -1}})
    with _client(cloud, "compute/v2.1", demo, **{"OpenStack-API-Version": "compute 2.79"}) as nova:
        nova.post("/os-keypairs", json={"keypair": {"name": "laptop", "public_key": PUBLIC_KEY}})
        flavor = next(f["id"] for f in nova.get("/flavors").json()["flavors"] if f["name"] == "m1.tiny")
        for name in ("web-1", "web-2", "db-1"):
            nova.post("/servers", json={"server": {"name": name, "flavorRef": flavor, "imageRef": image["id"],
                                                   "key_name": "laptop", "networks": [{"uuid": private["id"]}],
                                                   "security_groups": [{"name": "web"}]}})
        left = servers
        while left > 0:
            batch = min(left, 100)
            resp = nova.post("/servers", json={"server": {"name": "batch", "flavorRef": flavor, "imageRef": image["id"],
                                                          "networks": "none", "min_count": batch,
                                                          "max_count": batch}})
            resp.raise_for_status()
            left -= batch
        used = nova.get("/limits").json()["limits"]["absolute"]["totalInstancesUsed"]
        deadline = time.monotonic() + 600
        while nova.get("/servers", params={"status": "BUILD", "limit": 1}).json()["servers"]:
            if time.monotonic() > deadline:
                raise SystemExit("the instances did not finish building in 10 minutes")
            time.sleep(1)
        print(f"the demo project has {used} instances, none building")
    _seed_storage(cloud, demo, project_id, image["id"])
    with _client(cloud, "network/v2.0", demo) as neutron:
        ports = neutron.get("/ports", params={"network_id": private["id"], "device_owner": "compute:nova"}).json()
        fip = neutron.post("/floatingips", json={"floatingip": {"floating_network_id": public["id"]}}).json()
        if ports["ports"]:
            neutron.put(f"/floatingips/{fip['floatingip']['id']}",
                        json={"floatingip": {"port_id": ports["ports"][0]["id"]}})
            PROJECT_PANELS.append(f"/instances/{ports['ports'][0]['device_id']}")  # its own page, with both addresses


def _wait(check, what: str) -> None:
    deadline = time.monotonic() + 120
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} did not settle in 2 minutes")
        time.sleep(0.5)


def _seed_storage(cloud: Cloud, demo: str, project_id: str, image_id: str) -> None:
    """Volumes (one from the image, a snapshot, a backup), a container with a folder, and a stack."""
    with _client(cloud, f"volume/v3/{project_id}", demo) as cinder:
        data = cinder.post("/volumes", json={"volume": {"name": "data", "size": 2}}).json()["volume"]
        cinder.post("/volumes", json={"volume": {"name": "boot", "size": 1, "imageRef": image_id}})
        _wait(lambda: cinder.get(f"/volumes/{data['id']}").json()["volume"]["status"] == "available", "a volume")
        cinder.post("/snapshots", json={"snapshot": {"volume_id": data["id"], "name": "data-before-upgrade"}})
        PROJECT_PANELS.append(f"/volumes/{data['id']}")
        backup = cinder.post("/backups", json={"backup": {"volume_id": data["id"], "name": "data-nightly"}}).json()
        _wait(lambda: cinder.get(f"/backups/{backup['backup']['id']}").json()["backup"]["status"] == "available",
              "a backup")
    with _client(cloud, f"object-store/v1/AUTH_{project_id}", demo) as swift:
        swift.put("/website", headers={"X-Container-Read": ".r:*,.rlistings"})
        swift.put("/website/index.html", content=b"<h1>hello</h1>", headers={"Content-Type": "text/html"})
        swift.put("/website/css/site.css", content=b"h1 { color: teal }", headers={"Content-Type": "text/css"})
        swift.put("/website/logo.svg", content=b"<svg/>" * 200, headers={"Content-Type": "image/svg+xml"})
        swift.put("/backups")
    with _client(cloud, f"orchestration/v1/{project_id}", demo) as heat:
        stack = heat.post("/stacks", json={"stack_name": "greeter", "template": STACK_TEMPLATE}).json()["stack"]
        _wait(lambda: heat.get(f"/stacks/greeter/{stack['id']}").json()["stack"]["stack_status"] != "CREATE_IN_PROGRESS",
              "the stack")
    PROJECT_PANELS.append(f"/stacks/greeter/{stack['id']}")


def shoot(cloud: Cloud, out: Path | None) -> list[tuple[str, float, float]]:
    timings = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True)
        for user, panels in (("demo", PROJECT_PANELS), ("admin", ADMIN_PANELS)):
            page = browser.new_page(base_url=cloud.url, viewport={"width": 1280, "height": 800})
            page.goto("/dashboard/login")
            if out is not None and user == "demo":
                page.screenshot(path=str(out / "login.png"))
            page.fill("input[name=username]", user)
            page.fill("input[name=password]", cloud.password("onestack-admin" if user == "admin" else "onestack"))
            page.click("button:has-text('Sign in')")
            page.wait_for_selector("header .who")
            for path in panels:
                samples = []
                for _ in range(3):  # the median of three: the machine is shared
                    page.goto(f"/dashboard{path}")
                    page.wait_for_load_state("load")
                    samples.append(page.evaluate(PAGE_TIMES))
                server, paint = (statistics.median(s[i] for s in samples) for i in (0, 1))
                timings.append((f"{user} {path}", server, paint))
                if out is not None:
                    stem = ("stack" if path.startswith("/stacks/greeter/") else "volume" if path.startswith("/volumes/")
                            else "router" if path.startswith("/routers/") else
                            "instance" if path.startswith("/instances/") and path != "/instances/launch" else
                            path.strip("/").replace("/", "-").replace(".", "-") or "overview")
                    page.screenshot(path=str(out / f"{stem}.png"), full_page=False)
            page.close()
        browser.close()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=str(ROOT / "docs" / "dashboard"), help="where the PNGs go")
    parser.add_argument("--servers", type=int, default=0, help="instances to add to the demo project first")
    parser.add_argument("--no-pictures", action="store_true", help="only measure")
    args = parser.parse_args()
    out = None if args.no_pictures else Path(args.out)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="onestack-screenshots-") as tmp:
        cloud = Cloud(Path(tmp)).start()
        try:
            seed(cloud, args.servers)
            timings = shoot(cloud, out)
        finally:
            cloud.stop()
    print(f"{'page':32} {'server ms':>10} {'first paint ms':>15}")
    for page, server, paint in timings:
        print(f"{page:32} {server:10.0f} {paint:15.0f}")


if __name__ == "__main__":
    main()
