"""A volume as QEMU objects: its file (or RBD image, through librbd) opened as a block node with a throttle
filter over it (its throttle group holds the volume's QoS limits, none when unlimited, so limits can change
while the guest runs) and a virtio-blk device whose serial is the volume id.

The same dictionaries are given on the command line (``-object``/``-blockdev``/``-device`` in JSON) and to
QMP (``object-add``/``blockdev-add``/``device_add``), so a volume started with the guest and one hot-plugged
later have the same names and come apart the same way.  An encrypted volume (LUKS inside its qcow2) is opened
with a ``secret`` object holding its passphrase: read from an inherited pipe on the command line, added over
QMP for a hot-plug.
"""

from __future__ import annotations

import dataclasses
import json
import time

from onestack.drivers.compute import QOS_LIMITS, DriverError, VolumeDisk
from onestack.drivers.qemu.qmp import QMP, QMPError
from onestack.drivers.secrets import secret_object


@dataclasses.dataclass(frozen=True)
class Names:
    """QEMU's names for one volume's objects: block node names hold at most 31 characters."""

    node: str  # the format node (qcow2 or raw) over the file
    throttled: str  # the throttle filter over it, when limited
    group: str  # its throttle group
    device: str
    secret: str  # the secret object holding an encrypted volume's passphrase

    @classmethod
    def of(cls, volume_id: str) -> Names:
        short = volume_id.replace("-", "")[:24]
        return cls(node=f"vol-{short}", throttled=f"thr-{short}", group=f"tg-{short}", device=f"vol-{volume_id}",
                   secret=f"sec-{short}")


def secret_of(disk: VolumeDisk) -> str:
    if not disk.secret:
        raise DriverError(f"volume {disk.volume_id} is encrypted and no key was given for it")
    return disk.secret


def secret_argv(disk: VolumeDisk, fd: int) -> list[str]:
    """The command line's secret object of an encrypted volume: read from ``fd`` (a pipe the QEMU process
    inherits, ``secrets.secret_fd``), so the passphrase is on no command line and in no file."""
    return ["-object", secret_object(Names.of(disk.qemu_key).secret, fd)]


def group_object(disk: VolumeDisk) -> dict:
    """The throttle group holding the volume's limits (empty: unlimited)."""
    return {"qom-type": "throttle-group", "id": Names.of(disk.qemu_key).group, "limits": dict(disk.throttle)}


def protocol_node(disk: VolumeDisk) -> dict:
    """Where the bytes are: a file, or an RBD image QEMU opens through librbd (no host block device)."""
    if disk.rbd is None:
        return {"driver": "file", "filename": disk.path}
    pool, image = disk.path.split("/", 1)
    node = {"driver": "rbd", "pool": pool, "image": image, "conf": disk.rbd["conf"], "user": disk.rbd["user"]}
    return node


def block_nodes(disk: VolumeDisk) -> list[dict]:
    """The nodes to add in order: the file (or RBD image) with its format, then the throttle filter the device
    reads."""
    names = Names.of(disk.qemu_key)
    data = {"driver": disk.format, "node-name": names.node, "read-only": disk.read_only, "discard": "unmap",
            "file": protocol_node(disk)}
    if disk.encrypted:  # QEMU decrypts: the guest reads and writes plaintext, the file holds none
        data["encrypt"] = {"format": "luks", "key-secret": names.secret}
    return [data,
            {"driver": "throttle", "node-name": names.throttled, "throttle-group": names.group, "file": names.node}]


def set_limits(qmp: QMP, volume_id: str, throttle: dict) -> bool:
    """Give the running disk new limits (each one not named is lifted); False when the disk has no throttle
    group (plugged before every disk had one: the limits apply when the guest next starts)."""
    group = f"/objects/{Names.of(volume_id).group}"
    if not any(o["name"] == Names.of(volume_id).group for o in qmp.execute("qom-list", path="/objects")):
        return False
    qmp.execute("qom-set", path=group, property="limits",
                value={limit: int(throttle.get(limit, 0)) for limit in QOS_LIMITS.values()})
    return True


