"""An instance's spec kept as JSON beside its files: what a driver started it with, read back by the next
driver on the same state dir."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from onestack.drivers.compute import NIC, InstanceSpec, VolumeDisk


def save(path: Path, spec: InstanceSpec) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(dataclasses.asdict(spec), indent=1, default=str))  # paths given as Path
    tmp.replace(path)


def load(path: Path) -> InstanceSpec:
    body = json.loads(path.read_text())
    body["nics"] = tuple(NIC(**nic) for nic in body.get("nics", ()))
    body["volumes"] = tuple(VolumeDisk(**volume) for volume in body.get("volumes", ()))
    return InstanceSpec(**body)
