"""Port forwardings (Neutron's ``floating-ip-port-forwarding``): one external port of a floating IP
sent to a port and address inside, through the router that connects them.

A floating IP either maps whole to one port (``port_id``) or forwards single ports, never both.  The
floating IP's ``router_id`` is the router its forwardings go through; all of them must share it.
Deleting the internal port or the floating IP removes its forwardings (foreign keys cascade).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.db.engine import Database
from onestack.http.attrmap import matches
from onestack.http.context import Context
from onestack.http.errors import BadRequest, Conflict, NotFound
from onestack.services.network import policies, schemas, views
from onestack.services.network.models import FloatingIP, PortForwarding
from onestack.services.network.service.collection import new_uuid
from onestack.services.network.service.floatingips import FloatingIPs
from onestack.services.network.service.ports import Ports
from onestack.services.network.service.routers import Routers

FIELDS = ("internal_port_id", "internal_ip_address", "internal_port", "external_port", "protocol", "description")


def bad_request(message: str) -> BadRequest:
    return BadRequest(f"Bad port_forwarding request: {message}.", kind="BadRequest")


class PortForwardings:
    table = schemas.PORT_FORWARDINGS

    def __init__(self, db: Database, floatingips: FloatingIPs, ports: Ports):
        self.db, self.floatingips, self.ports = db, floatingips, ports

    # -- the routes' operations: each one transaction, on a floating IP the caller sees ----------
    def _on_floatingip(self, ctx: Context, fip_id: str, verb: str, work: Callable[[Session, FloatingIP], object],
                       write: bool = True):
        def on_floatingip(session: Session):
            fip = self.floatingips.get(session, ctx, fip_id)
            policies.authorize(ctx, verb, "floatingip", self.floatingips.target(fip),
                               action=f"{verb}_floatingip_port_forwarding")
            return work(session, fip)

        if write:  # run again whole when a concurrent change to the same rows won (write_retrying)
            return self.db.write_retrying(on_floatingip)
        with self.db.read() as session:
            return on_floatingip(session)

    def read_list(self, ctx: Context, fip_id: str, query) -> list[dict]:
        """The floating IP's forwardings that match the query string's filters."""
        def work(session: Session, fip: FloatingIP) -> list[dict]:
            filters = self.table.filters(query)
            return [v for v in map(views.port_forwarding, self.of(session, fip)) if matches(v, filters, lambda _: False)]

        return self._on_floatingip(ctx, fip_id, "get", work, write=False)

    def read_one(self, ctx: Context, fip_id: str, ident: str) -> dict:
        return self._on_floatingip(ctx, fip_id, "get", lambda session, fip: views.port_forwarding(
            self.get(session, fip, ident)), write=False)

    def create_one(self, ctx: Context, fip_id: str, body: dict) -> dict:
        return self._on_floatingip(ctx, fip_id, "create", lambda session, fip: views.port_forwarding(
            self.create(session, ctx, fip, body)))

    def update_one(self, ctx: Context, fip_id: str, ident: str, changes: dict) -> dict:
        def work(session: Session, fip: FloatingIP) -> dict:
            row = self.get(session, fip, ident)
            self.update(session, ctx, fip, row, changes)
            return views.port_forwarding(row)

        return self._on_floatingip(ctx, fip_id, "update", work)

    def delete_one(self, ctx: Context, fip_id: str, ident: str) -> None:
        self._on_floatingip(ctx, fip_id, "delete", lambda session, fip: self.delete(session, fip,
                                                                                     self.get(session, fip, ident)))

    # -- rules, inside a transaction ---------------------------------------------------------
    def of(self, session: Session, fip: FloatingIP) -> list[PortForwarding]:
        return list(session.scalars(select(PortForwarding).where(PortForwarding.floatingip_id == fip.id)
                                    .order_by(PortForwarding.id)))

    def get(self, session: Session, fip: FloatingIP, ident: str) -> PortForwarding:
        row = session.get(PortForwarding, ident)
        if row is None or row.floatingip_id != fip.id:
            raise NotFound(f"Port Forwarding {ident} could not be found.", kind="PortForwardingNotFound")
        return row

    def create(self, session: Session, ctx: Context, fip: FloatingIP, body: dict) -> PortForwarding:
        row = PortForwarding(id=new_uuid(), floatingip_id=fip.id, **{name: body[name] for name in FIELDS})
        self._check(session, ctx, fip, row)
        session.add(row)
        session.flush()
        return row

    def update(self, session: Session, ctx: Context, fip: FloatingIP, row: PortForwarding, changes: dict) -> None:
        for name, value in changes.items():
            setattr(row, name, value)
        self._check(session, ctx, fip, row)
        session.flush()

    def delete(self, session: Session, fip: FloatingIP, row: PortForwarding) -> None:
        session.delete(row)
        session.flush()
        if not self.of(session, fip):
            fip.router_id = None

    def _check(self, session: Session, ctx: Context, fip: FloatingIP, row: PortForwarding) -> None:
        """The internal side must be an IPv4 address of a port of the floating IP's project, on a subnet
        a router connects to the floating network; external and internal ends are each used once."""
        if fip.port_id:
            raise bad_request(f"Floating IP {fip.id} is associated with port {fip.port_id}; it cannot also forward "
                              "ports")
        port = self.ports.get(session, ctx, row.internal_port_id)
        if port.project_id != fip.project_id and not ctx.is_admin:
            raise bad_request(f"Port {port.id} does not belong to the floating IP's project")
        allocation = next((a for a in port.fixed_ips if a.ip_address == row.internal_ip_address), None)
        if allocation is None or ipaddress.ip_address(allocation.ip_address).version != 4:
            raise bad_request(f"The internal IP {row.internal_ip_address} is not an IPv4 address of port {port.id}")
        router = Routers.with_gateway_on(session, fip.floating_network_id, allocation.subnet_id)
        if router is None:
            raise NotFound(f"External network {fip.floating_network_id} is not reachable from subnet "
                           f"{allocation.subnet_id}.  Therefore, cannot associate Port {port.id} with a Floating IP.",
                           kind="ExternalGatewayForFloatingIPNotFound")
        others = [o for o in self.of(session, fip) if o.id != row.id]
        if others and fip.router_id and fip.router_id != router.id:
            raise bad_request(f"The internal port {port.id} is reached through router {router.id}, but the "
                              f"floating IP's other forwardings go through router {fip.router_id}")
        for other in session.scalars(select(PortForwarding).where(PortForwarding.id != row.id,
                                                                  PortForwarding.protocol == row.protocol)):
            same_outside = other.floatingip_id == fip.id and other.external_port == row.external_port
            same_inside = (other.internal_port_id, other.internal_ip_address, other.internal_port) == (
                row.internal_port_id, row.internal_ip_address, row.internal_port)
            if same_outside or same_inside:
                raise Conflict("A duplicate port forwarding entry with same attributes already exists, conflicting "
                               f"values are {views.port_forwarding(other)}", kind="PortForwardingAlreadyExists")
        fip.router_id = router.id
