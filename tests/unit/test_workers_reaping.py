"""The supervisor of several workers waits for its workers only.

The supervising process also runs the compute engine, whose children (``qemu-img``, QEMU, dnsmasq) are its
children too.  A supervisor that reaped any child (``waitpid(-1)``) took their exit statuses from the code
that waited for them (which then read 0) and took each for a worker lost, starting one more worker each time.
Here a real supervisor with two workers of a tiny ASGI app starts children that are not workers and leaves
them unreaped, as a caller of ``subprocess.Popen`` does between its calls: the workers stay two and each
child's own status reaches its waiter."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from tests.cloudfixture import children, free_port

SUPERVISOR = textwrap.dedent("""
    import json, subprocess, sys, threading, time
    from pathlib import Path
    import uvicorn
    from onestack import workers

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    out = Path(sys.argv[2])

    def others():
        # children that are not workers, exiting with 3, waited for only once they have long ended
        statuses = []
        for _ in range(3):
            child = subprocess.Popen(["sh", "-c", "exit 3"])
            stat = Path(f"/proc/{child.pid}/stat")
            while stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z":
                time.sleep(0.01)
            time.sleep(1.5)  # three of the supervisor's turns while the ended child waits to be reaped
            statuses.append(child.wait())
        out.write_text(json.dumps(statuses))

    config = uvicorn.Config(app, host="127.0.0.1", port=int(sys.argv[1]), log_config=None, lifespan="off")
    workers.run(config, [config.bind_socket()], 2, then=lambda: threading.Thread(target=others, daemon=True).start())
""")



def is_python(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/exe").resolve().name.startswith("python")
    except OSError:
        return False


def test_children_that_are_not_workers_are_left_to_their_waiters(tmp_path):
    result = tmp_path / "statuses.json"
    supervisor = subprocess.Popen([sys.executable, "-c", SUPERVISOR, str(free_port()), str(result)])
    try:
        deadline = time.monotonic() + 60
        while not result.exists() and supervisor.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert supervisor.poll() is None, f"the supervisor exited with {supervisor.returncode}"
        assert json.loads(result.read_text()) == [3, 3, 3], "a child's status was taken by the supervisor"
        serving = {pid for pid in children(supervisor.pid) if is_python(pid)}
        assert len(serving) == 2, f"workers {sorted(serving)}: one was started for each child reaped"
        # and a worker that really dies is still replaced, and the count stays two
        os.kill(min(serving), signal.SIGKILL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            now = {pid for pid in children(supervisor.pid) if is_python(pid)}
            if len(now) == 2 and min(serving) not in now:
                break
            time.sleep(0.05)
        assert len(now) == 2 and min(serving) not in now, f"after a worker's kill: {sorted(now)}"
    finally:
        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(timeout=30) == 0
    assert not children(supervisor.pid)
