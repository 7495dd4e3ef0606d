"""Orchestration over HTTP against the real cloud: stacks of Heat's own types, their resources, events and
outputs, lookups, listing, updates, failures and rollback, and the walls between projects."""

import datetime

import httpx
import pytest
from heatclient import client as heat_client

from tests.api.helpers import name, ok, wait
from tests.api.orchestration_helpers import fault

SIMPLE = """
heat_template_version: 2018-08-31
description: three resources, one after the other
parameters:
  length: {type: number, default: 12, constraints: [{range: {min: 4, max: 64}}]}
resources:
  secret: {type: OS::Heat::RandomString, properties: {length: {get_param: length}}}
  value:
    type: OS::Heat::Value
    properties:
      value: {str_replace: {template: "secret=$S", params: {$S: {get_attr: [secret, value]}}}}
  test: {type: OS::Heat::TestResource, properties: {value: {get_resource: secret}}}
outputs:
  secret: {value: {get_attr: [secret, value]}, description: the random string}
  line: {value: {get_attr: [value, value]}}
"""


def test_root_answers_version_discovery(cloud):
    resp = httpx.get(f"{cloud.url}/orchestration/")
    assert resp.status_code == 300
    assert resp.json()["versions"][0]["links"][0]["href"] == f"{cloud.url}/orchestration/v1/"


def test_a_stack_is_created_shown_and_deleted(heat):
    stack = heat.created(SIMPLE, parameters={"length": 20}, tags="a,b")
    assert stack["stack_status_reason"] == "Stack CREATE completed successfully"
    assert stack["parameters"]["length"] == "20" and stack["parameters"]["OS::stack_id"] == stack["id"]
    assert stack["tags"] == ["a", "b"] and stack["template_description"] == "three resources, one after the other"
    outputs = {o["output_key"]: o["output_value"] for o in stack["outputs"]}
    assert len(outputs["secret"]) == 20 and outputs["line"] == f"secret={outputs['secret']}"
    assert heat.output(stack, "line") == outputs["line"]
    listed = ok(heat.http.get(f"{heat.path(stack)}/outputs"))["outputs"]
    assert {o["output_key"] for o in listed} == {"secret", "line"}
    fault(heat.http.get(f"{heat.path(stack)}/outputs/nothing"), 404)

    resources = heat.resources(stack)
    assert {r["resource_status"] for r in resources.values()} == {"CREATE_COMPLETE"}
    assert resources["secret"]["required_by"] == ["test", "value"]
    shown = ok(heat.http.get(f"{heat.path(stack)}/resources/secret"))["resource"]
    assert shown["attributes"]["value"] == outputs["secret"]
    assert ok(heat.http.get(f"{heat.path(stack)}/template"))["resources"]["secret"]["type"] == \
        "OS::Heat::RandomString"

    # Every transition is an event, in order: the secret completes before what reads it starts.
    events = [(e["resource_name"], e["resource_status"]) for e in heat.events(stack)]
    assert events[0] == (stack["stack_name"], "CREATE_IN_PROGRESS")
    assert events[-1] == (stack["stack_name"], "CREATE_COMPLETE")
    assert events.index(("secret", "CREATE_COMPLETE")) < events.index(("value", "CREATE_IN_PROGRESS"))
    one = ok(heat.http.get(f"{heat.path(stack)}/resources/secret/events"))["events"]
    assert [e["resource_status"] for e in one] == ["CREATE_IN_PROGRESS", "CREATE_COMPLETE"]
    detail = ok(heat.http.get(f"{heat.path(stack)}/resources/secret/events/{one[0]['id']}"))["event"]
    assert detail["resource_type"] == "OS::Heat::RandomString"

    gone = heat.delete(stack)
    assert gone["stack_status"] == "DELETE_COMPLETE"
    assert stack["id"] not in [s["id"] for s in ok(heat.http.get("/stacks"))["stacks"]]
    deleted = ok(heat.http.get("/stacks", params={"show_deleted": "true"}))["stacks"]
    assert [s["stack_status"] for s in deleted if s["id"] == stack["id"]] == ["DELETE_COMPLETE"]


