"""Networks: provider segments, sharing and external access through RBAC, and what blocks deletion."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from onestack.config import NetworkSettings
from onestack.db.engine import Database
from onestack.http.context import Context
from onestack.http.errors import BadRequest, Conflict
from onestack.services.network import schemas, views
from onestack.services.network.models import (
    DHCP_OWNER,
    ROUTER_GATEWAY_OWNER,
    Network,
    Port,
    Subnet,
    SubnetPool,
)
from onestack.services.network.service import rbac, segments, teardown
from onestack.services.network.service.collection import Collection
from onestack.services.network.service.quotas import Quotas


class Networks(Collection):
    singular, plural, kind, model = "network", "networks", "Network", Network
    table = schemas.NETWORKS

    def __init__(self, db: Database, settings: NetworkSettings, quotas: Quotas):
        super().__init__(db, quotas)
        self.settings = settings

    def project_scope(self, session: Session, ctx: Context):
        return or_(Network.project_id == ctx.project_id, Network.id.in_(rbac.reachable("network", ctx.project_id)))

    def render(self, session: Session, ctx: Context, row: Network) -> dict:
        scopes = {4: None, 6: None}
        pool_ids = {s.subnetpool_id for s in row.subnets if s.subnetpool_id}
        if pool_ids:
            for pool in session.scalars(select(SubnetPool).where(SubnetPool.id.in_(pool_ids))):
                scopes[pool.ip_version] = scopes[pool.ip_version] or pool.address_scope_id
        shared = row.shared or (row.project_id != ctx.project_id
                                and rbac.granted(session, "network", row.id, ctx.project_id, rbac.SHARED))
        return views.network(row, shared=shared, scopes=scopes)

    def create(self, session: Session, ctx: Context, body: dict) -> Network:
        row = self.new_row(ctx, body)
        self.admit(session, ctx, row)
        seg_id = body.get("provider:segmentation_id")
        row.network_type, row.physical_network, row.segmentation_id, claim = segments.allocate(
            session, self.settings, row.id, body.get("provider:network_type"),
            body.get("provider:physical_network"), int(seg_id) if seg_id is not None else None)
        limit = segments.mtu(self.settings, row.network_type)
        row.mtu = body.get("mtu") or limit
        if row.mtu > limit:
            raise BadRequest(f"Requested MTU is too big, maximum is {limit}", kind="InvalidInput")
        row.admin_state_up, row.port_security_enabled = body["admin_state_up"], body["port_security_enabled"]
        row.availability_zone_hints, row.dns_domain = body["availability_zone_hints"], body["dns_domain"]
        row.shared = row.external = False
        self._share(session, row, body["shared"])
        self._externalise(session, row, body["router:external"])
        session.add(row)
        session.flush()
        if claim is not None:
            session.add(claim)
        return row

    def update(self, session: Session, ctx: Context, row: Network, changes: dict) -> None:
        if "mtu" in changes and changes["mtu"] > segments.mtu(self.settings, row.network_type):
            raise BadRequest(f"Requested MTU is too big, maximum is "
                             f"{segments.mtu(self.settings, row.network_type)}", kind="InvalidInput")
        if "shared" in changes:
            self._share(session, row, changes.pop("shared"))
        if "router:external" in changes:
            self._externalise(session, row, changes.pop("router:external"))
        super().update(session, ctx, row, changes)

    def _share(self, session: Session, row: Network, shared: bool) -> None:
        if shared == row.shared:
            return
        if not shared:
            foreign = session.scalar(select(Port.id).where(Port.network_id == row.id, Port.project_id != row.project_id,
                                                           Port.device_owner != DHCP_OWNER,
                                                           Port.project_id != "").limit(1))
            if foreign is not None:
                raise Conflict(f"Unable to reconfigure sharing settings for network {row.id}. Multiple tenants "
                               "are using it.", kind="InvalidSharedSetting")
            rbac.revoke(session, "network", row.id, rbac.SHARED)
        else:
            rbac.grant(session, row.project_id, "network", row.id, rbac.SHARED)
        row.shared = shared

    def _externalise(self, session: Session, row: Network, external: bool) -> None:
        if external == row.external:
            return
        if not external:
            gateway = session.scalar(select(Port.id).where(Port.network_id == row.id,
                                                           Port.device_owner == ROUTER_GATEWAY_OWNER).limit(1))
            if gateway is not None:
                raise Conflict(f"Network {row.id} is used by a router gateway.", kind="ExternalNetworkInUse")
            rbac.revoke(session, "network", row.id, rbac.EXTERNAL, target=None)
        else:
            rbac.grant(session, row.project_id, "network", row.id, rbac.EXTERNAL)
        row.external = external

    def delete(self, session: Session, ctx: Context, row: Network) -> None:
        teardown.release_unassociated_floatingips(session, row.id)
        in_use = session.scalar(select(Port.id).where(Port.network_id == row.id, Port.device_owner != DHCP_OWNER)
                                .limit(1))
        if in_use is not None:
            raise Conflict(f"Unable to complete operation on network {row.id}. There are one or more ports still "
                           "in use on the network.", kind="NetworkInUse")
        for port in session.scalars(select(Port).where(Port.network_id == row.id)):
            session.delete(port)
        for subnet in session.scalars(select(Subnet).where(Subnet.network_id == row.id)):
            self.set_tags(session, subnet.id, [])
            session.delete(subnet)
        rbac.revoke(session, "network", row.id, target=None)
        session.flush()
        session.delete(row)
