"""Router interfaces: the ports that attach a router to internal subnets.

An interface is a port with device_owner ``network:router_interface`` and device_id the router,
in the router's project.  Added by subnet, the port takes the subnet's gateway address; added by
port, an unused port of the caller's is taken over.  Removing one deletes its port, as Neutron does.
"""

from __future__ import annotations

import ipaddress
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.http.context import Context
from onestack.http.errors import Conflict, NotFound
from onestack.services.network import views
from onestack.services.network.models import (
    ROUTER_INTERFACE_OWNER,
    FloatingIP,
    Port,
    PortForwarding,
    Router,
    Subnet,
)
from onestack.services.network.service import ipam
from onestack.services.network.service.collection import touch
from onestack.services.network.service.networks import Networks
from onestack.services.network.service.ports import Ports
from onestack.services.network.service.router_gateway import RouterGateway, bad_router
from onestack.services.network.service.subnets import Subnets


class RouterInterfaces:
    def __init__(self, networks: Networks, subnets: Subnets, ports: Ports, gateway: RouterGateway):
        self.networks, self.subnets, self.ports, self.gateway = networks, subnets, ports, gateway

    @staticmethod
    def of(session: Session, router_id: str) -> list[Port]:
        """The router's interface ports, oldest first."""
        return list(session.scalars(select(Port).where(Port.device_id == router_id,
                                                       Port.device_owner == ROUTER_INTERFACE_OWNER)
                                    .order_by(Port.created_at)))

    def attached(self, session: Session, router: Router) -> list[Port]:
        """Every port of the router, its gateway's included."""
        gateway = self.gateway.port(session, router)
        return [*self.of(session, router.id), *([gateway] if gateway else [])]

    def attached_subnets(self, session: Session, router: Router) -> list[Subnet]:
        ids = [a.subnet_id for p in self.attached(session, router) for a in p.fixed_ips]
        return list(session.scalars(select(Subnet).where(Subnet.id.in_(ids)))) if ids else []

    # -- add ---------------------------------------------------------------------------
    def add(self, session: Session, ctx: Context, router: Router, body: Any) -> dict:
        subnet_id, port_id = self._ids(body)
        if subnet_id and port_id:
            raise bad_router("Cannot specify both subnet-id and port-id")
        if port_id:
            port = self._adopt(session, ctx, router, port_id)
        else:
            port = self._create(session, ctx, router, subnet_id)
        # No L3 agent will report the port up: the router exists as soon as it is recorded.
        port.status = "ACTIVE"
        touch(router)
        session.flush()
        return views.router_interface(router, port, [a.subnet_id for a in port.fixed_ips])

    def _create(self, session: Session, ctx: Context, router: Router, subnet_id: str) -> Port:
        subnet = self.subnets.get(session, ctx, subnet_id)
        if not subnet.gateway_ip:
            raise bad_router("Subnet for router interface must have a gateway IP")
        self._check_new_subnets(session, router, [subnet])
        network = self.networks.find(session, subnet.network_id)
        return self.ports.create_owned(
            session, network, project_id=router.project_id, device_owner=ROUTER_INTERFACE_OWNER, device_id=router.id,
            fixed_ips=[{"subnet_id": subnet.id, "ip_address": subnet.gateway_ip}], allow_gateway=True)

    def _adopt(self, session: Session, ctx: Context, router: Router, port_id: str) -> Port:
        port = self.ports.get(session, ctx, port_id)
        if port.device_id or port.device_owner.startswith("network:"):
            raise Conflict(f"Unable to complete operation on port {port.id} for network {port.network_id}. Port "
                           f"already has an attached device {port.device_id}.", kind="PortInUse")
        if port.project_id != router.project_id and not ctx.is_admin:
            raise bad_router(f"Cannot add interface to router {router.id}: port {port.id} belongs to another "
                             "project")
        if not port.fixed_ips:
            raise bad_router("Router port must have at least one fixed IP")
        subnets = list(session.scalars(select(Subnet).where(
            Subnet.id.in_([a.subnet_id for a in port.fixed_ips]))))
        if sum(1 for s in subnets if s.ip_version == 4) > 1:
            raise bad_router("Cannot have multiple IPv4 subnets on router port")
        self._check_new_subnets(session, router, subnets)
        port.device_id, port.device_owner = router.id, ROUTER_INTERFACE_OWNER
        return port

    def _check_new_subnets(self, session: Session, router: Router, new: list[Subnet]) -> None:
        """A router reaches each subnet once, and never two overlapping ones (it could not tell where
        to send a packet)."""
        for existing in self.attached_subnets(session, router):
            for subnet in new:
                if subnet.id == existing.id:
                    raise bad_router(f"Router already has a port on subnet {subnet.id}")
                if ipam.cidrs_overlap(subnet.cidr, existing.cidr):
                    raise bad_router(f"Cidr {subnet.cidr} of subnet {subnet.id} overlaps with cidr "
                                     f"{existing.cidr} of subnet {existing.id}")

    # -- remove ------------------------------------------------------------------------
    def remove(self, session: Session, ctx: Context, router: Router, body: Any) -> dict:
        subnet_id, port_id = self._ids(body)
        if port_id:
            port = next((p for p in self.of(session, router.id) if p.id == port_id), None)
            if port is None:
                raise NotFound(f"Router {router.id} does not have an interface with id {port_id}",
                               kind="RouterInterfaceNotFound")
            removed = [a.subnet_id for a in port.fixed_ips]
            if subnet_id and subnet_id not in removed:
                raise self._not_on_subnet(router, subnet_id)
        else:
            port = next((p for p in self.of(session, router.id)
                         if any(a.subnet_id == subnet_id for a in p.fixed_ips)), None)
            if port is None:
                raise self._not_on_subnet(router, subnet_id)
            removed = [subnet_id]
        for subnet in session.scalars(select(Subnet).where(Subnet.id.in_(removed))):
            self._check_unused(session, router, subnet)
        reply = views.router_interface(router, port, removed)
        kept = [a for a in port.fixed_ips if a.subnet_id not in removed]
        if kept:
            port.fixed_ips = kept
        else:
            self.ports.remove(session, port)
        touch(router)
        session.flush()
        return reply

    @staticmethod
    def _not_on_subnet(router: Router, subnet_id: str) -> NotFound:
        return NotFound(f"Router {router.id} has no interface on subnet {subnet_id}",
                        kind="RouterInterfaceNotFoundForSubnet")

    def _check_unused(self, session: Session, router: Router, subnet: Subnet) -> None:
        """Floating IPs, port forwardings and extra routes that reach through a subnet keep its interface
        in place."""
        cidr = ipaddress.ip_network(subnet.cidr)
        fixed = [*session.scalars(select(FloatingIP.fixed_ip_address).where(FloatingIP.router_id == router.id)),
                 *_forwarded_addresses(session, router.id)]
        if any(ip and ipaddress.ip_address(ip) in cidr for ip in fixed):
            raise Conflict(f"Router interface for subnet {subnet.id} on router {router.id} cannot be deleted, as "
                           "it is required by one or more floating IPs.", kind="RouterInterfaceInUseByFloatingIP")
        if any(ipaddress.ip_address(r["nexthop"]) in cidr for r in router.routes):
            raise Conflict(f"Router interface for subnet {subnet.id} on router {router.id} cannot be deleted, as "
                           "it is required by one or more routes.", kind="RouterInterfaceInUseByRoute")

    # -- shared ------------------------------------------------------------------------
    @staticmethod
    def _ids(body: Any) -> tuple[str | None, str | None]:
        if not isinstance(body, dict) or not ({"subnet_id", "port_id"} & body.keys()):
            raise bad_router("Either subnet_id or port_id must be specified")
        found = []
        for key in ("subnet_id", "port_id"):
            value = body.get(key)
            if key in body and (not isinstance(value, str) or not _is_uuid(value)):
                raise bad_router(f"'{value}' is not a valid UUID")
            found.append(value)
        return found[0], found[1]


def _forwarded_addresses(session: Session, router_id: str) -> list[str]:
    """Internal addresses port forwardings reach through ``router_id`` (they keep its interfaces in place)."""
    return list(session.scalars(select(PortForwarding.internal_ip_address).join(
        FloatingIP, FloatingIP.id == PortForwarding.floatingip_id).where(FloatingIP.router_id == router_id)))


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
