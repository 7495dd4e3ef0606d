"""What other services may ask of the network service: the typed facade and the plain values it answers with.

Compute is its one user: it checks the networks and security groups a boot names, makes and binds the ports
of its instances, reads their addresses, and serves Nova's proxy APIs (security groups, floating IPs,
networks).  Calls made with a caller's ``Context`` keep every wall the network API keeps (visibility,
policy, quotas) and raise its errors; calls without one act as the cloud on what compute owns (its
instances' ports).  Every call is its own transaction: none may run inside another service's write.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Protocol

from onestack.http.context import Context


@dataclasses.dataclass(frozen=True)
class NetworkInfo:
    id: str
    name: str
    mtu: int | None
    external: bool
    port_security_enabled: bool


@dataclasses.dataclass(frozen=True)
class FixedIP:
    subnet_id: str
    ip_address: str


@dataclasses.dataclass(frozen=True)
class PortInfo:
    """A port with what compute shows of it: its network's name and MTU, its groups, its floating IPs."""

    id: str
    network_id: str
    device_id: str
    device_owner: str
    host_id: str
    mac_address: str
    status: str
    port_security_enabled: bool
    created_at: datetime.datetime
    fixed_ips: tuple[FixedIP, ...]
    security_group_ids: tuple[str, ...]
    security_group_names: tuple[str, ...]  # sorted
    network_name: str
    network_mtu: int | None
    floating_ips: dict[str, str]  # fixed address -> floating address


@dataclasses.dataclass(frozen=True)
class SecurityGroupRuleInfo:
    id: str
    security_group_id: str
    direction: str
    protocol: str | None
    port_range_min: int | None
    port_range_max: int | None
    remote_ip_prefix: str | None
    remote_group_id: str | None
    remote_group_name: str | None
    remote_group_project_id: str | None


@dataclasses.dataclass(frozen=True)
class SecurityGroupInfo:
    id: str
    name: str
    description: str | None
    project_id: str
    rules: tuple[SecurityGroupRuleInfo, ...]


@dataclasses.dataclass(frozen=True)
class FloatingIPInfo:
    id: str
    floating_ip_address: str
    fixed_ip_address: str | None
    port_id: str | None
    project_id: str
    pool: str | None  # the name of its external network
    device_id: str | None  # what its port is attached to


class Network(Protocol):
    # -- networks ---------------------------------------------------------------------------------
    def networks(self, ctx: Context, *, external: bool | None = None) -> list[NetworkInfo]:
        """The networks ``ctx`` may see (only external or internal ones if asked), oldest first."""

    def network(self, ctx: Context, network_id: str) -> NetworkInfo:
        """One network ``ctx`` may see (the network API's 404 otherwise)."""

    # -- ports ------------------------------------------------------------------------------------
    def port(self, ctx: Context, port_id: str) -> PortInfo:
        """One port ``ctx`` may see (the network API's 404 otherwise)."""

    def device_ports(self, device_ids: list[str]) -> list[PortInfo]:
        """The ports attached to these devices, oldest first."""

    def create_port(self, ctx: Context, body: dict) -> PortInfo:
        """A port made from a network API body, admin attributes (``binding:host_id``) allowed."""

    def bind_port(self, ctx: Context, port_id: str, *, device_id: str, device_owner: str,
                  host: str | None) -> PortInfo:
        """A port given to a device and bound to ``host``."""

    def move_ports(self, port_ids: list[str], host: str | None) -> None:
        """Ports a device already holds, bound to ``host`` now."""

    def add_port_bindings(self, port_ids: list[str], host: str) -> None:
        """An INACTIVE binding on ``host`` for each bound port that has none there (a live migration's
        destination, made before the guest moves; idempotent)."""

    def settle_port_bindings(self, port_ids: list[str], host: str | None) -> None:
        """Each port bound on ``host`` alone: its inactive binding there activated (or the port bound there),
        every other binding dropped (a move's end, or its roll-back; idempotent)."""

    def set_ports_status(self, port_ids: list[str], status: str) -> None:
        """Ports whose device runs (ACTIVE) where no data plane reports them."""

    def unbind_ports(self, port_ids: list[str]) -> None:
        """Ports kept by their device, bound to no host (and DOWN)."""

    def let_go_ports(self, port_ids: list[str]) -> None:
        """Ports given back by their device (attached to nothing, DOWN), for their owner to reuse."""

    def delete_ports(self, port_ids: list[str]) -> None:
        """Ports gone, with the floating IPs that pointed at them let go."""

    def device_at(self, address: str, network_id: str | None = None, router_id: str | None = None) -> str | None:
        """The one compute device whose port holds ``address`` on that network, or on a network attached
        to that router (what a metadata proxy asks); None if none or several."""

    # -- security groups ----------------------------------------------------------------------------
    def security_group_ids(self, ctx: Context, names: list[str]) -> dict[str, str]:
        """Name or id -> id of the groups ``ctx`` may use among ``names`` (an admin's: its own project's);
        the project's ``default`` group is made if it is named and does not exist yet."""

    def security_groups_named(self, ctx: Context, name: str) -> list[SecurityGroupInfo]:
        """The groups of ``ctx``'s project called ``name``, or else the one with that id if ``ctx`` may
        see it (the project's default group made first if missing)."""

    def security_groups(self, ctx: Context, *, all_projects: bool = False) -> list[SecurityGroupInfo]:
        """``ctx``'s project's groups (every project's for an admin asking), oldest first."""

    def security_groups_by_id(self, ids: list[str]) -> list[SecurityGroupInfo]:
        """These groups, oldest first."""

    def security_group(self, ctx: Context, group_id: str) -> SecurityGroupInfo:
        ...

    def create_security_group(self, ctx: Context, body: dict) -> SecurityGroupInfo:
        ...

    def update_security_group(self, ctx: Context, group_id: str, changes: dict) -> SecurityGroupInfo:
        ...

    def delete_security_group(self, ctx: Context, group_id: str) -> None:
        ...

    def create_security_group_rule(self, ctx: Context, body: dict) -> SecurityGroupRuleInfo:
        ...

    def delete_security_group_rule(self, ctx: Context, rule_id: str) -> None:
        ...

    def set_port_security_groups(self, ctx: Context, groups_by_port: dict[str, list[str]]) -> None:
        """Each port's groups replaced, as ``ctx`` would through the network API, in one transaction."""

    # -- floating IPs ---------------------------------------------------------------------------------
    def floating_ips(self, project_id: str) -> list[FloatingIPInfo]:
        """A project's floating IPs, oldest first."""

    def floating_ip(self, ctx: Context, floating_ip_id: str) -> FloatingIPInfo:
        ...

    def floating_ip_at(self, ctx: Context, address: str) -> FloatingIPInfo | None:
        """The floating IP ``ctx`` may see at ``address``."""

    def create_floating_ip(self, ctx: Context, network_id: str) -> FloatingIPInfo:
        ...

    def update_floating_ip(self, ctx: Context, floating_ip_id: str, changes: dict) -> FloatingIPInfo:
        """A network API change (``port_id``, ``fixed_ip_address``) made as ``ctx``."""

    def delete_floating_ip(self, ctx: Context, floating_ip_id: str) -> None:
        ...
