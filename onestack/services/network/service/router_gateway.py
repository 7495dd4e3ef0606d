"""A router's external gateway: the port it holds on an external network, and whether it SNATs.

The gateway port belongs to no project (``project_id`` ""), as in Neutron, so only admins see it in
port lists; its device_id is the router.  ``enable_snat`` and ``external_fixed_ips`` are admin-only to
set, as Neutron's default policy says; members only choose the network.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.http.context import Context
from onestack.http.errors import BadRequest, Conflict, Forbidden
from onestack.services.network.models import ROUTER_GATEWAY_OWNER, FloatingIP, Port, Router
from onestack.services.network.service.networks import Networks
from onestack.services.network.service.ports import Ports

ADMIN_ONLY = ("enable_snat", "external_fixed_ips")


def bad_router(message: str) -> BadRequest:
    return BadRequest(f"Bad router request: {message}.", kind="BadRequest")


class RouterGateway:
    def __init__(self, networks: Networks, ports: Ports):
        self.networks, self.ports = networks, ports

    @staticmethod
    def port(session: Session, router: Router) -> Port | None:
        return session.get(Port, router.gw_port_id) if router.gw_port_id else None

    def set(self, session: Session, ctx: Context, router: Router, info: dict | None) -> None:
        """Apply ``external_gateway_info``: ``{}`` or null clears it, another network moves it, the same
        network keeps the port unless other addresses are asked for."""
        info = info or {}
        if not info.get("network_id"):
            if info:
                raise bad_router("external_gateway_info requires a network_id")
            self.clear(session, router)
            return
        denied = [k for k in ADMIN_ONLY if k in info]
        if denied and not ctx.is_admin:
            raise Forbidden(f"(rule:update_router:external_gateway_info:{denied[0]}) is disallowed by policy",
                            kind="PolicyNotAuthorized")
        network = self.networks.get(session, ctx, info["network_id"])
        if not network.external:
            raise bad_router(f"Network {network.id} is not an external network")
        current = self.port(session, router)
        wanted_ips = info.get("external_fixed_ips")
        same_network = current is not None and current.network_id == network.id
        if not same_network or (wanted_ips is not None and not self._holds(current, wanted_ips)):
            self.clear(session, router, moving=same_network)
            port = self.ports.create_owned(session, network, project_id="", device_owner=ROUTER_GATEWAY_OWNER,
                                               device_id=router.id, fixed_ips=wanted_ips)
            if not port.fixed_ips:
                raise bad_router(f"No IPs available for external network {network.id}")
            # There is no L3 agent to report the port up: the router exists as soon as it is recorded.
            port.status = "ACTIVE"
            router.gw_port_id = port.id
        # Neutron's ext-gw-mode: SNAT is on unless asked otherwise, on every gateway change.
        router.enable_snat = info.get("enable_snat", True)

    @staticmethod
    def _holds(port: Port, wanted: list[dict]) -> bool:
        """Whether the port already has exactly the addresses asked for (then nothing changes)."""
        if len(wanted) != len(port.fixed_ips):
            return False
        have = port.fixed_ips
        return all(any(w.get("subnet_id", a.subnet_id) == a.subnet_id and w.get("ip_address", a.ip_address)
                       == a.ip_address for a in have) for w in wanted)

    def clear(self, session: Session, router: Router, moving: bool = False) -> None:
        """Drop the gateway port, refused while floating IPs reach the router through it (unless the
        port is only being replaced on the same network)."""
        port = self.port(session, router)
        if port is None:
            return
        if not moving:
            used = session.scalar(select(FloatingIP.id).where(FloatingIP.router_id == router.id,
                                                              FloatingIP.floating_network_id == port.network_id)
                                  .limit(1))
            if used is not None:
                raise Conflict(f"Gateway cannot be updated for router {router.id}, since a gateway to external "
                               f"network {port.network_id} is required by one or more floating IPs.",
                               kind="RouterExternalGatewayInUseByFloatingIp")
        router.gw_port_id = None
        session.flush()
        self.ports.remove(session, port)
        session.flush()
