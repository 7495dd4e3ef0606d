"""IP address management: subnet ranges, allocation pools and picking addresses for ports.

Address arithmetic is done on integers from the ``ipaddress`` module.  Picking walks the pools from
where the last pick stopped; the (subnet, address) key of ``IPAllocation`` settles races between
processes sharing PostgreSQL (the loser's transaction is retried by the caller).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.http.errors import BadRequest, Conflict
from onestack.services.network.models import IPAllocation, Subnet

AUTO_ADDRESS_MODES = ("slaac", "dhcpv6-stateless")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def invalid(message: str) -> BadRequest:
    return BadRequest(f"Invalid input for operation: {message}.", kind="InvalidInput")


def parse_address(value: str, what: str = "IP address") -> Address:
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        raise invalid(f"'{value}' is not a valid {what}") from None


def parse_cidr(value: str, *, strict: bool = True) -> Network:
    if not isinstance(value, str) or "/" not in value:
        raise invalid(f"'{value}' is not a valid IP subnet")
    try:
        return ipaddress.ip_network(value, strict=strict)
    except ValueError:
        try:
            found = ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise invalid(f"'{value}' is not a valid IP subnet") from None
        raise invalid(f"'{value}' isn't a recognized IP subnet cidr, '{found}' is recommended") from None


def usable(net: Network) -> tuple[int, int]:
    """First and last address a host may have: IPv4 loses its network and broadcast addresses
    (except on /31 and /32), IPv6 its subnet-router anycast address."""
    first, last = int(net.network_address), int(net.broadcast_address)
    if net.version == 4 and net.prefixlen < 31:
        return first + 1, last - 1
    if net.version == 6 and net.prefixlen < 127:
        return first + 1, last
    return first, last


def default_gateway(net: Network) -> str | None:
    first, last = usable(net)
    return str(ipaddress.ip_address(first)) if first <= last else None


def default_pools(net: Network, gateway: str | None) -> list[dict]:
    first, last = usable(net)
    holes = sorted({int(ipaddress.ip_address(gateway))} if gateway else set())
    return _ranges_without(net.version, first, last, holes)


def _ranges_without(version: int, first: int, last: int, holes: list[int]) -> list[dict]:
    ranges, start = [], first
    for hole in holes:
        if start <= hole <= last:
            if start < hole:
                ranges.append((start, hole - 1))
            start = hole + 1
    if start <= last:
        ranges.append((start, last))
    return [{"start": _text(version, a), "end": _text(version, b)} for a, b in ranges]


def _text(version: int, value: int) -> str:
    return str(ipaddress.IPv4Address(value) if version == 4 else ipaddress.IPv6Address(value))


def check_pools(net: Network, pools: list[dict], gateway: str | None) -> list[dict]:
    """Explicit allocation pools: inside the subnet, well ordered, not overlapping, not holding the gateway."""
    first, last = usable(net)
    spans = []
    for pool in pools:
        start, end = parse_address(pool["start"]), parse_address(pool["end"])
        if start.version != net.version or end.version != net.version:
            raise invalid(f"allocation pool {pool['start']}-{pool['end']} is not of IP version {net.version}")
        if int(start) > int(end):
            raise invalid(f"The allocation pool {start}-{end} spans beyond the subnet cidr {net}")
        if int(start) < first or int(end) > last:
            raise BadRequest(f"The allocation pool {start}-{end} spans beyond the subnet cidr {net}.",
                             kind="OutOfBoundsAllocationPool")
        spans.append((int(start), int(end)))
    spans.sort()
    for (_, prev_end), (start, end) in zip(spans, spans[1:], strict=False):
        if start <= prev_end:
            raise BadRequest(f"Found overlapping allocation pools: {_text(net.version, start)}-"
                             f"{_text(net.version, end)} overlaps another pool.", kind="OverlappingAllocationPools")
    if gateway is not None:
        gw = int(ipaddress.ip_address(gateway))
        for start, end in spans:
            if start <= gw <= end:
                raise Conflict(f"Gateway ip {gateway} conflicts with allocation pool "
                               f"{_text(net.version, start)}-{_text(net.version, end)}.",
                               kind="GatewayConflictWithAllocationPools")
    return [{"start": _text(net.version, a), "end": _text(net.version, b)} for a, b in spans]


def eui64(cidr: str, mac: str) -> str:
    """The SLAAC address a port with ``mac`` takes on an IPv6 ``cidr`` (RFC 4291 modified EUI-64)."""
    octets = [int(part, 16) for part in mac.split(":")]
    octets[0] ^= 0x02
    interface = octets[:3] + [0xFF, 0xFE] + octets[3:]
    net = ipaddress.IPv6Network(cidr)
    return str(net.network_address + int.from_bytes(bytes(interface), "big"))


def is_auto_address(subnet: Subnet) -> bool:
    return subnet.ip_version == 6 and subnet.ipv6_address_mode in AUTO_ADDRESS_MODES


def _is_taken(session: Session, subnet_id: str, address: str) -> bool:
    return session.get(IPAllocation, (subnet_id, address)) is not None


def _candidates(subnet: Subnet, start_at: int) -> Iterator[int]:
    """Pool addresses from ``start_at`` to the end, then from the beginning up to it."""
    spans = [(int(ipaddress.ip_address(p["start"])), int(ipaddress.ip_address(p["end"])))
             for p in subnet.allocation_pools]
    for low, high in spans:
        yield from range(max(low, start_at), high + 1)
    for low, high in spans:
        yield from range(low, min(high + 1, start_at))


def _first_free(session: Session, subnet: Subnet, start_at: int) -> str | None:
    candidates = _candidates(subnet, start_at)
    # Usually the address after the last pick is free: one primary-key probe settles it.
    first = next(candidates, None)
    if first is None:
        return None
    if not _is_taken(session, subnet.id, _text(subnet.ip_version, first)):
        return _text(subnet.ip_version, first)
    window: list[str] = []

    def free_in(batch: list[str]) -> str | None:
        used = set(session.scalars(select(IPAllocation.ip_address).where(
            IPAllocation.subnet_id == subnet.id, IPAllocation.ip_address.in_(batch))))
        return next((a for a in batch if a not in used), None)

    for value in candidates:
        window.append(_text(subnet.ip_version, value))
        if len(window) == WINDOW:
            found = free_in(window)
            if found is not None:
                return found
            window = []
    return free_in(window) if window else None


# Addresses probed per query when looking for a free one.
WINDOW = 64


def pick(session: Session, subnet: Subnet, wanted: str | None = None, mac: str | None = None,
         allow_gateway: bool = False, hints: dict[str, int] | None = None) -> str:
    """An address for a new fixed IP on ``subnet``: ``wanted`` if free, the EUI-64 address on
    auto-addressed IPv6 subnets, otherwise the first free pool address after the last one this
    process handed out (``hints``, per subnet), wrapping round: addresses come out in order and a
    pick costs one query however full the subnet is."""
    if wanted is not None:
        address = parse_address(wanted)
        net = ipaddress.ip_network(subnet.cidr)
        first, last = usable(net)
        if address.version != subnet.ip_version or not first <= int(address) <= last:
            raise BadRequest(f"IP address {wanted} is not a valid IP for the specified subnet.",
                             kind="InvalidIpForSubnet")
        wanted = str(address)
        if _is_taken(session, subnet.id, wanted) or (wanted == subnet.gateway_ip and not allow_gateway):
            raise Conflict(f"IP address {wanted} already allocated in subnet {subnet.id}",
                           kind="IpAddressAlreadyAllocated")
        return wanted
    if is_auto_address(subnet) and mac:
        return eui64(subnet.cidr, mac)
    hints = {} if hints is None else hints
    found = _first_free(session, subnet, hints.get(subnet.id, 0))
    if found is None:
        raise Conflict(f"No more IP addresses available on network {subnet.network_id}.",
                       kind="IpAddressGenerationFailure")
    hints[subnet.id] = int(ipaddress.ip_address(found)) + 1
    return found


def routes(entries: list[dict], version: int | None = None) -> list[dict]:
    """Routes (a subnet's host routes, a router's extra routes) normalised: destination a CIDR and
    nexthop an address of one IP version (``version`` if given), no route twice."""
    out = []
    for route in entries:
        destination = parse_cidr(route["destination"], strict=False)
        nexthop = parse_address(route["nexthop"])
        wanted = version or destination.version
        if destination.version != wanted or nexthop.version != wanted:
            raise invalid(f"host route {route} is not of IP version {wanted}")
        entry = {"destination": str(destination), "nexthop": str(nexthop)}
        if entry in out:
            raise invalid(f"Duplicate hostroute '{route['destination']}'")
        out.append(entry)
    return out


def cidrs_overlap(a: str, b: str) -> bool:
    x, y = ipaddress.ip_network(a), ipaddress.ip_network(b)
    return x.version == y.version and x.overlaps(y)
