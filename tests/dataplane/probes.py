"""User data that makes a real guest probe addresses from inside and print what it found on its serial
console, and the reading of those lines back from a console log."""

from __future__ import annotations

import base64
import re

# probe ADDRESS TRIES: one ping a second until a reply or TRIES tries
SCRIPT = """#!/bin/sh
probe() {
    n=0
    while [ $n -lt $2 ]; do
        if ping -c 1 -W 1 $1 >/dev/null 2>&1; then echo "onestack-test: reach $1 yes"; return; fi
        n=$((n + 1))
    done
    echo "onestack-test: reach $1 no"
}
"""


def user_data(*targets: tuple[str, int], neighbours: tuple[str, ...] = ()) -> str:
    """Base64 user data probing each ``(address, tries)`` in turn, then printing the MAC the guest's
    neighbour table holds for each of ``neighbours``."""
    script = SCRIPT + "".join(f"probe {address} {tries}\n" for address, tries in targets)
    script += "".join(f'echo "onestack-test: neigh {a} $(ip neigh show {a} | grep -o "lladdr [^ ]*")"\n'
                      for a in neighbours)
    return base64.b64encode(script.encode()).decode()


def found(console: str, count: int) -> dict[str, str] | None:
    """The probe lines of ``console`` once there are ``count`` of them: "reach ADDRESS" -> "yes" or "no",
    "neigh ADDRESS" -> "lladdr MAC"."""
    lines = re.findall(r"onestack-test: (reach \S+|neigh \S+) (.*)", console)
    return {k: v.strip() for k, v in lines} if len(lines) >= count else None
