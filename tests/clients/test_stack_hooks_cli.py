"""Breakpoints with the real CLI: ``openstack stack create --pre-create``, ``stack hook poll`` and ``stack
hook clear``; a stack paused at a hook survives a kill -9 of the cloud still paused, and a paused delete
goes on once its hook is cleared."""

import yaml

from tests.api.helpers import ok, wait
from tests.clients.test_stack_cli import cli, demo_heat, kill_9_and_restart, name
from tests.cloudfixture import Cloud

TEMPLATE = {
    "heat_template_version": "2018-08-31",
    "resources": {
        "secret": {"type": "OS::Heat::RandomString", "properties": {"length": 16}},
        "guarded": {"type": "OS::Heat::Value", "properties": {"value": {"get_attr": ["secret", "value"]}}},
        "after": {"type": "OS::Heat::Value", "properties": {"value": {"get_attr": ["guarded", "value"]}}},
    },
    "outputs": {"value": {"value": {"get_attr": ["after", "value"]}}},
}


def poll(cloud, stack: str) -> list[str]:
    return [row["Resource Name"] for row in cli(cloud, "stack", "hook", "poll", stack) or []]


def test_a_stack_paused_at_a_hook_survives_a_kill_9_and_goes_on_once_cleared(tmp_path):
    cloud = Cloud(tmp_path / "data")
    cloud.start()
    try:
        template = tmp_path / "hooked.yaml"
        template.write_text(yaml.safe_dump(TEMPLATE))
        stack = name("hooked")
        cli(cloud, "stack", "create", "-t", str(template), "--pre-create", "guarded", stack)
        wait(lambda: poll(cloud, stack) == ["guarded"], 60, "the hook to hold")
        events_before = cli(cloud, "stack", "event", "list", stack)

        heat = demo_heat(cloud)
        kill_9_and_restart(cloud, heat)
        # still paused after the restart, in progress by design, not paused twice, nothing further made
        assert cli(cloud, "stack", "show", stack)["stack_status"] == "CREATE_IN_PROGRESS"
        assert poll(cloud, stack) == ["guarded"]
        resources = {r["resource_name"]: r["resource_status"] for r in cli(cloud, "stack", "resource", "list", stack)}
        assert resources == {"secret": "CREATE_COMPLETE", "guarded": "INIT_COMPLETE"}
        events = cli(cloud, "stack", "event", "list", stack)
        assert [e for e in events if "paused" in e["resource_status_reason"]] == \
            [e for e in events_before if "paused" in e["resource_status_reason"]]

        cloud.openstack("stack", "hook", "clear", stack, "guarded", cloud="onestack")
        done = wait(lambda: (s := cli(cloud, "stack", "show", stack))["stack_status"] != "CREATE_IN_PROGRESS" and s,
                    60, "the stack to complete")
        assert done["stack_status"] == "CREATE_COMPLETE", done["stack_status_reason"]
        assert len(cli(cloud, "stack", "output", "show", stack, "value")["output_value"]) == 16

        # a delete paused at a pre-delete hook (set by an update's environment) goes on once cleared
        env = tmp_path / "env.yaml"
        env.write_text(yaml.safe_dump({"resource_registry": {"resources": {"after": {"hooks": "pre-delete"}}}}))
        cli(cloud, "stack", "update", "--existing", "-e", str(env), "--wait", stack)
        cloud.openstack("stack", "delete", "-y", stack, cloud="onestack")
        wait(lambda: poll(cloud, stack) == ["after"], 60, "the delete to pause")
        assert cli(cloud, "stack", "show", stack)["stack_status"] == "DELETE_IN_PROGRESS"
        cloud.openstack("stack", "hook", "clear", "--pre-delete", stack, "after", cloud="onestack")
        wait(lambda: cloud.openstack("stack", "show", stack, cloud="onestack", check=False).returncode != 0, 60,
             "the stack to be deleted")
        assert ok(heat.get("/stacks"))["stacks"] == []
        heat.close()
    finally:
        cloud.stop()
