"""What compute asks of the network service: checking requested networks, and the instance's ports.

Requests are checked with the caller's own context (a project can only boot on networks it may
use); the ports are then created and bound by the reconciler with the cloud's authority, because
binding (``binding:host_id``) is an admin attribute, as it is when Nova calls Neutron.
"""

from __future__ import annotations

from onestack.drivers.compute import NIC
from onestack.http.context import Context
from onestack.http.errors import BadRequest, Conflict, NotFound
from onestack.services.compute.models import Instance
from onestack.services.network.public import Network, PortInfo

OWNER = "compute:nova"


class NetworkAmbiguous(Conflict):
    """A request that names no network while the project may use several: a boot answers 409 (Nova's), an
    interface attach turns it into 400, as Nova does."""

    def __init__(self):
        super().__init__("Multiple possible networks found, use a Network ID to be more specific.")


class NetworkMissing(BadRequest):
    """A requested network the caller cannot see: 400 on boot, 404 (NetworkNotFound) on interface attach."""

    def __init__(self, network_id: str):
        super().__init__(f"Network {network_id} could not be found.")


def service_context(instance: Instance) -> Context:
    return Context(user_id=instance.user_id, user_domain_id="default", project_id=instance.project_id,
                   roles=frozenset({"admin", "member", "reader"}))


def nic(port: PortInfo) -> NIC:
    return NIC(port_id=port.id, mac_address=port.mac_address, tap_name=f"tap{port.id[:11]}",
               mtu=port.network_mtu or 1500)


