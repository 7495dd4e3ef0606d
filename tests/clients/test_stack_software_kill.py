"""Structured configs and deployments across a kill -9: a StructuredDeployment makes a *derived* config
(and a deployment record) with one request and records its id with the next write, so a kill between the
two leaves a config and a deployment that no resource names.  After the restart the engine's retry must
find them and take them away: no software config or deployment is left that no resource owns, and the
stack's delete leaves none at all.

The window between a service's answer and the engine's record is too short to hit by timing, so each test
kills the cloud, writes what a kill inside it leaves (as tests/clients/test_stack_cli.py does for a
delete), and restarts."""

import httpx

from tests.api.helpers import ok, wait
from tests.clients.test_stack_actions_cli import public_image
from tests.clients.test_stack_cli import demo_heat, name, restart
from tests.cloudfixture import Cloud

CONFIG = {"greeting": {"get_input": "who"}, "server": {"get_input": "deploy_server_id"}}


def template(image: str) -> dict:
    return {
        "heat_template_version": "2018-08-31",
        "parameters": {"who": {"type": "string", "default": "world"}},
        "resources": {
            "server": {"type": "OS::Nova::Server", "properties": {
                "image": image, "flavor": "m1.tiny", "user_data_format": "SOFTWARE_CONFIG",
                "networks": [{"allocate_network": "none"}]}},
            "config": {"type": "OS::Heat::StructuredConfig", "properties": {
                "group": "apply-config", "config": CONFIG, "inputs": [{"name": "who"}]}},
            "deploy": {"type": "OS::Heat::StructuredDeployment", "properties": {
                "config": {"get_resource": "config"}, "server": {"get_resource": "server"},
                "input_values": {"who": {"get_param": "who"}}}},
            "group": {"type": "OS::Heat::StructuredDeploymentGroup", "properties": {
                "config": {"get_resource": "config"}, "input_values": {"who": "group"},
                "servers": {"a": {"get_resource": "server"}, "b": {"get_resource": "server"}}}},
        },
    }


def unowned(heat: httpx.Client, path: str) -> tuple[set[str], set[str]]:
    """(configs, deployments) of the project that no resource of the stack owns: a config resource's own
    id, a deployment resource's record and the config that record deploys."""
    resources = ok(heat.get(f"{path}/resources", params={"nested_depth": 3}))["resources"]
    physical = {r["physical_resource_id"] for r in resources if r["physical_resource_id"]}
    deployments = {d["id"]: d for d in ok(heat.get("/software_deployments"))["software_deployments"]}
    owned_configs = physical | {d["config_id"] for d_id, d in deployments.items() if d_id in physical}
    configs = {c["id"] for c in ok(heat.get("/software_configs"))["software_configs"]}
    return configs - owned_configs, set(deployments) - physical


def settle(heat: httpx.Client, path: str, action: str) -> dict:
    return wait(lambda: (s := ok(heat.get(path))["stack"])["stack_status"] != f"{action}_IN_PROGRESS" and s,
                90, f"the {action} to finish")


def made(cloud: Cloud) -> tuple[httpx.Client, str, str]:
    heat = demo_heat(cloud)
    stack_name = name("deployed")
    ref = ok(heat.post("/stacks", json={"stack_name": stack_name, "template": template(public_image(cloud))}),
             201)["stack"]
    path = f"/stacks/{stack_name}/{ref['id']}"
    done = settle(heat, path, "CREATE")
    assert done["stack_status"] == "CREATE_COMPLETE", done["stack_status_reason"]
    assert unowned(heat, path) == (set(), set())
    return heat, path, ref["id"]


def deleted_leaving_nothing(heat: httpx.Client, path: str) -> None:
    ok(heat.delete(path), 204)
    assert settle(heat, path, "DELETE")["stack_status"] == "DELETE_COMPLETE"
    assert ok(heat.get("/software_configs"))["software_configs"] == []
    assert ok(heat.get("/software_deployments"))["software_deployments"] == []


def deployment_and_config(heat: httpx.Client, path: str) -> tuple[str, str]:
    """The ``deploy`` resource's deployment record and the config that record deploys."""
    deployment = ok(heat.get(f"{path}/resources/deploy"))["resource"]["physical_resource_id"]
    return deployment, ok(heat.get(f"/software_deployments/{deployment}"))["software_deployment"]["config_id"]


def give_a_copy(cloud: Cloud, deployment: str, config: str, copy: str) -> None:
    """What a step leaves when it derived a config (``copy``: ``config``'s twin, the resource's inputs and all)
    and gave it to the deployment, but the engine never recorded it."""
    cloud.execute("INSERT INTO orchestration_software_config (id, project_id, name, \"group\", config, "
                  "config_map, inputs, outputs, options, created_at) SELECT :copy, project_id, "
                  "name, \"group\", config, config_map, inputs, outputs, options, created_at "
                  "FROM orchestration_software_config WHERE id = :config", copy=copy, config=config)
    cloud.execute("UPDATE orchestration_software_deployment SET config_id = :copy WHERE id = :id",
                  copy=copy, id=deployment)


