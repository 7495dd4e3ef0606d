"""What DevStack gives a new cloud: an external flat network ``public`` (physical network ``public``,
bridged to the host's ``br-ex``, which holds its gateway address) with a floating-IP pool, a
``private`` network and subnet for project demo, and router ``router1`` joining them.

Made once, at the cloud's first start, through the same collections the API uses (so IPAM, DHCP
ports and segments are as if a user had made them); each step finds its resource by name first, so
a start cut short finishes the job at the next start and an operator's deletions stay deleted
once the marker is written.
"""

from __future__ import annotations

from sqlalchemy import select

from onestack.db.engine import Database
from onestack.http.context import Context
from onestack.services.network.models import Network, Router, Subnet
from onestack.services.network.service.collection import Collection
from onestack.services.network.service.networks import Networks
from onestack.services.network.service.router_interfaces import RouterInterfaces
from onestack.services.network.service.routers import Routers
from onestack.services.network.service.subnets import Subnets

PUBLIC = {"name": "public", "router:external": True, "provider:network_type": "flat",
          "provider:physical_network": "public"}
PUBLIC_SUBNET = {"name": "public-subnet", "ip_version": 4, "cidr": "172.24.4.0/24", "gateway_ip": "172.24.4.1",
                 "enable_dhcp": False, "allocation_pools": [{"start": "172.24.4.2", "end": "172.24.4.254"}]}
PRIVATE = {"name": "private"}
PRIVATE_SUBNET = {"name": "private-subnet", "ip_version": 4, "cidr": "10.0.0.0/26"}
ROUTER = "router1"


def _context(project_id: str) -> Context:
    return Context(user_id="", user_domain_id="default", project_id=project_id,
                   roles=frozenset({"admin", "member", "reader"}))


def _create(session, coll: Collection, ctx: Context, body: dict):
    return coll.create(session, ctx, coll.table.check(body, creating=True, is_admin=True))


def ensure(db: Database, networks: Networks, subnets: Subnets, routers: Routers, interfaces: RouterInterfaces,
           admin_project_id: str, demo_project_id: str) -> None:
    admin, demo = _context(admin_project_id), _context(demo_project_id)
    with db.write() as session:
        def named(model, name: str, project_id: str):
            return session.scalar(select(model).where(model.name == name, model.project_id == project_id))

        public = named(Network, "public", admin_project_id) or _create(session, networks, admin, PUBLIC)
        if named(Subnet, "public-subnet", admin_project_id) is None:
            _create(session, subnets, admin, {"network_id": public.id, **PUBLIC_SUBNET})
        private = named(Network, "private", demo_project_id) or _create(session, networks, demo, PRIVATE)
        subnet = named(Subnet, "private-subnet", demo_project_id) or _create(
            session, subnets, demo, {"network_id": private.id, **PRIVATE_SUBNET})
        if named(Router, ROUTER, demo_project_id) is None:
            router = _create(session, routers, demo, {
                "name": ROUTER, "external_gateway_info": {"network_id": public.id}})
            interfaces.add(session, demo, router, {"subnet_id": subnet.id})
