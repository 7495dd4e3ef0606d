"""Sustained load: Locust's simulated tenants (bench/locustfile.py) against an onestack cloud for a while,
the server's memory and open files sampled from /proc as they go.

The cloud runs the fake compute driver, no kernel data plane, the file volume backend, on SQLite with one
serving process or on a scratch PostgreSQL database with several (``--postgres URL --workers 2``).  At the
end: p50/p95/p99 and the error count of every operation, the server's RSS after the first minute against
its RSS at the end (drift: a leak grows it, a steady server keeps it within a few per cent), its open file
descriptors, and the tracebacks its log holds.  The exit status is 1 if any request failed, or, with
``--assert-steady`` (``make load``), if the server leaked: its RSS at the end more than ``--max-rss-drift``
(10) per cent above its RSS after the first minute, or its open file descriptors not steady (the lowest
count of the last third of the run above the highest of the first third: connections come and go under
load, a leak lifts even the lowest point over anything seen before).  A short run (`make test`'s 25 s)
only reports them: too short to tell a leak from the server warming up.

    python bench/sustained.py --users 50 --seconds 600                  # make load
    python bench/sustained.py --users 50 --seconds 600 --workers 2 \\
        --postgres postgresql+psycopg://onestack:onestack@127.0.0.1:5432  # make load-workers
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: bench/ is a package of the checkout
    sys.path.insert(0, str(ROOT))

from bench.targets import WORK, Onestack, password_body, scratch_postgres  # noqa: E402

PASSWORD = "load-tenant-secret"
# what bench/locustfile.py names its requests: a run that did not do one of them did not test it
OPERATIONS = ("token issue", "token validate", "server list", "server show", "server create", "server delete",
              "network list", "network create", "subnet create", "port create", "port delete", "network delete",
              "image list", "volume create", "volume show", "volume delete", "container create", "object put",
              "object get", "object delete", "stack list")
BASELINE_SECONDS = 60  # RSS drift is measured from this far into the run (a quarter of a shorter run)


class Admin:
    """The cloud's admin over HTTP, for the preparation only (the load itself is Locust's)."""

    def __init__(self, target: Onestack):
        self.base = target.base
        req = urllib.request.Request(f"{target.identity}/auth/tokens", method="POST",
                                     data=password_body("admin", target.admin_password(), "admin"),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as resp:
            self.token = resp.headers["X-Subject-Token"]
            self.project = json.loads(resp.read())["token"]["project"]["id"]

    def call(self, method: str, path: str, body: dict | None = None, data: bytes | None = None,
             headers: dict | None = None) -> dict:
        sent = {"X-Auth-Token": self.token, "Content-Type": "application/json", **(headers or {})}
        req = urllib.request.Request(f"{self.base}{path}", method=method, headers=sent,
                                     data=data if data is not None else json.dumps(body).encode() if body else None)
        with urllib.request.urlopen(req, timeout=120) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else {}


def prepare(target: Onestack, tenants: int) -> dict:
    """Projects with a member each and every quota the workload meets lifted; a public image; a flavor."""
    admin = Admin(target)
    member = admin.call("GET", "/identity/v3/roles?name=member")["roles"][0]["id"]
    found = []
    for n in range(tenants):
        name = f"load-{n}-{uuid.uuid4().hex[:6]}"
        project = admin.call("POST", "/identity/v3/projects", {"project": {"name": name, "domain_id": "default"}})
        project_id = project["project"]["id"]
        user = admin.call("POST", "/identity/v3/users", {"user": {"name": name, "domain_id": "default",
                                                                  "password": PASSWORD}})["user"]["id"]
        admin.call("PUT", f"/identity/v3/projects/{project_id}/users/{user}/roles/{member}")
        admin.call("PUT", f"/compute/v2.1/os-quota-sets/{project_id}",
                   {"quota_set": {"instances": -1, "cores": -1, "ram": -1}})
        admin.call("PUT", f"/network/v2.0/quotas/{project_id}",
                   {"quota": {"network": -1, "subnet": -1, "port": -1}})
        admin.call("PUT", f"/volume/v3/{admin.project}/os-quota-sets/{project_id}",
                   {"quota_set": {"volumes": -1, "gigabytes": -1}})
        found.append({"project_id": project_id, "user": name, "password": PASSWORD})
    image = admin.call("POST", "/image/v2/images", {"name": "load", "disk_format": "raw", "container_format": "bare",
                                                    "visibility": "public"})["id"]
    admin.call("PUT", f"/image/v2/images/{image}/file", data=b"\0" * 4096,
               headers={"Content-Type": "application/octet-stream"})
    flavor = admin.call("GET", "/compute/v2.1/flavors")["flavors"][0]["id"]
    return {"tenants": found, "image": image, "flavor": flavor}


def serving_pids(target: Onestack) -> list[int]:
    """The serving process and its workers: Python processes only (not the qemu-img of a volume)."""
    return [pid for pid in target.pids() if _is_python(pid)]


def _is_python(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/exe").resolve().name.startswith("python")
    except OSError:
        return False


def sample(pids: list[int]) -> dict:
    rss = anon = threads = fds = 0
    ticks = 0
    for pid in pids:
        with contextlib.suppress(OSError):  # a worker replaced between the listing and the read
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    rss += int(line.split()[1])
                elif line.startswith("RssAnon:"):  # the heaps and stacks, not the mapped files
                    anon += int(line.split()[1])
                elif line.startswith("Threads:"):
                    threads += int(line.split()[1])
            fds += len(os.listdir(f"/proc/{pid}/fd"))
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime + stime
    return {"rss_mb": round(rss / 1024, 1), "anon_mb": round(anon / 1024, 1), "threads": threads, "fds": fds,
            "processes": len(pids),
            "cpu_s": round(ticks / os.sysconf("SC_CLK_TCK"), 2)}


def operations(stats_csv: Path) -> dict:
    """Locust's per-operation statistics (its ``_stats.csv``): count, errors, p50/p95/p99 in ms."""
    found = {}
    with stats_csv.open() as fh:
        for row in csv.DictReader(fh):
            if row["Name"] == "Aggregated":
                key = "all"
            else:
                key = row["Name"]
            found[key] = {"requests": int(row["Request Count"]), "errors": int(row["Failure Count"]),
                          "p50_ms": _num(row["50%"]), "p95_ms": _num(row["95%"]), "p99_ms": _num(row["99%"]),
                          "per_second": round(float(row["Requests/s"]), 1)}
    return found


