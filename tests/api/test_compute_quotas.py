"""Compute quota sets, quota classes and limits over HTTP."""

import pytest

from tests.api.helpers import make_project, member_of_new_project, nova, nova_error, ok

V21 = {"instances", "cores", "ram", "floating_ips", "fixed_ips", "metadata_items", "key_pairs", "security_groups",
       "security_group_rules", "server_group_members", "server_groups", "injected_files",
       "injected_file_content_bytes", "injected_file_path_bytes"}
NETWORK = {"fixed_ips", "floating_ips", "security_groups", "security_group_rules"}
INJECTED = {"injected_files", "injected_file_content_bytes", "injected_file_path_bytes"}
NOVA_DEFAULTS = {"instances": 10, "cores": 20, "ram": 51200, "key_pairs": 100, "metadata_items": 128,
                 "server_groups": 10, "server_group_members": 10}


@pytest.fixture
def admin_nova(cloud):
    with nova(cloud) as c:
        yield c


def test_quota_set_shapes_per_microversion(cloud, admin):
    project = make_project(admin)["id"]
    for version, expected in (("2.1", V21), ("2.36", V21 - NETWORK), ("2.57", V21 - NETWORK - INJECTED)):
        with nova(cloud, version=version) as c:
            shown = ok(c.get(f"/os-quota-sets/{project}"))["quota_set"]
            assert set(shown) == expected | {"id"} and shown["id"] == project
            detail = ok(c.get(f"/os-quota-sets/{project}/detail"))["quota_set"]
            assert set(detail) == expected | {"id"}
            assert detail["instances"] == {"limit": 10, "in_use": 0, "reserved": 0}
            defaults = ok(c.get(f"/os-quota-sets/{project}/defaults"))["quota_set"]
            assert defaults == shown
            updated = ok(c.put(f"/os-quota-sets/{project}", json={"quota_set": {"ram": "5120"}}))["quota_set"]
            assert set(updated) == expected and updated["ram"] == 5120
            ok(c.delete(f"/os-quota-sets/{project}"), 202)
    with nova(cloud, version="2.36") as c:
        nova_error(c.put(f"/os-quota-sets/{project}", json={"quota_set": {"floating_ips": 5}}), 400)


def test_nova_defaults(admin_nova, admin):
    project = make_project(admin)["id"]
    shown = ok(admin_nova.get(f"/os-quota-sets/{project}"))["quota_set"]
    assert {k: shown[k] for k in NOVA_DEFAULTS} == NOVA_DEFAULTS


def test_update_user_quota_and_delete(admin_nova, admin, cloud):
    project, user, _ = member_of_new_project(cloud, admin)
    pid, uid = project["id"], user["id"]
    ok(admin_nova.put(f"/os-quota-sets/{pid}", json={"quota_set": {"ram": 5120, "instances": 4}}))
    assert ok(admin_nova.get(f"/os-quota-sets/{pid}/detail"))["quota_set"]["ram"]["limit"] == 5120
    user_set = ok(admin_nova.put(f"/os-quota-sets/{pid}", params={"user_id": uid},
                                 json={"quota_set": {"ram": "2048"}}))["quota_set"]
    assert user_set["ram"] == 2048 and user_set["instances"] == 4  # the rest comes from the project
    assert ok(admin_nova.get(f"/os-quota-sets/{pid}", params={"user_id": uid}))["quota_set"]["ram"] == 2048
    assert ok(admin_nova.get(f"/os-quota-sets/{pid}"))["quota_set"]["ram"] == 5120
    # a user's limit may not pass its project's, unless forced
    msg = nova_error(admin_nova.put(f"/os-quota-sets/{pid}", params={"user_id": uid},
                                    json={"quota_set": {"ram": 6000}}), 400)
    assert msg == "Quota limit 6000 for ram must be less than or equal to 5120."
    ok(admin_nova.put(f"/os-quota-sets/{pid}", params={"user_id": uid},
                      json={"quota_set": {"ram": 6000, "force": True}}))
    for bad in ({"ram": -2}, {"ram": "-2"}, {"ram": "lots"}, {"unicorns": 1}, {"force": "maybe"}):
        nova_error(admin_nova.put(f"/os-quota-sets/{pid}", json={"quota_set": bad}), 400)
    ok(admin_nova.delete(f"/os-quota-sets/{pid}"), 202)
    shown = ok(admin_nova.get(f"/os-quota-sets/{pid}"))["quota_set"]
    assert shown["ram"] == 51200 and shown["instances"] == 10
    assert ok(admin_nova.get(f"/os-quota-sets/{pid}", params={"user_id": uid}))["quota_set"]["ram"] == 51200


