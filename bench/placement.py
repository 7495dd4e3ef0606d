"""Placement side by side: onestack's placement and Placement 16 from PyPI, the same providers in both.

Both run at once (one uWSGI worker for Placement, one serving process for onestack, SQLite each); latencies
are taken in rounds of ten requests alternating between the two, and the claims on one right after the
other, so the machine's load weighs on both alike.  The cloud:
compute nodes (100, then 1,000) with VCPU, MEMORY_MB and DISK_GB; half carry a custom trait, a quarter sit in
one aggregate, and every tenth has a child provider holding a custom resource class (an accelerator), as
Nova's nested providers do.  Figures: ``GET /allocation_candidates`` p50 and p99 for a plain request, one
with a required trait, one with ``member_of`` and one with a granular group on the nested providers; then
``PUT /allocations/{consumer}`` claims per second from 8 clients (wrk, a new consumer each request), in
rounds of 5 s on each system in turn.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import tempfile
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

from bench import load
from bench.compute import _token
from bench.targets import Onestack, Placement, cpu_seconds

VERSION = "placement 1.36"  # granular groups, member_of, mappings: what Nova asks at its newest
TRAIT = "CUSTOM_BENCH_FAST"
ACCEL = "CUSTOM_BENCH_ACCEL"
AGGREGATE = "5c0f1d6e-9f4b-4a51-8d7e-6d1b7c3f0a01"
# name -> query string of GET /allocation_candidates
QUERIES = {
    "plain": "resources=VCPU:1,MEMORY_MB:1024,DISK_GB:10",
    "required_trait": f"resources=VCPU:1,MEMORY_MB:1024,DISK_GB:10&required={TRAIT}",
    "member_of": f"resources=VCPU:1,MEMORY_MB:1024,DISK_GB:10&member_of={AGGREGATE}",
    "nested": f"resources=VCPU:1,MEMORY_MB:1024&resources1={ACCEL}:1&group_policy=none",
}
PROJECT, USER = "9a1f3c2e7b5d4e60a1b2c3d4e5f60718", "3b2a1c0d9e8f4a7b6c5d4e3f2a1b0c9d"


class Side:
    """One system under test: where its placement API is, the token it takes and its server's processes."""

    def __init__(self, name: str, base: str, token: str, pids=lambda: []):
        self.name, self.base, self.pids = name, base, pids
        self.headers = {"X-Auth-Token": token, "OpenStack-API-Version": VERSION}

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        req = urllib.request.Request(f"{self.base}{path}", method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={**self.headers, "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=120) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else {}


def _seed_one(side: Side, index: int) -> str:
    rp = str(uuid.UUID(int=index + 1))
    side.call("POST", "/resource_providers", {"uuid": rp, "name": f"compute-{index}"})
    side.call("PUT", f"/resource_providers/{rp}/inventories", {"resource_provider_generation": 0, "inventories": {
        "VCPU": {"total": 64, "allocation_ratio": 4.0},
        "MEMORY_MB": {"total": 262144, "allocation_ratio": 1.0, "reserved": 512},
        "DISK_GB": {"total": 4000}}})
    generation = 1
    if index % 2 == 0:
        side.call("PUT", f"/resource_providers/{rp}/traits",
                  {"resource_provider_generation": generation, "traits": [TRAIT, "HW_CPU_X86_AVX2"]})
        generation += 1
    if index % 4 == 0:
        side.call("PUT", f"/resource_providers/{rp}/aggregates",
                  {"resource_provider_generation": generation, "aggregates": [AGGREGATE]})
    if index % 10 == 0:
        child = str(uuid.UUID(int=index + 1 + 10**9))
        side.call("POST", "/resource_providers", {"uuid": child, "name": f"compute-{index}-accel",
                                                  "parent_provider_uuid": rp})
        side.call("PUT", f"/resource_providers/{child}/inventories",
                  {"resource_provider_generation": 0, "inventories": {ACCEL: {"total": 8}}})
    return rp


def seed(side: Side, start: int, stop: int) -> None:
    """Compute nodes ``start`` to ``stop - 1`` (4 clients at once: seeding is not what is measured)."""
    if start == 0:
        side.call("PUT", f"/traits/{TRAIT}")
        side.call("POST", "/resource_classes", {"name": ACCEL})
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda i: _seed_one(side, i), range(start, stop)))


