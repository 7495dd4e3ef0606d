"""Security groups and port security as stateful per-port packet filtering (iptables through br_netfilter).

Bridged traffic passes the IPv4/IPv6 netfilter hooks when ``bridge-nf-call-ip(6)tables`` is on, and
there iptables' ``physdev`` match names the bridge port (the tap) a packet came in on or goes out of;
the nft *bridge* family would see every frame too but has no conntrack on this kernel, and filtering
must be stateful.  Everything lives in the ``filter`` table of the current network namespace, in
chains named ``os-<scope>-...``; one cloud (scope) never reads, writes or removes another's chains.

Chains of a scope (``P`` = ``os-<scope>-``)::

    FORWARD -> P-fwd   packets from a filtered tap -> P-o<port> (its egress checks)
                       packets from an unfiltered tap -> P-pass
                       anything else -> P-in, then back to FORWARD (not ours)
    P-o<port>          DHCP discovery, P-s<port> (spoofing), replies, egress rules; an allowed
                       packet -> P-pass, anything else is dropped
    P-pass             P-in (the receiving port's checks, if the receiver is ours), then ACCEPT
    P-in               packets to a filtered tap -> P-i<port>; to an unfiltered tap -> ACCEPT
    P-i<port>          replies, DHCP answers, ingress rules -> ACCEPT, anything else dropped
    P-r<hash>          a set of remote addresses shared by every rule naming the same set

An accepted packet has therefore passed its sender's egress checks before its receiver's ingress
checks, which is why an ingress decision may ACCEPT outright.  A rule naming several remote addresses
(a remote group) jumps to one shared address chain instead of repeating itself per address, so 100
ports in one group cost 100 address rules, not 10,000.

``converge`` writes the scope's whole state in one ``iptables-restore --noflush`` (and one
``ip6tables-restore``): declaring a chain there flushes it, so the kernel switches from the old rules
to the new in one transaction, and chains no longer wanted are flushed and deleted in the same one.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import ipaddress
import re
import subprocess
import threading
from collections.abc import Iterable

SCOPE = re.compile(r"[a-z0-9]{1,8}")
# Protocols whose rules may carry a destination port range (iptables' multiport match knows them).
PORTED = {"tcp", "udp", "6", "17", "33", "132", "136"}
ICMP4 = {"icmp", "1"}
ICMP6 = {"ipv6-icmp", "icmpv6", "58"}
ANY = {4: ipaddress.ip_network("0.0.0.0/0"), 6: ipaddress.ip_network("::/0")}
# ICMPv6 a port must be able to receive whatever its rules say: MLD query, router advertisement,
# neighbour solicitation and advertisement (without them IPv6 does not work at all).
ICMPV6_IN = (130, 134, 135, 136)
# ICMPv6 a port may send once its source address is checked: router solicitation, neighbour
# solicitation and advertisement, MLDv2 reports.
ICMPV6_OUT = (133, 135, 136, 143)
# ... and with the unspecified source, before it has an address: duplicate-address detection and MLD.
ICMPV6_DAD = (131, 135, 143)
# Answers to a connection the port's rules let through pass without looking at the rules again; packets
# in the direction that opened the connection are checked against the rules every time, so a rule taken
# away stops the connections it admitted at once (no conntrack entries to hunt down and delete, which
# on a machine shared by several clouds could hit another cloud's entries).
STATEFUL = ("-m conntrack --ctstate ESTABLISHED --ctdir REPLY", "-m conntrack --ctstate RELATED")


class FirewallError(RuntimeError):
    """The kernel refused the ruleset; the caller retries on its next pass."""


@dataclasses.dataclass(frozen=True)
class Rule:
    """One security group rule as the kernel applies it.

    ``protocol`` is ``None`` (any), ``tcp``, ``udp``, ``icmp``, ``ipv6-icmp`` or an IP protocol number
    as a string.  For ICMP, ``port_min``/``port_max`` are the ICMP type and code, as Neutron stores them.
    ``remote_prefixes`` empty means any address; a remote group arrives expanded to its members'
    addresses (a group without members is no rule at all, never an empty tuple)."""

    direction: str  # "ingress" (to the port) | "egress" (from the port)
    ethertype: str  # "IPv4" | "IPv6"
    protocol: str | None = None
    port_min: int | None = None
    port_max: int | None = None
    remote_prefixes: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class PortRules:
    port_id: str
    device: str  # the host-side device on the bridge, "tap" + port_id[:11]
    mac: str
    ips: tuple[str, ...] = ()
    allowed_pairs: tuple[tuple[str, str | None], ...] = ()  # (ip or cidr, mac or None = the port's)
    port_security: bool = True
    rules: tuple[Rule, ...] = ()


# -- rule text ----------------------------------------------------------------------------------------
def prefix(scope: str) -> str:
    if not SCOPE.fullmatch(scope):
        raise ValueError(f"firewall scope must be 1-8 characters [a-z0-9], not {scope!r}")
    return f"os-{scope}-"


def _distinct(ports: Iterable[PortRules]) -> list[PortRules]:
    """Each port once (the last word on a port listed twice)."""
    return list({port.port_id: port for port in ports}.values())


def _port_key(port: PortRules) -> str:
    return port.port_id[:11]


@functools.lru_cache(maxsize=4096)
def _family_networks(addresses: tuple[str, ...], version: int) -> tuple[str, ...]:
    """The addresses of one IP version, as networks; others are left out (they cannot match).
    Cached: every port of a group names the same members, and parsing them is most of the cost."""
    nets = (ipaddress.ip_network(text, strict=False) for text in addresses)
    return tuple(str(net) for net in nets if net.version == version)


def _icmp_match(rule: Rule, version: int) -> str:
    proto, module, option = ("ipv6-icmp", "icmp6", "--icmpv6-type") if version == 6 else ("icmp", "icmp", "--icmp-type")
    if rule.port_min is None:
        return f"-p {proto}"
    code = f"/{rule.port_max}" if rule.port_max is not None else ""
    return f"-p {proto} -m {module} {option} {rule.port_min}{code}"


def _protocol_match(rule: Rule, version: int) -> str:
    proto = rule.protocol
    if proto is None:
        return ""
    # As Neutron does, "icmp" in an IPv6 rule means ICMPv6.
    if proto in ICMP4 or (version == 6 and proto in ICMP6):
        return _icmp_match(rule, version)
    text = f"-p {proto}"
    if proto in PORTED and rule.port_min is not None:
        high = rule.port_max if rule.port_max is not None else rule.port_min
        ports = str(rule.port_min) if high == rule.port_min else f"{rule.port_min}:{high}"
        text += f" -m multiport --dports {ports}"
    return text


@functools.lru_cache(maxsize=4096)
def _digest(direction: str, nets: tuple[str, ...]) -> str:
    return hashlib.sha1(f"{direction}|{'|'.join(sorted(nets))}".encode()).hexdigest()[:10]


class _Table:
    """The chains and rules of one scope for one IP version, built up as text."""

    def __init__(self, scope: str, version: int):
        self.p = prefix(scope)
        self.version = version
        self.chains: dict[str, list[str]] = {}

    def chain(self, name: str) -> list[str]:
        return self.chains.setdefault(self.p + name, [])

    def add(self, name: str, *specs: str) -> None:
        self.chain(name).append(" ".join(s for s in specs if s))

    def address_chain(self, direction: str, nets: tuple[str, ...], target: str) -> str:
        """The shared chain matching any of ``nets`` (as source for ingress, destination for egress)."""
        name = f"r{_digest(direction, nets)}"
        if self.p + name not in self.chains:
            side = "-s" if direction == "ingress" else "-d"
            for net in sorted(nets):
                self.add(name, f"{side} {net}", f"-j {target}")
        return self.p + name

    def rule(self, chain: str, rule: Rule, target: str) -> None:
        """One security group rule in a port's chain; nothing when it can match no address."""
        match = _protocol_match(rule, self.version)
        if not rule.remote_prefixes:
            self.add(chain, match, f"-j {target}")
            return
        nets = _family_networks(rule.remote_prefixes, self.version)
        if str(ANY[self.version]) in nets:
            self.add(chain, match, f"-j {target}")
        elif len(nets) == 1:
            side = "-s" if rule.direction == "ingress" else "-d"
            self.add(chain, f"{side} {nets[0]}", match, f"-j {target}")
        elif nets:
            self.add(chain, match, f"-j {self.address_chain(rule.direction, nets, target)}")

    def text(self) -> str:
        return "".join(f"-A {name} {line}\n" for name, lines in self.chains.items() for line in lines)


