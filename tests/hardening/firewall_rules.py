"""The guests' packet filter in the kernel against what the database says (read through the public API).

The expected rules are rendered by the firewall driver (``firewall.build``, ``firewall.frames_text``) from
ports and security group rules as the admin reads them over HTTP, not from the agent's own database
queries; both sides are then made canonical by the kernel itself: the expected rules are loaded into a
scratch network namespace and read back with ``iptables-save`` and ``nft list``, as the live ones are, so
the comparison does not depend on how iptables prints a match.  Within a chain the rules are compared as a
multiset (a security group's rules are allow rules whose order does not matter, and the API lists them in
another order than the agent reads them).
"""

from __future__ import annotations

import collections
import re
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from onestack.drivers.netns import firewall
from onestack.services.network.reconcile.security import device_name, normalise_protocol


def guest_ports(ports: list[dict]) -> list[dict]:
    """The ports the data-plane agent filters: every bound guest's port (one host), up or down."""
    return [p for p in ports if p["device_owner"].startswith("compute:") and p.get("binding:host_id")]


def wanted(ports: list[dict], rules: list[dict]) -> list[firewall.PortRules]:
    """The filter's input for the guests' ports, from the API's ports and security group rules."""
    members: dict[str, dict[str, None]] = collections.defaultdict(dict)
    for port in ports:
        for group in port.get("security_groups") or []:
            for ip in port["fixed_ips"]:
                members[group][ip["ip_address"]] = None
            for pair in port.get("allowed_address_pairs") or []:
                members[group][pair["ip_address"]] = None
    by_group: dict[str, list[dict]] = collections.defaultdict(list)
    for rule in sorted(rules, key=lambda r: (r.get("created_at") or "", r["id"])):
        by_group[rule["security_group_id"]].append(rule)
    out = []
    for port in guest_ports(ports):
        base = dict(port_id=port["id"], device=device_name(port["id"]), mac=port["mac_address"].lower(),
                    ips=tuple(ip["ip_address"] for ip in port["fixed_ips"]))
        if not port["port_security_enabled"]:
            out.append(firewall.PortRules(**base, port_security=False))
            continue
        found = []
        for group in port.get("security_groups") or []:
            for rule in by_group[group]:
                made = _rule(rule, members)
                if made is not None:
                    found.append(made)
        out.append(firewall.PortRules(
            **base, port_security=True, rules=tuple(dict.fromkeys(found)),
            allowed_pairs=tuple((p["ip_address"], p.get("mac_address"))
                                for p in port.get("allowed_address_pairs") or [])))
    return out


def _rule(rule: dict, members: dict[str, dict[str, None]]) -> firewall.Rule | None:
    if rule.get("remote_group_id"):
        version = 4 if rule["ethertype"] == "IPv4" else 6
        remote = tuple(a for a in members.get(rule["remote_group_id"], {}) if (":" in a) == (version == 6))
        if not remote:
            return None
    else:
        remote = (rule["remote_ip_prefix"],) if rule.get("remote_ip_prefix") else ()
    return firewall.Rule(direction=rule["direction"], ethertype=rule["ethertype"],
                         protocol=normalise_protocol(rule.get("protocol"), rule["ethertype"]),
                         port_min=rule.get("port_range_min"), port_max=rule.get("port_range_max"),
                         remote_prefixes=remote)


def _run(cmd: list[str], stdin: str | None = None, netns: str | None = None) -> str:
    if netns:
        cmd = ["ip", "netns", "exec", netns, *cmd]
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True, check=True, timeout=60).stdout


def _iptables(scope: str, version: int, netns: str | None = None) -> dict[str, list[str]]:
    """The scope's chains (and the FORWARD hook) as ``iptables-save`` prints them, each chain's rules sorted."""
    p = firewall.prefix(scope)
    saved = _run([firewall.TOOLS[version][0], "-t", "filter"], netns=netns)
    chains: dict[str, list[str]] = {}
    for line in saved.splitlines():
        if line.startswith(f":{p}"):
            chains.setdefault(line[1:].split()[0], [])
        elif line.startswith(f"-A {p}"):
            name, _, rest = line[3:].partition(" ")
            chains.setdefault(name, []).append(rest)
        elif line.split() == ["-A", "FORWARD", "-j", f"{p}fwd"]:
            chains.setdefault("FORWARD", []).append(f"-j {p}fwd")
    return {name: sorted(lines) for name, lines in chains.items()}