def mirror(source: Side, target: Side) -> None:
    """The providers onestack made itself (its compute host), copied to the other side so both hold the
    same providers: same uuid, name, inventories and traits."""
    for rp in source.call("GET", "/resource_providers")["resource_providers"]:
        target.call("POST", "/resource_providers", {"uuid": rp["uuid"], "name": rp["name"]})
        inventories = source.call("GET", f"/resource_providers/{rp['uuid']}/inventories")["inventories"]
        target.call("PUT", f"/resource_providers/{rp['uuid']}/inventories",
                    {"resource_provider_generation": 0, "inventories": inventories})
        traits = source.call("GET", f"/resource_providers/{rp['uuid']}/traits")["traits"]
        for name in traits:
            if name.startswith("CUSTOM_"):
                target.call("PUT", f"/traits/{name}")
        target.call("PUT", f"/resource_providers/{rp['uuid']}/traits",
                    {"resource_provider_generation": 1, "traits": traits})


def candidates(sides: list[Side], query: str, count: int) -> dict[str, dict]:
    """p50/p99 of ``count`` requests on each side, taken in rounds of 10 alternating between the sides, so a
    change in the machine's load during the measure falls on both alike; and the CPU milliseconds each
    side's server processes spent per request over those rounds (the load-robust figure)."""
    found = {s.name: len(s.call("GET", f"/allocation_candidates?{query}")["allocation_requests"]) for s in sides}
    samples: dict[str, list[float]] = {s.name: [] for s in sides}
    cpu = {s.name: 0.0 for s in sides}
    for side in sides:
        load.timed(f"{side.base}/allocation_candidates?{query}", "GET", side.headers, None, 5, 200)  # warm-up
    for _ in range(0, count, 10):
        for side in sides:
            pids = side.pids()
            before = cpu_seconds(pids)
            samples[side.name] += load.timed(f"{side.base}/allocation_candidates?{query}", "GET", side.headers,
                                             None, 10, 200)
            cpu[side.name] += cpu_seconds(pids) - before
    return {name: {**load.summary(taken), "cpu_ms_per_request": round(cpu[name] * 1000 / len(taken), 2),
                   "candidates": found[name]} for name, taken in samples.items()}


RUNS = itertools.count(os.getpid() % 1000 * 1000)
CLAIM_SCRIPT = """
local counter = 0
local thread_id = 0
local threads = 0
local providers = {%(providers)s}
function setup(thread) threads = threads + 1; thread:set("tid", %(salt)d * 16 + threads) end
function init(args) thread_id = tid end
request = function()
  counter = counter + 1
  local consumer = string.format("%%08x-0000-4000-8000-%%012x", thread_id, counter)
  local rp = providers[(counter %% #providers) + 1]
  local body = '{"allocations": {"' .. rp .. '": {"resources": {"VCPU": 1, "MEMORY_MB": 256}}}, ' ..
    '"project_id": "%(project)s", "user_id": "%(user)s", "consumer_generation": null}'
  return wrk.format("PUT", "%(prefix)s/allocations/" .. consumer, nil, body)
end
"""


