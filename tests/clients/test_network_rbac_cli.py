"""The operator's story with the unmodified `openstack` CLI: provider VLAN external networks, one for
everyone and one for a single project through RBAC; subnet pools; network quotas."""

from __future__ import annotations

import json

from tests.api.helpers import grant, make_project, make_user, name
from tests.api.network_helpers import vlan_id

PASSWORD = "secret-pass-1"


class Project:
    """A project with a member, and the CLI as that member."""

    def __init__(self, cloud, admin):
        self.cloud = cloud
        self.project = make_project(admin)
        self.user = make_user(admin, password=PASSWORD)
        grant(admin, self.project["id"], self.user["id"])

    @property
    def id(self) -> str:
        return self.project["id"]

    def run(self, *args: str, check: bool = True):
        return self.cloud.openstack("--os-username", self.user["name"], "--os-password", PASSWORD,
                                    "--os-project-name", self.project["name"], *args, cloud="onestack", check=check)

    def json(self, *args: str):
        return json.loads(self.run(*args, "-f", "json").stdout)


def as_admin(cloud, *args: str):
    return json.loads(cloud.openstack(*args, "-f", "json").stdout)


def external_vlan_network(cloud, segment: int, cidr_prefix: str) -> tuple[dict, dict]:
    net = as_admin(cloud, "network", "create", "--provider-network-type", "vlan", "--provider-physical-network",
                   "physnet1", "--provider-segment", str(segment), "--external", name("ext"))
    sub = as_admin(cloud, "subnet", "create", "--network", net["id"], "--subnet-range", f"{cidr_prefix}.0/24",
                   "--no-dhcp", "--allocation-pool", f"start={cidr_prefix}.10,end={cidr_prefix}.100", name("ext-sub"))
    return net, sub


def test_external_vlans_one_public_one_for_a_single_project(cloud, admin):
    first, second = vlan_id(), vlan_id()
    while second == first:
        second = vlan_id()
    public, public_sub = external_vlan_network(cloud, first, "203.0.113")
    private, private_sub = external_vlan_network(cloud, second, "198.51.100")
    assert (public["provider:network_type"], public["provider:physical_network"],
            public["provider:segmentation_id"], public["router:external"]) == ("vlan", "physnet1", first, True)
    assert (private_sub["enable_dhcp"], private_sub["allocation_pools"]) == (
        False, [{"start": "198.51.100.10", "end": "198.51.100.100"}])
    chosen, other = Project(cloud, admin), Project(cloud, admin)
    # The admin project owns the RBAC entries of every external network the session's other tests left, and
    # Neutron's default quota allows ten: this story should not depend on how many came before it.
    cloud.openstack("quota", "set", "--rbac-policies", "-1", "admin")

    # Give the second network to one project, then withdraw it from everyone else.
    policy = as_admin(cloud, "network", "rbac", "create", "--target-project", chosen.id, "--action",
                      "access_as_external", "--type", "network", private["id"])
    assert (policy["object_id"], policy["target_project_id"]) == (private["id"], chosen.id)
    grants = as_admin(cloud, "network", "rbac", "list", "--type", "network", "--action", "access_as_external")
    on_private = [as_admin(cloud, "network", "rbac", "show", g["ID"]) for g in grants if g["Object ID"] == private["id"]]
    wildcard = [g["id"] for g in on_private if g["target_project_id"] == "*"]
    assert len(wildcard) == 1
    cloud.openstack("network", "rbac", "delete", wildcard[0])
    assert as_admin(cloud, "network", "show", private["id"])["router:external"] is True

    chosen_sees = {n["ID"] for n in chosen.json("network", "list", "--external")}
    assert {public["id"], private["id"]} <= chosen_sees
    shown = chosen.json("network", "show", private["id"])
    assert shown["router:external"] is True and shown["subnets"] == [private_sub["id"]]
    assert private_sub["id"] in {s["ID"] for s in chosen.json("subnet", "list", "--network", private["id"])}

    other_sees = {n["ID"] for n in other.json("network", "list", "--external")}
    assert public["id"] in other_sees and private["id"] not in other_sees
    assert other.run("network", "show", private["id"], check=False).returncode != 0
    assert private_sub["id"] not in {s["ID"] for s in other.json("subnet", "list")}
    assert public_sub["id"] in {s["ID"] for s in other.json("subnet", "list")}

    # The policy is the admin's: the project it names does not see it.
    assert policy["id"] not in {p["ID"] for p in chosen.json("network", "rbac", "list")}
    assert as_admin(cloud, "network", "rbac", "show", policy["id"])["action"] == "access_as_external"

    # Withdrawing it takes the network away again.
    cloud.openstack("network", "rbac", "delete", policy["id"])
    assert private["id"] not in {n["ID"] for n in chosen.json("network", "list")}
    assert as_admin(cloud, "network", "show", private["id"])["router:external"] is False


