"""The network service: its resources, their shared quota counter, and the settings they read."""

from __future__ import annotations

from onestack.config import Settings
from onestack.db.engine import Database
from onestack.services.network.address_scopes import AddressScopes
from onestack.services.network.floatingips import FloatingIPs
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
from onestack.services.network.networks import Networks
from onestack.services.network.port_forwardings import PortForwardings
from onestack.services.network.ports import Ports
from onestack.services.network.quotas import Quotas
from onestack.services.network.rbac_policies import RBACPolicies
from onestack.services.network.router_gateway import RouterGateway
from onestack.services.network.router_interfaces import RouterInterfaces
from onestack.services.network.routers import Routers
from onestack.services.network.security_groups import SecurityGroupRules, SecurityGroups
from onestack.services.network.subnetpools import SubnetPools
from onestack.services.network.subnets import Subnets

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
        self.quotas = Quotas(self.settings, COUNTED)
        # Where each subnet's next automatic address search starts (see ipam.pick).
        self.address_hints: dict[str, int] = {}
        self.networks = Networks(self)
        self.subnets = Subnets(self)
        self.ports = Ports(self)
        self.security_groups = SecurityGroups(self)
        self.security_group_rules = SecurityGroupRules(self)
        self.subnetpools = SubnetPools(self)
        self.address_scopes = AddressScopes(self)
        self.rbac_policies = RBACPolicies(self)
        self.routers = Routers(self)
        self.router_gateway = RouterGateway(self)
        self.router_interfaces = RouterInterfaces(self)
        self.floatingips = FloatingIPs(self)
        self.port_forwardings = PortForwardings(self)

        self._by_plural = {c.plural: getattr(self, c.plural) for c in COLLECTIONS}

    def collection(self, plural: str):
        return self._by_plural[plural]
