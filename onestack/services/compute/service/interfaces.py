"""Interfaces attached to a running server (Nova's os-interface): a port made or claimed through the
network service, written into the instance's requested networks (so a rebuild, move or unshelve keeps
it), then plugged into the guest by the host's driver; detaching reverses each step.

The port is made before the instance row names it: a crash in between leaves a port bound to the
instance, which its delete still frees (``release_ports`` frees every port the instance holds).
"""

from __future__ import annotations

import dataclasses

from sqlalchemy.orm import Session

from onestack.db.engine import Database
from onestack.drivers.compute import NIC, DriverError
from onestack.http.context import Context
from onestack.http.errors import BadRequest, Conflict, NotFound
from onestack.services.compute.models import Instance
from onestack.services.compute.models import states as st
from onestack.services.compute.policies import authorize
from onestack.services.compute.service.host_drivers import HostDrivers
from onestack.services.compute.service.networking import InstanceNetworking, NetworkAmbiguous, NetworkMissing
from onestack.services.compute.service.servers import Servers
from onestack.services.network.public import PortInfo

# Nova attaches and detaches interfaces of a server that is running, paused, stopped or suspended.
STATES = (st.ACTIVE, st.PAUSED, st.STOPPED, st.SUSPENDED)


def tags(instance: Instance) -> dict[str, str | None]:
    """port id -> the device tag it was attached with."""
    return {e["port_id"]: e.get("tag") for e in instance.requested_networks or [] if "port_id" in e}


@dataclasses.dataclass(eq=False)
class Interfaces:
    db: Database
    servers: Servers
    networking: InstanceNetworking
    hosts: HostDrivers

    def listing(self, ctx: Context, server_id: str) -> tuple[Instance, list[PortInfo]]:
        instance = self.servers.show(ctx, server_id, "os_compute_api:os-attach-interfaces:list")
        return instance, self.networking.ports(instance.id)

    def show(self, ctx: Context, server_id: str, port_id: str) -> tuple[Instance, PortInfo]:
        instance = self.servers.show(ctx, server_id, "os_compute_api:os-attach-interfaces:show")
        return instance, self.find(instance.id, port_id)

    def requested(self, ctx: Context, request: dict) -> dict:
        """The attach request as a requested-network entry, checked as the caller (networks it may use)."""
        port_id, net_id, fixed_ips = request.get("port_id"), request.get("net_id"), request.get("fixed_ips")
        if port_id and net_id:
            raise BadRequest("Must not input both network_id and port_id")
        if fixed_ips and not net_id:
            raise BadRequest("Must input network_id when request IP address")
        if port_id:
            wanted = [{"port": port_id}]
        elif net_id:
            wanted = [{"uuid": net_id, **({"fixed_ip": fixed_ips[0]["ip_address"]} if fixed_ips else {})}]
        else:
            wanted = None  # the one network the project may use, as a boot without networks
        try:
            entries = self.networking.requested(ctx, wanted)
        except NetworkAmbiguous as error:  # Nova's attach answers 400 where its boot answers 409
            raise BadRequest(error.message) from None
        except NetworkMissing as error:  # and 404 (NetworkNotFound) where its boot answers 400
            raise NotFound(error.message) from None
        if not entries:
            raise BadRequest("No network is available to attach an interface to.")
        return entries[0]

    def attach(self, ctx: Context, server_id: str, request: dict, request_id: str) -> PortInfo:
        with self.db.read() as session:
            instance = self._attachable(session, ctx, server_id, "attach_interface",
                                        "os_compute_api:os-attach-interfaces:create")
        entry = self.requested(ctx, request)
        made = "port_id" not in entry
        nic = self.networking.attach_port(instance, entry)
        with self.db.write() as session:
            instance = session.get(Instance, instance.id)
            instance.requested_networks = [*instance.requested_networks,
                                           {"port_id": nic.port_id, "made": made, "tag": request.get("tag")}]
            self.servers.record(session, ctx, instance, "attach_interface", request_id)
        try:
            self._driver_call(instance, "attach_interface", nic)
        except DriverError as error:
            self._forget(instance.id, nic.port_id)
            self.networking.detach_port(instance, nic.port_id, made)
            raise Conflict(f"Failed to attach network adapter device to {instance.id}: {error}") from None
        return self.find(instance.id, nic.port_id)

    def detach(self, ctx: Context, server_id: str, port_id: str, request_id: str) -> None:
        with self.db.read() as session:
            instance = self._attachable(session, ctx, server_id, "detach_interface",
                                        "os_compute_api:os-attach-interfaces:delete")
        port = self.find(instance.id, port_id)
        try:  # the device goes first: a detach that fails leaves the interface as it was
            self._driver_call(instance, "detach_interface", NIC(port_id=port.id, mac_address=port.mac_address,
                                                                tap_name=f"tap{port.id[:11]}"))
        except DriverError as error:
            raise Conflict(f"Failed to detach network adapter device from {instance.id}: {error}") from None
        made = self._forget(instance.id, port_id, port.network_id, ctx, request_id)
        self.networking.detach_port(instance, port_id, made)

    def find(self, instance_id: str, port_id: str) -> PortInfo:
        port = next((p for p in self.networking.ports(instance_id) if p.id == port_id), None)
        if port is None:
            raise NotFound(f"Port {port_id} is not attached")
        return port

    def _attachable(self, session: Session, ctx: Context, server_id: str, action: str, policy: str) -> Instance:
        instance = self.servers.get(session, ctx, server_id)
        authorize(ctx, policy, instance)
        self.servers.check_lock(ctx, instance)
        st.require(instance, action, STATES)
        return instance

    def _forget(self, instance_id: str, port_id: str, network_id: str | None = None, ctx: Context | None = None,
                request_id: str = "") -> bool:
        """Drop the port's entry from the instance's requested networks (a port a boot made is entered by
        its network); whether compute made the port."""
        with self.db.write() as session:
            instance = session.get(Instance, instance_id)
            entries = list(instance.requested_networks or [])
            entry = next((e for e in entries if e.get("port_id") == port_id), None) or next(
                (e for e in entries if "port_id" not in e and e.get("network_id") == network_id), None)
            if entry is not None:
                entries.remove(entry)
            instance.requested_networks = entries
            if ctx is not None:
                self.servers.record(session, ctx, instance, "detach_interface", request_id)
            return entry is None or "port_id" not in entry or bool(entry.get("made"))

    def _driver_call(self, instance: Instance, method: str, nic: NIC) -> None:
        """Plug or unplug the guest's device on its host, in this process or through the host link (a
        stopped guest's spec is updated all the same, as the drivers keep it); ``DriverError`` when the
        driver fails or no process serves the host."""
        if instance.host is not None:
            getattr(self.hosts.driver(instance.host), method)(instance.id, nic)
