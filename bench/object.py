"""Object Storage through the Swift API: 4 KiB PUTs (each a new object) and GETs with 8 clients (wrk:
ops/s, p50/p99), a 256 MiB object PUT and GET by one client (MiB/s, the median of three), and a container
listing at 10,000 objects (the whole 10,000-name page and a 1,000-name page from its middle; p50/p99 over
one keep-alive connection).  One serving process, the data dir on the machine's disk."""

from __future__ import annotations

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
from urllib.parse import urlsplit

from bench import load
from bench.targets import Onestack, password_body, rss_mb

SMALL = 4096
LARGE_MIB = 256
LISTED = 10_000
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


def _call(target: Onestack, method: str, path: str, token: str, body=None, headers: dict | None = None,
          expect: tuple[int, ...] = (200, 201, 202, 204)) -> bytes:
    conn = http.client.HTTPConnection("127.0.0.1", target.port, timeout=300)
    try:
        conn.request(method, path, body=body, headers={"X-Auth-Token": token, **(headers or {})})
        resp = conn.getresponse()
        data = resp.read()
    finally:
        conn.close()
    if resp.status not in expect:
        raise RuntimeError(f"{method} {path} answered {resp.status}: {data[:200]!r}")
    return data


def _wrk(url: str, token: str, method: str, paths: str, body: str, seconds: int) -> dict:
    """ops/s and latency percentiles of ``method`` on ``paths`` (a Lua expression for each request's path)
    with 8 connections."""
    script = f"""
wrk.method = "{method}"
wrk.headers["X-Auth-Token"] = "{token}"
wrk.body = {json.dumps(body) if body else "nil"}
request = function()
  return wrk.format(nil, {paths})
end
"""
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        lua.write(script)
        lua.flush()
        out = subprocess.run(["wrk", "-t", "2", "-c", "8", "-d", f"{seconds}s", "--latency", "--timeout", "30s",
                              "-s", lua.name, url], capture_output=True, text=True, check=True,
                             timeout=seconds + 60).stdout
    if load.WRK_ERRORS.search(out):
        raise RuntimeError(f"wrk saw failed responses:\n{out}")
    found = {pct: float(value) * UNITS[unit] for pct, value, unit in PERCENTILE.findall(out)}
    return {"ops_per_second": round(float(load.WRK_RATE.search(out).group(1)), 1),
            "requests": int(load.WRK_TOTAL.search(out).group(1)), "p50_ms": round(found["50"], 3),
            "p99_ms": round(found["99"], 3), "connections": 8, "seconds": seconds, "generator": "wrk -t2 -c8"}


def _large(target: Onestack, token: str, path: str, runs: int) -> dict:
    block = bytes(range(256)) * 4096  # 1 MiB
    puts, gets = [], []
    for run in range(runs):
        def body():
            for i in range(LARGE_MIB):
                yield i.to_bytes(8, "big") + block[8:]

        started = time.perf_counter()
        _call(target, "PUT", f"{path}/large-{run}", token, body(), {"Content-Length": str(LARGE_MIB << 20)})
        puts.append(LARGE_MIB / (time.perf_counter() - started))
        conn = http.client.HTTPConnection("127.0.0.1", target.port, timeout=300)
        started = time.perf_counter()
        conn.request("GET", f"{path}/large-{run}", headers={"X-Auth-Token": token})
        resp = conn.getresponse()
        size = 0
        while chunk := resp.read(1 << 20):
            size += len(chunk)
        gets.append(LARGE_MIB / (time.perf_counter() - started))
        conn.close()
        if size != LARGE_MIB << 20:
            raise RuntimeError(f"GET of the large object gave {size} bytes")
        _call(target, "DELETE", f"{path}/large-{run}", token)
    return {"put_mib_per_second": round(statistics.median(puts), 1),
            "get_mib_per_second": round(statistics.median(gets), 1),
            "runs": runs, "object_mib": LARGE_MIB}


def _archive(names: range) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for i in names:
            info = tarfile.TarInfo(f"obj-{i:07}")
            info.size = 1
            tar.addfile(info, io.BytesIO(b"x"))
    return out.getvalue()


def _listing(target: Onestack, token: str, account: str, count: int) -> dict:
    """Fill a container with ``count`` objects (8 extract-archive requests at once), then time listings."""
    _call(target, "PUT", f"{account}/listing", token)
    step = count // 8
    archives = [_archive(range(i, min(i + step, count))) for i in range(0, count, step)]
    started = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        reports = list(pool.map(lambda a: json.loads(_call(target, "PUT", f"{account}/listing?extract-archive=tar",
                                                             token, a, {"Accept": "application/json"})), archives))
    made = sum(r["Number Files Created"] for r in reports)
    if made != count:
        raise RuntimeError(f"extract-archive made {made} of {count}: {reports}")
    fill = time.perf_counter() - started
    base = f"http://127.0.0.1:{target.port}{account}/listing?format=json"
    headers = {"X-Auth-Token": token}
    whole = load.sequential(base, "GET", headers, None, 20, 200)
    page = load.sequential(f"{base}&limit=1000&marker=obj-{count // 2:07}", "GET", headers, None, 50, 200)
    return {"objects": count, "fill_objects_per_second": round(count / fill, 1), "whole_10000_page": whole,
            "page_of_1000": page}


def measure(quick: bool) -> dict:
    target = Onestack(name="onestack-object")
    target.start()
    try:
        token, account = _session(target)
        _call(target, "PUT", f"{account}/bench", token)
        seconds = 5 if quick else 15
        url = f"http://127.0.0.1:{target.port}{account}/bench"
        small = "x" * SMALL
        result: dict = {"workers": 1}
        result["put_4k"] = _wrk(url, token, "PUT", f'"{urlsplit(url).path}/new-" .. math.random(1, 2000000000)',
                                small, seconds)
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda i: _call(target, "PUT", f"{account}/bench/get-{i}", token, small.encode()),
                          range(1000)))
        result["get_4k"] = _wrk(url, token, "GET", f'"{urlsplit(url).path}/get-" .. math.random(0, 999)', "", seconds)
        result["large"] = _large(target, token, f"{account}/bench", 1 if quick else 3)
        result["listing"] = _listing(target, token, account, LISTED)
        result["rss_mb_after"] = rss_mb(target.pids())
        return result
    finally:
        target.stop()


def table(found: dict) -> str:
    lines = [f"{'object storage (Swift API)':34}{'ops/s':>10}{'p50 ms':>10}{'p99 ms':>10}"]
    for key, label in (("put_4k", "4 KiB PUT, 8 clients"), ("get_4k", "4 KiB GET, 8 clients")):
        row = found[key]
        lines.append(f"{label:34}{row['ops_per_second']:>10}{row['p50_ms']:>10}{row['p99_ms']:>10}")
    large = found["large"]
    lines.append(f"{'256 MiB PUT / GET (MiB/s)':34}{large['put_mib_per_second']:>10}{large['get_mib_per_second']:>10}")
    listing = found["listing"]
    for key, label in (("whole_10000_page", "listing 10,000 of 10,000"), ("page_of_1000", "listing 1,000 of 10,000")):
        lines.append(f"{label:34}{'':>10}{listing[key]['p50_ms']:>10}{listing[key]['p99_ms']:>10}")
    return "\n".join(lines)
