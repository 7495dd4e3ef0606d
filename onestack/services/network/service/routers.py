"""Routers (Neutron's ``router``, ``ext-gw-mode``, ``extraroute`` and ``router_availability_zone``).

The gateway lives in ``router_gateway.py`` and the interfaces in ``router_interfaces.py``; this module
holds the resource itself and its extra routes.  ``distributed`` and ``ha`` are not offered: on one
node with ML2 neither can be true, so, like Neutron without the ``dvr`` and ``l3-ha`` extensions,
the attributes do not exist (asking for them is a 400).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, aliased

from onestack.config import NetworkSettings
from onestack.db.engine import Database
from onestack.http.context import Context
from onestack.http.errors import BadRequest, Conflict, NotFound
from onestack.services.network import policies, schemas, views
from onestack.services.network.models import ROUTER_INTERFACE_OWNER, FloatingIP, IPAllocation, Port, Router
from onestack.services.network.service import ipam
from onestack.services.network.service.collection import Collection
from onestack.services.network.service.quotas import Quotas
from onestack.services.network.service.router_gateway import RouterGateway
from onestack.services.network.service.router_interfaces import RouterInterfaces


class Routers(Collection):
    singular, plural, kind, model = "router", "routers", "Router", Router
    table = schemas.ROUTERS

    def __init__(self, db: Database, settings: NetworkSettings, quotas: Quotas, gateway: RouterGateway,
                 interfaces: RouterInterfaces):
        super().__init__(db, quotas)
        self.settings = settings
        self.gateway, self.interfaces = gateway, interfaces

    def render(self, session: Session, ctx: Context, row: Router) -> dict:
        return views.router(row, gateway=self.gateway.port(session, row))

    def create(self, session: Session, ctx: Context, body: dict) -> Router:
        row = self.new_row(ctx, body, admin_state_up=body["admin_state_up"], status="ACTIVE", routes=[],
                           enable_snat=True, availability_zone_hints=self._zones(body["availability_zone_hints"]))
        self.admit(session, ctx, row)
        session.add(row)
        session.flush()
        if body.get("external_gateway_info"):
            self.gateway.set(session, ctx, row, body["external_gateway_info"])
        return row

    @staticmethod
    def _zones(hints: list[str]) -> list[str]:
        for zone in hints:
            if zone not in views.AVAILABILITY_ZONES:
                raise NotFound(f"AvailabilityZone {zone} could not be found.", kind="AvailabilityZoneNotFound")
        return list(dict.fromkeys(hints))

    def update(self, session: Session, ctx: Context, row: Router, changes: dict) -> None:
        if "external_gateway_info" in changes:
            self.gateway.set(session, ctx, row, changes.pop("external_gateway_info"))
        if "routes" in changes:
            row.routes = self.checked_routes(session, row, changes.pop("routes") or [])
        super().update(session, ctx, row, changes)

    def checked_routes(self, session: Session, row: Router, wanted: list[dict]) -> list[dict]:
        """Extra routes as Neutron accepts them: each next hop on a subnet the router is attached to
        (and not one of the router's own addresses), at most ``max_routes`` of them."""
        routes = ipam.routes(wanted)
        limit = self.settings.max_routes
        if len(routes) > limit:
            raise BadRequest(f"Unable to complete operation for {row.id}. The number of routes exceeds the maximum "
                             f"{limit}.", kind="RoutesExhausted")
        interfaces = self.interfaces
        cidrs = [ipaddress.ip_network(s.cidr) for s in interfaces.attached_subnets(session, row)]
        own = {a.ip_address for p in interfaces.attached(session, row) for a in p.fixed_ips}
        for route in routes:
            nexthop = ipaddress.ip_address(route["nexthop"])
            if route["nexthop"] in own:
                raise self._invalid_route(route, "the nexthop is used by router")
            if not any(nexthop in cidr for cidr in cidrs):
                raise self._invalid_route(route, "the nexthop is not connected with router")
        return routes

    @staticmethod
    def _invalid_route(route: dict, reason: str) -> BadRequest:
        return BadRequest(f"Invalid format for routes: [{route}], {reason}.", kind="InvalidRoutes")

    # -- actions (``PUT /v2.0/routers/{id}/<action>``), each one transaction ----------------------
    def _act(self, ctx: Context, ident: str, action: str, work: Callable[[Session, Router], dict]) -> dict:
        """``work(session, router)`` on a router ``ctx`` sees, if policy lets it ``action`` (Neutron's
        ``update_router`` rule under the action's own name).  Run again whole when a concurrent change to a row
        it changes (the interface's port, say) won (``write_retrying``)."""
        def on_router(session: Session) -> dict:
            router = self.get(session, ctx, ident)
            policies.authorize(ctx, "update", self.singular, self.target(router), action=action)
            return work(session, router)

        return self.db.write_retrying(on_router)

    def add_interface(self, ctx: Context, ident: str, body: Any) -> dict:
        return self._act(ctx, ident, "add_router_interface",
                        lambda session, router: self.interfaces.add(session, ctx, router, body))

    def remove_interface(self, ctx: Context, ident: str, body: Any) -> dict:
        return self._act(ctx, ident, "remove_router_interface",
                        lambda session, router: self.interfaces.remove(session, ctx, router, body))

    def edit_routes(self, ctx: Context, ident: str, action: str,
                    combine: Callable[[list[dict], list[dict]], list[dict]], asked: list[dict]) -> dict:
        """extraroute-atomic: the router's routes become ``combine(current, asked)`` in one transaction,
        whatever else edits them meanwhile; returns the router as ``ctx`` sees it."""
        def work(session: Session, router: Router) -> dict:
            router.routes = self.checked_routes(session, router, combine(router.routes, ipam.routes(asked)))
            session.flush()
            return self.table.shown(self.view(session, ctx, router), [], ctx.is_admin)

        return self._act(ctx, ident, action, work)

    def delete(self, session: Session, ctx: Context, row: Router) -> None:
        if self.interfaces.of(session, row.id):
            raise Conflict(f"Router {row.id} still has ports", kind="RouterInUse")
        # Floating IPs cannot point here without an interface; a stale reference must not block the delete.
        session.execute(update(FloatingIP).where(FloatingIP.router_id == row.id)
                        .values(router_id=None, port_id=None, fixed_ip_address=None))
        self.gateway.clear(session, row, moving=True)
        session.delete(row)

    @staticmethod
    def with_gateway_on(session: Session, network_id: str, subnet_id: str) -> Router | None:
        """A router that connects ``subnet_id`` to the external network ``network_id`` (where a floating
        IP's traffic to a port on that subnet goes)."""
        on_subnet = select(Port.device_id).join(IPAllocation, IPAllocation.port_id == Port.id).where(
            Port.device_owner == ROUTER_INTERFACE_OWNER, IPAllocation.subnet_id == subnet_id)
        gateway = aliased(Port)
        return session.scalar(select(Router).join(gateway, gateway.id == Router.gw_port_id).where(
            gateway.network_id == network_id, Router.id.in_(on_subnet)).order_by(Router.created_at).limit(1))
