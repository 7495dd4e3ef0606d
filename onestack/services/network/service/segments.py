"""Provider attributes: which segment a network is, validated and allocated as ML2's type drivers do."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.config import NetworkSettings
from onestack.db.locks import serialise
from onestack.http.errors import BadRequest, Conflict, ServiceUnavailable
from onestack.services.network.models import SegmentAllocation

TYPES = ("flat", "vlan", "vxlan", "geneve", "local")
MAX_ID = {"vlan": 4094, "vxlan": (1 << 24) - 1, "geneve": (1 << 24) - 1}
# Bytes an encapsulation takes from the physical MTU (IPv4 outer header included).
OVERHEAD = {"vxlan": 50, "geneve": 58}


def mtu(settings: NetworkSettings, network_type: str) -> int:
    return settings.global_physnet_mtu - OVERHEAD.get(network_type, 0)


def _invalid(message: str) -> BadRequest:
    return BadRequest(f"Invalid input for operation: {message}.", kind="InvalidInput")


def allocate(session: Session, settings: NetworkSettings, network_id: str, network_type: str | None,
             physical_network: str | None, segmentation_id: int | None
             ) -> tuple[str, str | None, int | None, SegmentAllocation | None]:
    """Validate a requested segment (or pick the tenant one); returns it and the claim the caller adds
    once the network row exists."""
    if network_type is None:
        if physical_network is not None or segmentation_id is not None:
            raise _invalid("provider:network_type required")
        network_type = settings.tenant_network_type
    if network_type not in TYPES:
        raise _invalid(f"network_type value '{network_type}' not supported")
    if network_type in ("flat", "vlan"):
        if physical_network is None:
            raise _invalid(f"physical_network required for {network_type} provider network")
        if physical_network not in settings.physical_networks:
            raise _invalid(f"physical_network '{physical_network}' unknown for {network_type} provider network")
    elif physical_network is not None:
        raise _invalid(f"physical_network not allowed for {network_type} provider network")
    if network_type in ("flat", "local"):
        if segmentation_id is not None:
            raise _invalid(f"segmentation_id not allowed for {network_type} provider network")
        claim = None
        if network_type == "flat":
            serialise(session, "network.segment.flat")
            claim = _claim(session, network_id, "flat", physical_network, 0,
                           f"Unable to create the flat network. Physical network {physical_network} is in use.",
                           "FlatNetworkInUse")
        return network_type, physical_network, None, claim
    # Until this transaction ends, no other takes a segment of this type: the free one read here stays free
    # (two workers on PostgreSQL read the same VNI as free otherwise: a 409 TunnelIdInUse or a duplicate key).
    serialise(session, f"network.segment.{network_type}")
    if segmentation_id is None:
        segmentation_id = _free(session, network_type, physical_network or "", _ranges(settings, network_type,
                                                                                       physical_network))
    elif not 1 <= segmentation_id <= MAX_ID[network_type]:
        raise _invalid(f"segmentation_id out of range (1 through {MAX_ID[network_type]})")
    what = "VLAN" if network_type == "vlan" else "tunnel"
    where = f" on physical network {physical_network}" if physical_network else ""
    claim = _claim(session, network_id, network_type, physical_network, segmentation_id,
                   f"Unable to create the network. The {what} {segmentation_id}{where} is in use.",
                   "VlanIdInUse" if network_type == "vlan" else "TunnelIdInUse")
    return network_type, physical_network, segmentation_id, claim


def _ranges(settings: NetworkSettings, network_type: str, physical_network: str | None) -> list[list[int]]:
    if network_type == "vlan":
        found = settings.vlan_ranges.get(physical_network)
        return [found] if found else []
    return settings.vni_ranges


def _free(session: Session, network_type: str, physical_network: str, ranges: list[list[int]]) -> int:
    taken = set(session.scalars(select(SegmentAllocation.segmentation_id).where(
        SegmentAllocation.network_type == network_type, SegmentAllocation.physical_network == physical_network)))
    for low, high in ranges:
        for candidate in range(low, high + 1):
            if candidate not in taken:
                return candidate
    raise ServiceUnavailable("Unable to create the network. No tenant network is available for allocation.",
                             kind="NoNetworkAvailable")


def _claim(session: Session, network_id: str, network_type: str, physical_network: str | None,
           segmentation_id: int, message: str, kind: str) -> SegmentAllocation:
    key = (network_type, physical_network or "", segmentation_id)
    if session.get(SegmentAllocation, key) is not None:
        raise Conflict(message, kind=kind)
    return SegmentAllocation(network_type=key[0], physical_network=key[1], segmentation_id=key[2],
                             network_id=network_id)
