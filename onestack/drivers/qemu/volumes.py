"""A volume as QEMU objects: its file opened as a block node (with a throttle filter over it when the
volume has QoS limits) and a virtio-blk device whose serial is the volume id.

The same dictionaries are given on the command line (``-object``/``-blockdev``/``-device`` in JSON) and to
QMP (``object-add``/``blockdev-add``/``device_add``), so a volume started with the guest and one hot-plugged
later have the same names and come apart the same way.
"""

from __future__ import annotations

import dataclasses
import json

from onestack.drivers.compute import VolumeDisk
from onestack.drivers.qemu.qmp import QMP, QMPError


@dataclasses.dataclass(frozen=True)
class Names:
    """QEMU's names for one volume's objects: block node names hold at most 31 characters."""

    node: str  # the format node (qcow2 or raw) over the file
    throttled: str  # the throttle filter over it, when limited
    group: str  # its throttle group
    device: str

    @classmethod
    def of(cls, volume_id: str) -> Names:
        short = volume_id.replace("-", "")[:24]
        return cls(node=f"vol-{short}", throttled=f"thr-{short}", group=f"tg-{short}", device=f"vol-{volume_id}")


def group_object(disk: VolumeDisk) -> dict | None:
    """The throttle group holding the volume's limits (None: unlimited)."""
    if not disk.throttle:
        return None
    return {"qom-type": "throttle-group", "id": Names.of(disk.volume_id).group, "limits": dict(disk.throttle)}


def block_nodes(disk: VolumeDisk) -> list[dict]:
    """The nodes to add in order: the file with its format, then the throttle filter if limited."""
    names = Names.of(disk.volume_id)
    nodes = [{"driver": disk.format, "node-name": names.node, "read-only": disk.read_only, "discard": "unmap",
              "file": {"driver": "file", "filename": disk.path}}]
    if disk.throttle:
        nodes.append({"driver": "throttle", "node-name": names.throttled, "throttle-group": names.group,
                      "file": names.node})
    return nodes


def device(disk: VolumeDisk) -> dict:
    names = Names.of(disk.volume_id)
    found = {"driver": "virtio-blk-pci", "id": names.device, "drive": block_nodes(disk)[-1]["node-name"],
             # the guest reads the first 20 characters (virtio's limit) in /sys/block/vdX/serial
             "serial": disk.volume_id}
    if disk.boot:
        found["bootindex"] = 0
    return found


def argv(disk: VolumeDisk) -> list[str]:
    group = group_object(disk)
    args = ["-object", json.dumps(group)] if group else []
    for node in block_nodes(disk):
        args += ["-blockdev", json.dumps(node)]
    return args + ["-device", json.dumps(device(disk))]


def _present_devices(qmp: QMP) -> set[str]:
    return {d["name"] for d in qmp.execute("qom-list", path="/machine/peripheral")}


def plug(qmp: QMP, disk: VolumeDisk) -> None:
    """Hot-plug the volume into the running QEMU (nothing if its device is there already); what a failed or
    interrupted earlier try left behind is removed first, and what this one added goes again if it fails."""
    if Names.of(disk.volume_id).device in _present_devices(qmp):
        return
    _release(qmp, disk.volume_id)
    try:
        group = group_object(disk)
        if group:
            qmp.execute("object-add", **group)
        for node in block_nodes(disk):
            qmp.execute("blockdev-add", **node)
        qmp.execute("device_add", **device(disk))
    except QMPError:
        _release(qmp, disk.volume_id)
        raise


def unplug(qmp: QMP, volume_id: str, timeout: float) -> bool:
    """Ask the guest to let the disk go (an ACPI eject), wait for QEMU to say the device is gone, then close
    the file; False if the guest did not let go within ``timeout`` seconds (the disk stays)."""
    names = Names.of(volume_id)
    if names.device in _present_devices(qmp):
        qmp.execute("device_del", id=names.device)
        if not qmp.wait_event("DEVICE_DELETED", timeout, lambda data: data.get("device") == names.device):
            return False
    _release(qmp, volume_id)
    return True


def resize(qmp: QMP, volume_id: str, size_bytes: int) -> None:
    """Grow the volume's disk (the file with it) as the guest runs; virtio tells the guest its new capacity.
    Asked of the node the device reads, the throttle filter when there is one: QEMU tells a node's parents
    of a new size, not their parents.  Asking again for the size it has is harmless."""
    names = Names.of(volume_id)
    try:
        qmp.execute("block_resize", **{"node-name": names.throttled, "size": size_bytes})
    except QMPError:  # not limited: the device reads the format node
        qmp.execute("block_resize", **{"node-name": names.node, "size": size_bytes})


def _release(qmp: QMP, volume_id: str) -> None:
    """Remove the volume's block nodes and throttle group, those that exist."""
    names = Names.of(volume_id)
    for node in (names.throttled, names.node):
        try:
            qmp.execute("blockdev-del", **{"node-name": node})
        except QMPError:
            pass  # never added, or gone already
    try:
        qmp.execute("object-del", id=names.group)
    except QMPError:
        pass
