"""Ports: MAC and fixed IPs, security groups, address pairs, bindings, and the network's own ports
(DHCP, router interfaces and gateways, floating IPs) that the other resources create through here."""

from __future__ import annotations

import ipaddress
import random
import re
import socket
import uuid

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from onestack.config import NetworkSettings
from onestack.db.engine import Database
from onestack.http.context import Context
from onestack.http.errors import BadRequest, Conflict, Forbidden
from onestack.services.network import schemas, views
from onestack.services.network.models import (
    DHCP_OWNER,
    L3_OWNERS,
    IPAllocation,
    Network,
    Port,
    PortBinding,
    PortSecurityGroup,
    SecurityGroup,
    Subnet,
)
from onestack.services.network.service import ipam, rbac, teardown
from onestack.services.network.service.collection import Collection
from onestack.services.network.service.networks import Networks
from onestack.services.network.service.quotas import Quotas
from onestack.services.network.service.security_groups import SecurityGroups

DNS_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


class Ports(Collection):
    singular, plural, kind, model = "port", "ports", "Port", Port
    table = schemas.PORTS

    def __init__(self, db: Database, settings: NetworkSettings, quotas: Quotas, networks: Networks,
                 security_groups: SecurityGroups):
        super().__init__(db, quotas)
        self.settings = settings
        self.networks, self.security_groups = networks, security_groups
        # Where each subnet's next automatic address search starts (see ipam.pick).
        self.address_hints: dict[str, int] = {}

    # -- visibility --------------------------------------------------------------
    def project_scope(self, session: Session, ctx: Context):
        # A network's owner sees every port on it, as Neutron's network_owner rules allow.
        owned = select(Network.id).where(Network.project_id == ctx.project_id)
        return or_(Port.project_id == ctx.project_id, Port.network_id.in_(owned))

    def filter_clause(self, name: str, values: list):
        if name != "fixed_ips":
            return None
        clauses = []
        for value in values:
            key, _, wanted = str(value).partition("=")
            column = {"ip_address": IPAllocation.ip_address, "subnet_id": IPAllocation.subnet_id,
                      "ip_address_substr": IPAllocation.ip_address}.get(key)
            if column is None:
                raise BadRequest(f"Invalid fixed_ips filter '{value}'", kind="HTTPBadRequest")
            cond = column.contains(wanted, autoescape=True) if key == "ip_address_substr" else column == wanted
            clauses.append(Port.id.in_(select(IPAllocation.port_id).where(cond)))
        return clauses

    def render(self, session: Session, ctx: Context, row: Port) -> dict:
        return views.port(row, dns_domain=self.settings.dns_domain)

    # -- create ------------------------------------------------------------------
    def create(self, session: Session, ctx: Context, body: dict) -> Port:
        network = self.networks.get(session, ctx, body["network_id"])
        # Empty collections up front: a new port has nothing to lazy-load.
        row = self.new_row(ctx, body, network_id=network.id, fixed_ips=[], security_groups=[])
        self.authorize(ctx, "create", {"project_id": row.project_id})
        owns_network = ctx.is_admin or network.project_id == ctx.project_id
        if not owns_network and not rbac.granted(session, "network", network.id, row.project_id, rbac.SHARED):
            raise Forbidden(f"Tenant {row.project_id} not allowed to create port on this network",
                            kind="PolicyNotAuthorized")
        if not owns_network and ("mac_address" in body or body["device_owner"].startswith("network:")
                                 or any("ip_address" in f for f in body.get("fixed_ips") or [])):
            raise Forbidden("Only the network's owner may choose MAC and IP addresses or network device owners.",
                            kind="PolicyNotAuthorized")
        self.quotas.check(session, row.project_id, "port")
        self._fill(session, row, network, body)
        self._set_security_groups(session, ctx, row, body.get("security_groups"), creating=True)
        session.add(row)
        self._allocate(session, row, network, body.get("fixed_ips"))
        session.flush()
        return row

    def _fill(self, session: Session, row: Port, network: Network, body: dict) -> None:
        row.mac_address = self._mac(session, network.id, body.get("mac_address"))
        row.admin_state_up, row.device_id, row.device_owner = (body["admin_state_up"], body["device_id"],
                                                               body["device_owner"])
        row.port_security_enabled = body.get("port_security_enabled", network.port_security_enabled)
        row.host_id, row.vnic_type = body.get("binding:host_id") or "", body["binding:vnic_type"]
        row.profile = body.get("binding:profile") or {}
        row.extra_dhcp_opts = self._dhcp_opts(body.get("extra_dhcp_opts") or [])
        row.dns_name = self._dns_name(body["dns_name"])
        row.allowed_address_pairs = self._pairs(row, body.get("allowed_address_pairs") or [])

    def _mac(self, session: Session, network_id: str, wanted: str | None) -> str:
        def used(mac: str) -> bool:
            return session.scalar(select(Port.id).where(Port.network_id == network_id, Port.mac_address == mac)
                                  .limit(1)) is not None

        if wanted is not None:
            mac = wanted.lower().replace("-", ":")
            if int(mac.split(":")[0], 16) & 1 or mac == "00:00:00:00:00:00":
                raise BadRequest(f"'{wanted}' is not a valid MAC address", kind="InvalidInput")
            if used(mac):
                raise Conflict(f"Unable to complete operation for network {network_id}. The mac address {mac} is "
                               "in use.", kind="MacAddressInUse")
            return mac
        # One in 16 million collides; the (network, mac) key then fails the insert and the create is retried.
        base = self.settings.base_mac.split(":")
        return ":".join(base[:3] + [f"{random.randrange(256):02x}" for _ in range(3)])

    def _pairs(self, row: Port, pairs: list[dict]) -> list[dict]:
        if pairs and not row.port_security_enabled:
            raise Conflict("Port Security must be enabled in order to have allowed address pairs on a port.",
                           kind="AddressPairAndPortSecurityRequired")
        if len(pairs) > self.settings.max_allowed_address_pair:
            raise BadRequest(f"The number of allowed address pair exceeds the maximum "
                             f"{self.settings.max_allowed_address_pair}.", kind="AllowedAddressPairExhausted")
        out = []
        for pair in pairs:
            address = pair["ip_address"]
            try:
                parsed = ipaddress.ip_network(address, strict=False) if "/" in address else ipaddress.ip_address(address)
            except ValueError:
                raise BadRequest(f"'{address}' is not a valid IP address", kind="InvalidInput") from None
            entry = {"ip_address": str(parsed), "mac_address": (pair.get("mac_address") or row.mac_address).lower()}
            if entry in out:
                raise BadRequest("Request contains duplicate address pair: "
                                 f"mac_address {entry['mac_address']} ip_address {address}.",
                                 kind="DuplicateAddressPairInRequest")
            out.append(entry)
        return out

    @staticmethod
    def _dhcp_opts(opts: list[dict]) -> list[dict]:
        return [{"opt_name": o["opt_name"], "opt_value": o.get("opt_value"), "ip_version": int(o.get("ip_version", 4))}
                for o in opts if o.get("opt_value") is not None]

    @staticmethod
    def _dns_name(name: str) -> str:
        if name and not all(DNS_LABEL.match(label) for label in name.rstrip(".").split(".")):
            raise BadRequest(f"'{name}' is not a valid dns_name", kind="InvalidInput")
        return name

    # -- security groups -------------------------------------------------------------
    def _set_security_groups(self, session: Session, ctx: Context, row: Port, wanted: list[str] | None,
                             creating: bool) -> None:
        if wanted is None:
            if not creating:
                return
            trusted = row.device_owner.startswith("network:")
            if trusted or not row.port_security_enabled:
                return
            # The project's own default group needs no visibility check.
            default = self.security_groups.default_id(session, row.project_id)
            row.security_groups = [PortSecurityGroup(port_id=row.id, security_group_id=default)]
            return
        wanted = list(dict.fromkeys(wanted))
        if wanted and not row.port_security_enabled:
            raise BadRequest("Port security must be enabled and port must have an IP address in order to use "
                             "security groups.", kind="PortSecurityAndIPRequiredForSecurityGroups")
        # Columns only: loading the groups would load every rule of them too.
        found = {g.id: g for g in session.execute(select(SecurityGroup.id, SecurityGroup.project_id,
                                                             SecurityGroup.shared)
                                                      .where(SecurityGroup.id.in_(wanted)))} if wanted else {}
        for group_id in wanted:
            group = found.get(group_id)
            if group is None or not (ctx.is_admin or group.project_id == row.project_id or group.shared
                                     or rbac.granted(session, "security_group", group_id, row.project_id,
                                                     rbac.SHARED)):
                raise self.security_groups.not_found(group_id)
        row.security_groups = [PortSecurityGroup(port_id=row.id, security_group_id=g) for g in wanted]

    # -- fixed IPs -----------------------------------------------------------------
    def _allocate(self, session: Session, row: Port, network: Network, requested: list[dict] | None) -> None:
        subnets = {s.id: s for s in network.subnets}
        if requested is None:
            for subnet in self._default_subnets(session, network, row.device_owner):
                self.add_fixed_ip(session, row, subnet, None)
            return
        for spec in requested:
            subnet = self._subnet_for(network, subnets, spec)
            wanted = spec.get("ip_address")
            if wanted and ipam.is_auto_address(subnet) and not row.device_owner.startswith("network:router"):
                raise BadRequest(f"IPv6 address {wanted} cannot be directly assigned to a port on subnet "
                                 f"{subnet.id} as the subnet is configured for automatic addresses",
                                 kind="InvalidInput")
            self.add_fixed_ip(session, row, subnet, wanted)

    @staticmethod
    def _subnet_for(network: Network, subnets: dict[str, Subnet], spec: dict) -> Subnet:
        if "subnet_id" in spec:
            subnet = subnets.get(spec["subnet_id"])
            if subnet is None:
                raise BadRequest(f"Invalid input for operation: Failed to create port on network {network.id}, "
                                 f"because fixed_ips included invalid subnet {spec['subnet_id']}.",
                                 kind="InvalidInput")
            return subnet
        if "ip_address" not in spec:
            raise BadRequest("Invalid input for operation: A fixed IP needs a subnet_id or an ip_address.",
                             kind="InvalidInput")
        address = ipam.parse_address(spec["ip_address"])
        for subnet in subnets.values():
            if address in ipaddress.ip_network(subnet.cidr):
                return subnet
        raise BadRequest(f"Invalid input for operation: IP address {spec['ip_address']} is not a valid IP for any "
                         "of the subnets on the specified network.", kind="InvalidIpForNetwork")

    def _default_subnets(self, session: Session, network: Network, device_owner: str) -> list[Subnet]:
        """One IPv4 and one stateful IPv6 subnet with room, and every auto-addressed IPv6 subnet."""
        chosen, have = [], set()
        for subnet in network.subnets:
            if subnet.service_types and device_owner not in subnet.service_types:
                continue
            if ipam.is_auto_address(subnet):
                if not device_owner.startswith("network:router"):
                    chosen.append(subnet)
                continue
            if subnet.ip_version in have:
                continue
            chosen.append(subnet)
            have.add(subnet.ip_version)
        return chosen

    def add_fixed_ip(self, session: Session, port: Port, subnet: Subnet, wanted: str | None,
                     allow_gateway: bool = False) -> IPAllocation:
        with session.no_autoflush:  # the port's row goes in with its addresses, in one flush
            address = ipam.pick(session, subnet, wanted, port.mac_address, allow_gateway, self.address_hints)
        alloc = IPAllocation(subnet_id=subnet.id, ip_address=address, port_id=port.id, network_id=port.network_id,
                             order=len(port.fixed_ips))
        port.fixed_ips.append(alloc)
        session.flush()
        return alloc

    # -- update and delete -------------------------------------------------------------
    def update(self, session: Session, ctx: Context, row: Port, changes: dict) -> None:
        network = session.get(Network, row.network_id)
        owns_network = ctx.is_admin or network.project_id == ctx.project_id
        if not owns_network and (any("ip_address" in f for f in changes.get("fixed_ips") or [])
                                 or str(changes.get("device_owner", "")).startswith("network:")):
            raise Forbidden("Only the network's owner may choose IP addresses or network device owners.",
                            kind="PolicyNotAuthorized")
        if "mac_address" in changes:
            if not ctx.is_admin:
                raise Forbidden("Only admins may change a port's MAC address.", kind="PolicyNotAuthorized")
            if row.host_id:
                raise Conflict(f"Unable to complete operation on port {row.id}, port is already bound, port type: "
                               "bridge", kind="PortBound")
            row.mac_address = self._mac(session, row.network_id, changes.pop("mac_address"))
        if "port_security_enabled" in changes:
            row.port_security_enabled = changes.pop("port_security_enabled")
        if not row.port_security_enabled:
            groups = changes.get("security_groups", [g.security_group_id for g in row.security_groups])
            if groups:
                raise Conflict("Port has security group associated. Cannot disable port security or ip address "
                               "until security group is removed", kind="PortSecurityPortHasSecurityGroup")
            if changes.get("allowed_address_pairs", row.allowed_address_pairs):
                raise Conflict("Port Security must be enabled in order to have allowed address pairs on a port.",
                               kind="AddressPairAndPortSecurityRequired")
        if "security_groups" in changes:
            self._set_security_groups(session, ctx, row, changes.pop("security_groups"), creating=False)
        if "allowed_address_pairs" in changes:
            row.allowed_address_pairs = self._pairs(row, changes.pop("allowed_address_pairs"))
        if "extra_dhcp_opts" in changes:
            row.extra_dhcp_opts = self._merge_dhcp_opts(row.extra_dhcp_opts, changes.pop("extra_dhcp_opts"))
        if "dns_name" in changes:
            row.dns_name = self._dns_name(changes.pop("dns_name"))
        if "binding:profile" in changes:
            row.profile = changes.pop("binding:profile") or {}
        if "fixed_ips" in changes:
            self._reallocate(session, row, network, changes.pop("fixed_ips"))
        if changes.get("binding:host_id"):
            self.forget_binding(session, row.id, changes["binding:host_id"])
        super().update(session, ctx, row, changes)

    @staticmethod
    def forget_binding(session: Session, port_id: str, host: str) -> None:
        """The port is bound to ``host`` now: an inactive binding there (``port_bindings``) would repeat it."""
        session.execute(delete(PortBinding).where(PortBinding.port_id == port_id, PortBinding.host == host))

    @staticmethod
    def _merge_dhcp_opts(current: list[dict], changes: list[dict]) -> list[dict]:
        """Neutron updates options by name: a null value removes one, others replace or add."""
        merged = {(o["opt_name"], o["ip_version"]): o for o in current}
        for opt in changes:
            key = (opt["opt_name"], int(opt.get("ip_version", 4)))
            if opt.get("opt_value") is None:
                merged.pop(key, None)
            else:
                merged[key] = {"opt_name": key[0], "opt_value": opt["opt_value"], "ip_version": key[1]}
        return list(merged.values())

    def _reallocate(self, session: Session, row: Port, network: Network, requested: list[dict]) -> None:
        subnets = {s.id: s for s in network.subnets}
        keep, wanted = [], []
        for spec in requested:
            subnet = self._subnet_for(network, subnets, spec)
            match = next((a for a in row.fixed_ips if a.subnet_id == subnet.id and a not in keep and
                          spec.get("ip_address") in (None, a.ip_address)), None)
            if match is not None and ("ip_address" in spec or ipam.is_auto_address(subnet)):
                keep.append(match)
            elif match is not None and not any(s.get("subnet_id") == subnet.id and "ip_address" not in s
                                               for s in wanted):
                keep.append(match)
            else:
                wanted.append(spec)
        for alloc in [a for a in row.fixed_ips if a not in keep]:
            row.fixed_ips.remove(alloc)
        session.flush()
        for spec in wanted:
            self.add_fixed_ip(session, row, self._subnet_for(network, subnets, spec), spec.get("ip_address"))

    def delete(self, session: Session, ctx: Context, row: Port) -> None:
        if row.device_owner in L3_OWNERS:
            raise Conflict(f"Port {row.id} cannot be deleted directly via the port API: has device owner "
                           f"{row.device_owner}.", kind="ServicePortInUse")
        self.remove(session, row)

    def remove(self, session: Session, row: Port) -> None:
        """Delete a port whatever owns it, first letting go of the floating IPs that point at it."""
        teardown.remove_port(session, row)

    # -- the network's own ports -----------------------------------------------------------
    def create_owned(self, session: Session, network: Network, *, project_id: str, device_owner: str,
                     device_id: str, fixed_ips: list[dict] | None = None, allow_gateway: bool = False) -> Port:
        """A port the cloud makes for itself (DHCP, router interface or gateway, floating IP)."""
        row = Port(id=str(uuid.uuid4()), project_id=project_id, network_id=network.id, device_owner=device_owner,
                   device_id=device_id, description="", name="", port_security_enabled=False, dns_name="",
                   profile={}, allowed_address_pairs=[], extra_dhcp_opts=[], host_id="", vnic_type="normal",
                   status="DOWN", admin_state_up=True, security_groups=[], fixed_ips=[])
        row.mac_address = self._mac(session, network.id, None)
        session.add(row)
        if fixed_ips is None:
            self._allocate(session, row, network, None)
        else:
            subnets = {s.id: s for s in network.subnets}
            for spec in fixed_ips:
                self.add_fixed_ip(session, row, self._subnet_for(network, subnets, spec), spec.get("ip_address"),
                                  allow_gateway)
        session.flush()
        return row

    def ensure_dhcp(self, session: Session, network: Network, subnet: Subnet) -> None:
        port = self._dhcp_port(session, network.id)
        if port is None:
            host = uuid.uuid5(uuid.NAMESPACE_DNS, socket.gethostname())
            self.create_owned(session, network, project_id=network.project_id, device_owner=DHCP_OWNER,
                              device_id=f"dhcp{host}-{network.id}", fixed_ips=[{"subnet_id": subnet.id}])
        elif not any(a.subnet_id == subnet.id for a in port.fixed_ips):
            self.add_fixed_ip(session, port, subnet, None)

    def release_dhcp(self, session: Session, network: Network, subnet: Subnet) -> None:
        port = self._dhcp_port(session, network.id)
        if port is None:
            return
        for alloc in [a for a in port.fixed_ips if a.subnet_id == subnet.id]:
            port.fixed_ips.remove(alloc)
        session.flush()
        if not port.fixed_ips:
            session.delete(port)

    @staticmethod
    def _dhcp_port(session: Session, network_id: str) -> Port | None:
        return session.scalar(select(Port).where(Port.network_id == network_id, Port.device_owner == DHCP_OWNER))