def test_lookup_by_name_or_id_redirects_to_the_full_path(heat):
    stack = heat.created(SIMPLE)
    full = f"{heat.cloud.url}/orchestration/v1/{heat.project_id}{heat.path(stack)}"
    for ref in (stack["stack_name"], stack["id"]):
        resp = heat.http.get(f"/stacks/{ref}")
        assert resp.status_code == 302 and resp.headers["location"] == full
    resp = heat.http.get(f"/stacks/{stack['stack_name']}/resources")
    assert resp.status_code == 302 and resp.headers["location"] == f"{full}/resources"
    fault(heat.http.get("/stacks/no-such-stack"), 404, "EntityNotFound")
    fault(heat.http.get(f"/stacks/wrong-name/{stack['id']}"), 404)


def test_list_filters_sorts_and_pages(heat):
    made = [heat.created(SIMPLE, stack_name=f"{prefix}-{name('s')}", tags=tag)
            for prefix, tag in (("b", "x"), ("a", "x,y"), ("c", "y"))]
    listed = ok(heat.http.get("/stacks", params={"sort_keys": "stack_name", "sort_dir": "asc"}))["stacks"]
    assert [s["id"] for s in listed] == [made[1]["id"], made[0]["id"], made[2]["id"]]
    assert [s["id"] for s in ok(heat.http.get("/stacks"))["stacks"]] == [m["id"] for m in reversed(made)]
    page = ok(heat.http.get("/stacks", params={"sort_keys": "stack_name", "sort_dir": "asc", "limit": 1,
                                               "marker": made[1]["id"]}))["stacks"]
    assert [s["id"] for s in page] == [made[0]["id"]]
    tagged = ok(heat.http.get("/stacks", params={"tags": "x,y"}))["stacks"]
    assert [s["id"] for s in tagged] == [made[1]["id"]]
    either = ok(heat.http.get("/stacks", params={"tags_any": "y", "with_count": "true"}))
    assert either["count"] == 2
    by_name = ok(heat.http.get("/stacks", params={"name": made[2]["stack_name"]}))["stacks"]
    assert [s["id"] for s in by_name] == [made[2]["id"]]
    assert len(ok(heat.http.get("/stacks", params={"status": "CREATE_COMPLETE"}))["stacks"]) == 3
    fault(heat.http.get("/stacks", params={"sort_keys": "colour"}), 400)
    fault(heat.http.get("/stacks", params={"marker": "nothing"}), 404)


def test_another_project_sees_none_of_it(heat, make_heat):
    stack = heat.created(SIMPLE)
    other = make_heat()
    other_path = f"/stacks/{stack['stack_name']}/{stack['id']}"
    fault(other.http.get(other_path), 404)
    fault(other.http.delete(other_path), 404)
    fault(other.http.get(f"/stacks/{stack['id']}"), 404)
    assert ok(other.http.get("/stacks"))["stacks"] == []
    # Naming the first project in the URL is refused outright.
    foreign = httpx.get(f"{heat.cloud.url}/orchestration/v1/{heat.project_id}/stacks",
                        headers={"X-Auth-Token": other.token})
    fault(foreign, 403)
    # The cloud admin may list every project's stacks.
    admin = httpx.get(f"{heat.cloud.url}/orchestration/v1/{heat.project_id}/stacks",
                      params={"global_tenant": "true"}, headers={"X-Auth-Token": heat.cloud.token()})
    assert stack["id"] in [s["id"] for s in ok(admin)["stacks"]]
    fault(heat.http.get("/stacks", params={"global_tenant": "true"}), 403)


def test_the_owners_own_rights_act_through_a_trust(heat):
    """The engine acts as the owner through a trust to the cloud's orchestration user, dropped with the stack."""
    stack = heat.created(SIMPLE)
    trusts = ok(heat.root.get("/identity/v3/OS-TRUST/trusts", params={"trustor_user_id": heat.user["id"]}))
    assert len(trusts["trusts"]) == 1 and trusts["trusts"][0]["impersonation"] is True
    heat.delete(stack)
    trusts = ok(heat.root.get("/identity/v3/OS-TRUST/trusts", params={"trustor_user_id": heat.user["id"]}))
    assert trusts["trusts"] == []