def _eui64_link_local(mac: str) -> str:
    octets = [int(part, 16) for part in mac.split(":")]
    octets[0] ^= 0x02
    eui = octets[:3] + [0xFF, 0xFE] + octets[3:]
    groups = ":".join(f"{eui[i]:02x}{eui[i + 1]:02x}" for i in range(0, 8, 2))
    return str(ipaddress.ip_address(f"fe80::{groups}"))


def _sources(port: PortRules) -> list[tuple[str, str]]:
    """The (address or CIDR, MAC) pairs the port may send from."""
    return [(ip, port.mac) for ip in port.ips] + [(ip, mac or port.mac) for ip, mac in port.allowed_pairs]


def _spoof_chain(table: _Table, port: PortRules) -> None:
    """RETURN for a source (address, MAC) the port may use, DROP for anything else."""
    name = f"s{_port_key(port)}"
    pairs = _sources(port)
    if table.version == 6:
        macs = dict.fromkeys(mac for _, mac in pairs) or {port.mac: None}
        pairs += [(_eui64_link_local(mac), mac) for mac in macs]
    table.chain(name)
    for ip, mac in dict.fromkeys(pairs):
        for net in _family_networks((ip,), table.version):
            table.add(name, f"-s {net}", f"-m mac --mac-source {mac}", "-j RETURN")
    table.add(name, "-j DROP")


