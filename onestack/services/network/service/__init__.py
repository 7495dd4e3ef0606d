"""The network service: its resources, each given the few others it calls, their shared quotas and
the settings they read."""

from __future__ import annotations

from onestack.config import Settings
from onestack.db.engine import Database
from onestack.services.network.models import (
    AddressScope,
    FloatingIP,
    Network,
    Port,
    RBACPolicy,
    Router,
    SecurityGroup,
    SecurityGroupRule,
    Subnet,
    SubnetPool,
)
from onestack.services.network.service import defaults
from onestack.services.network.service.address_scopes import AddressScopes
from onestack.services.network.service.collection import Collection
from onestack.services.network.service.floatingips import FloatingIPs
from onestack.services.network.service.networks import Networks
from onestack.services.network.service.port_bindings import PortBindings
from onestack.services.network.service.port_forwardings import PortForwardings
from onestack.services.network.service.ports import Ports
from onestack.services.network.service.quotas import Quotas
from onestack.services.network.service.rbac_policies import RBACPolicies
from onestack.services.network.service.router_gateway import RouterGateway
from onestack.services.network.service.router_interfaces import RouterInterfaces
from onestack.services.network.service.routers import Routers
from onestack.services.network.service.security_groups import SecurityGroupRules, SecurityGroups
from onestack.services.network.service.subnetpools import SubnetPools
from onestack.services.network.service.subnets import Subnets

# Resources in the order their routes are declared.
COLLECTIONS = (Networks, Subnets, Ports, SecurityGroups, SecurityGroupRules, SubnetPools, AddressScopes,
               RBACPolicies, Routers, FloatingIPs)
COUNTED = {"network": Network, "subnet": Subnet, "port": Port, "router": Router, "floatingip": FloatingIP,
           "security_group": SecurityGroup, "security_group_rule": SecurityGroupRule, "subnetpool": SubnetPool,
           "address_scope": AddressScope, "rbac_policy": RBACPolicy}


class NetworkService:
    def __init__(self, db: Database, settings: Settings):
        self.db = db
        self.settings = settings.network
        quotas = self.quotas = Quotas(db, self.settings, COUNTED)
        self.networks = Networks(db, self.settings, quotas)
        self.security_groups = SecurityGroups(db, quotas)
        self.security_group_rules = SecurityGroupRules(db, quotas, self.security_groups)
        self.address_scopes = AddressScopes(db, quotas)
        self.subnetpools = SubnetPools(db, quotas, self.address_scopes)
        self.ports = Ports(db, self.settings, quotas, self.networks, self.security_groups)
        self.subnets = Subnets(db, self.settings, quotas, self.networks, self.ports, self.subnetpools)
        self.router_gateway = RouterGateway(self.networks, self.ports)
        self.router_interfaces = RouterInterfaces(self.networks, self.subnets, self.ports, self.router_gateway)
        self.routers = Routers(db, self.settings, quotas, self.router_gateway, self.router_interfaces)
        self.floatingips = FloatingIPs(db, quotas, self.networks, self.ports)
        self.port_forwardings = PortForwardings(db, self.floatingips, self.ports)
        self.port_bindings = PortBindings(db, self.ports)
        self.rbac_policies = RBACPolicies(db, quotas, {
            "network": self.networks, "subnetpool": self.subnetpools, "address_scope": self.address_scopes,
            "security_group": self.security_groups})

        self._by_plural: dict[str, Collection] = {c.plural: getattr(self, c.plural) for c in COLLECTIONS}

    def collection(self, plural: str) -> Collection:
        return self._by_plural[plural]

    def ensure_defaults(self, admin_project_id: str, demo_project_id: str) -> None:
        """DevStack's public and private networks and router1 (see ``defaults``)."""
        defaults.ensure(self.db, self.networks, self.subnets, self.routers, self.router_interfaces,
                        admin_project_id, demo_project_id)
