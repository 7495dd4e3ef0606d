"""Port forwardings (Neutron's ``floating-ip-port-forwarding``): one external port of a floating IP
sent to a port and address inside, through the router that connects them.

A floating IP either maps whole to one port (``port_id``) or forwards single ports, never both.  The
floating IP's ``router_id`` is the router its forwardings go through; all of them must share it.
Deleting the internal port or the floating IP removes its forwardings (foreign keys cascade).
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.http.attrmap import Attr, Table
from onestack.http.context import Context
from onestack.http.errors import BadRequest, Conflict, NotFound
from onestack.services.network.collection import DESCRIPTION, UUID, new_uuid
from onestack.services.network.models import FloatingIP, PortForwarding

if TYPE_CHECKING:
    from onestack.services.network.service import NetworkService

PORT_NUMBER = {"type": "integer", "minimum": 1, "maximum": 65535}
PROTOCOLS = ("tcp", "udp", "udplite", "sctp")
FIELDS = ("internal_port_id", "internal_ip_address", "internal_port", "external_port", "protocol", "description")


def bad_request(message: str) -> BadRequest:
    return BadRequest(f"Bad port_forwarding request: {message}.", kind="BadRequest")


class PortForwardings:
    table = Table([
        Attr("id"),
        Attr("internal_port_id", UUID, post=True, put=True, required=True),
        Attr("internal_ip_address", {"type": "string", "maxLength": 64}, post=True, put=True, required=True),
        Attr("internal_port", PORT_NUMBER, post=True, put=True, required=True),
        Attr("external_port", PORT_NUMBER, post=True, put=True, required=True),
        Attr("protocol", {"enum": list(PROTOCOLS)}, post=True, put=True, required=True),
        Attr("description", DESCRIPTION, post=True, put=True, default=""),
    ])

    def __init__(self, net: NetworkService):
        self.net = net

    @staticmethod
    def view(row: PortForwarding) -> dict:
        return {"id": row.id, **{name: getattr(row, name) for name in FIELDS}}

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
        port = self.net.ports.get(session, ctx, row.internal_port_id)
        if port.project_id != fip.project_id and not ctx.is_admin:
            raise bad_request(f"Port {port.id} does not belong to the floating IP's project")
        allocation = next((a for a in port.fixed_ips if a.ip_address == row.internal_ip_address), None)
        if allocation is None or ipaddress.ip_address(allocation.ip_address).version != 4:
            raise bad_request(f"The internal IP {row.internal_ip_address} is not an IPv4 address of port {port.id}")
        router = self.net.routers.with_gateway_on(session, fip.floating_network_id, allocation.subnet_id)
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
                               f"values are {self.view(other)}", kind="PortForwardingAlreadyExists")
        fip.router_id = router.id

    @staticmethod
    def in_use(session: Session, fip_id: str) -> Conflict | None:
        """The error for mapping a floating IP whole while it forwards ports, if it does."""
        found = session.scalar(select(PortForwarding.id).where(PortForwarding.floatingip_id == fip_id).limit(1))
        if found is None:
            return None
        return Conflict(f"Floating IP {fip_id} in use by Port Forwarding resources.", kind="FipInUseByPortForwarding")

    @staticmethod
    def internal_addresses(session: Session, router_id: str) -> list[str]:
        """Internal addresses forwarded to through ``router_id`` (they keep its interfaces in place)."""
        return list(session.scalars(select(PortForwarding.internal_ip_address).join(
            FloatingIP, FloatingIP.id == PortForwarding.floatingip_id).where(FloatingIP.router_id == router_id)))
