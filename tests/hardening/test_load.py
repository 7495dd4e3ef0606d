"""Sustained load, bounded: `make load` (bench/sustained.py, 50 Locust users for 10 minutes) in small.

Ten users for 25 s, pausing 0.1 to 0.5 s between operations, on the same mixed workload across every
service (bench/locustfile.py): no request may fail, every operation of the workload must have been done
at least once, and the server's log holds no traceback.  The server's RSS drift and open fds are reported,
not judged: 25 s cannot tell a leak from a server warming up (`make load` judges them, ``--assert-steady``;
``leaks`` itself is tested in tests/unit/test_load_leaks.py).  Locust runs in its own process (it patches the
standard library with gevent as it is imported)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.sustained import OPERATIONS

ROOT = Path(__file__).resolve().parents[2]


def test_ten_users_for_25_seconds_see_no_error_and_do_everything(tmp_path):
    out = tmp_path / "load.json"
    run = subprocess.run([sys.executable, str(ROOT / "bench" / "sustained.py"), "--users", "10", "--seconds", "25",
                          "--spawn-rate", "10", "--wait-min", "0.1", "--wait-max", "0.5", "--keep", "1",
                          "--sample-every", "2", "--data-dir", str(tmp_path / "cloud"), "--json", str(out)],
                         capture_output=True, text=True, timeout=300)
    print(run.stdout, run.stderr[-3000:])
    result = json.loads(out.read_text())
    ops = result["operations"]
    assert ops["all"]["requests"] > 300, ops["all"]
    assert ops["all"]["errors"] == 0, result["failures"]
    assert not result["not_exercised"], f"never done: {result['not_exercised']}"
    assert set(OPERATIONS) <= set(ops)
    assert result["server_tracebacks"] == 0
    assert len(result["samples"]) >= 5 and result["rss_mb"]["end"] > 0 and result["fds"]["end"] > 0
    assert result["fds"]["first_third_max"] > 0 and result["fds"]["last_third_min"] > 0
    assert "leaks" not in result and "leaks: not judged" in run.stdout
    assert run.returncode == 0, run.stderr[-2000:]
