"""``onestack down --purge`` (DevStack's unstack and clean): remove everything this cloud made on the host.

After the server has stopped, each hook removes one kind of host object that the cloud of this data dir
owns, then the data dir goes.  A hook takes the cloud's settings, touches only what that cloud made and
is safe to run again; one that fails does not stop the others.  The network data plane adds its own.

A configured Ceph cluster's data (volumes, images, guests' root disks, objects) is left alone: the cluster
is not the host's, and may outlive this cloud.  ``--purge-ceph`` asks for it too (``ceph_pools``).
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable

from onestack.config import CONFIG_FILE, Settings
from onestack.drivers.qemu.driver import QemuDriver
from onestack.drivers.runc import RuncDriver
from onestack.drivers.volumerbd import Ceph, CephError
from onestack.services.network.reconcile import agent as dataplane

LOG = logging.getLogger("onestack.purge")


def guests(settings: Settings) -> None:
    """Every guest of the cloud's QEMU driver (its process, taps, disks, config drive and sockets) and every
    container of its runc driver (process, cgroups, overlay mount, veths, namespace, DHCP clients)."""
    compute = settings.data_dir / "compute"
    if (compute / "instances").is_dir():
        vms = QemuDriver(compute, accel="tcg")  # no probe: nothing is started
        for uuid in vms.list_instances():
            vms.destroy(uuid)
    if (compute / "runc" / "instances").is_dir():
        containers = RuncDriver(compute / "runc")
        for uuid in containers.list_instances():
            containers.destroy(uuid)


def network(settings: Settings) -> None:
    """The network data plane's namespaces, bridges, veths, VXLAN devices, taps, dnsmasq and proxies."""
    dataplane.purge(settings)


# guests first: their taps go with them, then what the data plane made around them
HOOKS: list[Callable[[Settings], None]] = [guests, network]
# the RBD pools in the order their images may be removed: clones (guests' disks, volumes) before their parents
RBD_POOLS = ("vms", "volumes", "images")


def ceph_pools(settings: Settings) -> None:
    """Every RBD image (its snapshots unprotected and purged first) in the cluster's pools this cloud is
    configured with, and every object of its objects pool; the pools themselves stay.  Only with
    ``--purge-ceph``: the pools are this cloud's by its configuration, which is the operator's to say."""
    if not settings.ceph.conf:
        return
    ceph = Ceph(settings.ceph.conf, settings.ceph.client, settings.ceph.keyring, settings.ceph.timeout)
    pools = [settings.ceph.pools[use] for use in RBD_POOLS if use in settings.ceph.pools]
    left = [(pool, name) for pool in pools for name in ceph.rbd_json("ls", pool) or []]
    while left:  # a pass removes what has no clones left; a clone in a later pool frees its parent
        failed = []
        for pool, name in left:
            try:
                _remove_rbd_image(ceph, f"{pool}/{name}")
            except CephError as exc:
                failed.append((pool, name, exc))
        if len(failed) == len(left):
            raise CephError("; ".join(f"{pool}/{name}: {exc}" for pool, name, exc in failed))
        left = [(pool, name) for pool, name, _ in failed]
    if "objects" in settings.ceph.pools:
        ceph.run("rados", "purge", settings.ceph.pools["objects"], "--yes-i-really-really-mean-it")


def _remove_rbd_image(ceph: Ceph, spec: str) -> None:
    for snap in ceph.rbd_json("snap", "ls", spec) or []:
        if snap.get("protected") in (True, "true"):
            ceph.rbd("snap", "unprotect", f"{spec}@{snap['name']}")
    ceph.rbd("snap", "purge", "--no-progress", spec)
    ceph.rbd("rm", "--no-progress", spec)


class PurgeError(RuntimeError):
    pass


def purge(settings: Settings, ceph: bool = False) -> list[str]:
    """Run every hook (and ``ceph_pools`` when ``ceph``), then remove the data dir; returns what failed
    (empty when all went)."""
    data_dir = settings.data_dir
    if not (data_dir / CONFIG_FILE).exists():
        raise PurgeError(f"{data_dir} holds no {CONFIG_FILE}: not a onestack data dir, left alone")
    failed = []
    for hook in HOOKS + ([ceph_pools] if ceph else []):
        try:
            hook(settings)
        except Exception as exc:  # noqa: BLE001 - report it and go on with the others
            LOG.exception("purge step %s failed", hook.__name__)
            failed.append(f"{hook.__name__}: {exc}")
    if not failed:  # the data dir is what a failed step would need to be run again
        shutil.rmtree(data_dir)
    return failed
