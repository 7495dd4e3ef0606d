"""Nested stacks through the real `openstack stack ...` CLI (python-heatclient): a provider template the
client sends from the environment's resource_registry, a ResourceGroup resized by `stack update`, nested
resources listed with --nested-depth; and a group whose nested stack is being made when the cloud is
killed with kill -9, which completes after the restart."""

import yaml

from tests.api.helpers import ok, wait
from tests.clients.test_stack_cli import cli, demo_heat, kill_9_and_restart, name
from tests.cloudfixture import Cloud

MEMBER = {
    "heat_template_version": "2018-08-31",
    "parameters": {"index": {"type": "string"}},
    "resources": {"word": {"type": "OS::Heat::RandomString", "properties": {"length": 8}},
                  "line": {"type": "OS::Heat::Value", "properties": {"value": {"str_replace": {
                      "template": "member IDX", "params": {"IDX": {"get_param": "index"}}}}}}},
    "outputs": {"line": {"value": {"get_attr": ["line", "value"]}}},
}


def group(count: int) -> dict:
    return {
        "heat_template_version": "2018-08-31",
        "parameters": {"count": {"type": "number", "default": count}},
        "resources": {"members": {"type": "OS::Heat::ResourceGroup", "properties": {
            "count": {"get_param": "count"},
            "resource_def": {"type": "My::Member", "properties": {"index": "%index%"}}}}},
        "outputs": {"lines": {"value": {"get_attr": ["members", "line"]}}},
    }


def test_provider_group_with_the_openstack_cli(cloud, tmp_path):
    (tmp_path / "member.yaml").write_text(yaml.safe_dump(MEMBER))
    (tmp_path / "env.yaml").write_text(yaml.safe_dump({"resource_registry": {"My::Member": "member.yaml"}}))
    (tmp_path / "group.yaml").write_text(yaml.safe_dump(group(3)))
    stack = name("cli-group")
    made = cli(cloud, "stack", "create", "-t", str(tmp_path / "group.yaml"), "-e", str(tmp_path / "env.yaml"),
               "--wait", stack)
    assert made["stack_status"] == "CREATE_COMPLETE", made
    lines = cli(cloud, "stack", "output", "show", stack, "lines")["output_value"]
    assert (lines if isinstance(lines, list) else yaml.safe_load(lines)) == ["member 0", "member 1", "member 2"]

    top = cli(cloud, "stack", "resource", "list", stack)
    assert [r["resource_type"] for r in top] == ["OS::Heat::ResourceGroup"]
    deep = cli(cloud, "stack", "resource", "list", "--nested-depth", "2", stack)
    # the group, its three members (provider template resources) and each member's two resources
    assert len(deep) == 1 + 3 + 6
    assert {r["resource_type"] for r in deep} >= {"My::Member", "OS::Heat::Value", "OS::Heat::RandomString"}
    nested = [s for s in cli(cloud, "stack", "list", "--nested") if s["Stack Name"] != stack]
    assert len(nested) == 4 and all(s["Stack Status"] == "CREATE_COMPLETE" for s in nested)
    top_level = [s["Stack Name"] for s in cli(cloud, "stack", "list")]
    assert top_level.count(stack) == 1 and not {n["Stack Name"] for n in nested} & set(top_level)

    updated = cli(cloud, "stack", "update", "--existing", "--parameter", "count=1", "--wait", stack)
    assert updated["stack_status"] == "UPDATE_COMPLETE", updated
    lines = cli(cloud, "stack", "output", "show", stack, "lines")["output_value"]
    assert (lines if isinstance(lines, list) else yaml.safe_load(lines)) == ["member 0"]
    assert len(cli(cloud, "stack", "resource", "list", "--nested-depth", "2", stack)) == 1 + 1 + 2

    cloud.openstack("stack", "delete", "--wait", "-y", stack, cloud="onestack")
    assert [s for s in cli(cloud, "stack", "list", "--nested") if s["Stack Name"].startswith(stack)] == []


