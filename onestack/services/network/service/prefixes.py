"""Prefix arithmetic for subnet pools: compacting a pool's prefixes, the space its subnets leave
free, and where a new subnet of a given length fits.

Pure functions over ``ipaddress`` networks; the pool's rules (bounds, quotas, errors) live in
``subnetpools.py``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from onestack.services.network.service.ipam import Network

# The narrowest prefix length a pool allows unless told otherwise, the unit its ``default_quota``
# counts in (IPv4 in addresses, IPv6 in /64 networks), and the address width: as Neutron.
DEFAULT_MIN_PREFIXLEN = {4: 8, 6: 64}
QUOTA_UNIT_PREFIXLEN = {4: 32, 6: 64}
BITS = {4: 32, 6: 128}


def compact(networks: Iterable[Network]) -> list[Network]:
    """The same address space in the fewest, sorted CIDRs (overlaps and neighbours merged)."""
    return list(ipaddress.collapse_addresses(networks))


def free_space(prefixes: Iterable[Network], used: Iterable[Network]) -> list[Network]:
    """The parts of ``prefixes`` that no network in ``used`` covers, compacted."""
    free = compact(prefixes)
    for taken in used:
        remaining = []
        for block in free:
            if not block.overlaps(taken):
                remaining.append(block)
            elif not block.subnet_of(taken):
                # ``taken`` lies inside ``block``: keep what is left around it.
                remaining.extend(block.address_exclude(taken))
        free = remaining
    return compact(free)


def first_fit(free: list[Network], prefixlen: int) -> Network | None:
    """A CIDR of ``prefixlen`` carved from the smallest free block that can hold it (lowest address
    first), so large blocks stay whole for large requests, as Neutron's allocator does."""
    candidates = sorted((b for b in free if b.prefixlen <= prefixlen),
                        key=lambda b: (-b.prefixlen, int(b.network_address)))
    if not candidates:
        return None
    return next(candidates[0].subnets(new_prefix=prefixlen))


def contains(free: list[Network], cidr: Network) -> bool:
    return any(cidr.subnet_of(block) for block in free if block.version == cidr.version)


def quota_units(version: int, prefixlen: int) -> int:
    """How much of a pool's ``default_quota`` a subnet of ``prefixlen`` takes."""
    return 2 ** max(QUOTA_UNIT_PREFIXLEN[version] - prefixlen, 0)
