"""The QEMU command line of an instance, from its spec and where its files are."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from onestack.drivers.compute import NIC, InstanceSpec
from onestack.drivers.qemu import volumes
from onestack.drivers.qemu.accel import QEMU
from onestack.drivers.qemu.layout import InstanceDir


def nic_ids(nic: NIC) -> tuple[str, str]:
    """(netdev id, device id): the same whether the NIC was on the command line or hot-plugged,
    so either can be detached."""
    return f"net-{nic.port_id}", f"nic-{nic.port_id}"


def nic_device(nic: NIC) -> dict:
    netdev_id, device_id = nic_ids(nic)
    # romfile="": no iPXE option ROM, the guest never boots from the network and starts faster
    return {"driver": "virtio-net-pci", "id": device_id, "netdev": netdev_id, "mac": nic.mac_address,
            "romfile": ""}


# QEMU before 9.0 under TCG loses guest writes made during a live pre-copy (fixed upstream by "physmem: Fix
# migration dirty bitmap coherency with TCG memory access", QEMU commit 03bfc2188f, 9.0): syncing the
# migration's dirty bitmap of a RAM block whose length is a whole number of 64-page bitmap words takes a
# fast path that clears the bits a word at a time and never marks the vCPU's TLB entries not-dirty again, so
# the guest's later stores through those entries set no dirty bit, their pages are never sent again and the
# destination resumes on stale ones (its kernel panics).  A block of any other length is synced page by
# page through the path that does reset the TLB.  So under TCG a guest gets 8 KiB (``-m``'s granule) more
# RAM than its flavor's: its RAM block is never a multiple of 256 KiB.  KVM tracks dirty pages in the host
# kernel and gets the flavor's size exactly.
TCG_RAM_PAD_KIB = 8


def ram_size(memory_mb: int, accel: str) -> str:
    """``-m``'s value for a guest of ``memory_mb`` under ``accel`` (see TCG_RAM_PAD_KIB)."""
    return f"{memory_mb * 1024 + TCG_RAM_PAD_KIB}k" if accel == "tcg" else str(memory_mb)


def _options(values: dict) -> str:
    return ",".join(f"{k}={v}" for k, v in values.items())


def _local_disks(spec: InstanceSpec, where: InstanceDir, rbd_root: bool = False) -> list[tuple[Path, str, bool]]:
    """The instance's own disk files in the guest's order: (file, format, read-only); ``rbd_root``: the
    root disk is in Ceph, not a file."""
    disks = [] if spec.boot_volume is not None or rbd_root else [(where.root_disk, "qcow2", False)]
    if where.ephemeral_disk.exists():
        disks.append((where.ephemeral_disk, "raw", False))
    if where.swap_disk.exists():
        disks.append((where.swap_disk, "raw", False))
    if where.config_drive.exists():
        disks.append((where.config_drive, "raw", True))
    return disks


def writable_drives(spec: InstanceSpec, where: InstanceDir) -> list[str]:
    """The drive ids of the instance's own writable disk files: what a live migration mirrors (volumes and a
    root disk in Ceph live on storage both hosts reach; the config drive is written again on the
    destination)."""
    local = _local_disks(spec, where, rbd_root=not where.root_disk.exists())
    return [f"drive{index}" for index, (_, _, read_only) in enumerate(local) if not read_only]


def _own_disks(spec: InstanceSpec, where: InstanceDir, rbd_root: bool, root_boot: dict,
               rbd_extras: dict[str, dict]) -> list[str]:
    """The instance's own disks after an RBD root disk, in the guest's order (root, ephemeral, swap, config
    drive) whether each is a file or in Ceph.  Files keep their ``drive<n>`` ids numbered among files only,
    the ids a live migration mirrors (see ``writable_drives``); ``root_boot``: the root disk file's place in
    the boot order (``bootindex``), if it has one."""
    rank = {where.root_disk: 0, where.ephemeral_disk: 1, where.swap_disk: 2, where.config_drive: 3}
    ranked = []
    for index, (path, fmt, read_only) in enumerate(_local_disks(spec, where, rbd_root=rbd_root)):
        drive = {"file": path, "format": fmt, "if": "none", "id": f"drive{index}", "discard": "unmap"}
        if read_only:
            drive["readonly"] = "on"
        device = {"driver": "virtio-blk-pci", "drive": f"drive{index}", "id": f"disk{index}"}
        if index == 0 and not rbd_root:
            device.update(root_boot)
        ranked.append((rank[path], ["-drive", _options(drive), "-device", _options(device)]))
    for kind, node in rbd_extras.items():
        device = {"driver": "virtio-blk-pci", "drive": node["node-name"], "id": f"disk-{kind}"}
        ranked.append((rank[where.ephemeral_disk if kind == "ephemeral" else where.swap_disk],
                       ["-blockdev", json.dumps(node), "-device", _options(device)]))
    return [arg for _, args in sorted(ranked, key=lambda item: item[0]) for arg in args]