def test_a_nested_stack_across_a_kill_9_completes(tmp_path):
    """kill -9 while a group's nested stack is being made: after the restart both the parent and the
    child are resumed, nothing stays IN_PROGRESS, and the delete removes both."""
    cloud = Cloud(tmp_path / "data")
    cloud.start()
    try:
        heat = demo_heat(cloud)
        template = {"heat_template_version": "2018-08-31", "resources": {"slow": {
            "type": "OS::Heat::ResourceGroup", "properties": {"count": 3, "resource_def": {
                "type": "OS::Heat::TestResource", "properties": {"value": "m%index%",
                                                                 "action_wait_secs": {"create": 4}}}}}},
            "outputs": {"values": {"value": {"get_attr": ["slow", "output"]}}}}
        stack_name = name("nested-survivor")
        ref = ok(heat.post("/stacks", json={"stack_name": stack_name, "template": template}), 201)["stack"]
        path = f"/stacks/{stack_name}/{ref['id']}"

        def children() -> list[dict]:
            return [s for s in ok(heat.get("/stacks", params={"show_nested": True}))["stacks"]
                    if s["parent"] == ref["id"]]

        wait(lambda: children() and ok(heat.get(
            f"/stacks/{children()[0]['stack_name']}/{children()[0]['id']}/resources"))["resources"], 60,
            "the nested stack's members to start")
        kill_9_and_restart(cloud, heat)

        done = wait(lambda: (s := ok(heat.get(path))["stack"])["stack_status"] != "CREATE_IN_PROGRESS" and s, 60,
                    "the stack to finish after the restart")
        assert done["stack_status"] == "CREATE_COMPLETE", done["stack_status_reason"]
        [child] = children()
        assert child["stack_status"] == "CREATE_COMPLETE"
        assert ok(heat.get(f"{path}/outputs/values"))["output"]["output_value"] == ["m0", "m1", "m2"]
        stuck = [s for s in ok(heat.get("/stacks", params={"show_nested": True}))["stacks"]
                 if s["stack_status"].endswith("IN_PROGRESS")]
        assert stuck == []

        ok(heat.delete(path), 204)
        wait(lambda: ok(heat.get(path))["stack"]["stack_status"] == "DELETE_COMPLETE", 60, "the delete")
        assert children() == []
        heat.close()
    finally:
        cloud.stop()


def test_a_wait_condition_signalled_with_the_cli(cloud, tmp_path):
    (tmp_path / "wait.yaml").write_text(yaml.safe_dump({
        "heat_template_version": "2018-08-31",
        "resources": {"handle": {"type": "OS::Heat::WaitConditionHandle"},
                      "wait": {"type": "OS::Heat::WaitCondition",
                               "properties": {"handle": {"get_resource": "handle"}, "timeout": 120}}},
        "outputs": {"data": {"value": {"get_attr": ["wait", "data"]}}}}))
    stack = name("cli-wait")
    cli(cloud, "stack", "create", "-t", str(tmp_path / "wait.yaml"), stack)
    wait(lambda: any(r["resource_name"] == "wait" for r in cli(cloud, "stack", "resource", "list", stack)), 60,
         "the wait condition to start")
    cloud.openstack("stack", "resource", "signal", stack, "handle", "--data",
                    '{"status": "SUCCESS", "data": "ready", "id": "guest"}', cloud="onestack")
    done = wait(lambda: (s := cli(cloud, "stack", "show", stack))["stack_status"] != "CREATE_IN_PROGRESS" and s,
                60, "the stack to complete")
    assert done["stack_status"] == "CREATE_COMPLETE", done["stack_status_reason"]
    data = cli(cloud, "stack", "output", "show", stack, "data")["output_value"]
    assert yaml.safe_load(data) == {"guest": "ready"}
    cloud.openstack("stack", "delete", "--wait", "-y", stack, cloud="onestack")


def preview_template(count: int, single: str, other: str) -> dict:
    return {
        "heat_template_version": "2018-08-31",
        "resources": {
            "members": {"type": "OS::Heat::ResourceGroup", "properties": {
                "count": count, "resource_def": {"type": "My::Member", "properties": {"index": "%index%"}}}},
            "single": {"type": "My::Member", "properties": {"index": single}},
            "other": {"type": other, "properties": {"index": "o"} if other == "My::Member" else {"value": 1}},
        },
    }


