"""The compute hosts this process runs, each with its driver, and their records.

A host registers itself at start: its ``ComputeHost`` row (Nova's service record and hypervisor)
and its resource provider in placement with what its driver says the machine offers.  The process
also answers other processes' calls for its hosts' guests on the host link (``drivers/remote``):
``driver(host)`` of a host run elsewhere (another API worker's supervisor, a joined host) is a
``RemoteDriver`` to the link address and secret its row holds.

A host runs VMs and, where ``compute.containers`` allows, container instances: a QEMU host then has one
driver for both (``VmAndContainerDriver``: QEMU, and runc with a state dir of its own) and reports the
placement trait ``CUSTOM_COMPUTE_CONTAINER``, which the scheduler requires of a container's host.
"""

from __future__ import annotations

import random
import secrets
import socket
import time
import uuid
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from onestack.config import ComputeSettings, Settings
from onestack.db.base import utcnow
from onestack.db.engine import Database
from onestack.drivers import choice, sockets
from onestack.drivers.compute import ComputeDriver, HostResources
from onestack.drivers.fake import FakeDriver
from onestack.drivers.qemu.driver import QemuDriver
from onestack.drivers.qemu.rbddisks import RBDDisks
from onestack.drivers.remote import server as link_server
from onestack.drivers.remote.client import RemoteDriver
from onestack.drivers.remote.wire import LinkError
from onestack.drivers.runc import RuncDriver
from onestack.drivers.vm_and_container import VmAndContainerDriver
from onestack.drivers.volumerbd import Ceph
from onestack.services.compute.models import ComputeHost
from onestack.services.compute.service.placement_client import CONTAINER_TRAIT, PlacementClient

REGISTER_ATTEMPTS = 5


def rbd_disks(settings: Settings) -> RBDDisks | None:
    """Guests' root disks in Ceph when ``compute.images_type`` is ``rbd`` and a cluster is configured."""
    if settings.compute.images_type != "rbd" or not settings.ceph.conf:
        return None
    ceph = settings.ceph
    return RBDDisks(Ceph(ceph.conf, ceph.client, ceph.keyring, ceph.timeout), ceph.pools["vms"])