def device(disk: VolumeDisk, boot_index: int = 0) -> dict:
    """``boot_index``: a boot volume's place in the boot order (second behind a stable rescue disk)."""
    names = Names.of(disk.qemu_key)
    found = {"driver": "virtio-blk-pci", "id": names.device, "drive": block_nodes(disk)[-1]["node-name"],
             # the guest reads the first 20 characters (virtio's limit) in /sys/block/vdX/serial
             "serial": disk.volume_id}
    if disk.boot:
        found["bootindex"] = boot_index
    return found


def argv(disk: VolumeDisk, secret_fd: int | None = None, boot_index: int = 0) -> list[str]:
    """``secret_fd``: where an encrypted volume's QEMU reads its passphrase (``secret_argv``)."""
    args = ["-object", json.dumps(group_object(disk))]
    if disk.encrypted:
        if secret_fd is None:
            raise DriverError(f"volume {disk.volume_id} is encrypted and no key was given for it")
        args += secret_argv(disk, secret_fd)
    for node in block_nodes(disk):
        args += ["-blockdev", json.dumps(node)]
    return args + ["-device", json.dumps(device(disk, boot_index))]


def _present_devices(qmp: QMP) -> set[str]:
    return {d["name"] for d in qmp.execute("qom-list", path="/machine/peripheral")}


def plug(qmp: QMP, disk: VolumeDisk) -> None:
    """Hot-plug the volume into the running QEMU (nothing if its device is there already); what a failed or
    interrupted earlier try left behind is removed first, and what this one added goes again if it fails."""
    if Names.of(disk.qemu_key).device in _present_devices(qmp):
        return
    _release(qmp, disk.qemu_key)
    try:
        if disk.encrypted:
            # over the monitor's socket (the guest's own, readable by this host's root only), never on a
            # command line or in a file; QMP's errors do not quote it back
            qmp.execute("object-add", **{"qom-type": "secret", "id": Names.of(disk.qemu_key).secret,
                                         "data": secret_of(disk), "format": "raw"})
        qmp.execute("object-add", **group_object(disk))
        for node in block_nodes(disk):
            qmp.execute("blockdev-add", **node)
        qmp.execute("device_add", **device(disk))
    except QMPError:
        _release(qmp, disk.qemu_key)
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


def _layer_name(volume_id: str, number: int) -> str:
    """The node of the ``number``th overlay a live snapshot put over the volume's first file."""
    return f"s{number}-{Names.of(volume_id).node.removeprefix('vol-')}"


def _base_name(volume_id: str, generation: int) -> str:
    """The node of the slot's first file: the volume's own (``vol-``), or the one the ``generation``th swap
    moved the disk to."""
    short = Names.of(volume_id).node.removeprefix("vol-")
    return f"vol-{short}" if generation == 0 else f"w{generation}-{short}"


def _generation(name: str, volume_id: str) -> int | None:
    """Which base of the slot a node is (0: the volume's own), None for another node."""
    short = Names.of(volume_id).node.removeprefix("vol-")
    head, _, tail = name.partition("-")
    if tail != short:
        return None
    if head == "vol":
        return 0
    return int(head[1:]) if head[:1] == "w" and head[1:].isdigit() else None


def _bases(nodes: dict, volume_id: str) -> list[str]:
    """The slot's base nodes that exist, oldest first (two only while a swap is under way)."""
    found = [(g, name) for name in nodes if (g := _generation(name, volume_id)) is not None]
    return [name for _, name in sorted(found)]


def _chain(qmp: QMP, volume_id: str) -> list[dict]:
    """The volume's named nodes from the top (the throttle filter, then the newest overlay) down to the first
    file's format node, those that exist."""
    names = Names.of(volume_id)
    nodes = {n["node-name"]: n for n in qmp.execute("query-named-block-nodes", flat=True)}
    layers = []
    number = 1
    while _layer_name(volume_id, number) in nodes:
        layers.append(nodes[_layer_name(volume_id, number)])
        number += 1
    top = [nodes[names.throttled]] if names.throttled in nodes else []
    bottom = [nodes[name] for name in _bases(nodes, volume_id)[:1]]
    return top + layers[::-1] + bottom