def _egress_chain(table: _Table, port: PortRules) -> None:
    key, p, mac = _port_key(port), table.p, port.mac
    name, allowed = f"o{key}", f"{table.p}pass"
    table.chain(name)
    if table.version == 4:
        table.add(name, "-s 0.0.0.0/32 -d 255.255.255.255/32 -p udp -m udp --sport 68 --dport 67",
                  f"-m mac --mac-source {mac}", f"-j {allowed}")
    else:
        for kind in ICMPV6_DAD:
            table.add(name, f"-s ::/128 -d ff02::/16 -p ipv6-icmp -m icmp6 --icmpv6-type {kind}",
                      f"-m mac --mac-source {mac}", f"-j {allowed}")
    table.add(name, f"-j {p}s{key}")
    if table.version == 4:
        table.add(name, "-p udp -m udp --sport 68 --dport 67", f"-j {allowed}")
        table.add(name, "-p udp -m udp --sport 67 --dport 68 -j DROP")
    else:
        for kind in ICMPV6_OUT:
            table.add(name, f"-p ipv6-icmp -m icmp6 --icmpv6-type {kind}", f"-j {allowed}")
        table.add(name, "-p ipv6-icmp -m icmp6 --icmpv6-type 134 -j DROP")
        table.add(name, "-p udp -m udp --sport 546 --dport 547", f"-j {allowed}")
        table.add(name, "-p udp -m udp --sport 547 --dport 546 -j DROP")
    for state in STATEFUL:
        table.add(name, state, f"-j {allowed}")
    table.add(name, "-m conntrack --ctstate INVALID -j DROP")
    for rule in port.rules:
        if rule.direction == "egress" and rule.ethertype == f"IPv{table.version}":
            table.rule(name, rule, allowed)
    table.add(name, "-j DROP")


