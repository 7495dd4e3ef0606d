"""The real `openstack stack suspend/resume/check`, `stack update --dry-run`, `stack snapshot ...` and
`stack abandon/adopt` (python-heatclient) against Orchestration, and a suspend that lives through a kill -9 of the cloud."""

import httpx
import yaml

from tests.api.helpers import ok, upload_image, wait
from tests.clients.test_stack_cli import cli, demo_heat, name, restart
from tests.cloudfixture import Cloud


def public_image(cloud) -> str:
    with httpx.Client(base_url=cloud.url, headers={"X-Auth-Token": cloud.token()}, timeout=60) as admin:
        image = upload_image(admin, image_name=name("img"))
        ok(admin.patch(f"/image/v2/images/{image['id']}", json=[{"op": "replace", "path": "/visibility",
                                                                  "value": "public"}],
                       headers={"Content-Type": "application/openstack-images-v2.1-json-patch"}))
    return image["id"]


def template(image: str, value: str = "one") -> dict:
    return {"heat_template_version": "2018-08-31", "resources": {
        "secret": {"type": "OS::Heat::RandomString"},
        "value": {"type": "OS::Heat::TestResource", "properties": {"value": value}},
        "server": {"type": "OS::Nova::Server", "properties": {
            "image": image, "flavor": "m1.tiny", "networks": [{"allocate_network": "none"}]}}}}


def test_suspend_resume_check_dry_run_abandon_and_adopt_with_the_openstack_cli(cloud, tmp_path):
    image = public_image(cloud)
    path = tmp_path / "stack.yaml"
    path.write_text(yaml.safe_dump(template(image)))
    stack = name("cli-actions")
    made = cli(cloud, "stack", "create", "-t", str(path), "--wait", stack)
    assert made["stack_status"] == "CREATE_COMPLETE", made
    server_id = next(r["physical_resource_id"] for r in cli(cloud, "stack", "resource", "list", stack)
                     if r["resource_name"] == "server")

    def states() -> set[str]:
        return {r["resource_status"] for r in cli(cloud, "stack", "resource", "list", stack)}

    suspended = cli(cloud, "stack", "suspend", "--wait", stack)
    assert suspended[0]["Stack Status"] == "SUSPEND_COMPLETE", suspended
    assert states() == {"SUSPEND_COMPLETE"}
    assert cli(cloud, "server", "show", server_id)["status"] == "SUSPENDED"

    resumed = cli(cloud, "stack", "resume", "--wait", stack)
    assert resumed[0]["Stack Status"] == "RESUME_COMPLETE", resumed
    assert cli(cloud, "server", "show", server_id)["status"] == "ACTIVE"

    checked = cli(cloud, "stack", "check", "--wait", stack)
    assert checked[0]["Stack Status"] == "CHECK_COMPLETE", checked
    assert states() == {"CHECK_COMPLETE"}

    path.write_text(yaml.safe_dump(template(image, "two")))
    changes = cli(cloud, "stack", "update", "--dry-run", "-t", str(path), stack)
    assert [r["resource_name"] for r in changes["updated"]] == ["value"]
    assert sorted(r["resource_name"] for r in changes["unchanged"]) == ["secret", "server"]
    assert changes["added"] == changes["deleted"] == changes["replaced"] == []
    assert cli(cloud, "stack", "show", stack)["stack_status"] == "CHECK_COMPLETE"  # a dry run changes nothing

    # a snapshot, listed, restored (RESTORE_COMPLETE), deleted
    taken = cli(cloud, "stack", "snapshot", "create", "--name", "first", stack)
    wait(lambda: cli(cloud, "stack", "show", stack)["stack_status"] == "SNAPSHOT_COMPLETE", 60, "the snapshot")
    listed = cli(cloud, "stack", "snapshot", "list", stack)
    assert [(s["id"], s["name"], s["status"]) for s in listed] == [(taken["ID"], "first", "COMPLETE")]
    cloud.openstack("stack", "snapshot", "restore", stack, taken["ID"], cloud="onestack")
    wait(lambda: cli(cloud, "stack", "show", stack)["stack_status"] == "RESTORE_COMPLETE", 60, "the restore")
    cloud.openstack("stack", "snapshot", "delete", "-y", stack, taken["ID"], cloud="onestack")
    assert cli(cloud, "stack", "snapshot", "list", stack) == []

    # abandon forgets the stack and keeps its server; adopt makes a new stack of it
    abandoned = tmp_path / "abandoned.json"
    cloud.openstack("stack", "abandon", "--output-file", str(abandoned), stack, cloud="onestack")
    assert stack not in {s["Stack Name"] for s in cli(cloud, "stack", "list")}
    assert cli(cloud, "server", "show", server_id)["status"] == "ACTIVE"
    again = name("cli-adopted")
    adopted = cli(cloud, "stack", "adopt", "--adopt-file", str(abandoned), "--wait", again)
    assert adopted["stack_status"] == "ADOPT_COMPLETE", adopted
    assert {r["resource_name"]: r["physical_resource_id"] for r in cli(cloud, "stack", "resource", "list", again)
            }["server"] == server_id

    cloud.openstack("stack", "delete", "--wait", "-y", again, cloud="onestack")
    assert server_id not in {s["ID"] for s in cli(cloud, "server", "list")}