def test_a_failing_resource_names_itself_and_rolls_back(heat):
    template = {"heat_template_version": "2016-10-14", "resources": {
        "good": {"type": "OS::Heat::RandomString"},
        "bad": {"type": "OS::Heat::TestResource", "depends_on": "good", "properties": {"fail": True}}}}
    stack = heat.settle(heat.create(template, disable_rollback=False))
    assert stack["stack_status"] == "ROLLBACK_COMPLETE"
    assert "Resource CREATE failed: ResourceFailure: resources.bad: Test Resource failed bad" in \
        stack["stack_status_reason"]
    assert heat.resources(stack) == {}
    statuses = [(e["resource_name"], e["resource_status"]) for e in heat.events(stack)]
    assert ("bad", "CREATE_FAILED") in statuses and ("good", "DELETE_COMPLETE") in statuses
    assert statuses[-1] == (stack["stack_name"], "ROLLBACK_COMPLETE")

    kept = heat.settle(heat.create(template))  # Heat's default: no rollback, the failure stays to be seen
    assert kept["stack_status"] == "CREATE_FAILED"
    assert kept["stack_status_reason"] == "Resource CREATE failed: ResourceFailure: resources.bad: Test Resource " \
                                          "failed bad"
    resources = heat.resources(kept)
    assert resources["bad"]["resource_status"] == "CREATE_FAILED"
    assert resources["good"]["resource_status"] == "CREATE_COMPLETE"
    assert heat.delete(kept)["stack_status"] == "DELETE_COMPLETE"


def test_update_changes_in_place_replaces_or_removes(heat):
    template = {"heat_template_version": "2018-08-31",
                "parameters": {"value": {"type": "string", "default": "one"}},
                "resources": {"kept": {"type": "OS::Heat::TestResource", "properties": {"value": {"get_param": "value"}}},
                              "same": {"type": "OS::Heat::RandomString"},
                              "dropped": {"type": "OS::Heat::RandomString"}}}
    stack = heat.created(template)
    before = heat.resources(stack)
    ok(heat.http.patch(heat.path(stack), json={"parameters": {"value": "two"}}), 202)
    stack = heat.settle(stack)
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    after = heat.resources(stack)
    assert after["kept"]["physical_resource_id"] == before["kept"]["physical_resource_id"]
    assert after["kept"]["resource_status"] == "UPDATE_COMPLETE"
    assert after["same"]["resource_status"] == "CREATE_COMPLETE"  # untouched: a one-property update touches one

    del template["resources"]["dropped"]
    template["resources"]["kept"]["properties"]["update_replace"] = True
    ok(heat.http.put(heat.path(stack), json={"template": template, "parameters": {"value": "three"}}), 202)
    stack = heat.settle(stack)
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    replaced = heat.resources(stack)
    assert set(replaced) == {"kept", "same"}
    assert replaced["kept"]["physical_resource_id"] != before["kept"]["physical_resource_id"]
    # Heat's own types show every attribute (as Heat's resource show does), read from the new resource.
    assert ok(heat.http.get(f"{heat.path(stack)}/resources/kept"))["resource"]["attributes"] == {
        "output": "three", "fail": False}
    fault(heat.http.put(heat.path(stack), json={}), 400)