_SET = re.compile(r"\{([^{}]*)\}")


def _frames(scope: str, netns: str | None = None) -> list[str]:
    """The scope's bridge table as ``nft list`` prints it, a line each, anonymous sets' elements sorted."""
    table = firewall.prefix(scope)[:-1]
    done = subprocess.run([*(["ip", "netns", "exec", netns] if netns else []), "nft", "list", "table", "bridge",
                           table], capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        return []  # no table: no filtered port
    lines = []
    for line in done.stdout.splitlines():
        line = _SET.sub(lambda m: "{ " + ", ".join(sorted(e.strip() for e in m.group(1).split(","))) + " }",
                        line.strip())
        if line and not line.startswith("#"):
            lines.append(line)
    return sorted(lines)


@contextmanager
def scratch_netns() -> Iterator[str]:
    name = f"fwchk-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", name], check=True, timeout=30)
    try:
        yield name
    finally:
        subprocess.run(["ip", "netns", "delete", name], check=False, timeout=30)


def canonical(scope: str, ports: list[firewall.PortRules]) -> tuple[dict[int, dict[str, list[str]]], list[str]]:
    """What the kernel prints for the filter ``ports`` need: loaded into a scratch namespace, read back."""
    with scratch_netns() as ns:
        iptables = {}
        for version in (4, 6):
            rules = firewall.build(scope, ports, version) if ports else {}
            if rules:
                _run([firewall.TOOLS[version][1], "-w", "--noflush"],
                     firewall.restore_text(scope, rules, set(), 0), netns=ns)
            iptables[version] = _iptables(scope, version, ns)
        _run(["nft", "-f", "-"], firewall.frames_text(scope, ports), netns=ns)
        return iptables, _frames(scope, ns)


def live(scope: str, netns: str | None = None) -> tuple[dict[int, dict[str, list[str]]], list[str]]:
    """The scope's rules in the kernel (of this network namespace, or ``netns``)."""
    return {version: _iptables(scope, version, netns) for version in (4, 6)}, _frames(scope, netns)


def differences(admin: httpx.Client, scope: str) -> tuple[int, list[str]]:
    """How many chains and frame rules were compared, and how the kernel differs from what the database says
    (empty: exactly the same)."""
    ports = admin.get("/network/v2.0/ports").raise_for_status().json()["ports"]
    rules = admin.get("/network/v2.0/security-group-rules").raise_for_status().json()["security_group_rules"]
    return compare(canonical(scope, wanted(ports, rules)), live(scope))


def compare(want: tuple[dict[int, dict[str, list[str]]], list[str]],
            have: tuple[dict[int, dict[str, list[str]]], list[str]]) -> tuple[int, list[str]]:
    (want_ip, want_frames), (have_ip, have_frames) = want, have
    found = []
    for version in (4, 6):
        want, have = want_ip[version], have_ip[version]
        for name in sorted(set(want) | set(have)):
            if want.get(name) != have.get(name):
                missing = sorted(set(want.get(name, [])) - set(have.get(name, [])))
                extra = sorted(set(have.get(name, [])) - set(want.get(name, [])))
                found.append(f"IPv{version} chain {name}: " + (
                    "absent" if name not in have else "not wanted" if name not in want else
                    f"missing {missing[:3]}, extra {extra[:3]}"))
    if want_frames != have_frames:
        found.append(f"bridge table: missing {sorted(set(want_frames) - set(have_frames))[:3]}, "
                     f"extra {sorted(set(have_frames) - set(want_frames))[:3]}")
    compared = sum(len(want_ip[v]) for v in (4, 6)) + len(want_frames)
    return compared, found
