"""Running ``ip`` (iproute2) and reading its JSON answers.

iproute2 is what operators use to troubleshoot, it is present wherever this data plane can run, and
its JSON output is stable; one process per call is cheap next to the work the kernel does.
"""

from __future__ import annotations

import json
import subprocess

# The mark on every link (and on each namespace's ``lo``) this data plane creates: "onestack:<scope>".
MARK_PREFIX = "onestack:"


class NetnsError(RuntimeError):
    """A kernel operation failed; the reconciler retries it."""


def mark(owner: str) -> str:
    return f"{MARK_PREFIX}{owner}"


def run(*args: str, netns: str | None = None, check: bool = True, tool: str = "ip") -> str:
    """``ip [-n netns] args`` (or ``bridge``); its stdout, or NetnsError with the tool's own message."""
    cmd = [tool, *(["-n", netns] if netns else []), *args]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if check and done.returncode != 0:
        raise NetnsError(f"{' '.join(cmd)}: {done.stderr.strip()}")
    return done.stdout


def in_netns(netns: str | None, *cmd: str, check: bool = True, timeout: float = 30) -> subprocess.CompletedProcess:
    """Any command run inside ``netns`` (or here when None)."""
    full = ["ip", "netns", "exec", netns, *cmd] if netns else list(cmd)
    done = subprocess.run(full, capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise NetnsError(f"{' '.join(full)}: {(done.stderr or done.stdout).strip()}")
    return done


def query(*args: str, netns: str | None = None, tool: str = "ip") -> list[dict]:
    out = run("-j", *args, netns=netns, tool=tool)
    return json.loads(out) if out.strip() else []