def _ingress_chain(table: _Table, port: PortRules) -> None:
    name = f"i{_port_key(port)}"
    table.chain(name)
    if table.version == 6:
        for kind in ICMPV6_IN:
            table.add(name, f"-p ipv6-icmp -m icmp6 --icmpv6-type {kind} -j ACCEPT")
    for state in STATEFUL:
        table.add(name, state, "-j ACCEPT")
    table.add(name, "-m conntrack --ctstate INVALID -j DROP")
    if table.version == 4:
        table.add(name, "-p udp -m udp --sport 67 --dport 68 -j ACCEPT")
    else:
        table.add(name, "-p udp -m udp --sport 547 --dport 546 -j ACCEPT")
    for rule in port.rules:
        if rule.direction == "ingress" and rule.ethertype == f"IPv{table.version}":
            table.rule(name, rule, "ACCEPT")
    table.add(name, "-j DROP")


def build(scope: str, ports: Iterable[PortRules], version: int) -> dict[str, list[str]]:
    """Every chain of the scope for one IP version and its rules (each rule's text after ``-A chain``)."""
    table = _Table(scope, version)
    p = table.p
    for base in ("fwd", "pass", "in"):
        table.chain(base)
    bridged = "--physdev-is-bridged"
    unfiltered = []
    for port in sorted(_distinct(ports), key=lambda port: port.device):
        if not port.port_security:
            unfiltered.append(port)
            continue
        key = _port_key(port)
        table.add("fwd", f"-m physdev --physdev-in {port.device} {bridged}", f"-j {p}o{key}")
        table.add("in", f"-m physdev --physdev-out {port.device} {bridged}", f"-j {p}i{key}")
        _spoof_chain(table, port)
        _egress_chain(table, port)
        _ingress_chain(table, port)
    for port in unfiltered:
        table.add("fwd", f"-m physdev --physdev-in {port.device} {bridged}", f"-j {p}pass")
        table.add("in", f"-m physdev --physdev-out {port.device} {bridged}", "-j ACCEPT")
    table.add("fwd", f"-j {p}in")
    table.add("pass", f"-j {p}in")
    table.add("pass", "-j ACCEPT")
    return table.chains


def frames_text(scope: str, ports: Iterable[PortRules]) -> str:
    """The ``nft -f`` input replacing the scope's bridge table: frames from a filtered port must carry one
    of its MACs, and its ARP one of its MACs and IPv4 addresses (ARP never reaches iptables).  Stateless,
    so the bridge family's missing conntrack does not matter here."""
    table = f"bridge {prefix(scope)[:-1]}"
    lines = [f"table {table} {{}}", f"delete table {table}"]
    filtered = [port for port in _distinct(ports) if port.port_security]
    if not filtered:
        return "\n".join(lines) + "\n"
    dispatch = [f"iifname \"{port.device}\" jump s{_port_key(port)}" for port in filtered]
    lines.append(f"table {table} {{")
    for hook in ("forward", "input"):
        lines += [f"  chain {hook}-frames {{", f"    type filter hook {hook} priority 0; policy accept;",
                  *(f"    {rule}" for rule in dispatch), "  }"]
    for port in filtered:
        pairs = _sources(port)
        macs = ", ".join(dict.fromkeys(mac.lower() for _, mac in pairs)) or port.mac.lower()
        ips = ", ".join(dict.fromkeys(["0.0.0.0", *_family_networks(tuple(ip for ip, _ in pairs), 4)]))
        lines += [f"  chain s{_port_key(port)} {{", f"    ether saddr != {{ {macs} }} drop",
                  f"    arp saddr ether != {{ {macs} }} drop", f"    arp saddr ip != {{ {ips} }} drop", "  }"]
    lines.append("}")
    return "\n".join(lines) + "\n"