def test_update_dry_run_show_nested_lists_the_nested_stacks_resources(cloud, tmp_path):
    """`stack update --dry-run --show-nested` as Heat answers it: a stack-backed resource is always
    updated (its child decides), an updated child's own preview is merged into the buckets, the child of
    a replaced resource is listed as deleted and that of a new group member as added."""
    (tmp_path / "member.yaml").write_text(yaml.safe_dump(MEMBER))
    (tmp_path / "env.yaml").write_text(yaml.safe_dump({"resource_registry": {"My::Member": "member.yaml"}}))
    (tmp_path / "before.yaml").write_text(yaml.safe_dump(preview_template(2, "x", "My::Member")))
    (tmp_path / "after.yaml").write_text(yaml.safe_dump(preview_template(3, "y", "OS::Heat::Value")))
    stack = name("cli-preview")
    made = cli(cloud, "stack", "create", "-t", str(tmp_path / "before.yaml"), "-e", str(tmp_path / "env.yaml"),
               "--wait", stack)
    assert made["stack_status"] == "CREATE_COMPLETE", made
    before = cli(cloud, "stack", "resource", "list", "--nested-depth", "3", stack)
    update = ("stack", "update", "--dry-run", "-t", str(tmp_path / "after.yaml"), "-e", str(tmp_path / "env.yaml"))

    def buckets(changes: dict) -> dict[str, list[str]]:
        return {kind: sorted(r["resource_name"] for r in entries) for kind, entries in changes.items()}

    flat = cli(cloud, *update, stack)
    assert buckets(flat) == {"added": [], "deleted": [], "replaced": ["other"], "updated": ["members", "single"],
                             "unchanged": []}

    deep = cli(cloud, *update, "--show-nested", stack)
    assert buckets(deep) == {
        "added": ["2", "line", "word"],                      # the new member and its own two resources
        "deleted": ["line", "word"],                         # what the replaced provider resource held
        "replaced": ["other"],
        "updated": ["0", "1", "line", "members", "single"],  # single's line has a new value
        "unchanged": ["line", "line", "word", "word", "word"],
    }
    # each nested entry names the stack it is in and the resource that stands for that stack
    inner = {(r["resource_name"], r.get("parent_resource")): r for r in deep["updated"]}
    group_id = next(r["physical_resource_id"] for r in before if r["resource_name"] == "members")
    assert inner[("0", "members")]["stack_identity"]["stack_id"] == group_id
    assert inner[("line", "single")]["resource_status"] == "CREATE_COMPLETE"
    assert {r.get("parent_resource") for r in deep["deleted"]} == {"other"}
    added = {r["resource_name"]: r for r in deep["added"]}
    assert added["2"]["resource_status"] == "INIT_COMPLETE" and added["2"]["parent_resource"] == "members"
    assert added["word"]["resource_type"] == "OS::Heat::RandomString" and added["word"]["parent_resource"] == "2"

    # a dry run changes nothing, nested or not
    assert cli(cloud, "stack", "show", stack)["stack_status"] == "CREATE_COMPLETE"
    assert cli(cloud, "stack", "resource", "list", "--nested-depth", "3", stack) == before
    cloud.openstack("stack", "delete", "--wait", "-y", stack, cloud="onestack")


FACADE_MEMBER = {
    "heat_template_version": "2013-05-23",
    "resources": {"role": {"type": "OS::Heat::Value", "properties": {"value": {
        "Fn::Select": ["role", {"resource_facade": "metadata"}]}}}},
    "outputs": {"role": {"value": {"get_attr": ["role", "value"]}},
                "policy": {"value": {"Fn::ResourceFacade": "DeletionPolicy"}}},
}


def test_resource_facade_and_2013_05_23_functions_with_the_openstack_cli(cloud, tmp_path):
    """A provider template of HOT 2013-05-23 reads its resource's metadata (resource_facade, Fn::Select) and
    deletion_policy (Fn::ResourceFacade); `openstack orchestration template function list` lists them."""
    (tmp_path / "member.yaml").write_text(yaml.safe_dump(FACADE_MEMBER))
    (tmp_path / "env.yaml").write_text(yaml.safe_dump({"resource_registry": {"My::Facade": "member.yaml"}}))
    (tmp_path / "top.yaml").write_text(yaml.safe_dump({
        "heat_template_version": "2013-05-23",
        "resources": {"member": {"type": "My::Facade", "deletion_policy": "Retain",
                                 "metadata": {"role": "frontend"}}},
        "outputs": {"role": {"value": {"get_attr": ["member", "role"]}},
                    "policy": {"value": {"get_attr": ["member", "policy"]}}}}))
    stack = name("cli-facade")
    made = cli(cloud, "stack", "create", "-t", str(tmp_path / "top.yaml"), "-e", str(tmp_path / "env.yaml"),
               "--wait", stack)
    assert made["stack_status"] == "CREATE_COMPLETE", made
    assert cli(cloud, "stack", "output", "show", stack, "role")["output_value"] == "frontend"
    assert cli(cloud, "stack", "output", "show", stack, "policy")["output_value"] == "Retain"
    listed = {f["Functions"] for f in cli(cloud, "orchestration", "template", "function", "list",
                                          "heat_template_version.2013-05-23")}
    assert {"resource_facade", "Fn::ResourceFacade", "Fn::Select", "Ref", "get_attr"} <= listed
    newer = {f["Functions"] for f in cli(cloud, "orchestration", "template", "function", "list",
                                         "heat_template_version.2015-10-15")}
    assert "resource_facade" in newer and not {"Fn::Select", "Ref", "Fn::Join"} & newer
    cloud.openstack("stack", "delete", "--wait", "-y", stack, cloud="onestack")
