"""Nova's network lists over Neutron's networks.  Since nova-network is gone Nova fills only two of a
network's fields (``id``, and the name as ``label``) and shows the rest as null; ``os-tenant-networks``
shows ``cidr`` as the string "None" (Nova stringifies a value Neutron's networks never had)."""

from __future__ import annotations

from sqlalchemy import select

from onestack.http.context import Context
from onestack.http.errors import NotFound
from onestack.services.network.models import Network
from onestack.services.network.service import NetworkService

# What os-networks shows everyone, and what it adds for admins (all null but id and label).
FIELDS = ("id", "cidr", "netmask", "gateway", "broadcast", "dns1", "dns2", "cidr_v6", "gateway_v6", "label",
          "netmask_v6")
ADMIN_FIELDS = ("created_at", "updated_at", "deleted_at", "deleted", "injected", "bridge", "vlan",
                "vpn_public_address", "vpn_public_port", "vpn_private_address", "dhcp_start", "project_id", "host",
                "bridge_interface", "multi_host", "priority", "rxtx_base", "mtu", "dhcp_server", "enable_dhcp",
                "share_address")


def network_view(network: Network, is_admin: bool) -> dict:
    body = dict.fromkeys(FIELDS + (ADMIN_FIELDS if is_admin else ()))
    body.update(id=network.id, label=network.name)
    return body


def tenant_network_view(network: Network) -> dict:
    return {"id": network.id, "cidr": "None", "label": network.name}


class NetworkProxy:
    def __init__(self, net: NetworkService):
        self.net = net

    def visible(self, ctx: Context) -> list[Network]:
        """The networks the caller's Neutron list shows (its own, shared, external; all for admins)."""
        with self.net.db.read() as session:
            stmt = select(Network).order_by(Network.created_at, Network.id)
            scope = self.net.networks.scope(session, ctx)
            # unique: a network loads its subnets by a joined eager load
            return list(session.scalars(stmt if scope is None else stmt.where(scope)).unique())

    def get(self, ctx: Context, network_id: str) -> Network:
        with self.net.db.read() as session:
            try:
                return self.net.networks.get(session, ctx, network_id)
            except NotFound:
                raise NotFound(f"Network {network_id} could not be found.") from None