def argv(spec: InstanceSpec, where: InstanceDir, accel: str, incoming: Path | str | None = None,
         rbd_root: dict | None = None, secret_fds: dict[str, int] | None = None,
         rbd_extras: dict[str, dict] | None = None) -> list[str]:
    """``incoming``: a saved state's file to load, or ``"defer"`` (a live migration's destination: the state
    comes once ``migrate-incoming`` says from where).  ``rbd_root``: the block node of a root disk in Ceph
    (opened through librbd) instead of the file; ``rbd_extras``: those of the ephemeral and swap disks in Ceph
    (``ephemeral``, ``swap``).  ``secret_fds``: each encrypted volume's passphrase pipe, by volume id."""
    fds = secret_fds or {}
    args = [
        QEMU, "-name", f"guest={spec.name},debug-threads=on", "-uuid", spec.uuid,
        "-machine", f"pc,accel={accel}", *(["-cpu", "host"] if accel == "kvm" else []),
        "-smp", str(spec.vcpus), "-m", ram_size(spec.memory_mb, accel),
        "-nodefaults", "-no-user-config", "-display", "none", "-rtc", "base=utc",
        "-chardev", f"socket,id=qmp,path={where.qmp_socket},server=on,wait=off",
        "-mon", "chardev=qmp,mode=control",
        # The serial console is a socket the websocket proxy connects to; QEMU also logs all it prints
        # (appending: the log keeps what every boot printed) for os-getConsoleOutput.
        "-chardev", f"socket,id=console,path={where.serial_socket},server=on,wait=off,"
                    f"logfile={where.console_log},logappend=on",
        "-device", "isa-serial,chardev=console",
        # a small VGA (4 MiB of video memory, touched only when drawn) behind VNC on a Unix socket
        "-device", "VGA,vgamem_mb=4", "-vnc", f"unix:{where.vnc_socket}",
        "-pidfile", str(where.pidfile), "-daemonize",
    ]
    # A guest booted from a volume has that volume as its first disk instead of a root disk of its own; other
    # volumes come after the instance's disks, in the order they were attached, as hot-plugging adds them.
    boot = spec.boot_volume
    # A rescued guest boots from its rescue disk, first; its own disks follow in their usual order, none of
    # them a boot device (as Nova's rescue before stable device rescue: the root disk is the second disk).
    # A stable device rescue keeps every disk where it was and adds the rescue disk last, booted first.
    rescued = spec.rescue_image_path is not None and where.rescue_disk.exists()
    stable = rescued and spec.stable_rescue
    if rescued and not stable:
        args += ["-drive", _options({"file": where.rescue_disk, "format": "qcow2", "if": "none", "id": "drive-rescue",
                                     "discard": "unmap"}),
                 "-device", _options({"driver": "virtio-blk-pci", "drive": "drive-rescue", "id": "disk-rescue",
                                      "bootindex": 0})]
    # the guest's own boot disk: first in the boot order, or second behind a stable rescue disk
    own_boot = {"bootindex": 1} if stable else {} if rescued else {"bootindex": 0}
    if boot is not None:
        args += volumes.argv(boot, fds.get(boot.volume_id), boot_index=1 if stable else 0)
    if boot is None and rbd_root is not None:
        args += ["-blockdev", json.dumps(rbd_root), "-device",
                 _options({"driver": "virtio-blk-pci", "drive": rbd_root["node-name"], "id": "disk-root", **own_boot})]
    args += _own_disks(spec, where, rbd_root is not None, own_boot if boot is None else {}, rbd_extras or {})
    for disk in spec.volumes:
        if not disk.boot:
            args += volumes.argv(disk, fds.get(disk.volume_id))
    if stable:
        args += stable_rescue_argv(spec, where)
    for nic in spec.nics:
        netdev_id, _ = nic_ids(nic)
        # no vhost: this host's kernel has no vhost-net, and TCG gains nothing from it
        args += ["-netdev", f"tap,id={netdev_id},ifname={nic.tap_name},script=no,downscript=no",
                 "-device", _options(nic_device(nic))]
    if incoming == "defer":
        args += ["-incoming", "defer"]
    elif incoming:
        args += ["-incoming", f"exec:cat {shlex.quote(str(incoming))}"]
    return args


# The rescue disk's QEMU device for each (device, bus) of a stable device rescue (compute.RESCUE_DEVICES);
# a bus not built into the PC machine gets a controller of its own.
STABLE_RESCUE_DEVICES = {
    ("disk", "virtio"): (None, {"driver": "virtio-blk-pci"}),
    ("disk", "scsi"): ({"driver": "virtio-scsi-pci", "id": "rescue-scsi"}, {"driver": "scsi-hd", "bus": "rescue-scsi.0"}),
    ("cdrom", "scsi"): ({"driver": "virtio-scsi-pci", "id": "rescue-scsi"}, {"driver": "scsi-cd", "bus": "rescue-scsi.0"}),
    ("disk", "usb"): ({"driver": "qemu-xhci", "id": "rescue-usb"}, {"driver": "usb-storage", "bus": "rescue-usb.0"}),
    ("disk", "ide"): (None, {"driver": "ide-hd", "bus": "ide.1"}),
    ("cdrom", "ide"): (None, {"driver": "ide-cd", "bus": "ide.1"}),
}


def stable_rescue_argv(spec: InstanceSpec, where: InstanceDir) -> list[str]:
    controller, device = STABLE_RESCUE_DEVICES[(spec.rescue_device, spec.rescue_bus)]
    drive = {"file": where.rescue_disk, "format": "qcow2", "if": "none", "id": "drive-rescue"}
    # a CD-ROM is read-only media
    drive.update({"readonly": "on"} if spec.rescue_device == "cdrom" else {"discard": "unmap"})
    args = ["-device", _options(controller)] if controller else []
    return args + ["-drive", _options(drive),
                   "-device", _options({**device, "drive": "drive-rescue", "id": "disk-rescue", "bootindex": 0})]
