"""An instance's spec kept as JSON beside its files: what a driver started it with, read back by the next
driver on the same state dir."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from onestack.drivers.compute import NIC, InstanceSpec, VolumeDisk


def save(path: Path, spec: InstanceSpec) -> None:
    """Written without the volumes' secrets: a key is never kept in a file (the next start is given it again)."""
    body = as_dict(spec)
    for volume in body["volumes"]:
        volume["secret"] = None
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(body, indent=1))
    tmp.replace(path)


def load(path: Path) -> InstanceSpec:
    return from_dict(json.loads(path.read_text()))


def as_dict(spec: InstanceSpec) -> dict:
    """The spec as JSON takes it (also what the host link sends, the volumes' secrets with it)."""
    return json.loads(json.dumps(dataclasses.asdict(spec), default=str))  # paths given as Path


def from_dict(body: dict) -> InstanceSpec:
    body = dict(body)
    body["nics"] = tuple(NIC(**nic) for nic in body.get("nics", ()))
    body["volumes"] = tuple(VolumeDisk(**volume) for volume in body.get("volumes", ()))
    return InstanceSpec(**body)
