"""``onestack down --purge`` (DevStack's unstack and clean): remove everything this cloud made on the host.

After the server has stopped, each hook removes one kind of host object that the cloud of this data dir
owns, then the data dir goes.  A hook takes the cloud's settings, touches only what that cloud made and
is safe to run again; one that fails does not stop the others.  The network data plane adds its own.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable

from onestack.config import CONFIG_FILE, Settings
from onestack.drivers.qemu.driver import QemuDriver
from onestack.drivers.runc import RuncDriver
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


class PurgeError(RuntimeError):
    pass


def purge(settings: Settings) -> list[str]:
    """Run every hook, then remove the data dir; returns what failed (empty when all went)."""
    data_dir = settings.data_dir
    if not (data_dir / CONFIG_FILE).exists():
        raise PurgeError(f"{data_dir} holds no {CONFIG_FILE}: not a onestack data dir, left alone")
    failed = []
    for hook in HOOKS:
        try:
            hook(settings)
        except Exception as exc:  # noqa: BLE001 - report it and go on with the others
            LOG.exception("purge step %s failed", hook.__name__)
            failed.append(f"{hook.__name__}: {exc}")
    if not failed:  # the data dir is what a failed step would need to be run again
        shutil.rmtree(data_dir)
    return failed
