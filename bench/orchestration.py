"""Orchestration: a 100-resource stack (networks, subnets, ports and servers on the fake compute driver)
created, updated in one property, and deleted through the Heat API, each timed from the request to the
stack's ``*_COMPLETE``.  The update changes one server's metadata through a parameter only that server
reads: the figure is how many resources the update touched (events of an ``UPDATE`` action), which
should be one, with every physical resource kept.  Quotas are lifted for the admin project."""

from __future__ import annotations

import json
import time
import urllib.request

import yaml

from bench.targets import Onestack, password_body, rss_mb

NETWORKS = 10
PORTS_PER_NETWORK = 4  # each with a server on it: 10 + 10 + 40 + 40 = 100 resources
POLL = 0.1


class Client:
    def __init__(self, target: Onestack):
        req = urllib.request.Request(f"{target.identity}/auth/tokens", method="POST",
                                     data=password_body("admin", target.admin_password(), "admin"),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            self.token = resp.headers["X-Subject-Token"]
            self.project = json.loads(resp.read())["token"]["project"]["id"]
        self.base = target.base

    def call(self, method: str, path: str, body=None, headers: dict | None = None, data: bytes | None = None):
        req = urllib.request.Request(f"{self.base}{path}", method=method,
                                     data=data if data is not None else (json.dumps(body).encode() if body else None),
                                     headers={"X-Auth-Token": self.token, "Content-Type": "application/json",
                                              **(headers or {})})
        with urllib.request.urlopen(req, timeout=120) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else {}

    def heat(self, method: str, path: str, body=None):
        return self.call(method, f"/orchestration/v1/{self.project}{path}", body)


def template() -> str:
    """``NETWORKS`` networks with a subnet each, ``PORTS_PER_NETWORK`` ports on each and a server per port.
    Only ``server-0-0`` reads the ``tag`` parameter."""
    resources: dict = {}
    for n in range(NETWORKS):
        resources[f"net-{n}"] = {"type": "OS::Neutron::Net"}
        resources[f"subnet-{n}"] = {"type": "OS::Neutron::Subnet", "properties": {
            "network": {"get_resource": f"net-{n}"}, "cidr": f"10.{n}.0.0/24"}}
        for p in range(PORTS_PER_NETWORK):
            resources[f"port-{n}-{p}"] = {"type": "OS::Neutron::Port",
                                          "properties": {"network": {"get_resource": f"net-{n}"}}}
            metadata = {"tag": {"get_param": "tag"}} if (n, p) == (0, 0) else {"tag": "fixed"}
            resources[f"server-{n}-{p}"] = {"type": "OS::Nova::Server", "properties": {
                "image": {"get_param": "image"}, "flavor": "m1.tiny", "metadata": metadata,
                "networks": [{"port": {"get_resource": f"port-{n}-{p}"}}]}}
    return yaml.safe_dump({"heat_template_version": "2018-08-31",
                           "parameters": {"image": {"type": "string"}, "tag": {"type": "string"}},
                           "resources": resources,
                           "outputs": {"address": {"value": {"get_attr": ["server-0-0", "first_address"]}}}})


def _settle(api: Client, path: str, action: str) -> float:
    """Poll the stack until ``action`` is over; the moment it was seen over."""
    while True:
        stack = api.heat("GET", path)["stack"]
        if stack["stack_status"] != f"{action}_IN_PROGRESS":
            if stack["stack_status"] != f"{action}_COMPLETE":
                raise RuntimeError(f"{stack['stack_status']}: {stack['stack_status_reason']}")
            return time.perf_counter()
        time.sleep(POLL)


def _physical(api: Client, path: str) -> dict[str, str]:
    return {r["resource_name"]: r["physical_resource_id"] for r in api.heat("GET", f"{path}/resources")["resources"]}


def measure(quick: bool) -> dict:
    target = Onestack({"compute": {"driver": "fake", "fake_hosts": 10},
                       "network": {"quotas": {"port": -1, "network": -1, "subnet": -1}}},
                      name="onestack-orchestration")
    target.start()
    try:
        api = Client(target)
        api.call("PUT", f"/compute/v2.1/os-quota-sets/{api.project}",
                 {"quota_set": {"instances": -1, "cores": -1, "ram": -1}})
        image = api.call("POST", "/image/v2/images", {"name": "bench", "disk_format": "raw",
                                                      "container_format": "bare", "visibility": "public"})["id"]
        api.call("PUT", f"/image/v2/images/{image}/file", data=b"\0" * 4096,
                 headers={"Content-Type": "application/octet-stream"})
        runs = []
        for attempt in range(1 if quick else 3):
            name = f"bench-{attempt}"
            text = template()
            started = time.perf_counter()
            made = api.heat("POST", "/stacks", {"stack_name": name, "template": text, "timeout_mins": 10,
                                                "parameters": {"image": image, "tag": "a"}})["stack"]
            path = f"/stacks/{name}/{made['id']}"
            created = _settle(api, path, "CREATE") - started
            before = _physical(api, path)
            if len(before) != 2 * NETWORKS * (1 + PORTS_PER_NETWORK):
                raise RuntimeError(f"the stack has {len(before)} resources")
            events_before = {e["id"] for e in api.heat("GET", f"{path}/events?limit=10000")["events"]}
            started = time.perf_counter()
            api.heat("PATCH", path, {"parameters": {"tag": "b"}})
            updated = _settle(api, path, "UPDATE") - started
            events = [e for e in api.heat("GET", f"{path}/events?limit=10000")["events"]
                      if e["id"] not in events_before and e["resource_name"] != name]
            touched = sorted({e["resource_name"] for e in events})
            if _physical(api, path) != before:
                raise RuntimeError("the update replaced resources")
            server = api.call("GET", f"/compute/v2.1/servers/{before['server-0-0']}")["server"]
            if server["metadata"] != {"tag": "b"}:
                raise RuntimeError(f"the update did not reach the server: {server['metadata']}")
            started = time.perf_counter()
            api.heat("DELETE", path)
            deleted = _settle(api, path, "DELETE") - started
            if api.call("GET", "/compute/v2.1/servers")["servers"]:
                raise RuntimeError("servers remain after the stack's delete")
            runs.append({"create_seconds": round(created, 2), "update_seconds": round(updated, 2),
                         "delete_seconds": round(deleted, 2), "update_touched": touched})
        best = min(runs, key=lambda r: r["create_seconds"] + r["update_seconds"] + r["delete_seconds"])
        return {"resources": len(before), "driver": "fake", "runs": runs,
                "create_seconds": best["create_seconds"], "update_seconds": best["update_seconds"],
                "delete_seconds": best["delete_seconds"], "update_touched": best["update_touched"],
                "rss_mb_after": rss_mb(target.pids())}
    finally:
        target.stop()


def table(found: dict) -> str:
    lines = [f"orchestration: a {found['resources']}-resource stack (networks, subnets, ports, servers on the "
             f"fake driver), best of {len(found['runs'])}"]
    lines.append(f"  create -> CREATE_COMPLETE: {found['create_seconds']} s")
    lines.append(f"  one-property update -> UPDATE_COMPLETE: {found['update_seconds']} s, touching "
                 f"{len(found['update_touched'])} resource(s): {', '.join(found['update_touched'])}")
    lines.append(f"  delete -> DELETE_COMPLETE: {found['delete_seconds']} s")
    lines.append(f"  RSS after: {found['rss_mb_after']} MB")
    return "\n".join(lines)
