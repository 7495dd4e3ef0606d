"""How a guest's disks are named and how its host introduces itself to the block storage service."""

from __future__ import annotations

import string

from onestack.http.errors import BadRequest
from onestack.services.compute.models import Instance

# The guest's first disk, its image's copy or its boot volume: virtio, as both drivers attach it.
ROOT = "/dev/vda"


def connector(host: str | None) -> dict:
    """What the host tells the block storage service about itself (os-brick's connector, in short)."""
    return {"host": host, "platform": "x86_64", "os_type": "linux", "multipath": False, "initiator": None,
            "do_local_attach": False}


def next_device(instance: Instance, taken: list[str]) -> str:
    """Nova's choice: the first letter after those in use on the virtio bus; the root disk is vda, then the
    flavor's ephemeral disk and swap, as the drivers give them to the guest."""
    used = {name.removeprefix("/dev/")[2:] for name in taken if name.startswith("/dev/vd")} | {"a"}
    flavor = instance.flavor or {}
    for extra in ("ephemeral", "swap"):
        if flavor.get(extra):
            used.add(next(letter for letter in string.ascii_lowercase if letter not in used))
    free = next((letter for letter in string.ascii_lowercase if letter not in used), None)
    if free is None:
        raise BadRequest("No free disk device names for prefix 'vd'")
    return f"/dev/vd{free}"
