"""``make test``'s groups hold: tests marked with one ``xdist_group`` run on one worker under ``--dist loadgroup``
(docs/testing.md#groups).  pytest-xdist 3.8 with pytest 9.2 split them without a word."""

from __future__ import annotations

import re
import subprocess
import sys

MODULE = """
import pytest
pytestmark = pytest.mark.xdist_group("together")

@pytest.mark.parametrize("n", range(8))
def test_part(n):
    pass
"""


def test_a_group_runs_on_one_worker(tmp_path):
    (tmp_path / "test_grouped_a.py").write_text(MODULE)
    (tmp_path / "test_grouped_b.py").write_text(MODULE)
    run = subprocess.run([sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadgroup", "-v", "-p", "no:randomly",
                          "-p", "no:cacheprovider", "--rootdir", str(tmp_path), str(tmp_path)],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    workers = re.findall(r"^\[(gw\d)\].*PASSED", run.stdout, re.MULTILINE)
    assert len(workers) == 16, run.stdout
    assert len(set(workers)) == 1, f"the group ran on {sorted(set(workers))}:\n{run.stdout}"
