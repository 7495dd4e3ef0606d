"""Floating IPs: an address of an external network, held by a ``network:floatingip`` port, that a
router translates to a fixed IP of an internal port.

As in Neutron, the holding port belongs to no project and its device_id is the floating IP; the
floating IP is associated only with a port whose subnet a router connects to the floating network.
``status`` stays DOWN: it is the data plane that reports a floating IP ACTIVE, as Neutron's L3 agent does.
"""

from __future__ import annotations

import ipaddress

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.db.engine import Database
from onestack.http.context import Context
from onestack.http.errors import BadRequest, Conflict, Forbidden, NotFound
from onestack.services.network import schemas, views
from onestack.services.network.models import (
    FLOATINGIP_OWNER,
    L3_OWNERS,
    FloatingIP,
    Network,
    Port,
    PortForwarding,
    Subnet,
)
from onestack.services.network.service import ipam, teardown
from onestack.services.network.service.collection import Collection
from onestack.services.network.service.networks import Networks
from onestack.services.network.service.ports import Ports
from onestack.services.network.service.quotas import Quotas
from onestack.services.network.service.routers import Routers


def bad_floatingip(message: str) -> BadRequest:
    return BadRequest(f"Bad floatingip request: {message}.", kind="BadRequest")


def forwarding_in_use(session: Session, fip_id: str) -> Conflict | None:
    """The error for mapping a floating IP whole while it forwards ports, if it does."""
    found = session.scalar(select(PortForwarding.id).where(PortForwarding.floatingip_id == fip_id).limit(1))
    if found is None:
        return None
    return Conflict(f"Floating IP {fip_id} in use by Port Forwarding resources.", kind="FipInUseByPortForwarding")