def test_members_read_their_own_quotas_only(cloud, admin):
    project, _, token = member_of_new_project(cloud, admin)
    other = make_project(admin)["id"]
    with nova(cloud, token) as member:
        assert ok(member.get(f"/os-quota-sets/{project['id']}"))["quota_set"]["id"] == project["id"]
        nova_error(member.get(f"/os-quota-sets/{other}"), 403)
        nova_error(member.get(f"/os-quota-sets/{other}/detail"), 403)
        assert ok(member.get(f"/os-quota-sets/{other}/defaults"))["quota_set"]["id"] == other
        nova_error(member.put(f"/os-quota-sets/{project['id']}", json={"quota_set": {"ram": 0}}), 403)
        nova_error(member.delete(f"/os-quota-sets/{project['id']}"), 403)
        nova_error(member.get("/os-quota-class-sets/default"), 403)
        nova_error(member.get("/limits", params={"tenant_id": other}), 403)


def test_quota_class_default_moves_every_projects_defaults(cloud, admin):
    project = make_project(admin)["id"]
    with nova(cloud, version="2.1") as c:
        shown = ok(c.get("/os-quota-class-sets/default"))["quota_class_set"]
        assert shown.pop("id") == "default"
        assert set(shown) == V21 - {"server_groups", "server_group_members"}
    with nova(cloud, version="2.57") as c:
        shown = ok(c.get("/os-quota-class-sets/default"))["quota_class_set"]
        assert set(shown) == V21 - NETWORK - INJECTED | {"id"}
        try:
            updated = ok(c.put("/os-quota-class-sets/default", json={"quota_class_set": {"metadata_items": 129}}))
            assert updated["quota_class_set"]["metadata_items"] == 129 and "id" not in updated["quota_class_set"]
            assert ok(c.get(f"/os-quota-sets/{project}"))["quota_set"]["metadata_items"] == 129
            assert ok(c.get(f"/os-quota-sets/{project}/defaults"))["quota_set"]["metadata_items"] == 129
            nova_error(c.put("/os-quota-class-sets/default", json={"quota_class_set": {"fixed_ips": 1}}), 400)
        finally:
            ok(c.put("/os-quota-class-sets/default", json={"quota_class_set": {"metadata_items": 128}}))


def test_limits_per_microversion(cloud, admin):
    project, _, token = member_of_new_project(cloud, admin)
    with nova(cloud) as admin_nova:
        ok(admin_nova.put(f"/os-quota-sets/{project['id']}", json={"quota_set": {"instances": 3, "cores": 7}}))
    with nova(cloud, token) as member:
        limits = ok(member.get("/limits"))["limits"]
        assert limits["rate"] == []
        absolute = limits["absolute"]
        assert absolute["maxTotalInstances"] == 3 and absolute["maxTotalCores"] == 7
        assert absolute["maxTotalRAMSize"] == 51200 and absolute["totalInstancesUsed"] == 0
        assert {"maxImageMeta", "maxPersonality", "maxTotalFloatingIps", "totalSecurityGroupsUsed",
                "maxServerGroups", "totalServerGroupsUsed", "maxTotalKeypairs"} <= set(absolute)
    for version, gone in (("2.36", {"maxTotalFloatingIps", "maxSecurityGroups", "totalFloatingIpsUsed"}),
                          ("2.39", {"maxImageMeta"}), ("2.57", {"maxPersonality", "maxPersonalitySize"})):
        with nova(cloud, token, version) as member:
            absolute = ok(member.get("/limits"))["limits"]["absolute"]
            assert not gone & set(absolute) and absolute["maxServerMeta"] == 128
    with nova(cloud) as admin_nova:  # admins read another project's
        absolute = ok(admin_nova.get("/limits", params={"tenant_id": project["id"]}))["limits"]["absolute"]
        assert absolute["maxTotalInstances"] == 3
