"""Nova's floating IPs over Neutron's: a pool is an external network (by name or id), a floating IP is shown
as ``{id, ip, pool, fixed_ip, instance_id}``, and a server's ``addFloatingIp`` associates it with the
server's port that holds the fixed address.

Nova lists only the caller's project's floating IPs (even for an admin), and turns Neutron's refusals
into its own: an unknown pool or an exhausted one is a 404, the floating IP quota a 403, any refusal to
associate a 400.
"""

from __future__ import annotations

import ipaddress

from onestack.http.context import Context
from onestack.http.errors import APIError, BadRequest, Conflict, Forbidden, NotFound
from onestack.services.network.public import FloatingIPInfo, Network, NetworkInfo


class FloatingIPProxy:
    """Answers the network service's floating IPs (``views.proxied_floating_ip`` shows them as Nova does)."""

    def __init__(self, network: Network, default_pool: str):
        self.network = network
        # Where an allocation without a pool goes when the cloud has more than one external network.
        self.default_pool = default_pool

    # -- pools -------------------------------------------------------------------------------
    def pools(self, ctx: Context) -> list[NetworkInfo]:
        return self.network.networks(ctx, external=True)

    def _pool(self, ctx: Context, name_or_id: str | None) -> NetworkInfo:
        external = self.pools(ctx)
        if name_or_id is None:
            if len(external) == 1:
                return external[0]
            name_or_id = self.default_pool
        found = [n for n in external if n.name == name_or_id] or [n for n in external if n.id == name_or_id]
        if not found:
            raise NotFound(f"Floating IP pool not found. ({name_or_id})")
        if len(found) > 1:
            raise Conflict(f"Multiple floating IP pools matches found for name '{name_or_id}'")
        return found[0]

    # -- floating IPs --------------------------------------------------------------------------
    def list(self, ctx: Context) -> list[FloatingIPInfo]:
        return self.network.floating_ips(ctx.project_id)

    def show(self, ctx: Context, fip_id: str) -> FloatingIPInfo:
        try:
            return self.network.floating_ip(ctx, fip_id)
        except NotFound:
            raise NotFound(f"Floating IP not found for ID {fip_id}") from None

    def allocate(self, ctx: Context, pool: str | None) -> FloatingIPInfo:
        network = self._pool(ctx, pool)
        try:
            return self.network.create_floating_ip(ctx, network.id)
        except Conflict as exc:
            if exc.kind == "OverQuota":
                raise Forbidden(f"IP allocation over quota in pool {network.name}.") from None
            raise NotFound(f"No more floating IPs in pool {network.name}.") from None

    def release(self, ctx: Context, fip_id: str) -> None:
        try:
            self.network.delete_floating_ip(ctx, fip_id)
        except NotFound:
            raise NotFound(f"Floating IP not found for ID {fip_id}") from None

    def _by_address(self, ctx: Context, address: str) -> FloatingIPInfo:
        found = self.network.floating_ip_at(ctx, address)
        if found is None:
            raise NotFound(f"Floating IP not found for address {address}.")
        return found

    # -- a server's floating IPs ---------------------------------------------------------------
    def associate(self, ctx: Context, instance_id: str, address: str, fixed_address: str | None) -> None:
        ports = self.network.device_ports([instance_id])
        held = [(p, a.ip_address) for p in ports for a in p.fixed_ips
                if ipaddress.ip_address(a.ip_address).version == 4]
        if not held:
            raise BadRequest("No fixed IPs associated to instance")
        if fixed_address is not None:
            held = [(p, ip) for p, ip in held if ip == fixed_address]
            if not held:
                raise BadRequest("Specified fixed address not assigned to instance")
        port, fixed = held[0]
        fip = self._by_address(ctx, address)
        try:
            self.network.update_floating_ip(ctx, fip.id, {"port_id": port.id, "fixed_ip_address": fixed})
        except Forbidden:
            raise
        except APIError as exc:  # Nova answers every other refusal to associate with a 400
            raise BadRequest(f"Unable to associate floating IP {address} to fixed IP {fixed} for instance "
                             f"{instance_id}. Error: {exc.message}") from None

    def disassociate(self, ctx: Context, instance_id: str, address: str) -> None:
        fip = self._by_address(ctx, address)
        if fip.device_id != instance_id:
            raise Conflict(f"Floating IP {address} is not associated with instance {instance_id}.")
        self.network.update_floating_ip(ctx, fip.id, {"port_id": None})