def _filename(node: dict) -> str | None:
    """The file a format node reads (QEMU writes a node with a backing chain as ``json:{...}``)."""
    name = node.get("file") or ""
    if name.startswith("json:"):
        try:
            return (json.loads(name[5:]).get("file") or {}).get("filename")
        except ValueError:
            return None
    return name


def resize(qmp: QMP, volume_id: str, size_bytes: int) -> None:
    """Grow the volume's disk (the file with it) as the guest runs; virtio tells the guest its new capacity.
    Asked of the node the device reads (the throttle filter when there is one): QEMU tells a node's parents
    of a new size, not their parents.  Asking again for the size it has is harmless."""
    chain = _chain(qmp, volume_id)
    if not chain:
        raise QMPError(f"volume {volume_id} has no block node in this guest")
    qmp.execute("block_resize", **{"node-name": chain[0]["node-name"], "size": size_bytes})


def snapshot(qmp: QMP, volume_id: str, overlay_path: str) -> None:
    """Freeze what the guest has written so far: the qcow2 at ``overlay_path`` (made by the caller, with no
    data and the frozen file as its backing) becomes the layer the guest writes to, atomically
    (``blockdev-snapshot``); the file below it is no longer written.  Nothing if that overlay is the guest's
    already (a repeated call)."""
    chain = _chain(qmp, volume_id)
    layers = [n for n in chain if n["node-name"] != Names.of(volume_id).throttled]
    if not layers:
        raise QMPError(f"volume {volume_id} has no block node in this guest")
    if _filename(layers[0]) == overlay_path:
        return
    number = len(layers)  # the first file's node and each earlier overlay
    new = _layer_name(volume_id, number)
    qmp.execute("blockdev-add", **{"driver": "qcow2", "node-name": new, "discard": "unmap", "backing": None,
                                   "file": {"driver": "file", "filename": overlay_path}})
    try:
        qmp.execute("blockdev-snapshot", node=layers[0]["node-name"], overlay=new)
    except QMPError:
        qmp.execute("blockdev-del", **{"node-name": new})
        raise


def _child_file(node: dict) -> str | None:
    """The file the node over the format node (the throttle filter) reads: QEMU writes it as ``json:{...}``."""
    name = node.get("file") or ""
    try:
        child = json.loads(name[5:]).get("file") if name.startswith("json:") else None
    except ValueError:
        return None
    if isinstance(child, dict):
        inner = child.get("file")
        return inner.get("filename") or inner.get("image") if isinstance(inner, dict) else inner
    return child


def _job_of(qmp: QMP, job: str) -> dict | None:
    return next((j for j in qmp.execute("query-block-jobs") if j.get("device") == job), None)


# Nova's libvirt driver's words when a swap (or Cinder's migration of an attached volume) meets an encrypted
# volume it decrypts natively (LUKS): ``NotImplementedError`` in ``LibvirtDriver.swap_volume``.
ENCRYPTED_SWAP_REFUSED = "Swap volume is not supported for encrypted volumes when native LUKS decryption is enabled."


