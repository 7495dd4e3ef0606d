"""The in-process test cloud (``onestack.testing.cloud()``, the ``onestack_cloud`` fixture): how long one
takes to start and to stop, measured in a fresh Python process as a test session meets it.

The child process imports the package, makes the schema at head (once per process), starts a first cloud, then
``runs`` more one after the other, each followed by one openstacksdk call as the demo member (a token and a
flavor list) and its teardown.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def _child(runs: int) -> dict:
    started = time.perf_counter()
    from onestack.testing import cloud, inprocess, schema

    imported = time.perf_counter() - started
    started = time.perf_counter()
    schema.migrated()
    migrated = time.perf_counter() - started
    with inprocess.InProcessCloud() as first:
        first_start = first.startup_seconds
        started = time.perf_counter()
        list(first.connection.compute.flavors())  # imports openstacksdk; not counted below
        first_call = time.perf_counter() - started
    starts, calls, stops = [], [], []
    for _ in range(runs):
        c = cloud()
        with c:
            starts.append(c.startup_seconds)
            started = time.perf_counter()
            list(c.connection.compute.flavors())
            calls.append(time.perf_counter() - started)
            leaving = time.perf_counter()
        stops.append(time.perf_counter() - leaving)
    starts.sort()
    return {
        "runs": runs,
        "import_ms": _ms(imported),
        "schema_migration_ms": _ms(migrated),
        "first_start_ms": _ms(first_start),
        "first_sdk_call_ms": _ms(first_call),
        "start_ms": {"p50": _ms(statistics.median(starts)), "p90": _ms(starts[int(0.9 * (runs - 1))]),
                     "max": _ms(starts[-1])},
        "sdk_call_ms_p50": _ms(statistics.median(calls)),
        "stop_ms_p50": _ms(statistics.median(stops)),
    }


def measure(quick: bool) -> dict:
    runs = 5 if quick else 20
    out = subprocess.run([sys.executable, __file__, str(runs)], cwd=ROOT, capture_output=True, text=True,
                         check=True, timeout=600)
    return json.loads(out.stdout.strip().splitlines()[-1])


def table(found: dict) -> str:
    start = found["start_ms"]
    return "\n".join([
        "in-process test cloud (onestack.testing), a fresh process",
        f"  import {found['import_ms']} ms, schema migrated once {found['schema_migration_ms']} ms, "
        f"first cloud up {found['first_start_ms']} ms",
        f"  each further cloud up, {found['runs']} runs: p50 {start['p50']} ms, p90 {start['p90']} ms, "
        f"max {start['max']} ms",
        f"  first openstacksdk call (token, flavors) {found['sdk_call_ms_p50']} ms p50; "
        f"teardown {found['stop_ms_p50']} ms p50",
    ])


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    print(json.dumps(_child(int(sys.argv[1]))))
