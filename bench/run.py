"""make bench: token issue and validation, start-up time and idle RSS; onestack beside Keystone 30.

Writes bench/results/<UTC time>.json and bench/results/latest.json.  Loops are bounded by count
or duration, and all traffic stays on loopback.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import (  # noqa: E402
    ceph,
    compute,
    dataplane,
    guest,
    lists,
    load,
    migration,
    network,
    objectrados,
    orchestration,
    placement,
    proxies,
    start,
    testcloud,
    volume,
    volumeguest,
)
from bench import object as object_bench  # noqa: E402
from bench.targets import BCRYPT_ROUNDS, ROOT, Keystone, Onestack, password_body, rss_mb  # noqa: E402

RESULTS = ROOT / "bench" / "results"


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem_kb = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal")))
    return {"cpus": os.cpu_count(), "cpu_model": cpu, "memory_gb": round(mem_kb / 1024 / 1024, 1),
            "kernel": platform.release(), "python": platform.python_version()}


def issue_token(target, password: str) -> str:
    req = urllib.request.Request(f"{target.identity}/auth/tokens", data=password_body("admin", password, "admin"), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return resp.headers["X-Subject-Token"]


def measure(target, quick: bool) -> dict:
    target.start()
    try:
        password = target.admin_password()
        token = issue_token(target, password)
        url = f"{target.identity}/auth/tokens"
        validate_headers = {"X-Auth-Token": token, "X-Subject-Token": token}
        issue_headers = {"Content-Type": "application/json"}
        body = password_body("admin", password, "admin")
        result: dict = {}
        load.sequential(url, "GET", validate_headers, None, 50, 200)  # warm-up
        result["validate_sequential"] = load.sequential(url, "GET", validate_headers, None,
                                                        300 if quick else 2000, 200)
        result["issue_sequential"] = load.sequential(url, "POST", issue_headers, body, 10 if quick else 40, 201)
        seconds = 5 if quick else 15
        result["validate_concurrent"] = load.throughput(url, "GET", validate_headers, None, seconds)
        result["issue_concurrent"] = load.throughput(url, "POST", issue_headers, body, seconds)
        time.sleep(2)
        result["idle_rss_mb"] = rss_mb(target.pids())
        if isinstance(target, Onestack):
            starts = [target.restart_seconds() for _ in range(3 if quick else 5)]
            result["startup_seconds_median"] = round(statistics.median(starts), 3)
            result["startup_seconds"] = [round(s, 3) for s in starts]
        return result
    finally:
        target.stop()


def table(results: dict) -> str:
    rows = [("validate p50 (ms)", "validate_sequential", "p50_ms"),
            ("validate p99 (ms)", "validate_sequential", "p99_ms"),
            ("validate, 8 clients (req/s)", "validate_concurrent", "requests_per_second"),
            ("issue p50 (ms)", "issue_sequential", "p50_ms"),
            ("issue p99 (ms)", "issue_sequential", "p99_ms"),
            ("issue, 8 clients (req/s)", "issue_concurrent", "requests_per_second"),
            ("idle RSS (MB)", "idle_rss_mb", None),
            ("up on initialised data dir (s)", "startup_seconds_median", None)]
    one, ks = results.get("onestack", {}), results.get("keystone", {})
    lines = [f"{'':34}{'onestack':>12}{'keystone':>12}{'ratio':>9}"]
    for label, key, field in rows:
        values = []
        for side in (one, ks):
            v = side.get(key)
            values.append(v.get(field) if isinstance(v, dict) and field else v)
        ratio = ""
        if all(isinstance(v, (int, float)) and v for v in values):
            better_low = field in ("p50_ms", "p99_ms") or key == "idle_rss_mb"
            ratio = f"{(values[1] / values[0]) if better_low else (values[0] / values[1]):.1f}x"
        cells = [f"{v:>12}" if v is not None else f"{'-':>12}" for v in values]
        lines.append(f"{label:34}{cells[0]}{cells[1]}{ratio:>9}")
    return "\n".join(lines)


def network_table(found: dict) -> str:
    lines = [f"{'port create':34}{'p50 ms':>10}{'p99 ms':>10}{'ports/s (8 clients)':>22}{'RSS MB':>9}"]
    for key, row in found.items():
        seq, conc = row["create_sequential"], row["create_concurrent"]
        lines.append(f"{key.replace('_', ' '):34}{seq['p50_ms']:>10}{seq['p99_ms']:>10}"
                     f"{conc['requests_per_second']:>22}{row['rss_mb_after']:>9}")
    return "\n".join(lines)


def identity(args) -> dict:
    """Token figures for onestack and, unless skipped, Keystone beside it."""
    found = {"onestack": measure(Onestack(), args.quick)}
    if not args.skip_keystone:
        ks = Keystone()
        found["keystone"] = {"version": ks.version, "server": "uWSGI, 1 process, 1 thread, SQLite, fernet, "
                                                              "dogpile in-memory cache", **measure(ks, args.quick)}
    return found


# part -> (measure, the result keys it writes, how its figures print)
PARTS = {
    "identity": (identity, ("onestack", "keystone"), table),
    "network": (lambda args: {"network": network.measure(args.quick)}, ("network",),
                lambda r: network_table(r["network"])),
    "compute": (lambda args: {"compute": compute.measure(args.quick)}, ("compute",),
                lambda r: compute.table(r["compute"])),
    # PostgreSQL with one serving process beside two (creates and list pages), in the same run
    "workers": (lambda args: {"workers": compute.measure_worker_counts(args.quick)}, ("workers",),
                lambda r: compute.worker_counts_table(r["workers"])),
    "placement": (lambda args: {"placement": placement.measure(args.quick)}, ("placement",),
                  lambda r: placement.table(r["placement"])),
    "lists": (lambda args: {"lists": lists.measure(args.quick)}, ("lists",), lambda r: lists.table(r["lists"])),
    "guest": (lambda args: {"guest": guest.measure(args.quick)}, ("guest",), lambda r: guest.table(r["guest"])),
    "migration": (lambda args: {"migration": migration.measure(args.quick)}, ("migration",),
                  lambda r: migration.table(r["migration"])),
    "dataplane": (lambda args: {"dataplane": dataplane.measure(args.quick)}, ("dataplane",),
                  lambda r: dataplane.table(r["dataplane"])),
    "proxies": (lambda args: {"proxies": proxies.measure(args.quick)}, ("proxies",),
                lambda r: proxies.table(r["proxies"])),
    "start": (lambda args: {"start": start.measure(args.quick)}, ("start",), lambda r: start.table(r["start"])),
    "testcloud": (lambda args: {"testcloud": testcloud.measure(args.quick)}, ("testcloud",),
                  lambda r: testcloud.table(r["testcloud"])),
    "object": (lambda args: {"object": object_bench.measure(args.quick)}, ("object",),
               lambda r: object_bench.table(r["object"])),
    "volume": (lambda args: {"volume": volume.measure(args.quick)}, ("volume",), lambda r: volume.table(r["volume"])),
    "volumeguest": (lambda args: {"volumeguest": volumeguest.measure(args.quick)}, ("volumeguest",),
                    lambda r: volumeguest.table(r["volumeguest"])),
    "ceph": (lambda args: {"ceph": ceph.measure(args.quick)}, ("ceph",), lambda r: ceph.table(r["ceph"])),
    "objectrados": (lambda args: {"objectrados": objectrados.measure(args.quick)}, ("objectrados",),
                    lambda r: objectrados.table(r["objectrados"])),
    "orchestration": (lambda args: {"orchestration": orchestration.measure(args.quick)}, ("orchestration",),
                      lambda r: orchestration.table(r["orchestration"])),
    "stackguest": (lambda args: {"stackguest": orchestration.measure_guest(args.quick)}, ("stackguest",),
                   lambda r: orchestration.guest_table(r["stackguest"])),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer requests and shorter runs")
    parser.add_argument("--skip-keystone", action="store_true", help="measure onestack only")
    parser.add_argument("--only", choices=list(PARTS), action="append",
                        help="run these parts only (repeatable); the others keep the last run's figures")
    args = parser.parse_args()
    # wrk generates load; memcached serves the Swift proxy the object part runs beside onestack
    subprocess.run([str(ROOT / "scripts/install-system.sh"), "wrk", "memcached"], check=True)
    previous = json.loads((RESULTS / "latest.json").read_text()) if (RESULTS / "latest.json").exists() else {}
    chosen = args.only or list(PARTS)
    results: dict = {"machine": machine(), "bcrypt_rounds": BCRYPT_ROUNDS,
                     "when": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                     "load_generator": "sequential: Python http.client, one keep-alive connection; "
                                       "concurrent: wrk -t2 -c8 on the same machine",
                     "parts_measured": chosen}
    # every figure of the last run that the chosen parts do not write is kept, whatever part wrote it
    written = {key for name in chosen for key in PARTS[name][1]}
    results.update({k: v for k, v in previous.items() if k not in results and k not in written})
    for name in chosen:
        run, _, show = PARTS[name]
        results.update(run(args))
        print(show(results))
    RESULTS.mkdir(parents=True, exist_ok=True)
    text = json.dumps(results, indent=2)
    (RESULTS / f"{results['when'].replace(':', '')}.json").write_text(text)
    (RESULTS / "latest.json").write_text(text)
    print(f"\nwritten to {RESULTS / 'latest.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
