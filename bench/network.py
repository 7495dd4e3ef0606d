"""Port creation: latency one at a time and throughput with 8 concurrent clients, with one and two
serving processes, on a /16 so the pool never runs dry; ports are unlimited by quota for the run."""

from __future__ import annotations

import json
import urllib.request

from bench import load
from bench.targets import Onestack, password_body, rss_mb

PORT_LIMITS = {"network": {"quotas": {"port": -1}}}


def _post(url: str, token: str, body: dict) -> dict:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json", "X-Auth-Token": token})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def _token(target: Onestack) -> str:
    req = urllib.request.Request(f"{target.identity}/auth/tokens", method="POST",
                                 data=password_body("admin", target.admin_password(), "admin"),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return resp.headers["X-Subject-Token"]


def measure_ports(workers: int, quick: bool) -> dict:
    target = Onestack({**PORT_LIMITS, "workers": workers}, name=f"onestack-ports-{workers}")
    target.start()
    try:
        token = _token(target)
        api = f"{target.base}/network/v2.0"
        net = _post(f"{api}/networks", token, {"network": {"name": "bench"}})["network"]
        _post(f"{api}/subnets", token, {"subnet": {"network_id": net["id"], "ip_version": 4,
                                                   "cidr": "10.64.0.0/16", "enable_dhcp": False}})
        body = json.dumps({"port": {"network_id": net["id"]}}).encode()
        headers = {"X-Auth-Token": token, "Content-Type": "application/json"}
        result = {"workers": workers}
        result["create_sequential"] = load.sequential(f"{api}/ports", "POST", headers, body,
                                                      100 if quick else 500, 201)
        result["create_concurrent"] = load.throughput(f"{api}/ports", "POST", headers, body,
                                                      5 if quick else 15)
        result["rss_mb_after"] = rss_mb(target.pids())
        return result
    finally:
        target.stop()


def measure(quick: bool) -> dict:
    return {f"workers_{n}": measure_ports(n, quick) for n in (1, 2)}
