"""The in-process test cloud needs no system package: a user's suite (the example of docs/testing-cloud.md)
run by a pytest whose PATH holds only the virtualenv's own bin directory (no `ip`, `qemu-img`, `runc`,
`dnsmasq`, `nft` or PostgreSQL to find) and whose environment is otherwise empty still passes."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_fixture_runs_a_users_suite_with_nothing_but_the_virtualenv_on_path(tmp_path):
    only_venv = os.path.dirname(sys.executable)
    # the restriction is real: none of the data plane's or the QEMU driver's tools can be found
    for tool in ("ip", "qemu-img", "qemu-system-x86_64", "runc", "dnsmasq", "nft", "psql"):
        assert shutil.which(tool, path=only_venv) is None, tool
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider", "--basetemp", str(tmp_path / "t"),
         str(ROOT / "tests" / "testing" / "test_example.py")],
        env={"PATH": only_venv, "HOME": str(tmp_path), "PYTHONPATH": str(ROOT)}, cwd=tmp_path,
        capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    # every test of the example ran: none skipped for a missing tool
    assert re.search(r"\b[1-9]\d* passed", done.stdout) and "skipped" not in done.stdout, done.stdout[-3000:]
