"""The network service as other services see it (``public.Network``), over its collections and tables.

Changes made as a caller go the way the network API's own routes make them: the attribute table checks
the body, the collection applies its rules, policy and quotas, and a create that lost a race for an
address is tried again.  Reads answer plain values (``public``), never rows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from onestack.http.context import Context
from onestack.services.network.models import (
    FloatingIP,
    IPAllocation,
    Network,
    Port,
    PortBinding,
    SecurityGroup,
    SecurityGroupRule,
)
from onestack.services.network.public import (
    FixedIP,
    FloatingIPInfo,
    NetworkInfo,
    PortInfo,
    SecurityGroupInfo,
    SecurityGroupRuleInfo,
)
from onestack.services.network.service import NetworkService
from onestack.services.network.service.collection import Collection

# As many attempts as the network API gives a create whose address a racing transaction took.
CREATE_ATTEMPTS = 5


def _network(row: Network) -> NetworkInfo:
    return NetworkInfo(id=row.id, name=row.name, mtu=row.mtu, external=row.external,
                       port_security_enabled=row.port_security_enabled)


class NetworkFacade:
    def __init__(self, net: NetworkService):
        self.net = net
        self.db = net.db

    # -- networks ---------------------------------------------------------------------------------
    def networks(self, ctx: Context, *, external: bool | None = None) -> list[NetworkInfo]:
        with self.db.read() as session:
            stmt = select(Network).order_by(Network.created_at, Network.id)
            if external is not None:
                stmt = stmt.where(Network.external.is_(external))
            scope = self.net.networks.scope(session, ctx)
            # unique: a network loads its subnets by a joined eager load
            return [_network(n) for n in session.scalars(stmt if scope is None else stmt.where(scope)).unique()]

    def network(self, ctx: Context, network_id: str) -> NetworkInfo:
        with self.db.read() as session:
            return _network(self.net.networks.get(session, ctx, network_id))

    # -- ports ------------------------------------------------------------------------------------
    def port(self, ctx: Context, port_id: str) -> PortInfo:
        with self.db.read() as session:
            return self._ports(session, [self.net.ports.get(session, ctx, port_id)])[0]

    def device_ports(self, device_ids: list[str]) -> list[PortInfo]:
        if not device_ids:
            return []
        with self.db.read() as session:
            rows = session.scalars(select(Port).where(Port.device_id.in_(device_ids)))
            return self._ports(session, sorted(rows, key=lambda p: p.created_at))

    @staticmethod
    def _ports(session: Session, ports: list[Port]) -> list[PortInfo]:
        """Ports with their networks' names and MTUs, their groups' names and their floating IPs, read at once."""
        if not ports:
            return []
        networks = {n.id: n for n in session.execute(select(Network.id, Network.name, Network.mtu).where(
            Network.id.in_({p.network_id for p in ports})))}
        group_ids = {b.security_group_id for p in ports for b in p.security_groups}
        names = dict(session.execute(select(SecurityGroup.id, SecurityGroup.name)
                                     .where(SecurityGroup.id.in_(group_ids))).all()) if group_ids else {}
        floating: dict[str, dict[str, str]] = {}
        for fip in session.execute(select(FloatingIP.port_id, FloatingIP.fixed_ip_address,
                                          FloatingIP.floating_ip_address)
                                   .where(FloatingIP.port_id.in_([p.id for p in ports]))):
            floating.setdefault(fip.port_id, {})[fip.fixed_ip_address] = fip.floating_ip_address
        found = []
        for port in ports:
            network = networks.get(port.network_id)
            found.append(PortInfo(
                id=port.id, network_id=port.network_id, device_id=port.device_id, device_owner=port.device_owner,
                host_id=port.host_id, mac_address=port.mac_address, status=port.status,
                port_security_enabled=port.port_security_enabled, created_at=port.created_at,
                fixed_ips=tuple(FixedIP(a.subnet_id, a.ip_address) for a in port.fixed_ips),
                security_group_ids=tuple(b.security_group_id for b in port.security_groups),
                security_group_names=tuple(sorted(names[b.security_group_id] for b in port.security_groups)),
                network_name=network.name if network is not None else port.network_id,
                network_mtu=network.mtu if network is not None else None, floating_ips=floating.get(port.id, {})))
        return found

    def create_port(self, ctx: Context, body: dict) -> PortInfo:
        ports = self.net.ports
        checked = ports.table.check(body, creating=True, is_admin=True)
        with self.db.write() as session:
            port = ports.create(session, ctx, checked)
            session.flush()
            return self._ports(session, [port])[0]

    # Compute changes ports from every host (a joined host's reconciler binds, moves and settles its guests'
    # ports) while the controller's API and agents change the same rows: each change below is one
    # read-modify-write run again whole when a concurrent one bumped a port's revision first (write_retrying).
    def bind_port(self, ctx: Context, port_id: str, *, device_id: str, device_owner: str,
                  host: str | None) -> PortInfo:
        ports = self.net.ports

        def work(session: Session) -> PortInfo:
            port = ports.find(session, port_id)
            ports.update(session, ctx, port, {"device_id": device_id, "device_owner": device_owner,
                                              "binding:host_id": host})
            session.flush()
            return self._ports(session, [port])[0]

        return self.db.write_retrying(work)

    def _each_port(self, port_ids: list[str], change: Callable[[Session, Port], None],
                   after: Callable[[Session], None] | None = None) -> None:
        """``change`` every port of ``port_ids`` (then ``after``) in one transaction, run again on a conflict."""
        if not port_ids:
            return

        def work(session: Session) -> None:
            for port in session.scalars(select(Port).where(Port.id.in_(port_ids))):
                change(session, port)
            if after is not None:
                after(session)

        self.db.write_retrying(work)

    def _change_ports(self, port_ids: list[str], **values) -> None:
        def change(_session: Session, port: Port) -> None:
            for key, value in values.items():
                setattr(port, key, value)

        def unbound(session: Session) -> None:  # bound nowhere now: no binding elsewhere either
            session.execute(delete(PortBinding).where(PortBinding.port_id.in_(port_ids)))

        self._each_port(port_ids, change, unbound if values.get("host_id") == "" else None)

    def move_ports(self, port_ids: list[str], host: str | None) -> None:
        def change(session: Session, port: Port) -> None:
            port.host_id = host or ""
            if host:
                self.net.ports.forget_binding(session, port.id, host)

        self._each_port(port_ids, change)

    def add_port_bindings(self, port_ids: list[str], host: str) -> None:
        def change(session: Session, port: Port) -> None:
            if port.host_id and port.host_id != host and session.get(PortBinding, (port.id, host)) is None:
                session.add(PortBinding(port_id=port.id, host=host, vnic_type=port.vnic_type, profile=port.profile))

        self._each_port(port_ids, change)

    def settle_port_bindings(self, port_ids: list[str], host: str | None) -> None:
        bindings = self.net.port_bindings

        def change(session: Session, port: Port) -> None:
            if host and port.host_id != host:
                if session.get(PortBinding, (port.id, host)) is not None:
                    bindings.activate(session, port, host)
                else:
                    port.host_id = host
            for row in bindings.inactive(session, port.id):
                session.delete(row)

        self._each_port(port_ids, change)

    def set_ports_status(self, port_ids: list[str], status: str) -> None:
        self._change_ports(port_ids, status=status)

    def unbind_ports(self, port_ids: list[str]) -> None:
        self._change_ports(port_ids, host_id="", status="DOWN")

    def let_go_ports(self, port_ids: list[str]) -> None:
        self._change_ports(port_ids, device_id="", device_owner="", host_id="", status="DOWN")

    def delete_ports(self, port_ids: list[str]) -> None:
        self._each_port(port_ids, self.net.ports.remove)

    def device_at(self, address: str, network_id: str | None = None, router_id: str | None = None) -> str | None:
        with self.db.read() as session:
            if router_id is not None:
                networks = select(Port.network_id).where(Port.device_id == router_id,
                                                         Port.device_owner.like("network:router_interface%"))
            else:
                networks = select(Network.id).where(Network.id == network_id)
            found = session.scalars(select(Port.device_id).join(IPAllocation, IPAllocation.port_id == Port.id).where(
                IPAllocation.ip_address == address, Port.network_id.in_(networks),
                Port.device_owner.like("compute:%"))).all()
        return found[0] if len(found) == 1 else None

    # -- security groups ----------------------------------------------------------------------------
    def security_group_ids(self, ctx: Context, names: list[str]) -> dict[str, str]:
        groups = self.net.security_groups
        with self.db.write() as session:
            if "default" in names:  # made in this transaction if the project has none yet
                groups.default_id(session, ctx.project_id)
            stmt = select(SecurityGroup.id, SecurityGroup.name)
            scope = groups.scope(session, ctx)
            if scope is not None:
                stmt = stmt.where(scope)
            if ctx.is_admin:  # an admin's context sees every project's groups: use its own
                stmt = stmt.where(SecurityGroup.project_id == ctx.project_id)
            found: dict[str, str] = {}
            for group_id, group_name in session.execute(stmt):
                found.setdefault(group_name, group_id)
                found[group_id] = group_id
            return {n: found[n] for n in names if n in found}

    def security_groups_named(self, ctx: Context, name: str) -> list[SecurityGroupInfo]:
        groups = self.net.security_groups
        with self.db.write() as session:
            groups.default_id(session, ctx.project_id)  # Neutron makes "default" on first need
            found = list(session.scalars(select(SecurityGroup).where(SecurityGroup.project_id == ctx.project_id,
                                                                     SecurityGroup.name == name)))
            if not found:
                group = session.get(SecurityGroup, name)
                if group is not None and groups.visible(session, ctx, group):
                    found = [group]
            return [self._group(session, g) for g in found]

    def security_groups(self, ctx: Context, *, all_projects: bool = False) -> list[SecurityGroupInfo]:
        self.net.security_groups.before_list(ctx)
        with self.db.read() as session:
            stmt = select(SecurityGroup).order_by(SecurityGroup.created_at, SecurityGroup.id)
            if not (all_projects and ctx.is_admin):
                stmt = stmt.where(SecurityGroup.project_id == ctx.project_id)
            return [self._group(session, g) for g in session.scalars(stmt)]

    def security_groups_by_id(self, ids: list[str]) -> list[SecurityGroupInfo]:
        with self.db.read() as session:
            groups = session.scalars(select(SecurityGroup).where(SecurityGroup.id.in_(ids))
                                     .order_by(SecurityGroup.created_at))
            return [self._group(session, g) for g in groups]

    def security_group(self, ctx: Context, group_id: str) -> SecurityGroupInfo:
        with self.db.read() as session:
            return self._group(session, self.net.security_groups.get(session, ctx, group_id))

    def create_security_group(self, ctx: Context, body: dict) -> SecurityGroupInfo:
        return self._create(self.net.security_groups, ctx, body, self._group)

    def update_security_group(self, ctx: Context, group_id: str, changes: dict) -> SecurityGroupInfo:
        return self._update(self.net.security_groups, ctx, group_id, changes, self._group)

    def delete_security_group(self, ctx: Context, group_id: str) -> None:
        self._delete(self.net.security_groups, ctx, group_id)

    def create_security_group_rule(self, ctx: Context, body: dict) -> SecurityGroupRuleInfo:
        return self._create(self.net.security_group_rules, ctx, body, self._rule)

    def delete_security_group_rule(self, ctx: Context, rule_id: str) -> None:
        self._delete(self.net.security_group_rules, ctx, rule_id)

    def set_port_security_groups(self, ctx: Context, groups_by_port: dict[str, list[str]]) -> None:
        ports = self.net.ports
        checked = {port_id: ports.table.check({"security_groups": group_ids}, creating=False, is_admin=ctx.is_admin)
                   for port_id, group_ids in groups_by_port.items()}

        def work(session: Session) -> None:
            for port_id, wanted in checked.items():
                self._apply_update(ports, session, ctx, ports.find(session, port_id), dict(wanted))

        self.db.write_retrying(work)

    @staticmethod
    def _rule(session: Session, rule: SecurityGroupRule) -> SecurityGroupRuleInfo:
        remote = session.get(SecurityGroup, rule.remote_group_id) if rule.remote_group_id else None
        return SecurityGroupRuleInfo(
            id=rule.id, security_group_id=rule.security_group_id, direction=rule.direction, protocol=rule.protocol,
            port_range_min=rule.port_range_min, port_range_max=rule.port_range_max,
            remote_ip_prefix=rule.remote_ip_prefix, remote_group_id=rule.remote_group_id,
            remote_group_name=remote.name if remote is not None else None,
            remote_group_project_id=remote.project_id if remote is not None else None)

    def _group(self, session: Session, group: SecurityGroup) -> SecurityGroupInfo:
        return SecurityGroupInfo(id=group.id, name=group.name, description=group.description,
                                 project_id=group.project_id, rules=tuple(self._rule(session, r) for r in group.rules))

    # -- floating IPs ---------------------------------------------------------------------------------
    def floating_ips(self, project_id: str) -> list[FloatingIPInfo]:
        with self.db.read() as session:
            stmt = select(FloatingIP).where(FloatingIP.project_id == project_id).order_by(
                FloatingIP.created_at, FloatingIP.id)
            return [self._floating_ip(session, f) for f in session.scalars(stmt)]

    def floating_ip(self, ctx: Context, floating_ip_id: str) -> FloatingIPInfo:
        with self.db.read() as session:
            return self._floating_ip(session, self.net.floatingips.get(session, ctx, floating_ip_id))

    def floating_ip_at(self, ctx: Context, address: str) -> FloatingIPInfo | None:
        with self.db.read() as session:
            stmt = select(FloatingIP).where(FloatingIP.floating_ip_address == address)
            scope = self.net.floatingips.scope(session, ctx)
            found = session.scalars(stmt if scope is None else stmt.where(scope)).first()
            return self._floating_ip(session, found) if found is not None else None

    def create_floating_ip(self, ctx: Context, network_id: str) -> FloatingIPInfo:
        return self._create(self.net.floatingips, ctx, {"floating_network_id": network_id}, self._floating_ip)

    def update_floating_ip(self, ctx: Context, floating_ip_id: str, changes: dict) -> FloatingIPInfo:
        return self._update(self.net.floatingips, ctx, floating_ip_id, changes, self._floating_ip)

    def delete_floating_ip(self, ctx: Context, floating_ip_id: str) -> None:
        self._delete(self.net.floatingips, ctx, floating_ip_id)

    @staticmethod
    def _floating_ip(session: Session, fip: FloatingIP) -> FloatingIPInfo:
        network = session.get(Network, fip.floating_network_id)
        port = session.get(Port, fip.port_id) if fip.port_id else None
        return FloatingIPInfo(id=fip.id, floating_ip_address=fip.floating_ip_address,
                              fixed_ip_address=fip.fixed_ip_address, port_id=fip.port_id, project_id=fip.project_id,
                              pool=network.name if network else None,
                              device_id=(port.device_id or None) if port else None)

    # -- changes as the caller, the network API's way ---------------------------------------------------
    def _create(self, coll: Collection, ctx: Context, body: dict, shape: Callable[[Session, Any], Any]) -> Any:
        checked = coll.table.check(body, creating=True, is_admin=ctx.is_admin)
        for attempt in range(CREATE_ATTEMPTS):
            try:
                with self.db.write() as session:
                    row = coll.create(session, ctx, dict(checked))
                    session.flush()
                    return shape(session, row)
            except IntegrityError:
                if attempt == CREATE_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def _update(self, coll: Collection, ctx: Context, ident: str, changes: dict,
                shape: Callable[[Session, Any], Any]) -> Any:
        checked = coll.table.check(changes, creating=False, is_admin=ctx.is_admin)

        def work(session: Session) -> Any:
            row = coll.get(session, ctx, ident)
            self._apply_update(coll, session, ctx, row, dict(checked))
            return shape(session, row)

        return self.db.write_retrying(work)

    @staticmethod
    def _apply_update(coll: Collection, session: Session, ctx: Context, row, checked: dict) -> None:
        coll.authorize(ctx, "update", coll.target(row))
        coll.update(session, ctx, row, checked)
        session.flush()

    def _delete(self, coll: Collection, ctx: Context, ident: str) -> None:
        def work(session: Session) -> None:
            row = coll.get(session, ctx, ident)
            coll.authorize(ctx, "delete", coll.target(row))
            coll.set_tags(session, row.id, [])  # tags live in their own table, as the network API's delete knows
            coll.delete(session, ctx, row)

        self.db.write_retrying(work)
