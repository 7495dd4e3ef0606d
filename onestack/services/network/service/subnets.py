"""Subnets: address ranges, gateways, pools, DHCP options, and the checks Neutron makes on them."""

from __future__ import annotations

import ipaddress

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from onestack.config import NetworkSettings
from onestack.db.engine import Database
from onestack.http.attrmap import MISSING
from onestack.http.context import Context
from onestack.http.errors import BadRequest, Conflict, Forbidden
from onestack.services.network import schemas, views
from onestack.services.network.models import DHCP_OWNER, IPAllocation, Network, Port, Subnet
from onestack.services.network.service import ipam, rbac
from onestack.services.network.service.collection import Collection
from onestack.services.network.service.networks import Networks
from onestack.services.network.service.ports import Ports
from onestack.services.network.service.quotas import Quotas
from onestack.services.network.service.subnetpools import SubnetPools


class Subnets(Collection):
    singular, plural, kind, model = "subnet", "subnets", "Subnet", Subnet
    table = schemas.SUBNETS

    def __init__(self, db: Database, settings: NetworkSettings, quotas: Quotas, networks: Networks, ports: Ports,
                 subnetpools: SubnetPools):
        super().__init__(db, quotas)
        self.settings = settings
        self.networks, self.ports, self.subnetpools = networks, ports, subnetpools

    def project_scope(self, session: Session, ctx: Context):
        # Subnets of networks shared with the caller, or external to it (for its gateways and floating IPs).
        return or_(Subnet.project_id == ctx.project_id, Subnet.network_id.in_(rbac.reachable("network", ctx.project_id)))

    def render(self, session: Session, ctx: Context, row: Subnet) -> dict:
        return views.subnet(row)

    # -- create ------------------------------------------------------------------
    def create(self, session: Session, ctx: Context, body: dict) -> Subnet:
        network = self.networks.get(session, ctx, body["network_id"])
        row = self.new_row(ctx, body, network_id=network.id, ip_version=int(body["ip_version"]))
        self.authorize(ctx, "create", {"project_id": row.project_id})
        if network.project_id != row.project_id and not ctx.is_admin:
            raise Forbidden("Only the network's owner may add subnets to it.", kind="PolicyNotAuthorized")
        self.quotas.check(session, row.project_id, "subnet")
        if body.get("segment_id"):
            raise BadRequest("Segments are not supported by this cloud.", kind="InvalidInput")
        cidr = self._cidr(session, ctx, row, body)
        net = ipam.parse_cidr(cidr)
        if net.version != row.ip_version:
            raise ipam.invalid(f"Cidr {cidr} does not match the IP version {row.ip_version}")
        row.cidr = str(net)
        for other in network.subnets:
            if ipam.cidrs_overlap(other.cidr, row.cidr):
                raise ipam.invalid(f"Requested subnet with cidr: {row.cidr} for network: {network.id} overlaps with "
                                   "another subnet")
        self._modes(row, body, net)
        gateway = body.get("gateway_ip", MISSING)
        row.gateway_ip = ipam.default_gateway(net) if gateway is MISSING else self._gateway(net, gateway)
        pools = body.get("allocation_pools")
        row.allocation_pools = (ipam.check_pools(net, pools, row.gateway_ip) if pools is not None
                                else ipam.default_pools(net, row.gateway_ip))
        row.dns_nameservers = self._nameservers(body["dns_nameservers"], row.ip_version)
        row.host_routes = self._routes(body["host_routes"], row.ip_version)
        row.enable_dhcp, row.service_types = body["enable_dhcp"], body["service_types"]
        row.dns_publish_fixed_ip = body["dns_publish_fixed_ip"]
        network.subnets.append(row)
        session.flush()
        ports = self.ports
        if ipam.is_auto_address(row):
            for port in session.scalars(select(Port).where(Port.network_id == network.id)):
                if not port.device_owner.startswith("network:router"):
                    ports.add_fixed_ip(session, port, row, None)
        if row.enable_dhcp:
            ports.ensure_dhcp(session, network, row)
        return row

    def _cidr(self, session: Session, ctx: Context, row: Subnet, body: dict) -> str:
        pool_id = body.get("subnetpool_id")
        if pool_id is None and body.get("use_default_subnetpool"):
            pool_id = self.subnetpools.default_id(session, row.ip_version)
            if pool_id is None:
                raise BadRequest(f"No default subnetpool found for IPv{row.ip_version}", kind="BadRequest")
        if pool_id is not None:
            row.subnetpool_id = pool_id
            return self.subnetpools.allocate(session, ctx, pool_id, row, body.get("cidr"), body.get("prefixlen"))
        if not body.get("cidr"):
            raise BadRequest("A cidr must be specified in the absence of a subnet pool", kind="BadRequest")
        return body["cidr"]

    @staticmethod
    def _modes(row: Subnet, body: dict, net) -> None:
        ra, address = body.get("ipv6_ra_mode"), body.get("ipv6_address_mode")
        if row.ip_version == 4 and (ra or address):
            raise ipam.invalid("ipv6_ra_mode or ipv6_address_mode cannot be set when enable_dhcp is set to False "
                               "or ip_version is 4")
        if ra and address and ra != address:
            raise ipam.invalid(f"ipv6_ra_mode set to '{ra}' with ipv6_address_mode set to '{address}' is not "
                               "valid. If both attributes are set, they must be the same value")
        if (address or ra) in ipam.AUTO_ADDRESS_MODES and net.prefixlen != 64:
            raise ipam.invalid("Invalid CIDR for IPv6 address mode. OpenStack uses the EUI-64 address format, "
                               "which requires the prefix to be /64")
        if (ra or address) and not body["enable_dhcp"] and (address or ra) != "slaac":
            raise ipam.invalid("ipv6_ra_mode or ipv6_address_mode cannot be set when enable_dhcp is set to False")
        row.ipv6_ra_mode, row.ipv6_address_mode = ra, address

    @staticmethod
    def _gateway(net, gateway: str | None) -> str | None:
        if gateway is None:
            return None
        address = ipam.parse_address(gateway)
        if address.version != net.version:
            raise ipam.invalid("Gateway IP version inconsistent with allocation pool version")
        if address in net and net.version == 4 and net.prefixlen < 31 and address in (
                net.network_address, net.broadcast_address):
            raise ipam.invalid("Gateway is not valid on subnet")
        return str(address)

    def _nameservers(self, servers: list[str], version: int) -> list[str]:
        if len(servers) > self.settings.max_dns_nameservers:
            raise BadRequest(f"Unable to complete operation for the subnet. The number of DNS nameservers exceeds "
                             f"the limit {self.settings.max_dns_nameservers}.", kind="DNSNameServersExhausted")
        seen = []
        for server in servers:
            address = str(ipam.parse_address(server, "nameserver"))
            if address in seen:
                raise ipam.invalid(f"Duplicate nameserver '{server}'")
            seen.append(server)
        return seen

    def _routes(self, routes: list[dict], version: int) -> list[dict]:
        if len(routes) > self.settings.max_subnet_host_routes:
            raise BadRequest("Unable to complete operation for the subnet. The number of host routes exceeds the "
                             f"limit {self.settings.max_subnet_host_routes}.", kind="HostRoutesExhausted")
        return ipam.routes(routes, version)

    # -- update and delete ----------------------------------------------------------
    def update(self, session: Session, ctx: Context, row: Subnet, changes: dict) -> None:
        net = ipaddress.ip_network(row.cidr)
        if "gateway_ip" in changes:
            row.gateway_ip = self._gateway(net, changes.pop("gateway_ip"))
            ipam.check_pools(net, row.allocation_pools, row.gateway_ip)
        if "allocation_pools" in changes:
            row.allocation_pools = ipam.check_pools(net, changes.pop("allocation_pools"), row.gateway_ip)
        if "dns_nameservers" in changes:
            row.dns_nameservers = self._nameservers(changes.pop("dns_nameservers"), row.ip_version)
        if "host_routes" in changes:
            row.host_routes = self._routes(changes.pop("host_routes"), row.ip_version)
        dhcp = changes.pop("enable_dhcp", row.enable_dhcp)
        super().update(session, ctx, row, changes)
        if dhcp != row.enable_dhcp:
            row.enable_dhcp = dhcp
            network = session.get(Network, row.network_id)
            if dhcp:
                self.ports.ensure_dhcp(session, network, row)
            else:
                self.ports.release_dhcp(session, network, row)

    def delete(self, session: Session, ctx: Context, row: Subnet) -> None:
        holders = session.execute(select(Port.id, Port.device_owner).join(
            IPAllocation, IPAllocation.port_id == Port.id).where(IPAllocation.subnet_id == row.id)).all()
        if any(owner != DHCP_OWNER and not ipam.is_auto_address(row) for _, owner in holders) or any(
                owner.startswith("network:router") for _, owner in holders):
            raise Conflict(f"Unable to complete operation on subnet {row.id}: One or more ports have an IP "
                           "allocation from this subnet.", kind="SubnetInUse")
        network = session.get(Network, row.network_id)
        self.ports.release_dhcp(session, network, row)
        self.set_tags(session, row.id, [])
        session.delete(row)
