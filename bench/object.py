"""Object Storage through the Swift API, onestack beside a real Swift (PyPI's ``swift``: a proxy and one
account, container and object server, one worker each, on the same disk), one after the other in one run.

For each: 4 KiB PUTs (each a new object) and GETs with 8 clients (wrk: ops/s, p50/p99; onestack's also with
two API workers, as Swift's four servers use both cores), a 256 MiB object
PUT and GET by one client (MiB/s, the median of three), and a container filled with 10,000 objects (2,000
with ``--quick``) by 8 concurrent extract-archive requests, listed whole and by a 1,000-name page from its
middle (p50/p99 over one keep-alive connection).  onestack alone: 1,000-name pages at 1,000,000 objects
(100,000 with ``--quick``), the rows written in batches through the service's own tables (``_populate``)."""

from __future__ import annotations

import hashlib
import http.client
import io
import json
import re
import statistics
import subprocess
import tarfile
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from bench import load
from bench.targets import Onestack, Swift, password_body, rss_mb

SMALL = 4096
LARGE_MIB = 256
LISTED = 10_000
MILLION = 1_000_000
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}
PERCENTILE = re.compile(r"^\s+(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s)\s*$", re.M)


def _session(target: Onestack) -> tuple[str, str]:
    """(token, the admin project's account URL path)."""
    req = urllib.request.Request(f"{target.identity}/auth/tokens", method="POST",
                                 data=password_body("admin", target.admin_password(), "admin"),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        project = json.loads(resp.read())["token"]["project"]["id"]
        return resp.headers["X-Subject-Token"], f"/object-store/v1/AUTH_{project}"


def _call(port: int, method: str, path: str, token: str, body=None, headers: dict | None = None,
          expect: tuple[int, ...] = (200, 201, 202, 204)) -> tuple[bytes, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    try:
        conn.request(method, path, body=body, headers={"X-Auth-Token": token, **(headers or {})})
        resp = conn.getresponse()
        data = resp.read()
    finally:
        conn.close()
    if resp.status not in expect:
        raise RuntimeError(f"{method} {path} answered {resp.status}: {data[:200]!r}")
    return data, {k.lower(): v for k, v in resp.getheaders()}


def _wrk(url: str, token: str, method: str, paths: str, body: str, seconds: int,
         processes: dict[str, list[int]]) -> dict:
    """ops/s and latency percentiles of ``method`` on ``paths`` (a Lua expression for each request's path)
    with 8 connections, and the CPU seconds per request of each of the server's ``processes`` (by name) and
    of them all: the figure the load of others on a shared machine hardly moves."""
    script = f"""
wrk.method = "{method}"
wrk.headers["X-Auth-Token"] = "{token}"
wrk.body = {json.dumps(body) if body else "nil"}
request = function()
  return wrk.format(nil, {paths})
end
"""
    before = {name: load.cpu_seconds(pids) for name, pids in processes.items()}
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        lua.write(script)
        lua.flush()
        out = subprocess.run(["wrk", "-t", "2", "-c", "8", "-d", f"{seconds}s", "--latency", "--timeout", "30s",
                              "-s", lua.name, url], capture_output=True, text=True, check=True,
                             timeout=seconds + 60).stdout
    if load.WRK_ERRORS.search(out):
        raise RuntimeError(f"wrk saw failed responses:\n{out}")
    used = {name: load.cpu_seconds(pids) - before[name] for name, pids in processes.items()}
    found = {pct: float(value) * UNITS[unit] for pct, value, unit in PERCENTILE.findall(out)}
    requests = int(load.WRK_TOTAL.search(out).group(1))
    return {"ops_per_second": round(float(load.WRK_RATE.search(out).group(1)), 1),
            "requests": requests, "p50_ms": round(found["50"], 3),
            "p99_ms": round(found["99"], 3), "connections": 8, "seconds": seconds, "generator": "wrk -t2 -c8",
            "cpu_ms_per_request": round(sum(v for k, v in used.items() if k != "memcached") * 1000 / requests, 3),
            "cpu_ms_per_request_by_process": {name: round(cpu * 1000 / requests, 3) for name, cpu in used.items()}}


def _large(port: int, token: str, path: str, runs: int, processes: dict[str, list[int]]) -> dict:
    """MiB/s of a large PUT and GET (the median of ``runs``), and the CPU milliseconds the server's
    ``processes`` spent a MiB on each (all runs; memcached apart, as for the small requests)."""
    block = bytes(range(256)) * 4096  # 1 MiB
    puts, gets = [], []
    cpu = {"put": 0.0, "get": 0.0}

    def used() -> float:
        return sum(load.cpu_seconds(pids) for name, pids in processes.items() if name != "memcached")

    for run in range(runs):
        def body():
            for i in range(LARGE_MIB):
                yield i.to_bytes(8, "big") + block[8:]

        before, started = used(), time.perf_counter()
        _call(port, "PUT", f"{path}/large-{run}", token, body(), {"Content-Length": str(LARGE_MIB << 20)})
        puts.append(LARGE_MIB / (time.perf_counter() - started))
        cpu["put"] += used() - before
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        before, started = used(), time.perf_counter()
        conn.request("GET", f"{path}/large-{run}", headers={"X-Auth-Token": token})
        resp = conn.getresponse()
        size = 0
        while chunk := resp.read(1 << 20):
            size += len(chunk)
        gets.append(LARGE_MIB / (time.perf_counter() - started))
        cpu["get"] += used() - before
        conn.close()
        if size != LARGE_MIB << 20:
            raise RuntimeError(f"GET of the large object gave {size} bytes")
        _call(port, "DELETE", f"{path}/large-{run}", token)
    return {"put_mib_per_second": round(statistics.median(puts), 1),
            "get_mib_per_second": round(statistics.median(gets), 1),
            "put_cpu_ms_per_mib": round(cpu["put"] * 1000 / (LARGE_MIB * runs), 3),
            "get_cpu_ms_per_mib": round(cpu["get"] * 1000 / (LARGE_MIB * runs), 3),
            "runs": runs, "object_mib": LARGE_MIB}


def _archive(names: range) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for i in names:
            info = tarfile.TarInfo(f"obj-{i:07}")
            info.size = 1
            tar.addfile(info, io.BytesIO(b"x"))
    return out.getvalue()


def _pages(port: int, token: str, path: str, count: int, requests: int) -> dict:
    """p50/p99 of a 1,000-name page from the middle of ``count`` objects named obj-0000000..."""
    return load.sequential(f"http://127.0.0.1:{port}{path}?format=json&limit=1000&marker=obj-{count // 2:07}",
                           "GET", {"X-Auth-Token": token}, None, requests, 200)


def _listing(port: int, token: str, account: str, count: int) -> dict:
    """Fill a container with ``count`` objects (8 extract-archive requests at once), then time listings."""
    _call(port, "PUT", f"{account}/listing", token)
    step = count // 8
    archives = [_archive(range(i, min(i + step, count))) for i in range(0, count, step)]
    started = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        reports = list(pool.map(lambda a: json.loads(_call(port, "PUT", f"{account}/listing?extract-archive=tar",
                                                           token, a, {"Accept": "application/json"})[0]),
                                archives))
    made = sum(r["Number Files Created"] for r in reports)
    if made != count:
        raise RuntimeError(f"extract-archive made {made} of {count}: {reports}")
    fill = time.perf_counter() - started
    whole = load.sequential(f"http://127.0.0.1:{port}{account}/listing?format=json", "GET", {"X-Auth-Token": token},
                            None, 20, 200)
    return {"objects": count, "fill_objects_per_second": round(count / fill, 1), "whole_page": whole,
            "page_of_1000": _pages(port, token, f"{account}/listing", count, 50)}


def _populate(target: Onestack, account: str, container: str, count: int) -> float:
    """``count`` zero-byte objects in ``container`` (made by a PUT first), written as the service writes a
    zero-byte PUT (a row with no blob, the ETag of nothing, the container's and the account's counters moved
    in the same transaction), 20,000 rows a transaction, into the running server's database.  Listing reads
    those same rows through the name index, so the page timed after this is the one a client would get
    after a million PUTs (which, at a few hundred a second, would take an hour).  Seconds taken."""
    from sqlalchemy import insert, select, update

    from onestack.config import load as load_settings
    from onestack.db.engine import Database
    from onestack.services.object.models import Account, Container, Object

    db = Database(load_settings(target.data_dir).database_url)
    empty = hashlib.md5(b"", usedforsecurity=False).hexdigest()
    started = time.perf_counter()
    try:
        with db.read() as session:
            owner = session.scalars(select(Container.id).where(Container.account == account,
                                                               Container.name == container)).one()
        batch = 20_000
        for first in range(0, count, batch):
            stamp = round(time.time(), 5)
            rows = [{"container_id": owner, "name": f"obj-{i:07}", "blob_id": None, "size": 0, "etag": empty,
                     "content_type": "application/octet-stream", "timestamp": stamp, "blocks": b"", "meta": {},
                     "delete_at": None} for i in range(first, min(first + batch, count))]
            with db.write() as session:
                session.execute(insert(Object), rows)
                session.execute(update(Container).where(Container.id == owner)
                                .values(object_count=Container.object_count + len(rows)))
                session.execute(update(Account).where(Account.name == account)
                                .values(object_count=Account.object_count + len(rows)))
    finally:
        db.dispose()
    return time.perf_counter() - started


def _million(target: Onestack, token: str, account: str, count: int) -> dict:
    path = f"{account}/million"
    _call(target.port, "PUT", path, token)
    seconds = _populate(target, account.rsplit("/", 1)[1], "million", count)
    _, headers = _call(target.port, "HEAD", path, token)
    if int(headers["x-container-object-count"]) != count:
        raise RuntimeError(f"the container counts {headers['x-container-object-count']} objects, not {count}")
    body, _ = _call(target.port, "GET", f"{path}/obj-{count - 1:07}", token)  # an ordinary object to GET
    if body != b"":
        raise RuntimeError("a populated object is not empty")
    first = load.sequential(f"http://127.0.0.1:{target.port}{path}?format=json&limit=1000", "GET",
                            {"X-Auth-Token": token}, None, 50, 200)
    last = load.sequential(f"http://127.0.0.1:{target.port}{path}?format=json&limit=1000"
                           f"&marker=obj-{count - 1000:07}", "GET", {"X-Auth-Token": token}, None, 50, 200)
    return {"objects": count, "populate_seconds": round(seconds, 1), "first_page_of_1000": first,
            "middle_page_of_1000": _pages(target.port, token, path, count, 50), "last_page_of_1000": last}


def measure(quick: bool) -> dict:
    """Both systems up at once, each figure taken on onestack and then on Swift straight after, so that
    the load others put on a shared machine weighs on both alike."""
    onestack, swift = Onestack(name="onestack-object"), Swift()
    # the small requests also on two API workers: Swift's four servers use both cores, one process one
    two = Onestack({"workers": 2}, name="onestack-object-2w")
    onestack.start()
    try:
        two.start()
        try:
            swift.start()
            try:
                return _both(onestack, two, swift, quick)
            finally:
                swift.stop()
        finally:
            two.stop()
    finally:
        onestack.stop()


def _both(onestack: Onestack, two: Onestack, swift: Swift, quick: bool) -> dict:
    """Every figure on onestack and on Swift; the small requests' on ``two`` (two workers) as well, each
    taken between onestack's and Swift's."""
    small_sides = {"onestack": (onestack.port, *_session(onestack)), "onestack_two_workers": (two.port, *_session(two)),
                   "swift": (swift.port, *swift.session())}
    sides = {name: small_sides[name] for name in ("onestack", "swift")}
    # the CPU of every serving process: onestack's (its workers too, if it has any), Swift's four servers
    # (memcached, which its proxy's token and account caches use, counted apart)
    processes = {"onestack": {"onestack": onestack.pids()}, "onestack_two_workers": {"onestack": two.pids()},
                 "swift": swift.processes()}
    found: dict = {"onestack": {"workers": onestack.workers(), "runs_as": "onestack up (its default workers)"},
                   "onestack_two_workers": {"workers": two.workers(), "runs_as": "onestack up, workers: 2"},
                   "swift": {"version": swift.version, "server": swift.description}}
    seconds = 5 if quick else 15
    small = "x" * SMALL
    for port, token, account in small_sides.values():
        _call(port, "PUT", f"{account}/bench", token)
    for name, (port, token, account) in small_sides.items():
        url = f"http://127.0.0.1:{port}{account}/bench"
        found[name]["put_4k"] = _wrk(url, token, "PUT", f'"{account}/bench/new-" .. math.random(1, 2000000000)',
                                     small, seconds, processes[name])
    for name, (port, token, account) in small_sides.items():
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda i, port=port, token=token, account=account: _call(
                port, "PUT", f"{account}/bench/get-{i}", token, small.encode()), range(1000)))
        url = f"http://127.0.0.1:{port}{account}/bench"
        found[name]["get_4k"] = _wrk(url, token, "GET", f'"{account}/bench/get-" .. math.random(0, 999)', "",
                                     seconds, processes[name])
    for name, (port, token, account) in sides.items():
        found[name]["large"] = _large(port, token, f"{account}/bench", 1 if quick else 3, processes[name])
    for name, (port, token, account) in sides.items():
        found[name]["listing"] = _listing(port, token, account, LISTED // 5 if quick else LISTED)
    found["onestack"]["listing_million"] = _million(onestack, *sides["onestack"][1:],
                                                    MILLION // 10 if quick else MILLION)
    found["onestack"]["rss_mb_after"] = rss_mb(onestack.pids())
    found["swift"]["rss_mb_after"] = rss_mb(swift.pids())
    return found


def table(found: dict) -> str:
    one, swift = found.get("onestack", {}), found.get("swift", {})
    lines = [f"{'object storage (Swift API)':34}{'onestack':>10}{'swift':>10}{'ratio':>8}"
             f"{'p50 ms':>9}{'p99 ms':>9}{'swift p50':>11}{'p99':>9}"]

    def row(label: str, mine, theirs, higher_better: bool = True, latency: tuple = ()) -> None:
        ratio = ""
        if isinstance(mine, (int, float)) and isinstance(theirs, (int, float)) and mine and theirs:
            ratio = f"{(mine / theirs) if higher_better else (theirs / mine):.1f}x"
        cells = "".join(f"{v if v is not None else '-':>{w}}" for v, w in zip(latency, (9, 9, 11, 9), strict=False))
        lines.append(f"{label:34}{mine if mine is not None else '-':>10}{theirs if theirs is not None else '-':>10}"
                     f"{ratio:>8}{cells}")

    for key, label in (("put_4k", "4 KiB PUT ops/s, 8 clients"), ("get_4k", "4 KiB GET ops/s, 8 clients")):
        a, b = one.get(key, {}), swift.get(key, {})
        row(label, a.get("ops_per_second"), b.get("ops_per_second"),
            latency=(a.get("p50_ms"), a.get("p99_ms"), b.get("p50_ms"), b.get("p99_ms")))
    for key, label in (("put_4k", "4 KiB PUT CPU ms/request"), ("get_4k", "4 KiB GET CPU ms/request")):
        row(label, one.get(key, {}).get("cpu_ms_per_request"), swift.get(key, {}).get("cpu_ms_per_request"),
            higher_better=False)
    two = found.get("onestack_two_workers", {})
    for key, label in (("put_4k", "4 KiB PUT ops/s, 2 workers"), ("get_4k", "4 KiB GET ops/s, 2 workers")):
        a, b = two.get(key, {}), swift.get(key, {})
        row(label, a.get("ops_per_second"), b.get("ops_per_second"),
            latency=(a.get("p50_ms"), a.get("p99_ms"), b.get("p50_ms"), b.get("p99_ms")))
    for key, label in (("put_mib_per_second", "256 MiB PUT MiB/s"), ("get_mib_per_second", "256 MiB GET MiB/s")):
        row(label, one.get("large", {}).get(key), swift.get("large", {}).get(key))
    for key, label in (("put_cpu_ms_per_mib", "256 MiB PUT CPU ms/MiB"), ("get_cpu_ms_per_mib", "256 MiB GET CPU ms/MiB")):
        row(label, one.get("large", {}).get(key), swift.get("large", {}).get(key), higher_better=False)
    listed = one.get("listing", {}).get("objects", LISTED)
    for key, label in (("whole_page", f"list {listed:,} of {listed:,}, p50 ms"),
                       ("page_of_1000", f"list 1,000 of {listed:,}, p50 ms")):
        a, b = one.get("listing", {}).get(key, {}), swift.get("listing", {}).get(key, {})
        row(label, a.get("p50_ms"), b.get("p50_ms"), higher_better=False,
            latency=(a.get("p50_ms"), a.get("p99_ms"), b.get("p50_ms"), b.get("p99_ms")))
    row("fill by extract-archive, objects/s", one.get("listing", {}).get("fill_objects_per_second"),
        swift.get("listing", {}).get("fill_objects_per_second"))
    million = one.get("listing_million")
    if million:
        for key, label in (("first_page_of_1000", "first"), ("middle_page_of_1000", "middle"),
                           ("last_page_of_1000", "last")):
            page = million[key]
            row(f"list 1,000 of {million['objects']:,} ({label})", page["p50_ms"], None,
                latency=(page["p50_ms"], page["p99_ms"]))
    row("RSS after (MB)", one.get("rss_mb_after"), swift.get("rss_mb_after"), higher_better=False)
    return "\n".join(lines)