class FloatingIPs(Collection):
    singular, plural, kind, model = "floatingip", "floatingips", "Floating IP", FloatingIP
    table = schemas.FLOATINGIPS

    def __init__(self, db: Database, quotas: Quotas, networks: Networks, ports: Ports):
        super().__init__(db, quotas)
        self.networks, self.ports = networks, ports

    def not_found(self, ident: str) -> NotFound:
        return NotFound(f"Floating IP {ident} could not be found", kind="FloatingIPNotFound")

    def render(self, session: Session, ctx: Context, row: FloatingIP) -> dict:
        return views.floatingip(row, port=session.get(Port, row.port_id) if row.port_id else None)

    # -- create ------------------------------------------------------------------------
    def create(self, session: Session, ctx: Context, body: dict) -> FloatingIP:
        if "floating_ip_address" in body and not ctx.is_admin:
            raise Forbidden("(rule:create_floatingip:floating_ip_address) is disallowed by policy",
                            kind="PolicyNotAuthorized")
        network = self.networks.get(session, ctx, body["floating_network_id"])
        if not network.external:
            raise bad_floatingip(f"Network {network.id} is not a valid external network")
        row = self.new_row(ctx, body, floating_network_id=network.id, status="DOWN", dns_name=body["dns_name"],
                           dns_domain=body["dns_domain"])
        self.admit(session, ctx, row)
        port = self._hold_address(session, network, row.id, body.get("subnet_id"), body.get("floating_ip_address"))
        row.floating_port_id, row.floating_ip_address = port.id, port.fixed_ips[0].ip_address
        if body.get("port_id"):
            self._associate(session, ctx, row, body["port_id"], body.get("fixed_ip_address"))
        elif body.get("fixed_ip_address"):
            raise bad_floatingip("fixed_ip_address cannot be specified without a port_id")
        session.add(row)
        session.flush()
        return row

    def _hold_address(self, session: Session, network: Network, fip_id: str, subnet_id: str | None,
                      address: str | None) -> Port:
        """The floating IP's own port, on the subnet asked for or the first IPv4 subnet with room."""
        ipv4 = [s for s in network.subnets if s.ip_version == 4]
        if subnet_id is not None:
            subnet = next((s for s in network.subnets if s.id == subnet_id), None)
            if subnet is None:
                raise bad_floatingip(f"Subnet {subnet_id} is not on network {network.id}")
            if subnet.ip_version != 4:
                raise bad_floatingip(f"Subnet {subnet_id} is not an IPv4 subnet")
            ipv4 = [subnet]
        if not ipv4:
            raise bad_floatingip(f"Network {network.id} does not contain any IPv4 subnet")
        if address is not None:
            spec = {"ip_address": address, **({"subnet_id": subnet_id} if subnet_id else {})}
        else:
            spec = {"subnet_id": self._with_room(session, ipv4).id}
        port = self.ports.create_owned(session, network, project_id="", device_owner=FLOATINGIP_OWNER,
                                           device_id=fip_id, fixed_ips=[spec])
        if ipaddress.ip_address(port.fixed_ips[0].ip_address).version != 4:
            raise bad_floatingip(f"{address} is not an IPv4 address")
        # Neutron's floating IP ports have no link state.
        port.status = "N/A"
        return port

    @staticmethod
    def _with_room(session: Session, subnets: list[Subnet]) -> Subnet:
        """The first subnet with a free address; when all are full, the last one's error is the answer."""
        for subnet in subnets[:-1]:
            try:
                ipam.pick(session, subnet)
            except Conflict:
                continue
            return subnet
        return subnets[-1]

    # -- association ------------------------------------------------------------------------
    def update(self, session: Session, ctx: Context, row: FloatingIP, changes: dict) -> None:
        if "port_id" in changes or "fixed_ip_address" in changes:
            port_id = changes.pop("port_id", row.port_id)
            fixed = changes.pop("fixed_ip_address", None)
            if port_id is None:
                if fixed is not None:
                    raise bad_floatingip("fixed_ip_address cannot be specified without a port_id")
                self._disassociate(session, row)
            else:
                self._associate(session, ctx, row, port_id, fixed)
        super().update(session, ctx, row, changes)

    def _disassociate(self, session: Session, row: FloatingIP) -> None:
        row.port_id = row.fixed_ip_address = None
        # A floating IP that forwards ports keeps the router they go through.
        if forwarding_in_use(session, row.id) is None:
            row.router_id = None

    def _associate(self, session: Session, ctx: Context, row: FloatingIP, port_id: str, fixed: str | None) -> None:
        forwarding = forwarding_in_use(session, row.id)
        if forwarding is not None:
            raise forwarding
        port = self.ports.get(session, ctx, port_id)
        if port.project_id != row.project_id and not ctx.is_admin:
            raise bad_floatingip(f"Cannot process floating IP association with Port {port.id}, since that port is "
                                 "owned by a different tenant")
        if port.device_owner in L3_OWNERS:
            raise bad_floatingip(f"Port {port.id} has owner {port.device_owner} and therefore cannot be assigned "
                                 "a floating IP")
        allocation = self._fixed_ip(port, fixed)
        router = Routers.with_gateway_on(session, row.floating_network_id, allocation.subnet_id)
        if router is None:
            raise NotFound(f"External network {row.floating_network_id} is not reachable from subnet "
                           f"{allocation.subnet_id}.  Therefore, cannot associate Port {port.id} with a Floating IP.",
                           kind="ExternalGatewayForFloatingIPNotFound")
        taken = session.scalar(select(FloatingIP).where(
            FloatingIP.port_id == port.id, FloatingIP.fixed_ip_address == allocation.ip_address,
            FloatingIP.floating_network_id == row.floating_network_id, FloatingIP.id != row.id).limit(1))
        if taken is not None:
            raise Conflict(f"Cannot associate floating IP {row.floating_ip_address} ({row.id}) with port {port.id} "
                           f"using fixed IP {allocation.ip_address}, as that fixed IP already has a floating IP on "
                           f"external network {row.floating_network_id}.", kind="FloatingIPPortAlreadyAssociated")
        row.port_id, row.fixed_ip_address, row.router_id = port.id, allocation.ip_address, router.id

    @staticmethod
    def _fixed_ip(port: Port, wanted: str | None):
        """The port's IPv4 address the floating IP maps to: the one asked for, or its only one."""
        ipv4 = [a for a in port.fixed_ips if ipaddress.ip_address(a.ip_address).version == 4]
        if wanted is not None:
            found = next((a for a in port.fixed_ips if a.ip_address == wanted), None)
            if found is None:
                raise bad_floatingip(f"Port {port.id} does not have fixed ip {wanted}")
            if found not in ipv4:
                raise bad_floatingip(f"Cannot add floating IP to port {port.id}: {wanted} is not an IPv4 address")
            return found
        if not ipv4:
            raise bad_floatingip(f"Cannot add floating IP to port {port.id} that has no global IPv4 addresses")
        if len(ipv4) > 1:
            raise bad_floatingip(f"Port {port.id} has multiple fixed IPv4 addresses.  Must provide a specific IPv4 "
                                 "address when assigning a floating IP")
        return ipv4[0]

    # -- delete ------------------------------------------------------------------------------
    def delete(self, session: Session, ctx: Context, row: FloatingIP) -> None:
        teardown.remove_floatingip(session, row)

    def pools(self, ctx: Context) -> list[dict]:
        """``/v2.0/floatingip_pools``: each IPv4 subnet of an external network ``ctx`` can see."""
        with self.db.read() as session:
            stmt = select(Subnet).join(Network, Network.id == Subnet.network_id).where(
                Network.external.is_(True), Subnet.ip_version == 4)
            visible = self.networks.scope(session, ctx)
            if visible is not None:
                stmt = stmt.where(visible)
            return [views.floatingip_pool(s) for s in session.scalars(stmt.order_by(Subnet.created_at))]