def claims(side: Side, providers: list[str], seconds: int) -> dict:
    """New consumers claiming on the compute nodes in turn, 8 wrk connections (each answer must be 204)."""
    prefix = side.base.split("/", 3)[3] if side.base.count("/") > 2 else ""
    # consumers are <salt, thread>-<counter>: a salt of its own for each run keeps every consumer new
    script = CLAIM_SCRIPT % {"providers": ",".join(f'"{p}"' for p in providers), "salt": next(RUNS),
                             "project": PROJECT, "user": USER, "prefix": "/" + prefix if prefix else ""}
    for name, value in {**side.headers, "Content-Type": "application/json",
                        "OpenStack-API-Version": "placement 1.28"}.items():
        script += f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}\n"
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        lua.write(script)
        lua.flush()
        out = subprocess.run(["wrk", "-t", "2", "-c", "8", "-d", f"{seconds}s", "--timeout", "30s", "-s", lua.name,
                              side.base], capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    rate = float(load.WRK_RATE.search(out).group(1))
    errors = load.WRK_ERRORS.search(out)
    if errors:
        raise RuntimeError(f"{side.name}: {errors.group(1)} claims failed:\n{out}")
    return {"claims_per_second": round(rate, 1), "requests": int(load.WRK_TOTAL.search(out).group(1)),
            "connections": 8, "seconds": seconds}


def measure(quick: bool) -> dict:
    one, real = Onestack(name="onestack-placement"), Placement()
    one.start()
    real.start()
    try:
        sides = [Side("onestack", f"{one.base}/placement", _token(one), one.pids),
                 Side("placement", real.base, real.token, real.pids)]
        result: dict = {"placement_version": real.version, "placement_server": real.description,
                        "onestack_server": "onestack up: 1 serving process, SQLite, Keystone token validated",
                        "microversion": VERSION, "load_average_before": [round(x, 2) for x in os.getloadavg()]}
        mirror(*sides)
        done = 0
        for providers in (100, 1000):
            for side in sides:
                seed(side, done, providers)
            done = providers
            count = (60 if providers > 100 else 150) if quick else (200 if providers > 100 else 400)
            for name, query in QUERIES.items():
                for side, figures in candidates(sides, query, count).items():
                    result.setdefault(side, {}).setdefault(f"{providers}_providers", {})[name] = figures
                answers = {s.name: result[s.name][f"{providers}_providers"][name]["candidates"] for s in sides}
                if len(set(answers.values())) != 1:
                    raise RuntimeError(f"{name} at {providers} providers: candidates differ {answers}")
        computes = [str(uuid.UUID(int=i + 1)) for i in range(done)]
        rounds: dict[str, list[dict]] = {side.name: [] for side in sides}
        cpu = {side.name: 0.0 for side in sides}
        for _ in range(1 if quick else 3):  # 5 s on each in turn
            for side in sides:
                pids = side.pids()
                before = cpu_seconds(pids)
                rounds[side.name].append(claims(side, computes, 5))
                cpu[side.name] += cpu_seconds(pids) - before
        for name, taken in rounds.items():
            requests = sum(r["requests"] for r in taken)
            result[name]["claims_8_clients"] = {
                "claims_per_second": round(requests / sum(r["seconds"] for r in taken), 1),
                "requests": requests, "connections": 8, "seconds": sum(r["seconds"] for r in taken),
                "rounds": len(taken),
                # the load-robust figure: the server processes' CPU per claim
                "cpu_ms_per_claim": round(cpu[name] * 1000 / max(requests, 1), 2)}
        result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
        return result
    finally:
        one.stop()
        real.stop()
        one.purge()


def table(found: dict) -> str:
    one, real = found["onestack"], found["placement"]
    lines = [f"load average before {found['load_average_before']}, after {found['load_average_after']}",
             f"{'allocation candidates':38}{'onestack':>10}{'placement':>11}{'ratio':>8}"]
    for providers in ("100_providers", "1000_providers"):
        for name in QUERIES:
            a, b = one[providers][name], real[providers][name]
            for field in ("p50_ms", "p99_ms", "cpu_ms_per_request"):
                if field not in a:  # figures of a run before CPU was measured
                    continue
                label = f"{providers.split('_')[0]} rp, {name} ({a['candidates']}), {field[:3]}"
                lines.append(f"{label:38}{a[field]:>10}{b[field]:>11}{b[field] / a[field]:>7.1f}x")
    a, b = one["claims_8_clients"]["claims_per_second"], real["claims_8_clients"]["claims_per_second"]
    lines.append(f"{'claims/s, 8 clients':38}{a:>10}{b:>11}{a / b:>7.1f}x")
    a, b = one["claims_8_clients"].get("cpu_ms_per_claim"), real["claims_8_clients"].get("cpu_ms_per_claim")
    if a and b:
        lines.append(f"{'claims, CPU ms per claim':38}{a:>10}{b:>11}{b / a:>7.1f}x")
    return "\n".join(lines)
