"""Network namespaces named as Neutron names them, marked as a cloud's by the alias of their ``lo``."""

from __future__ import annotations

from onestack.drivers.netns.ip import NetnsError, in_netns, mark, query, run

PREFIXES = ("qdhcp-", "qrouter-")


def names() -> set[str]:
    return {item["name"] for item in query("netns", "list")}


def by_id() -> dict[int, str]:
    """Named namespaces by the id this namespace knows them by (a veth's ``link_netnsid``)."""
    return {item["id"]: item["name"] for item in query("netns", "list") if "id" in item}


def owner_of(name: str) -> str:
    """The mark on ``name``'s ``lo``; "" when unmarked or when the namespace has just gone."""
    try:
        found = query("link", "show", "dev", "lo", netns=name)
    except NetnsError:
        return ""
    return found[0].get("ifalias", "") if found else ""


def owned(owner: str, among: set[str] | None = None) -> set[str]:
    """This cloud's namespaces (only ours are ever looked into: the prefixes narrow the search)."""
    return {n for n in (names() if among is None else among)
            if n.startswith(PREFIXES) and owner_of(n) == mark(owner)}


def ensure(name: str, owner: str, existing: set[str], forwarding: bool = False) -> None:
    if name not in existing:
        run("netns", "add", name)
        existing.add(name)
    elif owner_of(name) not in ("", mark(owner)):  # unmarked: ours, cut short between add and mark
        raise RuntimeError(f"namespace {name} exists and belongs to something else")
    run("link", "set", "dev", "lo", "alias", mark(owner), "up", netns=name)
    # The cloud's IPAM made its addresses unique: no duplicate-address detection holding a new address
    # back (dnsmasq cannot bind a tentative one); and its devices take no router advertisements (the
    # router's own would give a DHCP namespace a default route, another's would move a router's).
    settings = ["net.ipv6.conf.default.accept_dad=0", "net.ipv6.conf.default.accept_ra=0"]
    if forwarding:
        settings += ["net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1"]
    in_netns(name, "sysctl", "-q", "-w", *settings)


def remove(name: str) -> None:
    run("netns", "del", name, check=False)