def test_member_shares_its_network_with_another_project(cloud, admin):
    owner, guest = Project(cloud, admin), Project(cloud, admin)
    net = owner.json("network", "create", name("net"))
    owner.run("subnet", "create", "--network", net["id"], "--subnet-range", "192.168.77.0/24", name("sub"))
    assert guest.run("network", "show", net["id"], check=False).returncode != 0
    assert owner.run("network", "rbac", "create", "--target-all-projects", "--action", "access_as_shared",
                     "--type", "network", net["id"], check=False).returncode != 0
    owner.json("network", "rbac", "create", "--target-project", guest.id, "--action", "access_as_shared",
               "--type", "network", net["id"])
    assert guest.json("network", "show", net["id"])["shared"] is True
    port = guest.json("port", "create", "--network", net["id"], name("port"))
    assert port["fixed_ips"][0]["ip_address"].startswith("192.168.77.")


def test_subnet_pools_and_address_scopes(cloud, admin):
    member = Project(cloud, admin)
    scope = member.json("address", "scope", "create", "--ip-version", "4", name("scope"))
    pool = member.json("subnet", "pool", "create", "--pool-prefix", "10.60.0.0/24", "--pool-prefix",
                       "10.60.1.0/24", "--default-prefix-length", "26", "--address-scope", scope["id"], name("pool"))
    assert pool["prefixes"] == ["10.60.0.0/23"] and pool["address_scope_id"] == scope["id"]
    net = member.json("network", "create", name("net"))
    sub = member.json("subnet", "create", "--network", net["id"], "--subnet-pool", pool["id"], name("sub"))
    assert sub["cidr"] == "10.60.0.0/26"
    sized = member.json("subnet", "create", "--network", net["id"], "--subnet-pool", pool["id"], "--prefix-length",
                        "25", name("sub"))
    assert sized["cidr"] == "10.60.0.128/25"
    assert member.json("network", "show", net["id"])["ipv4_address_scope"] == scope["id"]
    member.run("subnet", "pool", "set", "--pool-prefix", "10.61.0.0/24", pool["id"])
    assert member.json("subnet", "pool", "show", pool["id"])["prefixes"] == ["10.60.0.0/23", "10.61.0.0/24"]
    refused = member.run("subnet", "pool", "delete", pool["id"], check=False)
    assert refused.returncode != 0 and "existing allocations" in refused.stderr
    assert member.run("address", "scope", "delete", scope["id"], check=False).returncode != 0


def test_network_quota_with_the_cli(cloud, admin):
    member = Project(cloud, admin)
    cloud.openstack("quota", "set", "--networks", "1", "--subnetpools", "4", member.id)
    limits = {r["Resource"]: r["Limit"] for r in as_admin(cloud, "quota", "show", "--network", member.id)}
    assert (limits["networks"], limits["subnet_pools"]) == (1, 4)
    member.json("network", "create", name("net"))
    refused = member.run("network", "create", name("net"), check=False)
    assert refused.returncode != 0 and "Quota exceeded" in refused.stderr
    usage = {r["Resource"]: r for r in as_admin(cloud, "quota", "show", "--network", "--usage", member.id)}
    assert usage["networks"]["In Use"] == 1
    cloud.openstack("quota", "delete", "--network", member.id)
    limits = {r["Resource"]: r["Limit"] for r in as_admin(cloud, "quota", "show", "--network", member.id)}
    assert limits["networks"] == 100
