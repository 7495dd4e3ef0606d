"""A snapshot marks the container it froze with its process's token; a process that died is never taken for a
live one, even before its parent reaps it (a killed onestack stays a zombie until its parent waits)."""

import os
import subprocess
import time
from pathlib import Path

from onestack.drivers.runc.driver import _process_token


def test_a_live_process_has_its_start_time_and_a_zombie_is_gone():
    child = subprocess.Popen(["sleep", "30"])
    try:
        live = _process_token(child.pid)
        assert live.split()[0] == str(child.pid) and live.split()[1].isdigit()
        assert _process_token(os.getpid()) != f"{os.getpid()} gone"
        child.kill()
        deadline = time.monotonic() + 10
        while Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
            assert time.monotonic() < deadline, "the killed child never became a zombie"
            time.sleep(0.01)
        assert _process_token(child.pid) == f"{child.pid} gone"
    finally:
        child.kill()
        child.wait()
    assert _process_token(child.pid) == f"{child.pid} gone"
