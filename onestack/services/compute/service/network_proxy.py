"""Nova's network lists over Neutron's networks (``views.proxied_network`` and ``views.tenant_network`` show
them: since nova-network is gone Nova fills only a network's id and its name as ``label``)."""

from __future__ import annotations

from onestack.http.context import Context
from onestack.http.errors import NotFound
from onestack.services.network.public import Network, NetworkInfo


class NetworkProxy:
    def __init__(self, network: Network):
        self.network = network

    def visible(self, ctx: Context) -> list[NetworkInfo]:
        """The networks the caller's Neutron list shows (its own, shared, external; all for admins)."""
        return self.network.networks(ctx)

    def get(self, ctx: Context, network_id: str) -> NetworkInfo:
        try:
            return self.network.network(ctx, network_id)
        except NotFound:
            raise NotFound(f"Network {network_id} could not be found.") from None