def test_a_failed_update_rolls_back_to_the_old_definition(heat):
    template = {"heat_template_version": "2018-08-31", "resources": {
        "value": {"type": "OS::Heat::TestResource", "properties": {"value": "old"}}}}
    stack = heat.created(template, disable_rollback=False)
    old_id = heat.resources(stack)["value"]["physical_resource_id"]
    template["resources"]["value"]["properties"] = {"value": "new", "update_replace": True}
    template["resources"]["broken"] = {"type": "OS::Heat::TestResource", "depends_on": "value",
                                       "properties": {"fail": True}}
    ok(heat.http.put(heat.path(stack), json={"template": template}), 202)
    stack = heat.settle(stack)
    assert stack["stack_status"] == "ROLLBACK_COMPLETE", stack["stack_status_reason"]
    assert "resources.broken" in stack["stack_status_reason"]
    back = heat.resources(stack)
    assert set(back) == {"value"} and back["value"]["physical_resource_id"] == old_id
    assert ok(heat.http.get(f"{heat.path(stack)}/template"))["resources"]["value"]["properties"] == {"value": "old"}


def test_an_update_while_one_runs_is_refused(heat):
    template = {"heat_template_version": "2018-08-31", "resources": {
        "slow": {"type": "OS::Heat::TestResource",
                 "properties": {"action_wait_secs": {"create": 600, "delete": 0}}}}}
    stack = heat.create(template)
    fault(heat.http.patch(heat.path(stack), json={"parameters": {}}), 409, "ActionInProgress")
    # A delete wins over a create under way: it stops the create rather than waiting out its 600 s.
    assert heat.delete(stack)["stack_status"] == "DELETE_COMPLETE"


def test_conditions_and_functions(heat):
    template = """
heat_template_version: 2021-04-16
parameters:
  env: {type: string, default: prod, constraints: [{allowed_values: [prod, dev]}]}
  names: {type: comma_delimited_list, default: "a,b"}
conditions:
  is_prod: {equals: [{get_param: env}, prod]}
  is_dev: {not: is_prod}
resources:
  prod_only: {type: OS::Heat::Value, condition: is_prod, properties: {value: p}}
  dev_only: {type: OS::Heat::Value, condition: is_dev, properties: {value: d}}
  maths:
    type: OS::Heat::Value
    properties:
      value:
        joined: {list_join: ["-", {get_param: names}, [c]]}
        split: {str_split: [",", "x,y,z", 1]}
        digest: {digest: [sha256, abc]}
        repeated: {repeat: {for_each: {"<%n%>": {get_param: names}}, template: "n-<%n%>"}}
        merged: {map_merge: [{a: 1}, {b: 2}]}
        replaced: {map_replace: [{k: v}, {keys: {k: K}, values: {v: V}}]}
        concat: {list_concat_unique: [[1, 2], [2, 3]]}
        has: {contains: [b, {get_param: names}]}
        chosen: {if: [is_prod, big, small]}
        filtered: {filter: [[2], [1, 2, 3]]}
        url: {make_url: {scheme: http, host: example.com, port: 8080, path: /x, query: {a: b}}}
        maybe: {if: [is_dev, "only in dev"]}
outputs:
  maths: {value: {get_attr: [maths, value]}}
  dev: {value: {get_attr: [dev_only, value]}, condition: is_dev}
"""
    stack = heat.created(template)
    assert set(heat.resources(stack)) == {"prod_only", "maths"}
    maths = heat.output(stack, "maths")
    assert maths == {"joined": "a-b-c", "split": "y",
                     "digest": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                     "repeated": ["n-a", "n-b"], "merged": {"a": 1, "b": 2}, "replaced": {"K": "V"},
                     "concat": [1, 2, 3], "has": True, "chosen": "big", "filtered": [1, 3],
                     "url": "http://example.com:8080/x?a=b"}
    assert [o["output_key"] for o in stack["outputs"]] == ["maths"]


