"""The real `openstack` CLI with osc-placement against the Placement service."""

import json
import uuid


def test_resource_provider_inventory_and_candidates_with_osc_placement(cloud):
    name = f"cli-host-{uuid.uuid4().hex[:8]}"
    created = json.loads(cloud.openstack("resource", "provider", "create", name, "-f", "json").stdout)
    assert created["name"] == name and created["generation"] == 0
    listed = json.loads(cloud.openstack("resource", "provider", "list", "--name", name, "-f", "json").stdout)
    assert [p["uuid"] for p in listed] == [created["uuid"]]
    inventory = json.loads(cloud.openstack("resource", "provider", "inventory", "set", created["uuid"],
                                           "--resource", "VCPU=8", "--resource", "MEMORY_MB=4096",
                                           "--resource", "VCPU:allocation_ratio=2.0", "-f", "json").stdout)
    vcpu = next(i for i in inventory if i["resource_class"] == "VCPU")
    assert vcpu["total"] == 8 and vcpu["allocation_ratio"] == 2.0
    trait = f"CUSTOM_CLI_{uuid.uuid4().hex[:8].upper()}"
    cloud.openstack("--os-placement-api-version", "1.6", "trait", "create", trait)
    cloud.openstack("--os-placement-api-version", "1.6", "resource", "provider", "trait", "set", created["uuid"],
                    "--trait", trait)
    candidates = json.loads(cloud.openstack("--os-placement-api-version", "1.17", "allocation", "candidate",
                                            "list", "--resource", "VCPU=16", "--required", trait,
                                            "-f", "json").stdout)
    assert [c["resource provider"] for c in candidates] == [created["uuid"]]
    too_big = json.loads(cloud.openstack("allocation", "candidate", "list", "--resource", "VCPU=17",
                                         "-f", "json").stdout)
    assert created["uuid"] not in {c["resource provider"] for c in too_big}
    cloud.openstack("resource", "provider", "delete", created["uuid"])
    gone = cloud.openstack("resource", "provider", "show", created["uuid"], check=False)
    assert gone.returncode != 0 and "404" in gone.stderr