def restore_text(scope: str, wanted: dict[str, list[str]], existing: set[str], hooks: int) -> str:
    """The ``iptables-restore --noflush`` input turning the kernel's ``existing`` chains of the scope
    (with ``hooks`` jumps to its ``fwd`` chain in FORWARD) into ``wanted``."""
    p = prefix(scope)
    lines = ["*filter"]
    stale = sorted(existing - set(wanted))
    lines += [f":{name} - [0:0]" for name in [*wanted, *stale]]
    hook = f"FORWARD -j {p}fwd"
    if not wanted:
        lines += [f"-D {hook}"] * hooks
    elif hooks == 0:
        lines.append(f"-I {hook}")
    else:
        lines += [f"-D {hook}"] * (hooks - 1)
    lines += [f"-A {name} {rule}" for name, rules in wanted.items() for rule in rules]
    lines += [f"-X {name}" for name in stale]
    lines.append("COMMIT")
    return "\n".join(lines) + "\n"


# -- the kernel ---------------------------------------------------------------------------------------
TOOLS = {4: ("iptables-save", "iptables-restore"), 6: ("ip6tables-save", "ip6tables-restore")}
BR_NETFILTER = {4: "/proc/sys/net/bridge/bridge-nf-call-iptables", 6: "/proc/sys/net/bridge/bridge-nf-call-ip6tables"}
# One converge at a time per scope in this process: two would both see the FORWARD hook missing.
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def _lock(scope: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(scope, threading.Lock())


def _run(cmd: list[str], stdin: str | None = None) -> str:
    try:
        done = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=60)
    except FileNotFoundError as err:
        raise FirewallError(f"{cmd[0]} is not installed") from err
    if done.returncode != 0:
        raise FirewallError(f"{' '.join(cmd)}: {done.stderr.strip()}")
    return done.stdout


def _kernel_state(scope: str, version: int) -> tuple[set[str], int]:
    """The scope's chains in the kernel's filter table and how many FORWARD rules jump to its ``fwd``."""
    p = prefix(scope)
    saved = _run([TOOLS[version][0], "-t", "filter"])
    chains = {line[1:].split()[0] for line in saved.splitlines() if line.startswith(f":{p}")}
    hooks = sum(1 for line in saved.splitlines() if line.split() == ["-A", "FORWARD", "-j", f"{p}fwd"])
    return chains, hooks


def _apply(scope: str, version: int, wanted: dict[str, list[str]]) -> None:
    existing, hooks = _kernel_state(scope, version)
    if not wanted and not existing and not hooks:
        return
    _run([TOOLS[version][1], "-w", "--noflush"], restore_text(scope, wanted, existing, hooks))


def bridged_traffic_filtered() -> bool:
    """Whether this network namespace hands bridged IPv4 and IPv6 to iptables (br_netfilter)."""
    try:
        return all(open(path).read().strip() == "1" for path in BR_NETFILTER.values())
    except OSError:
        return False


def _enable_bridge_filtering() -> None:
    for path in BR_NETFILTER.values():
        try:
            with open(path, "w") as f:
                f.write("1")
        except OSError as err:
            raise FirewallError(f"cannot filter bridged traffic: {path}: {err.strerror} "
                                "(br_netfilter is not available in this network namespace)") from err


def converge(scope: str, ports: Iterable[PortRules]) -> None:
    """Make the scope's filtering exactly what ``ports`` need, in one transaction per IP version.
    Ports not listed lose their chains; a port with ``port_security`` off is not filtered at all."""
    ports = list(ports)
    with _lock(scope):
        if not bridged_traffic_filtered():
            _enable_bridge_filtering()
        for version in (4, 6):
            _apply(scope, version, build(scope, ports, version) if ports else {})
        _run(["nft", "-f", "-"], frames_text(scope, ports))


def purge(scope: str) -> None:
    """Remove every chain and rule of the scope (nothing else)."""
    with _lock(scope):
        for version in (4, 6):
            _apply(scope, version, {})
        _run(["nft", "-f", "-"], frames_text(scope, []))