def swap(qmp: QMP, key: str, disk: VolumeDisk, timeout: float, *, from_encrypted: bool = False) -> None:
    """Move the disk of slot ``key`` (the device and throttle filter keep their names) onto ``disk``'s file:
    the file is opened as the slot's next base node, a mirror job (``blockdev-mirror``, sync full, from the
    throttle filter, replacing the node under it) copies what the guest reads while the guest goes on
    writing, and once the copy has caught up (the job ``ready``) completing the job switches the guest to the
    new file atomically; the old file's nodes are then closed.  Safe to repeat: a job an interrupted call
    left running is waited for, a guest already on the new file has only its old nodes closed.
    ``from_encrypted``: the disk the guest has now is an encrypted volume (refused, as a new encrypted one)."""
    names = Names.of(key)
    job = f"swap-{names.node.removeprefix('vol-')}"
    nodes = {n["node-name"]: n for n in qmp.execute("query-named-block-nodes", flat=True)}
    if names.throttled not in nodes:
        raise QMPError(f"volume {key} has no block node in this guest")
    target_file = disk.path.split("/", 1)[1] if disk.rbd else disk.path
    if _child_file(nodes[names.throttled]) != target_file:
        if disk.encrypted or from_encrypted:
            # Nova's libvirt driver refuses it in the same words (QEMU decrypts the LUKS layer itself, as
            # libvirt's native LUKS does); a guest already on the file (a failed move given back) is let be
            raise QMPError(ENCRYPTED_SWAP_REFUSED)
        bases = _bases(nodes, key)
        if _job_of(qmp, job) is None:
            old_top = _chain(qmp, key)[1]["node-name"]
            if len(bases) > 1:  # the new base an interrupted try opened, with no job copying to it
                qmp.execute("blockdev-del", **{"node-name": bases[-1]})
                bases = bases[:-1]
            generation = 1 + max(int(b.split("-")[0][1:]) if b.startswith("w") else 0 for b in bases)
            target = {**block_nodes(disk)[0], "node-name": _base_name(key, generation)}
            target.pop("read-only", None)
            qmp.execute("blockdev-add", **target)
            qmp.execute("blockdev-mirror", **{"job-id": job, "device": names.throttled, "target": target["node-name"],
                                              "replaces": old_top, "sync": "full"})
        _complete(qmp, job, timeout)
        nodes = {n["node-name"]: n for n in qmp.execute("query-named-block-nodes", flat=True)}
        if _child_file(nodes[names.throttled]) != target_file:
            raise QMPError(f"the guest did not move to volume {disk.volume_id}")
    # the old file's nodes (its overlays, then its base), no longer under the throttle filter
    nodes = {n["node-name"]: n for n in qmp.execute("query-named-block-nodes", flat=True)}
    layers = sorted((n for n in nodes if _is_layer(n, key)), key=lambda n: -int(n.split("-")[0][1:]))
    for name in layers + _bases(nodes, key)[:-1]:
        try:
            qmp.execute("blockdev-del", **{"node-name": name})
        except QMPError:
            pass  # gone already


def _is_layer(name: str, key: str) -> bool:
    short = Names.of(key).node.removeprefix("vol-")
    head, _, tail = name.partition("-")
    return tail == short and head[:1] == "s" and head[1:].isdigit()


def _complete(qmp: QMP, job: str, timeout: float) -> None:
    """Wait for the mirror job to have caught up, then complete it (the switch); ``QMPError`` if it failed or
    did not catch up within ``timeout`` seconds (then it is cancelled: the guest stays where it was)."""
    deadline = time.monotonic() + timeout
    while True:
        found = _job_of(qmp, job)
        if found is None:
            raise QMPError(f"the copy job {job} ended before it was complete")
        if found.get("ready"):
            break
        if time.monotonic() > deadline:
            qmp.execute("block-job-cancel", device=job, force=True)
            raise QMPError(f"the copy job {job} did not catch up within {timeout:.0f} s")
        time.sleep(0.1)
    qmp.execute("block-job-complete", device=job)
    while _job_of(qmp, job) is not None:
        if time.monotonic() > deadline + 30:
            raise QMPError(f"the copy job {job} did not complete")
        time.sleep(0.05)


def _release(qmp: QMP, volume_id: str) -> None:
    """Remove the volume's block nodes (from the top: filter, overlays, first file) and throttle group, those
    that exist."""
    names = Names.of(volume_id)
    for node in [n["node-name"] for n in _chain(qmp, volume_id)]:
        try:
            qmp.execute("blockdev-del", **{"node-name": node})
        except QMPError:
            pass  # gone already
    for name in (names.group, names.secret):
        try:
            qmp.execute("object-del", id=name)
        except QMPError:
            pass  # none (a clear volume has no secret) or gone already
