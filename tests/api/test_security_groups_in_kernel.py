"""Security groups from the API to the kernel: ports and rules made through the network API, read by
``port_rules`` from the cloud's database and applied by ``firewall.converge`` to namespaced guests that
carry those ports' MACs and addresses (what the data plane agent does on each pass)."""

from __future__ import annotations

import time
import uuid

import pytest

from onestack.db.engine import Database
from onestack.drivers.netns import firewall
from onestack.services.network.reconcile.security import port_rules
from tests.api.helpers import name, ok
from tests.api.network_helpers import create
from tests.drivers.lab import Guest, prove_paths, random_net, sh, skip_unless_able

pytestmark = [pytest.mark.dataplane, pytest.mark.xdist_group("firewall")]
skip_unless_able()

SUFFIX = uuid.uuid4().hex[:6]
SCOPE = f"e{SUFFIX}"
BRIDGE = f"osfe{SUFFIX}"


@pytest.fixture
def lab(cloud, tenant):
    """Three ports on one subnet, two in group ``web`` and one in group ``other``, each with its guest."""
    net4, net6 = random_net()
    network = tenant.network()
    tenant.subnet(network, f"{net4}.0/24")
    groups = {key: create(tenant.http, "security-groups", "security_group", name=name(key)) for key in ("web", "other")}
    ports = [tenant.port(network["id"], security_groups=[groups[key]["id"]]) for key in ("web", "web", "other")]
    guests = [Guest(f"osfe-{SUFFIX}-{i}", p["fixed_ips"][0]["ip_address"], f"{net6}::{i + 1}", mac=p["mac_address"],
                    port_id=p["id"]) for i, p in enumerate(ports)]
    db = Database(cloud.database or f"sqlite:///{cloud.data_dir / 'onestack.db'}")

    def converge() -> None:
        with db.read() as session:
            firewall.converge(SCOPE, port_rules(session, [p["id"] for p in ports]))

    try:
        sh("ip", "link", "add", BRIDGE, "type", "bridge")
        sh("ip", "link", "set", BRIDGE, "up")
        for guest in guests:
            guest.create(BRIDGE)
        prove_paths(guests)  # before the filter: a refusal later is the security groups' doing
        yield converge, groups, guests
    finally:
        firewall.purge(SCOPE)
        for guest in guests:
            guest.destroy()
        sh("ip", "link", "del", BRIDGE, check=False)
        db.dispose()


def add_rule(tenant, group: dict, **body) -> dict:
    return create(tenant.http, "security-group-rules", "security_group_rule", security_group_id=group["id"],
                  direction="ingress", **body)


def test_a_rule_made_through_the_api_reaches_the_guests(tenant, lab):
    converge, groups, (web1, web2, other) = lab
    converge()
    assert not other.pings(web1)  # a new group lets everything out and nothing in
    started = time.monotonic()
    rule = add_rule(tenant, groups["web"], protocol="icmp", remote_ip_prefix="0.0.0.0/0")
    converge()
    assert other.pings(web1)
    print(f"\nAPI rule create to first ping reply: {(time.monotonic() - started) * 1000:.0f} ms")
    ok(tenant.http.delete(f"/security-group-rules/{rule['id']}"), 204)
    converge()
    assert not other.pings(web1)


def test_a_remote_group_rule_admits_the_groups_ports_only(tenant, lab):
    converge, groups, (web1, web2, other) = lab
    add_rule(tenant, groups["web"], protocol="tcp", port_range_min=8022, port_range_max=8022,
             remote_group_id=groups["web"]["id"])
    converge()
    assert web2.connects(web1)
    assert not other.connects(web1)
    # Moving a port into the group makes it a member at the next pass.
    ok(tenant.http.put(f"/ports/{other.port_id}", json={"port": {"security_groups": [groups["web"]["id"]]}}))
    converge()
    assert other.connects(web1)
