"""What each network's DHCP namespace costs in memory: the metadata proxy and dnsmasq of 1, 10 and 100
networks with a DHCP subnet each, on a cloud with the kernel data plane.

Memory is PSS (``/proc/<pid>/smaps_rollup``): what a process costs once the pages it shares with its
siblings (the same binary and libraries) are divided among them, so a sum over processes is what they
take from the machine.  RSS is reported beside it.  The helpers are found by their pidfiles in each
network's folder (``dataplane/dhcp/<network>/``): dnsmasq's ``pid``, and the proxy's other ``*pid`` file,
whatever proxy the cloud runs.  Also: how long the data plane took to bring the new networks' helpers
up, and the latency of a metadata request through one proxy (from inside its namespace, to the metadata
service, which answers 404 as no guest holds that address).
"""

from __future__ import annotations

import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.compute import Client, _token
from bench.targets import Onestack

COUNTS = (1, 10, 100)
QUICK_COUNTS = (1, 10)

# Run inside a qdhcp namespace: GETs through the proxy, one connection each, as cloud-init makes them.
PROBE = """
import http.client, json, sys, time
times = []
for _ in range(int(sys.argv[1])):
    started = time.perf_counter()
    conn = http.client.HTTPConnection("169.254.169.254", 80, timeout=10)
    conn.request("GET", "/openstack/latest/meta_data.json")
    resp = conn.getresponse(); resp.read(); conn.close()
    assert resp.status == 404, resp.status  # the metadata service's answer: no guest at this address
    times.append((time.perf_counter() - started) * 1000)
times.sort()
print(json.dumps({"p50_ms": round(times[len(times) // 2], 2), "p99_ms": round(times[int(len(times) * 0.99)], 2)}))
"""


def _memory_kb(pid: int) -> tuple[int, int]:
    """(PSS, RSS) of ``pid`` in kB."""
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        fields[name] = int(value.split()[0])
    return fields["Pss"], fields["Rss"]


def _helpers(folder: Path) -> dict[str, int]:
    """The running helpers of one network's folder: {"dnsmasq": pid, "proxy": pid}, those alive."""
    found = {}
    for pidfile in folder.glob("*pid"):
        try:
            pid = int(pidfile.read_text().strip())
            Path(f"/proc/{pid}/smaps_rollup").stat()
        except (OSError, ValueError):
            continue
        found["dnsmasq" if pidfile.name == "pid" else "proxy"] = pid
    return found


def _wait_for_helpers(base: Path, count: int, seconds: float) -> dict[str, dict[str, int]]:
    deadline = time.monotonic() + seconds
    while True:
        folders = [f for f in base.iterdir() if f.is_dir()] if base.exists() else []
        helpers = {f.name: _helpers(f) for f in folders}
        if sum(1 for h in helpers.values() if len(h) == 2) >= count:
            return helpers
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {sum(1 for h in helpers.values() if len(h) == 2)} of {count} networks "
                               f"have dnsmasq and a metadata proxy after {seconds}s")
        time.sleep(0.2)


def _sum(helpers: dict[str, dict[str, int]], kind: str) -> tuple[float, float]:
    pss = rss = 0
    for found in helpers.values():
        p, r = _memory_kb(found[kind])
        pss, rss = pss + p, rss + r
    return round(pss / 1024, 1), round(rss / 1024, 1)


def _probe(network_id: str, requests: int) -> dict:
    done = subprocess.run(["ip", "netns", "exec", f"qdhcp-{network_id}", sys.executable, "-c", PROBE,
                           str(requests)], capture_output=True, text=True, timeout=120, check=True)
    return json.loads(done.stdout)


def measure(quick: bool) -> dict:
    counts = QUICK_COUNTS if quick else COUNTS
    vni = random.randrange(100000, 16000000)
    target = Onestack({"compute": {"driver": "fake"}, "network": {
        "dataplane": True, "defaults": False,
        "vni_ranges": [[vni, vni + max(counts) + 9]], "quotas": {"network": -1, "subnet": -1, "port": -1}}},
        name="onestack-proxies")
    target.start()
    base = target.data_dir / "dataplane" / "dhcp"
    rows = []
    try:
        api = Client(target.base, _token(target))
        made: list[str] = []
        for count in counts:
            started = time.perf_counter()
            while len(made) < count:
                n = len(made)
                net = api.call("POST", "/network/v2.0/networks", {"network": {"name": f"bench-{n}"}})["network"]
                api.call("POST", "/network/v2.0/subnets", {"subnet": {
                    "network_id": net["id"], "ip_version": 4, "cidr": f"10.{100 + n // 250}.{n % 250}.0/24"}})
                made.append(net["id"])
            helpers = _wait_for_helpers(base, count, 600)
            ready = time.perf_counter() - started
            time.sleep(2)  # settled: the newest helpers have finished starting
            helpers = _wait_for_helpers(base, count, 60)
            proxy_pss, proxy_rss = _sum(helpers, "proxy")
            dnsmasq_pss, dnsmasq_rss = _sum(helpers, "dnsmasq")
            rows.append({"networks": count, "helpers_ready_seconds": round(ready, 2),
                         "proxy_pss_mb": proxy_pss, "proxy_rss_mb": proxy_rss,
                         "dnsmasq_pss_mb": dnsmasq_pss, "dnsmasq_rss_mb": dnsmasq_rss,
                         "total_pss_mb": round(proxy_pss + dnsmasq_pss, 1),
                         "pss_mb_per_network": round((proxy_pss + dnsmasq_pss) / count, 2)})
        request = _probe(made[0], 50 if quick else 300)
        proxy = Path(f"/proc/{_helpers(base / made[0])['proxy']}/cmdline").read_bytes().split(b"\0")
    finally:
        target.purge()
    return {"proxy_command": " ".join(p.decode() for p in proxy[:3]), "rows": rows,
            "metadata_request_through_proxy": request,
            "pss_mb_per_network_median": statistics.median(r["pss_mb_per_network"] for r in rows)}


def table(found: dict) -> str:
    lines = [f"metadata proxy and dnsmasq per network ({found['proxy_command']})",
             f"  {'networks':>8}{'proxy PSS MB':>14}{'dnsmasq PSS MB':>16}{'total PSS MB':>14}{'per network':>13}"
             f"{'proxy RSS MB':>14}{'ready s':>9}"]
    for r in found["rows"]:
        lines.append(f"  {r['networks']:>8}{r['proxy_pss_mb']:>14}{r['dnsmasq_pss_mb']:>16}{r['total_pss_mb']:>14}"
                     f"{r['pss_mb_per_network']:>13}{r['proxy_rss_mb']:>14}{r['helpers_ready_seconds']:>9}")
    req = found["metadata_request_through_proxy"]
    lines.append(f"  a metadata request through the proxy: p50 {req['p50_ms']} ms, p99 {req['p99_ms']} ms")
    return "\n".join(lines)