def test_a_create_cut_after_the_derived_config_and_deployment_were_made(tmp_path):
    cloud = Cloud(tmp_path / "data")
    cloud.start()
    try:
        heat, path, stack_id = made(cloud)
        _, first_config = deployment_and_config(heat, path)

        cloud.kill_9()
        # what a kill leaves when the deployment's create had made its derived config and its record but the
        # engine had not written their ids: the resource in CREATE_IN_PROGRESS knowing only its name
        cloud.execute("UPDATE orchestration_stack SET action = 'CREATE', status = 'IN_PROGRESS' WHERE id = :id",
                      id=stack_id)
        cloud.execute("UPDATE orchestration_resource SET action = 'CREATE', status = 'IN_PROGRESS', "
                      "physical_id = NULL, data = json_object('physical_name', json_extract(data, '$.physical_name')) "
                      "WHERE stack_id = :id AND name = 'deploy'", id=stack_id)
        restart(cloud, heat)

        done = settle(heat, path, "CREATE")
        assert done["stack_status"] == "CREATE_COMPLETE", done["stack_status_reason"]
        configs, deployments = unowned(heat, path)
        assert (configs, deployments) == (set(), set()), "left behind by the cut create"
        ids = {c["id"] for c in ok(heat.get("/software_configs"))["software_configs"]}
        assert first_config not in ids
        deleted_leaving_nothing(heat, path)
        heat.close()
    finally:
        cloud.stop()


def test_an_update_cut_after_a_new_derived_config_was_deployed(tmp_path):
    cloud = Cloud(tmp_path / "data")
    cloud.start()
    try:
        heat, path, stack_id = made(cloud)
        deployment, old_config = deployment_and_config(heat, path)

        cloud.kill_9()
        # what a kill leaves when an update of the deployment had derived a new config and given it to the
        # deployment, but the engine had not recorded it: the resource still names the old one
        cloud.execute("UPDATE orchestration_stack SET action = 'UPDATE', status = 'IN_PROGRESS' WHERE id = :id",
                      id=stack_id)
        cloud.execute("UPDATE orchestration_resource SET action = 'UPDATE', status = 'IN_PROGRESS', "
                      "data = json_set(data, '$.updating_from', json(properties)) "
                      "WHERE stack_id = :id AND name = 'deploy'", id=stack_id)
        give_a_copy(cloud, deployment, old_config, "cut-derived-config")
        restart(cloud, heat)

        done = settle(heat, path, "UPDATE")
        assert done["stack_status"] == "UPDATE_COMPLETE", done["stack_status_reason"]
        configs, deployments = unowned(heat, path)
        assert (configs, deployments) == (set(), set()), "left behind by the cut update"
        ids = {c["id"] for c in ok(heat.get("/software_configs"))["software_configs"]}
        assert "cut-derived-config" not in ids and old_config not in ids
        deleted_leaving_nothing(heat, path)
        heat.close()
    finally:
        cloud.stop()


def test_a_config_derived_by_a_step_that_could_not_record_it_goes_with_the_delete(tmp_path):
    """An update superseded by a newer one (a restarted parent re-sends its nested stack's update) derives
    a config and gives it to the deployment, but the engine refuses the superseded step's save: the row still
    names the config before. When that row is then deleted (replaced by the newer update, or with the
    stack), the config the deployment was given goes too."""
    cloud = Cloud(tmp_path / "data")
    cloud.start()
    try:
        heat, path, stack_id = made(cloud)
        deployment, old_config = deployment_and_config(heat, path)

        cloud.kill_9()
        give_a_copy(cloud, deployment, old_config, "unrecorded-config")
        restart(cloud, heat)

        assert unowned(heat, path) == ({old_config}, set())  # what the test made: the row names the old one
        deleted_leaving_nothing(heat, path)
        heat.close()
    finally:
        cloud.stop()


def test_kills_at_real_moments_of_a_create_and_an_update_leave_nothing_unowned(tmp_path):
    """The same with real kills: as soon as the deployments start (create, then an update that derives a
    new config for each), wherever that lands; whatever each kill cut, after the restart every config and
    record is a resource's, and the delete leaves none."""
    cloud = Cloud(tmp_path / "data")
    cloud.start()
    try:
        heat = demo_heat(cloud)
        many = template(public_image(cloud))
        many["resources"]["group"]["properties"]["servers"] = {
            key: {"get_resource": "server"} for key in "abcdef"}
        many["resources"]["group"]["properties"]["input_values"] = {"who": {"get_param": "who"}}
        stack_name = name("deployed")
        ref = ok(heat.post("/stacks", json={"stack_name": stack_name, "template": many}), 201)["stack"]
        path = f"/stacks/{stack_name}/{ref['id']}"

        def deploying(action: str) -> bool:
            """A deployment is in its step (or, if that was too quick to see, the action is over)."""
            if ok(heat.get(path))["stack"]["stack_status"] != f"{action}_IN_PROGRESS":
                return True
            found = ok(heat.get(f"{path}/resources", params={"nested_depth": 2}))["resources"]
            return any(r["resource_type"] == "OS::Heat::StructuredDeployment"
                       and r["resource_status"] == f"{action}_IN_PROGRESS" for r in found)

        wait(lambda: deploying("CREATE"), 90, "a deployment's create to start", every=0.05)
        cloud.kill_9()
        restart(cloud, heat)
        done = settle(heat, path, "CREATE")
        assert done["stack_status"] == "CREATE_COMPLETE", done["stack_status_reason"]
        assert unowned(heat, path) == (set(), set())

        ok(heat.patch(path, json={"parameters": {"who": "again"}}), 202)
        wait(lambda: deploying("UPDATE"), 90, "a deployment's update to start", every=0.05)
        cloud.kill_9()
        restart(cloud, heat)
        done = settle(heat, path, "UPDATE")
        assert done["stack_status"] == "UPDATE_COMPLETE", done["stack_status_reason"]
        assert unowned(heat, path) == (set(), set())
        # one derived config per deployment (7), the source config: nothing more
        assert len(ok(heat.get("/software_configs"))["software_configs"]) == 8
        deleted_leaving_nothing(heat, path)
        heat.close()
    finally:
        cloud.stop()