def _num(text: str) -> float | None:
    return None if text in ("", "N/A") else float(text)


def failures(failures_csv: Path) -> list[dict]:
    with failures_csv.open() as fh:
        return [{"operation": row["Name"], "error": row["Error"][:300], "count": int(row["Occurrences"])}
                for row in csv.DictReader(fh)]


def run(args) -> dict:
    data_dir = Path(args.data_dir) if args.data_dir else WORK / ("load-pg" if args.postgres else "load")
    with scratch_postgres(args.postgres) as database:
        settings = {"compute": {"driver": "fake", "fake_hosts": 4}, "workers": args.workers}
        if database:
            settings["database"] = database
        target = Onestack(settings, data_dir=data_dir)
        env = {**os.environ, **({"ONESTACK_TRACEMALLOC": args.tracemalloc} if args.tracemalloc else {}),
               **({"ONESTACK_MEMSTATS": args.memstats} if args.memstats else {})}
        target.start(env=env)
        try:
            return measure(args, target, data_dir)
        finally:
            target.stop()


def measure(args, target: Onestack, data_dir: Path) -> dict:
    context = prepare(target, args.tenants or max(1, args.users // 5))
    context["wait"], context["keep"] = [args.wait_min, args.wait_max], args.keep
    (data_dir / "load-context.json").write_text(json.dumps(context))
    prefix = data_dir / "locust"
    cmd = [str(Path(sys.executable).with_name("locust")), "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
           "--users", str(args.users), "--spawn-rate", str(args.spawn_rate), "--run-time", f"{args.seconds}s",
           "--host", target.base, "--csv", str(prefix), "--only-summary", "--stop-timeout", "30",
           "--loglevel", "WARNING"]
    samples = []
    started = time.monotonic()
    with (data_dir / "locust.log").open("w") as log:
        locust = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                  env={**os.environ, "ONESTACK_LOAD_CONTEXT": str(data_dir / "load-context.json")})
        while locust.poll() is None:
            samples.append({"t": round(time.monotonic() - started, 1), **sample(serving_pids(target))})
            with contextlib.suppress(subprocess.TimeoutExpired):
                locust.wait(timeout=args.sample_every)
    end = {"t": round(time.monotonic() - started, 1), **sample(serving_pids(target))}
    samples.append(end)
    found = operations(Path(f"{prefix}_stats.csv"))
    baseline_at = min(BASELINE_SECONDS, args.seconds / 4)
    baseline = next((s for s in samples if s["t"] >= baseline_at), samples[0])
    in_run = [s for s in samples if s["t"] >= baseline_at]
    log = (data_dir / "onestack.log").read_text(errors="replace") if (data_dir / "onestack.log").exists() else ""
    return {
        "when": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "users": args.users, "seconds": args.seconds, "workers": args.workers,
        "database": "postgresql" if args.postgres else "sqlite", "tenants": len(json.loads(
            (data_dir / "load-context.json").read_text())["tenants"]),
        "wait_seconds": [args.wait_min, args.wait_max], "locust_exit": locust.returncode,
        "operations": found, "not_exercised": [name for name in OPERATIONS if not found.get(name, {}).get("requests")],
        "failures": failures(Path(f"{prefix}_failures.csv")),
        "rss_mb": {"baseline_at_s": baseline["t"], "baseline": baseline["rss_mb"], "end": end["rss_mb"],
                   "max": max(s["rss_mb"] for s in samples),
                   "drift_pct": round(100 * (end["rss_mb"] - baseline["rss_mb"]) / baseline["rss_mb"], 1)},
        "fds": {"baseline": baseline["fds"], "end": end["fds"], "min": min(s["fds"] for s in in_run),
                "max": max(s["fds"] for s in in_run), **_fd_thirds(in_run)},
        # the server's CPU time per request (its processes' utime + stime): robust to other work on the cores
        "server_cpu_ms_per_request": round(1000 * (end["cpu_s"] - samples[0]["cpu_s"])
                                           / max(1, found.get("all", {}).get("requests", 0)), 2),
        "server_tracebacks": log.count("Traceback (most recent call last)"),
        "samples": samples,
    }


def _fd_thirds(in_run: list[dict]) -> dict:
    """The highest fd count of the first third of the samples after the baseline and the lowest of the last."""
    third = max(1, len(in_run) // 3)
    return {"first_third_max": max(s["fds"] for s in in_run[:third]),
            "last_third_min": min(s["fds"] for s in in_run[-third:])}


def leaks(result: dict, max_rss_drift: float) -> list[str]:
    """What says the server leaked (see the module's doc): empty if its RSS and fds held steady."""
    found = []
    rss, fds = result["rss_mb"], result["fds"]
    if rss["drift_pct"] > max_rss_drift:
        found.append(f"RSS grew {rss['drift_pct']:+}% from {rss['baseline_at_s']} s to the end "
                     f"(more than {max_rss_drift}%)")
    if fds["last_third_min"] > fds["first_third_max"]:
        found.append(f"open fds not steady: at least {fds['last_third_min']} throughout the last third of the run, "
                     f"at most {fds['first_third_max']} in the first")
    return found


def report(result: dict) -> str:
    lines = [f"{result['users']} users, {result['seconds']} s, {result['database']}, {result['workers']} worker(s), "
             f"{result['tenants']} projects",
             f"{'operation':<18}{'requests':>9}{'errors':>8}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"]
    for name, op in sorted(result["operations"].items(), key=lambda kv: (kv[0] == "all", kv[0])):
        lines.append(f"{name:<18}{op['requests']:>9}{op['errors']:>8}{op['per_second']:>8}"
                     f"{op['p50_ms'] or 0:>9.0f}{op['p95_ms'] or 0:>9.0f}{op['p99_ms'] or 0:>9.0f}")
    rss, fds = result["rss_mb"], result["fds"]
    lines.append(f"RSS {rss['baseline']} MB at {rss['baseline_at_s']} s -> {rss['end']} MB at the end "
                 f"(drift {rss['drift_pct']:+}%, max {rss['max']} MB)")
    lines.append(f"open fds {fds['baseline']} at {rss['baseline_at_s']} s -> {fds['end']} at the end "
                 f"(between {fds['min']} and {fds['max']})")
    lines.append(f"open fds: highest in the first third {fds['first_third_max']}, lowest in the last "
                 f"{fds['last_third_min']}")
    if "leaks" in result:
        lines.append(f"leaks (RSS drift at most {result['max_rss_drift']}%, fds steady): "
                     + ("; ".join(result["leaks"]) or "none"))
    else:
        lines.append("leaks: not judged (without --assert-steady: a short run cannot tell a leak from warming up)")
    lines.append(f"server CPU per request: {result['server_cpu_ms_per_request']} ms")
    lines.append(f"server log tracebacks: {result['server_tracebacks']}")
    if result["not_exercised"]:
        lines.append(f"not exercised: {', '.join(result['not_exercised'])}")
    for failure in result["failures"]:
        lines.append(f"  {failure['count']} x {failure['operation']}: {failure['error']}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=600)
    parser.add_argument("--spawn-rate", type=float, default=2.0, help="users started per second")
    parser.add_argument("--tenants", type=int, default=0, help="projects the users share (default users/5)")
    parser.add_argument("--wait-min", type=float, default=0.5, help="a user's pause between operations, from")
    parser.add_argument("--wait-max", type=float, default=2.0, help="... to (seconds)")
    parser.add_argument("--keep", type=int, default=2, help="servers, volumes, ports a user holds at once")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--postgres", help="a PostgreSQL server URL: a scratch database is made on it")
    parser.add_argument("--data-dir", help="the cloud's data dir (default .bench/load or .bench/load-pg)")
    parser.add_argument("--sample-every", type=float, default=5.0, help="seconds between RSS/fd samples")
    parser.add_argument("--tracemalloc", help="ONESTACK_TRACEMALLOC for the server (see docs/hardening.md)")
    parser.add_argument("--memstats", help="ONESTACK_MEMSTATS for the server: seconds between samples of what its "
                        "memory is made of (memstats-<pid>.jsonl in the data dir; see docs/hardening.md)")
    parser.add_argument("--json", help="write the result here too")
    parser.add_argument("--assert-steady", action="store_true",
                        help="fail (exit 1) if RSS drifted more than --max-rss-drift or the fds were not steady")
    parser.add_argument("--max-rss-drift", type=float, default=10.0, help="per cent (with --assert-steady)")
    args = parser.parse_args()
    result = run(args)
    if args.assert_steady:
        result["max_rss_drift"], result["leaks"] = args.max_rss_drift, leaks(result, args.max_rss_drift)
    print(report(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))
    return 1 if result["operations"].get("all", {}).get("errors") or result["server_tracebacks"] \
        or result.get("leaks") else 0


if __name__ == "__main__":
    sys.exit(main())
