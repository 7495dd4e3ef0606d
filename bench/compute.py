"""Compute at scale on the fake driver: servers created to ACTIVE per second, the latency of a
100-server page of ``GET /servers/detail`` with 1,000 and with 10,000 servers, and placement's claim
rate.  One cloud with 100 fake hosts; quotas lifted for the admin project so only speed limits it.

The same creates and pages are then measured on a second cloud: two serving processes (``workers: 2``) on a
scratch PostgreSQL database, with the SQL statements and transactions one server costs from ``POST`` to
``ACTIVE`` counted in the server's log (``bench/pgstatements.py``)."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench import load, pgstatements
from bench.targets import ROOT, Onestack, password_body, rss_mb, scratch_postgres

HOSTS = 100
# 2.37: `networks: "none"`, servers without ports (the bench measures compute, not port creation)
NOVA = {"X-OpenStack-Nova-API-Version": "2.37", "Content-Type": "application/json"}
SETTINGS = {"compute": {"driver": "fake", "fake_hosts": HOSTS}, "network": {"quotas": {"port": -1}}}
PG_ROLE = "onestack"  # the role scripts/postgres-up.sh makes, which the cloud connects as
# seconds of an idle cloud whose statements (resyncs, periodic loops) are counted to take them off a window's
IDLE_WINDOW = 5.0
SETTLED = 30  # statements a second of an idle cloud stays under (about 8: its resyncs)


class Client:
    def __init__(self, base: str, token: str):
        self.base, self.token = base, token

    def call(self, method: str, path: str, body: dict | None = None, headers: dict | None = None) -> dict:
        req = urllib.request.Request(f"{self.base}{path}", method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"X-Auth-Token": self.token, "Content-Type": "application/json",
                                              **(headers or {})})
        with urllib.request.urlopen(req, timeout=120) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else {}

    def wait_active(self, server_id: str, headers: dict, since: float, seconds: float, every: float) -> float:
        """Seconds from ``since`` (a ``time.monotonic()``) until the server is ACTIVE, asking every ``every``
        seconds; RuntimeError when it goes to ERROR or is not ACTIVE ``seconds`` after ``since``."""
        while (status := self.call("GET", f"/compute/v2.1/servers/{server_id}", headers=headers)["server"]
               ["status"]) != "ACTIVE":
            if status == "ERROR" or time.monotonic() - since > seconds:
                raise RuntimeError(f"server {server_id} is {status}")
            time.sleep(every)
        return time.monotonic() - since


def _token(target: Onestack) -> str:
    req = urllib.request.Request(f"{target.identity}/auth/tokens", method="POST",
                                 data=password_body("admin", target.admin_password(), "admin"),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return resp.headers["X-Subject-Token"]


def _one(api: Client, status: str) -> bool:
    """Whether any server has ``status``: one row asked for, so the poll costs the same at any total."""
    return bool(api.call("GET", f"/compute/v2.1/servers?status={status}&limit=1", headers=NOVA)["servers"])


def _in_use(api: Client) -> int:
    return api.call("GET", "/compute/v2.1/limits", headers=NOVA)["limits"]["absolute"]["totalInstancesUsed"]


def _post_creates(api: Client, image: str, count: int, batch: int) -> None:
    """``count`` servers asked for, ``batch`` per request, 8 clients at once."""
    def one(_):
        body = {"server": {"name": "bench", "imageRef": image, "flavorRef": "42", "networks": "none",
                           "min_count": batch, "max_count": batch}}
        api.call("POST", "/compute/v2.1/servers", body, NOVA)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, range(count // batch)))


def _check_made(api: Client, before: int, count: int) -> None:
    if _one(api, "ERROR"):
        raise RuntimeError("servers went to ERROR during the benchmark")
    if _in_use(api) != before + count:
        raise RuntimeError(f"expected {before + count} servers, the cloud counts {_in_use(api)}")


def _create(api: Client, image: str, count: int, batch: int) -> float:
    """Create ``count`` servers (``batch`` per request, 8 clients at once); seconds until all are ACTIVE.
    Every create answers with its servers in BUILD, so once the requests are done and no server is in
    BUILD (nor in ERROR), every one of them is ACTIVE."""
    before = _in_use(api)
    started = time.perf_counter()
    _post_creates(api, image, count, batch)
    while _one(api, "BUILD"):
        time.sleep(0.25)
    seconds = time.perf_counter() - started
    _check_made(api, before, count)
    return seconds


def _pages(base: str, token: str, samples: int) -> dict:
    """``GET /servers/detail`` p50/p99 for pages of 10, 100 and 1,000 servers."""
    headers = {"X-Auth-Token": token, **NOVA}
    return {f"limit_{size}": load.sequential(f"{base}/compute/v2.1/servers/detail?limit={size}", "GET", headers,
                                             None, max(10, samples // (10 if size >= 1000 else 1)), 200)
            for size in (10, 100, 1000)}


def _prepare(target: Onestack) -> tuple[Client, str, str]:
    """A client of the admin project with its compute quotas lifted, the project's id and an image to boot."""
    token = _token(target)
    api = Client(target.base, token)
    project = api.call("GET", "/identity/v3/auth/tokens", headers={"X-Subject-Token": token})["token"]["project"]
    api.call("PUT", f"/compute/v2.1/os-quota-sets/{project['id']}",
             {"quota_set": {"instances": -1, "cores": -1, "ram": -1}}, NOVA)
    image = api.call("POST", "/image/v2/images", {"name": "bench", "disk_format": "raw",
                                                  "container_format": "bare"})["id"]
    req = urllib.request.Request(f"{target.base}/image/v2/images/{image}/file", data=b"\0" * 4096, method="PUT",
                                 headers={"X-Auth-Token": token, "Content-Type": "application/octet-stream"})
    urllib.request.urlopen(req, timeout=30).read()
    return api, project["id"], image