def test_a_suspend_cut_by_a_kill_9_completes_after_the_restart(tmp_path):
    """A kill -9 in the middle of a SUSPEND: one resource done, one recorded SUSPEND_IN_PROGRESS but its
    request not made, one not begun.  After the restart the engine carries on from there: each remaining
    resource is taken through the action once (the cut one's request made then), the one already done is
    left alone, and the stack completes (nothing stays IN_PROGRESS).  The server is the one done: a kill -9
    takes the fake driver's guests with it, and Nova suspends no stopped server nor resumes a lost one."""
    cloud = Cloud(tmp_path / "data")
    cloud.start()
    try:
        image = public_image(cloud)
        heat = demo_heat(cloud)
        stack_name = name("cut-suspend")
        ref = ok(heat.post("/stacks", json={"stack_name": stack_name, "template": template(image)}), 201)["stack"]
        path = f"/stacks/{stack_name}/{ref['id']}"
        wait(lambda: ok(heat.get(path))["stack"]["stack_status"] == "CREATE_COMPLETE", 60, "the create")
        server_id = ok(heat.get(f"{path}/resources/server"))["resource"]["physical_resource_id"]
        ok(heat.post(f"{path}/actions", json={"suspend": None}))
        wait(lambda: ok(heat.get(path))["stack"]["stack_status"] == "SUSPEND_COMPLETE", 60, "the suspend")
        seen = len(ok(heat.get(f"{path}/events"))["events"])

        cloud.kill_9()
        # what a kill mid-way leaves: a new SUSPEND begun, the server done in it, ``value`` recorded
        # SUSPEND_IN_PROGRESS with its request not made, ``secret`` not begun
        cloud.execute("UPDATE orchestration_stack SET action = 'SUSPEND', status = 'IN_PROGRESS', "
                      "generation = generation + 1 WHERE id = :id", id=ref["id"])
        cloud.execute("UPDATE orchestration_resource SET generation = (SELECT generation FROM orchestration_stack "
                      "WHERE id = :id) WHERE stack_id = :id AND name = 'server'", id=ref["id"])
        cloud.execute("UPDATE orchestration_resource SET status = 'IN_PROGRESS', generation = (SELECT generation "
                      "FROM orchestration_stack WHERE id = :id) WHERE stack_id = :id AND name = 'value'",
                      id=ref["id"])
        restart(cloud, heat)

        done = wait(lambda: (s := ok(heat.get(path))["stack"])["stack_status"] != "SUSPEND_IN_PROGRESS" and s, 60,
                    "the suspend to finish after the restart")
        assert done["stack_status"] == "SUSPEND_COMPLETE", done["stack_status_reason"]
        resources = ok(heat.get(f"{path}/resources"))["resources"]
        assert {r["resource_status"] for r in resources} == {"SUSPEND_COMPLETE"}
        after = [(e["resource_name"], e["resource_status"]) for e in ok(heat.get(f"{path}/events"))["events"][seen:]]
        # value and secret need nothing of each other: their events may interleave; the server has none
        assert sorted(after[:-1]) == [("secret", "SUSPEND_COMPLETE"), ("secret", "SUSPEND_IN_PROGRESS"),
                                      ("value", "SUSPEND_COMPLETE")]
        assert after[-1] == (stack_name, "SUSPEND_COMPLETE")
        with httpx.Client(base_url=cloud.url, headers={"X-Auth-Token": cloud.token()}, timeout=60) as admin:
            assert ok(admin.get(f"/compute/v2.1/servers/{server_id}"))["server"]["status"] == "SUSPENDED"
        ok(heat.delete(path), 204)
        wait(lambda: ok(heat.get(path))["stack"]["stack_status"] == "DELETE_COMPLETE", 60, "the delete")
        heat.close()
    finally:
        cloud.stop()
