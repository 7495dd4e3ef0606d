"""Nova's floating IPs over Neutron's: a pool is an external network (by name or id), a floating IP is shown
as ``{id, ip, pool, fixed_ip, instance_id}``, and a server's ``addFloatingIp`` associates it with the
server's port that holds the fixed address.

Nova lists only the caller's project's floating IPs (even for an admin), and turns Neutron's refusals
into its own: an unknown pool or an exhausted one is a 404, the floating IP quota a 403, any refusal to
associate a 400.
"""

from __future__ import annotations

import ipaddress

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.http.context import Context
from onestack.http.errors import APIError, BadRequest, Conflict, Forbidden, NotFound
from onestack.services.compute.service import network_changes as neutron
from onestack.services.network.models import FloatingIP, Network, Port
from onestack.services.network.service import NetworkService


def view(session: Session, fip: FloatingIP) -> dict:
    network = session.get(Network, fip.floating_network_id)
    port = session.get(Port, fip.port_id) if fip.port_id else None
    return {"id": fip.id, "ip": fip.floating_ip_address, "pool": network.name if network else None,
            "fixed_ip": fip.fixed_ip_address, "instance_id": (port.device_id or None) if port else None}


class FloatingIPProxy:
    def __init__(self, net: NetworkService, default_pool: str):
        self.net = net
        self.fips = net.floatingips
        # Where an allocation without a pool goes when the cloud has more than one external network.
        self.default_pool = default_pool

    # -- pools -------------------------------------------------------------------------------
    def _external(self, session: Session, ctx: Context) -> list[Network]:
        stmt = select(Network).where(Network.external.is_(True)).order_by(Network.created_at)
        scope = self.net.networks.scope(session, ctx)
        # unique: a network loads its subnets by a joined eager load
        return list(session.scalars(stmt if scope is None else stmt.where(scope)).unique())

    def pools(self, ctx: Context) -> list[dict]:
        with self.net.db.read() as session:
            return [{"name": n.name} for n in self._external(session, ctx)]

    def _pool(self, session: Session, ctx: Context, name_or_id: str | None) -> Network:
        external = self._external(session, ctx)
        if name_or_id is None:
            if len(external) == 1:
                return external[0]
            name_or_id = self.default_pool
        found = [n for n in external if n.name == name_or_id] or [n for n in external if n.id == name_or_id]
        if not found:
            raise NotFound(f"Floating IP pool not found. ({name_or_id})")
        if len(found) > 1:
            raise Conflict(f"Multiple floating IP pools matches found for name '{name_or_id}'")
        return found[0]

    # -- floating IPs --------------------------------------------------------------------------
    def list(self, ctx: Context) -> list[dict]:
        with self.net.db.read() as session:
            stmt = select(FloatingIP).where(FloatingIP.project_id == ctx.project_id).order_by(
                FloatingIP.created_at, FloatingIP.id)
            return [view(session, f) for f in session.scalars(stmt)]

    def show(self, ctx: Context, fip_id: str) -> dict:
        with self.net.db.read() as session:
            try:
                return view(session, self.fips.get(session, ctx, fip_id))
            except NotFound:
                raise NotFound(f"Floating IP not found for ID {fip_id}") from None

    def allocate(self, ctx: Context, pool: str | None) -> dict:
        with self.net.db.read() as session:
            network = self._pool(session, ctx, pool)
        try:
            return neutron.create(self.fips, ctx, {"floating_network_id": network.id}, view)
        except Conflict as exc:
            if exc.kind == "OverQuota":
                raise Forbidden(f"IP allocation over quota in pool {network.name}.") from None
            raise NotFound(f"No more floating IPs in pool {network.name}.") from None

    def release(self, ctx: Context, fip_id: str) -> None:
        try:
            neutron.delete(self.fips, ctx, fip_id)
        except NotFound:
            raise NotFound(f"Floating IP not found for ID {fip_id}") from None

    def _by_address(self, session: Session, ctx: Context, address: str) -> FloatingIP:
        stmt = select(FloatingIP).where(FloatingIP.floating_ip_address == address)
        scope = self.fips.scope(session, ctx)
        found = session.scalars(stmt if scope is None else stmt.where(scope)).first()
        if found is None:
            raise NotFound(f"Floating IP not found for address {address}.")
        return found

    # -- a server's floating IPs ---------------------------------------------------------------
    def associate(self, ctx: Context, instance_id: str, address: str, fixed_address: str | None) -> None:
        with self.net.db.write() as session:
            ports = list(session.scalars(select(Port).where(Port.device_id == instance_id)
                                         .order_by(Port.created_at)))
            held = [(p, a.ip_address) for p in ports for a in p.fixed_ips
                    if ipaddress.ip_address(a.ip_address).version == 4]
            if not held:
                raise BadRequest("No fixed IPs associated to instance")
            if fixed_address is not None:
                held = [(p, ip) for p, ip in held if ip == fixed_address]
                if not held:
                    raise BadRequest("Specified fixed address not assigned to instance")
            port, fixed = held[0]
            fip = self._by_address(session, ctx, address)
            try:
                changes = self.fips.table.check({"port_id": port.id, "fixed_ip_address": fixed}, creating=False,
                                                is_admin=ctx.is_admin)
                neutron.apply_update(self.fips, session, ctx, fip, changes)
            except Forbidden:
                raise
            except APIError as exc:  # Nova answers every other refusal to associate with a 400
                raise BadRequest(f"Unable to associate floating IP {address} to fixed IP {fixed} for instance "
                                 f"{instance_id}. Error: {exc.message}") from None

    def disassociate(self, ctx: Context, instance_id: str, address: str) -> None:
        with self.net.db.write() as session:
            fip = self._by_address(session, ctx, address)
            port = session.get(Port, fip.port_id) if fip.port_id else None
            if port is None or port.device_id != instance_id:
                raise Conflict(f"Floating IP {address} is not associated with instance {instance_id}.")
            neutron.apply_update(self.fips, session, ctx, fip, {"port_id": None})