class HostDrivers:
    def __init__(self, db: Database, settings: ComputeSettings, state_dir: Path, tunnel_ip: str = "",
                 rbd_disks: RBDDisks | None = None):
        """``rbd_disks``: where guests' root disks go with ``images_type: rbd`` (None: files)."""
        self.db = db
        self.settings = settings
        self.rbd_disks = rbd_disks
        self.tunnel_ip = tunnel_ip
        self.state_dir = state_dir
        self._drivers: dict[str, ComputeDriver] = {}
        self._secrets: dict[str, str] = {}
        self._link: link_server.LinkServer | None = None
        self.kind, self.reason = choice.choose(settings.driver)
        self.containers, self.containers_reason = choice.containers(settings.containers, self.kind)
        self._with_containers: set[str] = set()  # the hosts that run containers

    @property
    def plugs_guests(self) -> bool:
        """Whether this process's guests have real taps or veths for the data plane to plug."""
        return self.kind == "qemu"

    def names(self) -> list[str]:
        return list(self._drivers)

    def driver(self, host: str | None) -> ComputeDriver | RemoteDriver:
        """The driver of ``host``: its own if this process runs it, else the link to the process that does
        (``LinkError`` if none says it is listening, or an instance has no host yet)."""
        if host is None:
            raise LinkError("the instance is on no host yet")
        local = self._drivers.get(host)
        if local is not None:
            return local
        with self.db.read() as session:
            found = session.execute(select(ComputeHost.link_url, ComputeHost.link_secret)
                                    .where(ComputeHost.host == host)).first()
        if found is None or not found.link_url or not found.link_secret:
            raise LinkError(f"no process serves host {host} now")
        return RemoteDriver(host, found.link_url, found.link_secret)

    def link_secret(self, host: str) -> str:
        """The key that signs calls on ``host``'s link."""
        with self.db.read() as session:
            return session.scalar(select(ComputeHost.link_secret).where(ComputeHost.host == host)) or ""

    def address(self, host: str) -> str | None:
        """The host's IP address (a migration's ``dest_host``, where a live migration's destination listens):
        its tunnel address when it has one (a joined host), else its own."""
        with self.db.read() as session:
            found = session.execute(select(ComputeHost.tunnel_ip, ComputeHost.host_ip)
                                    .where(ComputeHost.host == host)).first()
        return None if found is None else found.tunnel_ip or found.host_ip

    def heartbeat(self) -> None:
        """Say this process's hosts are alive (the services API calls a host up within ``SERVICE_DOWN_TIME``)."""
        with self.db.write() as session:
            for row in session.scalars(select(ComputeHost).where(ComputeHost.host.in_(self.names()))):
                row.heartbeat_at = utcnow()

    def tunnel_remotes(self, session) -> tuple[str, ...]:
        """The other hosts' tunnel addresses, the flooding entries of this host's VXLAN devices."""
        found = session.scalars(select(ComputeHost.tunnel_ip).where(ComputeHost.tunnel_ip.is_not(None)))
        return tuple(sorted(set(found) - {self.tunnel_ip, ""}))

    def start(self, placement: PlacementClient) -> None:
        """Create this process's drivers, open their link and register their hosts (idempotent across
        restarts)."""
        base = self.settings.host or socket.gethostname()
        if self.kind == "fake":
            offered = HostResources(self.settings.fake_vcpus, self.settings.fake_memory_mb, self.settings.fake_disk_gb)
            count = max(1, self.settings.fake_hosts)
            names = [base] if count == 1 else [f"{base}-fake-{i}" for i in range(1, count + 1)]
            with_containers = len(names) if self.settings.fake_container_hosts is None \
                else self.settings.fake_container_hosts
            for number, name in enumerate(names):
                self._drivers[name] = FakeDriver(offered)  # it runs either kind of guest
                if self.containers and number < with_containers:
                    self._with_containers.add(name)
        elif self.kind == "qemu":
            vms = QemuDriver(self.state_dir, rbd_disks=self.rbd_disks)
            # its own state dir: the QEMU driver counts every directory of its instances/ as a guest
            self._drivers[base] = VmAndContainerDriver(vms, RuncDriver(self.state_dir / "runc")) \
                if self.containers else vms
            if self.containers:
                self._with_containers.add(base)
        else:
            raise ValueError(f"unknown compute driver {self.kind!r}")
        link_url = self._open_link()
        # Two hosts joining at once may both pick the next free number; the database keeps one, the other
        # picks again.
        for attempt in range(REGISTER_ATTEMPTS):
            try:
                registered = self._register(link_url)
                break
            except IntegrityError:
                if attempt == REGISTER_ATTEMPTS - 1:
                    raise
                time.sleep(random.uniform(0.05, 0.2))
        for row in registered:
            placement.register_host(row, self.settings,
                                    extra_traits=(CONTAINER_TRAIT,) if row.host in self._with_containers else ())

    def _register(self, link_url: str) -> list[ComputeHost]:
        """This process's hosts as rows, each with its number, resources and link (one transaction)."""
        registered = []
        with self.db.write() as session:
            for name, driver in self._drivers.items():
                offered = driver.host_resources()
                row = session.scalar(select(ComputeHost).where(ComputeHost.host == name))
                if row is None:
                    row = ComputeHost(id=str(uuid.uuid5(uuid.NAMESPACE_DNS, f"onestack-compute-{name}")), host=name,
                                      driver=driver.name)
                    session.add(row)
                if row.number is None:
                    row.number = (session.scalar(select(func.max(ComputeHost.number))) or 0) + 1
                row.driver, row.vcpus, row.memory_mb, row.disk_gb = driver.name, offered.vcpus, offered.memory_mb, \
                    offered.disk_gb
                row.heartbeat_at = utcnow()
                row.tunnel_ip = self.tunnel_ip or None
                row.link_url, row.link_secret = link_url, self._secrets[name]
                registered.append(row)
        return registered

    def _open_link(self) -> str:
        """Serve the link on ``compute.link_bind`` (``HOST:PORT``), or on a Unix socket in the state dir
        where only processes of this machine call; returns the address callers use."""
        self._secrets = {name: secrets.token_hex(32) for name in self._drivers}
        local = sockets.socket_dir(self.state_dir, "link.sock", "onestack-link") / "link.sock"
        bind = self.settings.link_bind or f"unix:{local}"
        if bind.startswith("unix:"):
            Path(bind[5:]).parent.mkdir(parents=True, exist_ok=True)
            Path(bind[5:]).unlink(missing_ok=True)
        self._link = link_server.LinkServer(link_server.app(self._drivers, self._secrets), bind)
        try:
            self._link.start()
        except LinkError as exc:
            raise ValueError(str(exc)) from None
        return self._link.url

    def stop(self) -> None:
        if self._link is not None:
            self._link.stop()
            self._link = None