class InstanceNetworking:
    def __init__(self, network: Network):
        self.network = network
        # Hosts whose ports the network data plane reports ACTIVE once it has wired them.
        self._wired_hosts: set[str] = set()

    def wired_by_data_plane(self, host: str) -> None:
        """The data plane reports the ports of guests on ``host`` ACTIVE once it has plugged them."""
        self._wired_hosts.add(host)

    # -- at the API: what the caller asked for, checked as the caller ------------------------------
    def requested(self, ctx: Context, networks) -> list[dict] | str:
        """``networks`` of a create request, resolved to ``[{"network_id"|"port_id", "fixed_ip"?}]``."""
        if networks in ("none",):
            return []
        if networks is None or networks == "auto":
            visible = self.network.networks(ctx, external=False)
            if len(visible) > 1:
                raise NetworkAmbiguous
            return [{"network_id": visible[0].id}] if visible else []
        found = []
        for entry in networks:
            if entry.get("port"):
                port = self.network.port(ctx, entry["port"])
                if port.device_id:
                    raise Conflict(f"Port {port.id} is still in use.")
                found.append({"port_id": port.id})
                continue
            try:
                network = self.network.network(ctx, entry["uuid"])
            except NotFound:
                raise NetworkMissing(entry["uuid"]) from None
            item = {"network_id": network.id}
            if entry.get("fixed_ip"):
                item["fixed_ip"] = entry["fixed_ip"]
            found.append(item)
        return found

    def group_ids(self, ctx: Context, names: list[str]) -> list[str]:
        """The ids of the groups named, every one of which the caller's project must be able to use (Nova's
        400 otherwise); the project's default group is made if it is named."""
        found = self.network.security_group_ids(ctx, names)
        missing = [n for n in names if n not in found]
        if missing:
            raise BadRequest(f"Security group {missing[0]} not found for project {ctx.project_id}.")
        return list(dict.fromkeys(found[n] for n in names))

    # -- in the reconciler: the instance's ports ------------------------------------------------------
    def ports(self, instance_id: str) -> list[PortInfo]:
        return self.network.device_ports([instance_id])

    def ensure_ports(self, instance: Instance) -> None:
        """Create or claim one port per requested network, bound to the instance's host (idempotent)."""
        if not instance.requested_networks:
            return
        ctx = service_context(instance)
        named = {e["port_id"] for e in instance.requested_networks or [] if "port_id" in e}
        unclaimed = [p for p in self.ports(instance.id) if p.id not in named]
        for entry in instance.requested_networks or []:
            self._ensure_port(ctx, instance, entry, unclaimed)

    def _ensure_port(self, ctx: Context, instance: Instance, entry: dict, unclaimed: list[PortInfo]) -> PortInfo:
        """The port of one requested network: the one named, one made earlier (``unclaimed``), or a new one."""
        if "port_id" in entry:
            return self.network.bind_port(ctx, entry["port_id"], device_id=instance.id, device_owner=OWNER,
                                          host=instance.host)
        made = next((p for p in unclaimed if p.network_id == entry["network_id"]), None)
        if made is not None:  # made by an earlier run (interrupted, or before a move or an unshelve)
            unclaimed.remove(made)
            self.network.move_ports([made.id], instance.host)
            return made
        names = instance.security_groups or ["default"]
        if not self.network.network(ctx, entry["network_id"]).port_security_enabled:
            # As Nova: the default group is left off a port that cannot filter; any other group is an error.
            if set(names) != {"default"}:
                raise BadRequest(f"Network {entry['network_id']} does not have port security enabled: security "
                                 f"groups {', '.join(sorted(set(names) - {'default'}))} cannot be applied")
            groups = []
        else:
            groups = self.group_ids(ctx, names)
        body = {"network_id": entry["network_id"], "device_id": instance.id, "device_owner": OWNER,
                "binding:host_id": instance.host, "tenant_id": instance.project_id, "security_groups": groups}
        if entry.get("fixed_ip"):
            body["fixed_ips"] = [{"ip_address": entry["fixed_ip"]}]
        return self.network.create_port(ctx, body)

    def bind_also_on(self, instance: Instance, host: str) -> None:
        """A live migration's destination: an INACTIVE binding of each port there, before the guest moves
        (the destination's data plane plugs the guest's taps ahead of it); the source's stays ACTIVE."""
        self.network.add_port_bindings([p.id for p in self.ports(instance.id)], host)

    def settle_bindings(self, instance: Instance) -> None:
        """Where the guest runs now (``instance.host``): each port's binding there active (a live
        migration's inactive one activated at switch-over), every other binding dropped (the source's
        after a move, the destination's after a roll-back), so a port is bound on exactly one host."""
        self.network.settle_port_bindings([p.id for p in self.ports(instance.id)], instance.host)

    def attach_port(self, instance: Instance, entry: dict) -> NIC:
        """An interface attach: the port of ``entry`` (a checked request) made or claimed, bound and up."""
        port = self._ensure_port(service_context(instance), instance, entry, [])
        self._up(instance, [port])
        return nic(port)

    def detach_port(self, instance: Instance, port_id: str, made: bool) -> None:
        """An interface detach: the port goes if compute ``made`` it, and is let go of if it was given."""
        if port_id not in {p.id for p in self.ports(instance.id)}:
            return
        if made:
            self.network.delete_ports([port_id])
        else:
            self.network.let_go_ports([port_id])

    def unbind_ports(self, instance: Instance) -> None:
        """An offloaded server keeps its ports (and addresses) but is bound to no host."""
        self.network.unbind_ports([p.id for p in self.ports(instance.id)])

    def mark_active(self, instance: Instance, ports: list[PortInfo] | None = None) -> None:
        """The instance's ports (``ports`` when the caller has just read them) are up with it (on hosts the data
        plane wires, it reports them once plugged instead)."""
        self._up(instance, self.ports(instance.id) if ports is None else ports)

    def _up(self, instance: Instance, ports: list[PortInfo]) -> None:
        if instance.host in self._wired_hosts:
            return
        self.network.set_ports_status([p.id for p in ports], "ACTIVE")

    def release_ports(self, instance: Instance) -> None:
        """Delete the ports the instance made; let go of those it was given."""
        given = {e["port_id"] for e in instance.requested_networks or [] if "port_id" in e and not e.get("made")}
        ports = self.ports(instance.id)
        self.network.let_go_ports([p.id for p in ports if p.id in given])
        self.network.delete_ports([p.id for p in ports if p.id not in given])

    def nics(self, instance: Instance, ports: list[PortInfo] | None = None) -> list[NIC]:
        return [nic(p) for p in (self.ports(instance.id) if ports is None else ports)]

    def instance_at(self, address: str, network_id: str | None = None, router_id: str | None = None) -> str | None:
        """The instance whose port holds ``address`` on that network, or on a network attached to that
        router: what Neutron's metadata agent asks before it tells Nova which instance is calling."""
        return self.network.device_at(address, network_id, router_id)

    # -- in views ----------------------------------------------------------------------------------
    def addresses(self, instance_ids: list[str]) -> dict[str, dict[str, list[dict]]]:
        """Per instance, Nova's ``addresses``: network name -> fixed and floating addresses."""
        return _addresses(self.network.device_ports(instance_ids), instance_ids)

    def addresses_and_groups(self, instance_ids: list[str]) -> tuple[dict[str, dict[str, list[dict]]],
                                                                      dict[str, list[str]]]:
        """``addresses``, and per instance the names of its ports' security groups: what Nova shows as a
        server's groups (none for a server with no port, or whose ports cannot filter)."""
        ports = self.network.device_ports(instance_ids)
        return _addresses(ports, instance_ids), _group_names(ports, instance_ids)


def _group_names(ports: list[PortInfo], instance_ids: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {i: [] for i in instance_ids}
    for port in ports:
        for name in port.security_group_names:
            if name not in found[port.device_id]:
                found[port.device_id].append(name)
    return found


def _addresses(ports: list[PortInfo], instance_ids: list[str]) -> dict[str, dict[str, list[dict]]]:
    found: dict[str, dict[str, list[dict]]] = {i: {} for i in instance_ids}
    for port in ports:
        entries = found[port.device_id].setdefault(port.network_name, [])
        for alloc in port.fixed_ips:
            version = 6 if ":" in alloc.ip_address else 4
            entries.append({"version": version, "addr": alloc.ip_address, "OS-EXT-IPS:type": "fixed",
                            "OS-EXT-IPS-MAC:mac_addr": port.mac_address})
            if alloc.ip_address in port.floating_ips:
                entries.append({"version": 4, "addr": port.floating_ips[alloc.ip_address],
                                "OS-EXT-IPS:type": "floating", "OS-EXT-IPS-MAC:mac_addr": port.mac_address})
    return found
