"""What compute asks of the network service: checking requested networks, and the instance's ports.

Requests are checked with the caller's own context (a project can only boot on networks it may
use); the ports are then created and bound by the engine with the cloud's authority, because
binding (``binding:host_id``) is an admin attribute, as it is when Nova calls Neutron.
"""

from __future__ import annotations

from sqlalchemy import select

from onestack.drivers.compute import NIC
from onestack.http.context import Context
from onestack.http.errors import BadRequest, Conflict, NotFound
from onestack.services.compute.models import Instance
from onestack.services.network.models import (
    FloatingIP,
    IPAllocation,
    Network,
    Port,
    SecurityGroup,
)
from onestack.services.network.service import NetworkService

OWNER = "compute:nova"


def service_context(instance: Instance) -> Context:
    return Context(user_id=instance.user_id, user_domain_id="default", project_id=instance.project_id,
                   roles=frozenset({"admin", "member", "reader"}))


class InstanceNetworking:
    def __init__(self, network: NetworkService):
        self.network = network
        # Hosts whose ports the network data plane reports ACTIVE once it has wired them.
        self.wired_hosts: set[str] = set()

    # -- at the API: what the caller asked for, checked as the caller ------------------------------
    def requested(self, ctx: Context, networks) -> list[dict] | str:
        """``networks`` of a create request, resolved to ``[{"network_id"|"port_id", "fixed_ip"?}]``."""
        net = self.network
        with net.db.read() as session:
            if networks in ("none",):
                return []
            if networks is None or networks == "auto":
                stmt = select(Network.id).where(Network.external.is_(False))
                scope = net.networks.scope(session, ctx)
                visible = session.scalars(stmt if scope is None else stmt.where(scope)).all()
                if len(visible) > 1:
                    raise Conflict("Multiple possible networks found, use a Network ID to be more specific.")
                return [{"network_id": visible[0]}] if visible else []
            found = []
            for entry in networks:
                if entry.get("port"):
                    port = net.ports.get(session, ctx, entry["port"])
                    if port.device_id:
                        raise Conflict(f"Port {port.id} is still in use.")
                    found.append({"port_id": port.id})
                    continue
                try:
                    network = net.networks.get(session, ctx, entry["uuid"])
                except NotFound:
                    raise BadRequest(f"Network {entry['uuid']} could not be found.") from None
                item = {"network_id": network.id}
                if entry.get("fixed_ip"):
                    item["fixed_ip"] = entry["fixed_ip"]
                found.append(item)
            return found

    def check_security_groups(self, session, ctx: Context, names: list[str]) -> None:
        """Every group a create names must be one the caller's project may use (Nova's 400 otherwise);
        runs in the create's own transaction (the database is one, and SQLite's writer lock is not re-entrant)."""
        if "default" in names:
            self.network.security_groups.default_id(session, ctx.project_id)
        self._group_ids(session, ctx, names)

    def _group_ids(self, session, ctx: Context, names: list[str]) -> list[str]:
        groups = self.network.security_groups
        stmt = select(SecurityGroup.id, SecurityGroup.name)
        scope = groups.scope(session, ctx)
        if scope is not None:
            stmt = stmt.where(scope)
        if ctx.is_admin:  # an admin's context sees every project's groups: use the instance's own
            stmt = stmt.where(SecurityGroup.project_id == ctx.project_id)
        found: dict[str, str] = {}
        for group_id, group_name in session.execute(stmt):
            found.setdefault(group_name, group_id)
            found[group_id] = group_id
        missing = [n for n in names if n not in found]
        if missing:
            raise BadRequest(f"Security group {missing[0]} not found for project {ctx.project_id}.")
        return list(dict.fromkeys(found[n] for n in names))

    # -- in the engine: the instance's ports -------------------------------------------------------
    def _ports(self, session, instance_id: str) -> list[Port]:
        return list(session.scalars(select(Port).where(Port.device_id == instance_id).order_by(Port.created_at)))

    def ensure_ports(self, instance: Instance) -> None:
        """Create or claim one port per requested network, bound to the instance's host (idempotent)."""
        if not instance.requested_networks:
            return
        ctx = service_context(instance)
        with self.network.db.write() as session:
            named = {e["port_id"] for e in instance.requested_networks or [] if "port_id" in e}
            unclaimed = [p for p in self._ports(session, instance.id) if p.id not in named]
            for entry in instance.requested_networks or []:
                self._ensure_port(session, ctx, instance, entry, unclaimed)

    def _ensure_port(self, session, ctx: Context, instance: Instance, entry: dict, unclaimed: list[Port]) -> Port:
        """The port of one requested network: the one named, one made earlier (``unclaimed``), or a new one."""
        net = self.network
        if "port_id" in entry:
            port = net.ports.find(session, entry["port_id"])
            net.ports.update(session, ctx, port, {"device_id": instance.id, "device_owner": OWNER,
                                                  "binding:host_id": instance.host})
            return port
        made = next((p for p in unclaimed if p.network_id == entry["network_id"]), None)
        if made is not None:  # made by an earlier run (interrupted, or before a move or an unshelve)
            unclaimed.remove(made)
            made.host_id = instance.host or ""
            return made
        names = instance.security_groups or ["default"]
        secured = session.scalar(select(Network.port_security_enabled).where(Network.id == entry["network_id"]))
        if secured is False:
            # As Nova: the default group is left off a port that cannot filter; any other group is an error.
            if set(names) != {"default"}:
                raise BadRequest(f"Network {entry['network_id']} does not have port security enabled: security "
                                 f"groups {', '.join(sorted(set(names) - {'default'}))} cannot be applied")
            groups = []
        else:
            if "default" in names:  # made in this transaction if the project has none yet
                net.security_groups.default_id(session, instance.project_id)
            groups = self._group_ids(session, ctx, names)
        body = {"network_id": entry["network_id"], "device_id": instance.id, "device_owner": OWNER,
                "binding:host_id": instance.host, "tenant_id": instance.project_id, "security_groups": groups}
        if entry.get("fixed_ip"):
            body["fixed_ips"] = [{"ip_address": entry["fixed_ip"]}]
        checked = net.ports.table.check(body, creating=True, is_admin=True)
        return net.ports.create(session, ctx, checked)

    def attach_port(self, instance: Instance, entry: dict) -> NIC:
        """An interface attach: the port of ``entry`` (a checked request) made or claimed, bound and up."""
        with self.network.db.write() as session:
            port = self._ensure_port(session, service_context(instance), instance, entry, [])
            self._up(instance, [port])
            session.flush()
            return self._nic(port, session.scalar(select(Network.mtu).where(Network.id == port.network_id)))

    def detach_port(self, instance: Instance, port_id: str, made: bool) -> None:
        """An interface detach: the port goes if compute ``made`` it, and is let go of if it was given."""
        with self.network.db.write() as session:
            port = session.get(Port, port_id)
            if port is None or port.device_id != instance.id:
                return
            if made:
                self.network.ports.remove(session, port)
            else:
                port.device_id, port.device_owner, port.host_id, port.status = "", "", "", "DOWN"

    def interfaces(self, instance_id: str) -> list[Port]:
        with self.network.db.read() as session:
            return self._ports(session, instance_id)

    def unbind_ports(self, instance: Instance) -> None:
        """An offloaded server keeps its ports (and addresses) but is bound to no host."""
        with self.network.db.write() as session:
            for port in self._ports(session, instance.id):
                port.host_id, port.status = "", "DOWN"

    def mark_active(self, session, instance: Instance) -> None:
        """In the caller's transaction: the instance's ports are up with it (on hosts the data plane
        wires, it reports them once plugged instead)."""
        self._up(instance, self._ports(session, instance.id))

    def _up(self, instance: Instance, ports: list[Port]) -> None:
        """Ports of a guest that runs are ACTIVE, unless the data plane wires its host: it reports them."""
        if instance.host in self.wired_hosts:
            return
        for port in ports:
            port.status = "ACTIVE"

    def release_ports(self, instance: Instance) -> None:
        """Delete the ports the instance made; unbind those it was given."""
        given = {e["port_id"] for e in instance.requested_networks or [] if "port_id" in e and not e.get("made")}
        with self.network.db.write() as session:
            for port in self._ports(session, instance.id):
                if port.id in given:
                    port.device_id, port.device_owner, port.host_id, port.status = "", "", "", "DOWN"
                else:
                    self.network.ports.remove(session, port)

    def nics(self, instance: Instance) -> list[NIC]:
        with self.network.db.read() as session:
            ports = self._ports(session, instance.id)
            if not ports:
                return []
            mtus = dict(session.execute(select(Network.id, Network.mtu).where(
                Network.id.in_({p.network_id for p in ports}))).all())
            return [self._nic(p, mtus.get(p.network_id)) for p in ports]

    @staticmethod
    def _nic(port: Port, mtu: int | None) -> NIC:
        return NIC(port_id=port.id, mac_address=port.mac_address, tap_name=f"tap{port.id[:11]}", mtu=mtu or 1500)

    def port_networks(self, instance: Instance) -> dict[str, str]:
        """Port id -> network id of the instance's ports."""
        with self.network.db.read() as session:
            return {p.id: p.network_id for p in self._ports(session, instance.id)}

    def guest_addresses(self, instance: Instance) -> tuple[list[str], list[str]]:
        """(fixed, floating) addresses of the instance's ports, in the order its ports were made."""
        with self.network.db.read() as session:
            ports = self._ports(session, instance.id)
            fixed = [a.ip_address for p in ports for a in p.fixed_ips]
            floating = dict(session.execute(select(FloatingIP.fixed_ip_address, FloatingIP.floating_ip_address)
                                            .where(FloatingIP.port_id.in_([p.id for p in ports]))).all())
        return fixed, [floating[ip] for ip in fixed if ip in floating]

    def instance_at(self, address: str, network_id: str | None = None, router_id: str | None = None) -> str | None:
        """The instance whose port holds ``address`` on that network, or on a network attached to that
        router: what Neutron's metadata agent asks before it tells Nova which instance is calling."""
        with self.network.db.read() as session:
            if router_id is not None:
                networks = select(Port.network_id).where(Port.device_id == router_id,
                                                         Port.device_owner.like("network:router_interface%"))
            else:
                networks = select(Network.id).where(Network.id == network_id)
            found = session.scalars(select(Port.device_id).join(IPAllocation, IPAllocation.port_id == Port.id).where(
                IPAllocation.ip_address == address, Port.network_id.in_(networks),
                Port.device_owner.like("compute:%"))).all()
        return found[0] if len(found) == 1 else None

    # -- in views ----------------------------------------------------------------------------------
    def addresses(self, instance_ids: list[str]) -> dict[str, dict[str, list[dict]]]:
        """Per instance, Nova's ``addresses``: network name -> fixed and floating addresses."""
        with self.network.db.read() as session:
            return self._addresses(session, self._device_ports(session, instance_ids), instance_ids)

    def addresses_and_groups(self, instance_ids: list[str]) -> tuple[dict[str, dict[str, list[dict]]],
                                                                      dict[str, list[str]]]:
        """``addresses``, and per instance the names of its ports' security groups: what Nova shows as a
        server's groups (none for a server with no port, or whose ports cannot filter)."""
        with self.network.db.read() as session:
            ports = self._device_ports(session, instance_ids)
            return self._addresses(session, ports, instance_ids), self._group_names(session, ports, instance_ids)

    @staticmethod
    def _device_ports(session, instance_ids: list[str]) -> list[Port]:
        """The instances' ports, oldest first (their group bindings come with them)."""
        if not instance_ids:
            return []
        ports = session.scalars(select(Port).where(Port.device_id.in_(instance_ids)))
        return sorted(ports, key=lambda p: p.created_at)

    @staticmethod
    def _group_names(session, ports: list[Port], instance_ids: list[str]) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {i: [] for i in instance_ids}
        ids = {b.security_group_id for p in ports for b in p.security_groups}
        names = dict(session.execute(select(SecurityGroup.id, SecurityGroup.name)
                                     .where(SecurityGroup.id.in_(ids))).all()) if ids else {}
        for port in ports:
            for name in sorted(names[b.security_group_id] for b in port.security_groups):
                if name not in found[port.device_id]:
                    found[port.device_id].append(name)
        return found

    @staticmethod
    def _addresses(session, ports: list[Port], instance_ids: list[str]) -> dict[str, dict[str, list[dict]]]:
        found: dict[str, dict[str, list[dict]]] = {i: {} for i in instance_ids}
        if not ports:
            return found
        names = dict(session.execute(select(Network.id, Network.name).where(
            Network.id.in_({p.network_id for p in ports}))).all())
        floating: dict[tuple[str, str], str] = {}
        for fip in session.scalars(select(FloatingIP).where(FloatingIP.port_id.in_([p.id for p in ports]))):
            floating[(fip.port_id, fip.fixed_ip_address)] = fip.floating_ip_address
        for port in ports:
            entries = found[port.device_id].setdefault(names.get(port.network_id, port.network_id), [])
            for alloc in port.fixed_ips:
                version = 6 if ":" in alloc.ip_address else 4
                entries.append({"version": version, "addr": alloc.ip_address, "OS-EXT-IPS:type": "fixed",
                                "OS-EXT-IPS-MAC:mac_addr": port.mac_address})
                if (port.id, alloc.ip_address) in floating:
                    entries.append({"version": 4, "addr": floating[(port.id, alloc.ip_address)],
                                    "OS-EXT-IPS:type": "floating",
                                    "OS-EXT-IPS-MAC:mac_addr": port.mac_address})
        return found
