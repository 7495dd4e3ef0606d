"""``port_rules``: what the packet filter is told about ports, read from a real cloud's database after
the ports, groups and rules were made through the network API."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from onestack.db.engine import Database
from onestack.drivers.netns.firewall import Rule
from onestack.services.network.reconcile.security import port_rules
from tests.api.helpers import name
from tests.api.network_helpers import create


@pytest.fixture
def db(cloud):
    database = Database(cloud.database or f"sqlite:///{cloud.data_dir / 'onestack.db'}")
    yield database
    database.dispose()


def group(tenant, **rules) -> dict:
    """A security group without its default egress rules (so each test states every rule it means)."""
    made = create(tenant.http, "security-groups", "security_group", name=name("sg"))
    for rule in made["security_group_rules"]:
        tenant.http.delete(f"/security-group-rules/{rule['id']}")
    return made


def rule(tenant, group_id: str, direction: str = "ingress", **body) -> dict:
    return create(tenant.http, "security-group-rules", "security_group_rule", security_group_id=group_id,
                  direction=direction, **body)


def by_id(db, *port_ids: str):
    with db.read() as session:
        return {p.port_id: p for p in port_rules(session, port_ids)}


def test_rules_protocols_ports_and_prefixes(tenant, db):
    subnet = tenant.private_subnet()
    sg = group(tenant)
    rule(tenant, sg["id"], protocol="tcp", port_range_min=22, port_range_max=22, remote_ip_prefix="192.0.2.0/24")
    rule(tenant, sg["id"], protocol="6", port_range_min=80, port_range_max=81)
    rule(tenant, sg["id"], protocol="icmp", port_range_min=8, port_range_max=0)
    rule(tenant, sg["id"], protocol="sctp")
    rule(tenant, sg["id"], ethertype="IPv6", protocol="icmp")
    rule(tenant, sg["id"], ethertype="IPv6", protocol="58", port_range_min=128)
    rule(tenant, sg["id"], direction="egress")
    port = tenant.port(subnet["network_id"], security_groups=[sg["id"]])
    got = by_id(db, port["id"])[port["id"]]
    assert got.device == f"tap{port['id'][:11]}" and got.mac == port["mac_address"]
    assert got.ips == (port["fixed_ips"][0]["ip_address"],) and got.port_security is True
    assert set(got.rules) == {
        Rule("ingress", "IPv4", "tcp", 22, 22, ("192.0.2.0/24",)),
        Rule("ingress", "IPv4", "tcp", 80, 81),
        Rule("ingress", "IPv4", "icmp", 8, 0),
        Rule("ingress", "IPv4", "132"),
        Rule("ingress", "IPv6", "ipv6-icmp"),
        Rule("ingress", "IPv6", "ipv6-icmp", 128, None),
        Rule("egress", "IPv4"),
    }


def test_remote_group_expands_to_its_members_addresses_by_ethertype(tenant, db):
    net = tenant.network()
    tenant.subnet(net, "10.66.0.0/24")
    tenant.subnet(net, "fd66::/64", ip_version=6)
    web, empty = group(tenant), group(tenant)
    rule(tenant, web["id"], remote_group_id=web["id"])
    rule(tenant, web["id"], ethertype="IPv6", remote_group_id=web["id"])
    rule(tenant, web["id"], protocol="tcp", port_range_min=5432, port_range_max=5432, remote_group_id=empty["id"])
    first = tenant.port(net["id"], security_groups=[web["id"]])
    second = tenant.port(net["id"], security_groups=[web["id"]],
                         allowed_address_pairs=[{"ip_address": "10.66.9.0/24"}])
    outsider = tenant.port(net["id"], security_groups=[empty["id"]], port_security_enabled=True)
    tenant.http.put(f"/ports/{outsider['id']}", json={"port": {"security_groups": []}})

    def addresses(port: dict, version: int) -> set[str]:
        return {f["ip_address"] for f in port["fixed_ips"] if (":" in f["ip_address"]) == (version == 6)}

    got = by_id(db, first["id"])[first["id"]]
    rules = {r.ethertype: r for r in got.rules}
    assert len(got.rules) == 2  # the rule naming a group without members is no rule at all
    assert set(rules["IPv4"].remote_prefixes) == addresses(first, 4) | addresses(second, 4) | {"10.66.9.0/24"}
    assert set(rules["IPv6"].remote_prefixes) == addresses(first, 6) | addresses(second, 6)
    assert by_id(db, second["id"])[second["id"]].allowed_pairs == (("10.66.9.0/24", second["mac_address"]),)


def test_port_security_off_and_network_ports_are_not_filtered(tenant, db):
    subnet = tenant.private_subnet()
    off = tenant.port(subnet["network_id"], port_security_enabled=False)
    dhcp = tenant.port(subnet["network_id"], device_owner="network:dhcp")
    got = by_id(db, off["id"], dhcp["id"], "no-such-port")
    assert set(got) == {off["id"], dhcp["id"]}
    assert all(p.port_security is False and p.rules == () for p in got.values())


def test_a_few_queries_for_any_number_of_ports(tenant, db):
    subnet = tenant.private_subnet()
    sg = group(tenant)
    rule(tenant, sg["id"], remote_group_id=sg["id"])
    ports = [tenant.port(subnet["network_id"], security_groups=[sg["id"]]) for _ in range(12)]
    statements = []
    event.listen(db.engine, "before_cursor_execute",
                 lambda _conn, _cursor, statement, *_: statements.append(statement) if statement.startswith("SELECT") else None)
    by_id(db, *(p["id"] for p in ports[:2]))
    few = len(statements)
    statements.clear()
    by_id(db, *(p["id"] for p in ports))
    assert len(statements) == few <= 6