BROKEN = {
    "not yaml": ("heat_template_version: 2018-08-31\nresources: [a\n  b: c", "line 3"),
    "no version": ("resources: {}", "Template format version not found."),
    "bad version": ("heat_template_version: 2012-01-01", "The template version is invalid"),
    "bad section": ("heat_template_version: 2018-08-31\nresorces: {}", "The template section is invalid: resorces"),
    "unknown type": ("heat_template_version: 2018-08-31\nresources: {a: {type: OS::Nope::Nothing}}",
                     "resources.a: The Resource Type (OS::Nope::Nothing) could not be found."),
    "unknown property": ("heat_template_version: 2018-08-31\nresources: {a: {type: OS::Heat::RandomString, "
                         "properties: {lenght: 3}}}", "Property error: resources.a.properties: Unknown Property lenght"),
    "wrong property type": ("heat_template_version: 2018-08-31\nresources: {a: {type: OS::Heat::RandomString, "
                            "properties: {length: many}}}",
                            "Property error: resources.a.properties.length: Value 'many' is not an integer"),
    "missing property": ("heat_template_version: 2018-08-31\nresources: {a: {type: OS::Neutron::Subnet}}",
                         "Property error: resources.a.properties: Property network not assigned"),
    "bad reference": ("heat_template_version: 2018-08-31\nresources: {a: {type: OS::Heat::Value, properties: "
                      "{value: {get_resource: b}}}}", 'The specified reference "b" (in a) is incorrect.'),
    "bad function use": ("heat_template_version: 2018-08-31\nresources: {a: {type: OS::Heat::Value, properties: "
                         "{value: {list_join: oops}}}}", "resources.a.properties.value.list_join: Incorrect arguments"),
    "cycle": ("heat_template_version: 2018-08-31\nresources: {a: {type: OS::Heat::None, depends_on: b}, "
              "b: {type: OS::Heat::None, depends_on: a}}", "Circular Dependency Found"),
    "unknown parameter": ("heat_template_version: 2018-08-31\nresources: {a: {type: OS::Heat::Value, properties: "
                          "{value: {get_param: nope}}}}", "The Parameter (nope) was not defined in template."),
    "yaql": ("heat_template_version: 2018-08-31\nresources: {a: {type: OS::Heat::Value, properties: "
             "{value: {yaql: {expression: '$.data.', data: {}}}}}}",
             "resources.a.properties.value.yaql: Bad expression Parse error"),
    "bad keyword": ("heat_template_version: 2018-08-31\nresources: {a: {type: OS::Heat::None, propertes: {}}}",
                    '"propertes" is not a valid keyword inside a resource definition'),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_malformed_template_is_a_400_naming_the_place(heat, case):
    template, words = BROKEN[case]
    resp = heat.http.post("/stacks", json={"stack_name": name("bad"), "template": template})
    message = fault(resp, 400)
    assert words in message, message
    assert ok(heat.http.get("/stacks"))["stacks"] == []


def test_parameters_are_typed_and_constrained(heat):
    template = {"heat_template_version": "2018-08-31", "parameters": {
        "size": {"type": "number", "constraints": [{"range": {"min": 1, "max": 3}}]},
        "word": {"type": "string", "default": "ab",
                 "constraints": [{"length": {"min": 2}}, {"allowed_pattern": "[a-z]+"}]}},
        "resources": {}}
    assert "The Parameter (size) was not provided." in fault(
        heat.http.post("/stacks", json={"stack_name": name("p"), "template": template}), 400, "UserParameterMissing")
    assert "out of range" in fault(heat.http.post("/stacks", json={
        "stack_name": name("p"), "template": template, "parameters": {"size": 9}}), 400)
    assert "does not match pattern" in fault(heat.http.post("/stacks", json={
        "stack_name": name("p"), "template": template, "parameters": {"size": 1, "word": "AB"}}), 400)
    assert "The Parameter (other) was not defined in template." in fault(heat.http.post("/stacks", json={
        "stack_name": name("p"), "template": template, "parameters": {"size": 1, "other": 1}}), 400)
    stack = heat.created(template, environment={"parameter_defaults": {"size": 2}})
    assert stack["parameters"]["size"] == "2"


def test_bad_requests_are_heat_faults(heat):
    fault(heat.http.post("/stacks", json={"template": SIMPLE}), 400)
    fault(heat.http.post("/stacks", json={"stack_name": "9starts-with-a-digit", "template": SIMPLE}), 400,
          "StackValidationFailed")
    fault(heat.http.post("/stacks", content=b"{not json", headers={"Content-Type": "application/json"}), 400)
    fault(heat.http.post("/stacks", json={"stack_name": name("s")}), 400)
    stack = heat.created(SIMPLE)
    fault(heat.http.post("/stacks", json={"stack_name": stack["stack_name"], "template": SIMPLE}), 409, "StackExists")
    fault(httpx.get(f"{heat.cloud.url}/orchestration/v1/{heat.project_id}/stacks"), 401)


def test_validate_types_versions_and_build_info(heat):
    validated = ok(heat.http.post("/validate", json={"template": SIMPLE}))
    assert validated["Description"] == "three resources, one after the other"
    assert validated["Parameters"]["length"] == {"Type": "Number", "Description": "", "Label": "length",
                                                 "NoEcho": "false", "Default": 12, "MinValue": 4, "MaxValue": 64}
    fault(heat.http.post("/validate", json={"template": "heat_template_version: 2018-08-31\nresources: {a: 1}"}), 400)
    # parameter groups: shown as given, and each must list the template's own parameters, each once
    grouped = {"heat_template_version": "2018-08-31", "parameters": {"a": {"type": "string"}, "b": {"type": "string"}},
               "parameter_groups": [{"label": "first", "parameters": ["a"]}, {"label": "second", "parameters": ["b"]}]}
    assert ok(heat.http.post("/validate", json={"template": grouped}))["ParameterGroups"] == grouped["parameter_groups"]
    for groups, problem in (
            ([{"label": "first", "parameters": ["a", "c"]}],
             "Parameter Groups error: parameter_groups.first: The grouped parameter c does not reference a valid "
             "parameter."),
            ([{"label": "first", "parameters": ["a"]}, {"label": "again", "parameters": ["a"]}],
             "Parameter Groups error: parameter_groups.again: The a parameter must be assigned to one parameter "
             "group only."),
            ([{"label": "empty"}],
             "Parameter Groups error: parameter_groups.empty: The parameters must be provided for each parameter "
             "group.")):
        assert fault(heat.http.post("/validate", json={"template": {**grouped, "parameter_groups": groups}}),
                     400) == problem

    kinds = ok(heat.http.get("/resource_types"))["resource_types"]
    assert {"OS::Nova::Server", "OS::Neutron::Net", "OS::Cinder::Volume", "OS::Heat::RandomString"} <= set(kinds)
    # Heat's name filter is a regular expression matched at the start of the type's name
    assert ok(heat.http.get("/resource_types", params={"name": "OS::Neutron"}))["resource_types"] == \
        sorted(k for k in kinds if k.startswith("OS::Neutron"))
    assert ok(heat.http.get("/resource_types", params={"name": "Neutron"}))["resource_types"] == []
    assert ok(heat.http.get("/resource_types", params={"name": "OS::Heat::(Random|Test)"}))["resource_types"] == \
        ["OS::Heat::RandomString", "OS::Heat::TestResource"]
    assert ok(heat.http.get("/resource_types", params={"name": "(unclosed"}))["resource_types"] == []
    assert ok(heat.http.get("/resource_types", params={"support_status": "SUPPORTED"}))["resource_types"] == kinds
    assert ok(heat.http.get("/resource_types", params={"support_status": "DEPRECATED"}))["resource_types"] == []
    assert ok(heat.http.get("/resource_types", params={"version": "5.0.0"}))["resource_types"] == []
    assert "Invalid support status and should be one of" in fault(
        heat.http.get("/resource_types", params={"support_status": "junk"}), 400)
    schema = ok(heat.http.get("/resource_types/OS::Neutron::Subnet"))
    assert schema["properties"]["network"]["required"] is True
    assert schema["properties"]["name"]["update_allowed"] is True
    assert "cidr" in schema["attributes"]
    fault(heat.http.get("/resource_types/OS::No::Such"), 404)

    versions = [v["version"] for v in ok(heat.http.get("/template_versions"))["template_versions"]]
    assert versions[0] == "heat_template_version.2013-05-23" and versions[-1] == "heat_template_version.2021-04-16"
    functions = ok(heat.http.get("/template_versions/heat_template_version.2013-05-23/functions"))
    names = {f["functions"] for f in functions["template_functions"]}
    assert "get_attr" in names and "list_concat" not in names
    fault(heat.http.get("/template_versions/heat_template_version.1999-01-01/functions"), 404)
    assert set(ok(heat.http.get("/build_info"))) == {"api", "engine"}


def test_a_stack_times_out_and_fails_cleanly(cloud, heat):
    """timeout_mins counts from the action's start; the clock is moved by making the stack's start old."""
    template = {"heat_template_version": "2018-08-31", "resources": {
        "slow": {"type": "OS::Heat::TestResource", "properties": {"action_wait_secs": {"create": 600}}}}}
    stack = heat.create(template, timeout_mins=1)
    wait(lambda: heat.resources(stack).get("slow", {}).get("resource_status") == "CREATE_IN_PROGRESS", 30,
         "the slow resource to start")
    cloud.execute("UPDATE orchestration_stack SET action_started_at = :when WHERE id = :id",
                  when=datetime.datetime.utcnow() - datetime.timedelta(minutes=2), id=stack["id"])
    stack = heat.settle(stack)
    assert stack["stack_status"] == "CREATE_FAILED" and stack["stack_status_reason"] == "Create timed out"
    assert heat.resources(stack)["slow"]["resource_status"] == "CREATE_FAILED"
    assert heat.delete(stack)["stack_status"] == "DELETE_COMPLETE"


RANDOM = """
heat_template_version: 2014-10-16
description: the stack description
parameters:
  aparam: {type: number, default: 10, description: the param description}
resources:
  myres: {type: OS::Heat::RandomString, properties: {length: {get_param: aparam}}}
"""
PARENT = """
heat_template_version: 2014-10-16
description: the parent template
parameters:
  pparam: {type: number, default: 5, description: the param description}
resources:
  nres: {type: mynested.yaml, properties: {aparam: {get_param: pparam}}}
"""


def test_validate_shows_values_the_environment_and_nested_parameters(heat):
    """As Heat's: ``Value`` for a parameter given, the environment read, and with show_nested each provider
    template resource's parameters (with the value its properties give), recursively; ignore_errors takes
    Heat's codes only.  Through heatclient, which sends show_nested and ignore_errors as queries."""
    hc = heat_client.Client("1", endpoint=f"{heat.cloud.url}/orchestration/v1/{heat.project_id}", token=heat.token)
    answer = hc.stacks.validate(template=RANDOM, environment={"parameters": {"aparam": 5}})
    assert answer["Parameters"]["aparam"] == {"Default": 10, "Value": 5, "Description": "the param description",
                                              "Label": "aparam", "NoEcho": "false", "Type": "Number"}
    assert answer["Environment"] == {"event_sinks": [], "parameter_defaults": {}, "parameters": {"aparam": 5},
                                     "resource_registry": {"resources": {}}}

    files = {"mynested.yaml": RANDOM.replace("OS::Heat::RandomString", "mynested2.yaml"),
             "mynested2.yaml": RANDOM}
    off = hc.stacks.validate(template=PARENT, files=files)
    assert "NestedParameters" not in off
    assert off["Environment"]["resource_registry"] == {"mynested.yaml": "mynested.yaml", "resources": {}}
    on = hc.stacks.validate(template=PARENT, files=files, show_nested=True, ignore_errors="99001")
    nres = on["NestedParameters"]["nres"]
    assert nres["Type"] == "mynested.yaml" and nres["Description"] == "the stack description"
    assert nres["Parameters"]["aparam"]["Value"] == 5 and nres["Parameters"]["aparam"]["Default"] == 10
    inner = nres["NestedParameters"]["myres"]
    assert inner["Type"] == "mynested2.yaml" and "Value" not in inner["Parameters"]["aparam"]
    # a grandchild with no parameters given keeps its default only
    assert inner["Parameters"]["aparam"]["Default"] == 10
    message = fault(heat.http.post("/validate", params={"ignore_errors": "99001,12345"},
                                   json={"template": RANDOM}), 400)
    assert "Invalid codes in ignore_errors" in message and "12345" in message