def _ticks(pid: int) -> int | None:
    """utime + stime of ``pid`` in clock ticks, None once it has exited."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return int(fields[11]) + int(fields[12])


def _backends(database: str) -> list[int]:
    """The PostgreSQL backends serving ``database`` (their process title names it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                title = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if title.startswith(b"postgres: ") and f" {database} ".encode() in title:
                found.append(int(entry.name))
    return found


class CpuMeter:
    """CPU seconds the cloud's processes use: its supervisor, its workers and, on PostgreSQL, the backends
    serving its database, read from ``/proc/<pid>/stat`` every 0.2 s (a backend opened and closed between two
    looks is missed; the pools keep theirs open).  The figure a shared machine does not stretch, as it does
    the wall-clock rate."""

    def __init__(self, target: Onestack, database: str | None):
        self.database = database
        pids = target.pids()
        self.roles = {pids[0]: "supervisor", **{pid: "workers" for pid in pids[1:]}}
        self.start = {pid: _ticks(pid) or 0 for pid in [*self.roles, *self._backends()]}
        self.last = dict(self.start)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _backends(self) -> list[int]:
        return _backends(self.database) if self.database else []

    def _look(self) -> None:
        for pid in [*self.roles, *self._backends()]:
            ticks = _ticks(pid)
            if ticks is not None:
                with self._lock:
                    self.last[pid] = ticks

    def _watch(self) -> None:
        while not self._stop.wait(0.2):
            self._look()

    def used(self) -> dict:
        """CPU seconds per role since the meter started: supervisor, workers, postgresql."""
        self._look()
        found: dict = {"supervisor": 0.0, "workers": 0.0, "postgresql": 0.0}
        hz = os.sysconf("SC_CLK_TCK")
        with self._lock:
            for pid, ticks in self.last.items():
                found[self.roles.get(pid, "postgresql")] += (ticks - self.start.get(pid, 0)) / hz
        return found

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def _create_figure(api: Client, image: str, count: int, target: Onestack, database: str | None = None) -> dict:
    """Creates to ACTIVE per second, and the CPU milliseconds each server cost each kind of process: what
    they used during the creates, less what the idle cloud uses in as long while the same status poll runs
    (its periodic resyncs, the poll itself: a slow run would otherwise charge more of them to each server)."""
    meter = CpuMeter(target, database)
    try:
        idle_started = time.perf_counter()
        while time.perf_counter() - idle_started < IDLE_WINDOW:
            _one(api, "BUILD")  # the poll _create runs, at its pace
            time.sleep(0.25)
        idle_seconds = time.perf_counter() - idle_started
        idle = meter.used()
        load_before = round(os.getloadavg()[0], 1)
        seconds = _create(api, image, count, batch=1)
        during = meter.used()
    finally:
        meter.stop()
    per_server = {role: round(1000 * (during[role] - idle[role] * (1 + seconds / idle_seconds)) / count, 1)
                  for role in during}
    per_server["total"] = round(sum(per_server.values()), 1)
    return {"servers": count, "seconds": round(seconds, 1), "servers_per_second": round(count / seconds, 1),
            "clients": 8, "per_request": 1, "load_average": [load_before, round(os.getloadavg()[0], 1)],
            "cpu_ms_per_server": per_server,
            "idle_cpu_ms_per_second": {role: round(1000 * value / idle_seconds, 1) for role, value in idle.items()}}


def measure(quick: bool) -> dict:
    result = measure_sqlite(quick)
    result["postgresql_2_workers"] = measure_workers(quick)
    return result


def measure_sqlite(quick: bool) -> dict:
    """One serving process on SQLite: creates, pages at 1,000 and 10,000 servers, placement claims."""
    target = Onestack(SETTINGS, name="onestack-compute")
    target.start()
    try:
        api, project_id, image = _prepare(target)
        result: dict = {"hosts": HOSTS, "driver": "fake", "workers": 1, "database": "sqlite"}
        sustained = 500 if quick else 1000
        result["create_to_active"] = _create_figure(api, image, sustained, target)
        result[f"detail_at_{sustained}"] = _pages(target.base, api.token, 50 if quick else 200)
        if not quick:
            fill = 9000
            seconds = _create(api, image, fill, batch=50)
            result["fill_to_10000"] = {"servers": fill, "seconds": round(seconds, 1),
                                       "servers_per_second": round(fill / seconds, 1), "per_request": 50}
            result["detail_at_10000"] = _pages(target.base, api.token, 200)
        result["placement_claims"] = _claims(api, project_id, 300 if quick else 1000)
        result["rss_mb_after"] = rss_mb(target.pids())
        return result
    finally:
        target.stop()


def measure_worker_counts(quick: bool) -> dict:
    """One serving process beside two, each on its own scratch PostgreSQL database, measured one right after
    the other in the same run: creates to ACTIVE and the detail pages (no statement counting), with the load
    average before and after (the machine is shared: the figures mean little without it)."""
    found: dict = {"load_average_before": [round(x, 2) for x in os.getloadavg()]}
    for workers in (1, 2):
        found[f"workers_{workers}"] = measure_workers(quick, workers, count_statements=False)
    found["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    return found


def worker_counts_table(found: dict) -> str:
    one, two = found["workers_1"], found["workers_2"]
    lines = [f"compute on {one['hosts']} fake hosts on PostgreSQL, 1 vs 2 serving processes "
             f"(load average before {found['load_average_before']}, after {found['load_average_after']})",
             f"{'':44}{'1 worker':>12}{'2 workers':>12}",
             f"{'create -> ACTIVE, 8 clients (servers/s)':44}{one['create_to_active']['servers_per_second']:>12}"
             f"{two['create_to_active']['servers_per_second']:>12}"]
    key = next(k for k in one if k.startswith("detail_at_"))
    for size in one[key]:
        for field in ("p50_ms", "p99_ms"):
            label = f"GET /servers/detail?{size.replace('_', '=')} {field[:3]} (ms)"
            lines.append(f"{label:44}{one[key][size][field]:>12}{two[key][size][field]:>12}")
    lines.append(f"{'RSS after (MB)':44}{one['rss_mb_after']:>12}{two['rss_mb_after']:>12}")
    return "\n".join(lines)


def measure_workers(quick: bool, workers: int = 2, count_statements: bool = True) -> dict:
    """``workers`` serving processes on a scratch PostgreSQL database: the same creates and pages; then, on a
    second such cloud whose every statement the server logs, the statements and transactions per server
    (unless not ``count_statements``)."""
    subprocess.run([str(ROOT / "scripts/postgres-up.sh")], check=True, capture_output=True)
    server = subprocess.run([str(ROOT / "scripts/postgres-up.sh"), "--url"], check=True, capture_output=True,
                            text=True).stdout.strip()
    with scratch_postgres(server, "onestack_compute") as url:
        assert url is not None
        target = Onestack({**SETTINGS, "workers": workers, "database": url}, name="onestack-compute-pg")
        target.start()
        try:
            api, _, image = _prepare(target)
            result: dict = {"hosts": HOSTS, "driver": "fake", "workers": workers, "database": "postgresql"}
            sustained = 500 if quick else 1000
            result["create_to_active"] = _create_figure(api, image, sustained, target, url.rsplit("/", 1)[1])
            result[f"detail_at_{sustained}"] = _pages(target.base, api.token, 50 if quick else 200)
            result["rss_mb_after"] = rss_mb(target.pids())
        finally:
            target.stop()
    if not count_statements:
        return result
    with scratch_postgres(server, "onestack_compute") as url:
        assert url is not None
        result["per_server"] = _counted(url, workers, 100 if quick else 200)
    return result


def _settle(database: str) -> None:
    """Until a second passes with fewer than ``SETTLED`` statements: a new cloud registers its hosts and
    converges for a while after it answers, which the idle window must not take for its resyncs."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        window = pgstatements.Window(PG_ROLE, database)
        time.sleep(1)
        if window.counts()["statements"] < SETTLED:
            return
    raise RuntimeError("the new cloud did not settle within 60 s")


def _counted(url: str, workers: int, count: int) -> dict:
    """Statements and transactions per server, from ``count`` creates (8 clients) on a new cloud whose every
    statement the server logs (logging slows it: the rate is measured on a cloud that does not log); the
    statements the idle cloud runs in as long (its periodic resyncs) are taken off.  The wait for ACTIVE
    reads the table as the postgres superuser, whose statements are not logged."""
    database = url.rsplit("/", 1)[1]
    with pgstatements.logging(PG_ROLE, database):
        target = Onestack({**SETTINGS, "workers": workers, "database": url}, name="onestack-compute-pg-counted")
        target.start()
        try:
            api, _, image = _prepare(target)
            before = _in_use(api)
            _settle(database)
            idle = pgstatements.Window(PG_ROLE, database)
            time.sleep(IDLE_WINDOW)  # a window of the idle cloud, not a wait for anything
            background = idle.counts()
            window = pgstatements.Window(PG_ROLE, database)
            started = time.perf_counter()
            _post_creates(api, image, count, 1)
            while int(pgstatements.psql("SELECT count(*) FROM compute_instance WHERE NOT deleted "
                                        "AND task_state IS NOT NULL", database)):
                time.sleep(0.25)
            seconds = time.perf_counter() - started
            found = window.counts()
            _check_made(api, before, count)
        finally:
            target.stop()
    scale = seconds / IDLE_WINDOW
    per_server = {key: round((found[key] - background[key] * scale) / count, 1) for key in found}
    return {"servers": count, "seconds": round(seconds, 1), "logged": found,
            "idle_in_window": {key: round(value * scale) for key, value in background.items()}, **per_server}


def _claims(api: Client, project_id: str, count: int) -> dict:
    """``PUT /placement/allocations/{consumer}`` for new consumers, 8 at once, on one provider."""
    headers = {"OpenStack-API-Version": "placement 1.28"}
    provider = api.call("GET", "/placement/resource_providers", headers=headers)["resource_providers"][0]["uuid"]

    def claim(_):
        body = {"allocations": {provider: {"resources": {"MEMORY_MB": 1}}}, "project_id": project_id,
                "user_id": project_id, "consumer_generation": None}
        api.call("PUT", f"/placement/allocations/{uuid.uuid4()}", body, headers)

    started = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(claim, range(count)))
    seconds = time.perf_counter() - started
    return {"claims": count, "seconds": round(seconds, 2), "claims_per_second": round(count / seconds, 1)}


def table(found: dict) -> str:
    lines = [f"compute on {found['hosts']} fake hosts, one serving process on SQLite"]
    lines += _cloud_lines(found)
    if "fill_to_10000" in found:
        fill = found["fill_to_10000"]
        lines.append(f"  fill to 10,000 ({fill['per_request']} per request): {fill['servers_per_second']} servers/s")
    claims = found["placement_claims"]
    lines.append(f"  placement claims, 8 clients: {claims['claims_per_second']}/s")
    pg = found.get("postgresql_2_workers")
    if pg:
        lines.append(f"compute on {pg['hosts']} fake hosts, {pg['workers']} serving processes on PostgreSQL")
        lines += _cloud_lines(pg)
        cost = pg["per_server"]
        lines.append(f"  per server, POST to ACTIVE ({cost['servers']} servers, the idle cloud's own taken off): "
                     f"{cost['statements']} statements and {cost['pings']} pool pings, "
                     f"{cost['transactions']} transactions, {cost['write_transactions']} writing")
    return "\n".join(lines)


def _cloud_lines(found: dict) -> list[str]:
    create = found["create_to_active"]
    lines = [f"  create -> ACTIVE, 8 clients: {create['servers_per_second']} servers/s "
             f"({create['servers']} in {create['seconds']} s, load average {create.get('load_average')})"]
    if "cpu_ms_per_server" in create:
        lines.append("  CPU ms per server: " + ", ".join(f"{role} {value}"
                                                         for role, value in create["cpu_ms_per_server"].items()))
    for key in (k for k in found if k.startswith("detail_at_")):
        label = f"{int(key.rsplit('_', 1)[1]):,}"
        for size, page in found[key].items():
            lines.append(f"  GET /servers/detail?{size.replace('_', '=')} with {label} servers: "
                         f"p50 {page['p50_ms']} ms, p99 {page['p99_ms']} ms")
    lines.append(f"  RSS after: {found['rss_mb_after']} MB")
    return lines
