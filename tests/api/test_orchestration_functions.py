"""HOT versions and their functions over HTTP, as Heat's own template classes have them: which version
brought each function (``/template_versions/{v}/functions``), a stack of every version, a function newer
than its template's version left as data, and the functions whose exact behaviour had no test:
``get_file`` from the request's files, ``str_replace``'s order of keys, ``str_replace_strict`` and
``str_replace_vstrict`` with Heat's messages."""

import httpx
import pytest

from tests.api.helpers import ok
from tests.api.orchestration_helpers import fault

# What each version brought (Heat's heat/engine/hot/template.py classes).
BROUGHT = {
    "2013-05-23": {"get_attr", "get_file", "get_param", "get_resource", "list_join", "str_replace",
                   "resource_facade", "Fn::Base64", "Fn::GetAZs", "Fn::Join", "Fn::MemberListToMap",
                   "Fn::Replace", "Fn::ResourceFacade", "Fn::Select", "Fn::Split", "Ref"},
    "2014-10-16": set(),
    "2015-04-30": {"digest", "repeat"},
    "2015-10-15": {"str_split"},
    "2016-04-08": {"map_merge"},
    "2016-10-14": {"map_replace", "yaql", "if"},
    "2017-02-24": {"filter", "str_replace_strict"},
    "2017-09-01": {"make_url", "list_concat", "list_concat_unique", "contains", "str_replace_vstrict"},
    "2018-03-02": set(),
    "2018-08-31": set(),
    "2021-04-16": set(),
}
# What each version withdrew (Heat's hot_funcs.Removed): refused from then on.
WITHDRAWN = {
    "2014-10-16": {"Fn::Base64", "Fn::GetAZs", "Fn::Join", "Fn::MemberListToMap", "Fn::Replace",
                   "Fn::ResourceFacade", "Fn::Split", "Ref"},
    "2015-10-15": {"Fn::Select"},
}
CONDITIONS = {"equals", "not", "and", "or"}  # conditions' own (not template functions), from 2016-10-14
ALIASES = {"newton": "2016-10-14", "ocata": "2017-02-24", "pike": "2017-09-01", "queens": "2018-03-02",
           "rocky": "2018-08-31", "wallaby": "2021-04-16"}


def offered() -> dict[str, tuple[set[str], set[str]]]:
    """Per version, (the functions it offers, the ones it refuses)."""
    table, so_far, refused = {}, set(), set()
    for version, brought in BROUGHT.items():
        refused |= WITHDRAWN.get(version, set())
        so_far = (so_far | brought) - refused
        table[version] = (set(so_far), set(refused))
    return table


def functions(heat, version: str, **params) -> set[str]:
    listed = ok(heat.http.get(f"/template_versions/heat_template_version.{version}/functions", params=params))
    return {f["functions"] for f in listed["template_functions"]}


def test_each_version_offers_the_functions_heat_brought_in_it(heat):
    listed = [v["version"] for v in ok(heat.http.get("/template_versions"))["template_versions"]
              if v["type"] == "hot"]
    assert listed == [f"heat_template_version.{v}" for v in BROUGHT]
    for version, (offers, _) in offered().items():
        assert functions(heat, version) == offers, version
        # the condition functions are listed when asked, as Heat's with_condition_func
        conditions = CONDITIONS if version >= "2016-10-14" else set()
        assert functions(heat, version, with_condition_func="true") == offers | conditions, version
    for alias, version in ALIASES.items():
        assert functions(heat, alias) == offered()[version][0], alias


def validate(heat, version: str, value) -> httpx.Response:
    template = {"heat_template_version": version, "parameters": {"p": {"type": "string", "default": "a,b"}},
                "resources": {"v": {"type": "OS::Heat::Value", "properties": {"value": value}}}}
    return heat.http.post("/validate", json={"template": template})


# One call of each withdrawable function, well formed.
CALLS = {"Fn::Base64": "text", "Fn::GetAZs": "", "Fn::Join": [",", ["a", "b"]],
         "Fn::MemberListToMap": ["Name", "Value", [".member.0.Name=k", ".member.0.Value=v"]],
         "Fn::Replace": [{"$x": "y"}, "$x"], "Fn::ResourceFacade": "Metadata", "Fn::Split": [",", "a,b"],
         "Ref": "p", "Fn::Select": [0, ["a"]]}


@pytest.mark.parametrize("version", [*BROUGHT, *ALIASES])
def test_each_version_refuses_the_functions_it_withdrew_with_heats_error(heat, version):
    _, refused = offered()[ALIASES.get(version, version)]
    for function in sorted(refused):
        message = fault(validate(heat, version, {function: CALLS[function]}), 400, "InvalidTemplateVersion")
        assert message == (f"The template version is invalid: The function {function} is not supported in "
                           "this version of HOT."), (version, function)
    for function in sorted(set(CALLS) - refused - {"Fn::ResourceFacade"}):
        # what the version still has is a function: well formed, it validates
        assert validate(heat, version, {function: CALLS[function]}).status_code == 200, (version, function)
    # a name no version has is data, as in Heat
    assert validate(heat, version, {"Fn::Nope": [1]}).status_code == 200


def test_the_cloudformation_functions_of_2013_05_23(heat):
    template = {
        "heat_template_version": "2013-05-23",
        "parameters": {"names": {"type": "string", "default": "web,db,cache"}},
        "resources": {"first": {"type": "OS::Heat::Value", "properties": {"value": "one"}},
                      "random": {"type": "OS::Heat::RandomString", "properties": {"length": 8}}},
        "outputs": {
            "select": {"value": {"Fn::Select": [1, {"Fn::Split": [",", {"Ref": "names"}]}]}},
            "select_map": {"value": {"Fn::Select": ["b", {"a": 1, "b": 2}]}},
            "select_past_end": {"value": {"Fn::Select": [7, ["a"]]}},
            "join": {"value": {"Fn::Join": ["-", [{"get_attr": ["first", "value"]}, "two", None]]}},
            "replace": {"value": {"Fn::Replace": [{"%name%": {"Ref": "names"}, "$n": 3}, "%name% x $n"]}},
            "base64": {"value": {"Fn::Base64": "#!/bin/sh\necho hi"}},
            "azs": {"value": {"Fn::GetAZs": ""}},
            "members": {"value": {"Fn::MemberListToMap": ["Name", "Value", [
                ".member.0.Name=size", ".member.0.Value=large", ".member.1.Name=zone", ".member.1.Value=a"]]}},
            "ref_resource": {"value": {"Ref": "random"}},
            "random": {"value": {"get_attr": ["random", "value"]}},
        }}
    stack = heat.created(template)
    assert heat.output(stack, "select") == "db"
    assert heat.output(stack, "select_map") == 2
    assert heat.output(stack, "select_past_end") == ""
    assert heat.output(stack, "join") == "one-two-"
    assert heat.output(stack, "replace") == "web,db,cache x 3"
    assert heat.output(stack, "base64") == "#!/bin/sh\necho hi"  # Heat's Fn::Base64 converts nothing
    assert heat.output(stack, "azs") == ["nova"]
    assert heat.output(stack, "members") == {"size": "large", "zone": "a"}
    ref = heat.output(stack, "ref_resource")
    assert len(ref) == 8 and ref == heat.output(stack, "random")  # a RandomString's reference is its value


@pytest.mark.parametrize(("value", "problem"), [
    ({"Fn::Select": ["x", ["a"]]}, 'Index to "Fn::Select" must be an integer'),
    ({"Fn::Select": [0]}, 'Arguments to "Fn::Select" must be of the form: [index, collection]'),
    ({"Fn::Join": [",", ["a", 1]]}, "Items to join must be strings not 1"),
    ({"Fn::Split": [",", ["a"]]}, 'Incorrect arguments to "Fn::Split"'),
    ({"Fn::Replace": ["$x", "$x"]}, '"Fn::Replace" parameters must be a mapping'),
    ({"Fn::Base64": ["a"]}, 'Arguments to "Fn::Base64" must be a string'),
    ({"Fn::MemberListToMap": ["Name", "Value", ["nonsense"]]}, 'Wrong Arguments try: "{"Fn::MemberListToMap"'),
    ({"resource_facade": "properties"},
     'Incorrect arguments to "resource_facade" should be one of: metadata, deletion_policy, update_policy'),
])
def test_cloudformation_functions_used_wrongly_are_400s_naming_the_place(heat, value, problem):
    message = fault(validate(heat, "2013-05-23", value), 400)
    assert problem in message
    assert message.startswith("resources.v.properties.value.")


def test_ref_of_neither_a_parameter_nor_a_resource_is_heats_400(heat):
    assert fault(validate(heat, "2013-05-23", {"Ref": "nothing"}), 400) == \
        "The Parameter (nothing) was not defined in template."


def value_stack(heat, version: str, value, **body) -> dict:
    template = {"heat_template_version": version, "resources": {"none": {"type": "OS::Heat::None"}},
                "outputs": {"out": {"value": value}}}
    return heat.create(template, **body)


def test_a_stack_of_every_version_and_a_function_newer_than_its_version(heat):
    made = {v: value_stack(heat, v, {"list_join": ["-", ["made", v]]}) for v in [*BROUGHT, *ALIASES]}
    for version, stack in made.items():
        stack = heat.settle(stack)
        assert stack["stack_status"] == "CREATE_COMPLETE", (version, stack["stack_status_reason"])
        assert heat.output(stack, "out") == f"made-{version}"
    # map_replace came with 2016-10-14: a 2016-04-08 template's one-key map of that name is data, as in Heat
    literal = {"map_replace": [{"a": 1}, {"keys": {"a": "b"}}]}
    older = heat.settle(value_stack(heat, "2016-04-08", literal))
    assert heat.output(older, "out") == literal
    newer = heat.settle(value_stack(heat, "2016-10-14", literal))
    assert heat.output(newer, "out") == {"b": 1}


def test_get_file_reads_the_requests_files(heat):
    stack = heat.settle(value_stack(heat, "2018-08-31", {"get_file": "motd.txt"}, files={"motd.txt": "hello"}))
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    assert heat.output(stack, "out") == "hello"
    message = fault(heat.http.post("/validate", json={"template": {
        "heat_template_version": "2018-08-31",
        "resources": {"v": {"type": "OS::Heat::Value", "properties": {"value": {"get_file": "nope.txt"}}}}}}),
        400)
    assert 'No content found in the "files" section for get_file path: nope.txt' in message


@pytest.mark.parametrize(("function", "params", "problem"), [
    ("str_replace_strict", {"var1": "foo", "var2": "bar", "var3": "zed"},
     "The following params were not found in the template: var3"),
    # "var" is in the template only inside var1 and var2, which are replaced first
    ("str_replace_vstrict", {"var1": "foo", "var2": "bar", "var0": "zed", "var": "z", "longvarname": "q"},
     "The following params were not found in the template: longvarname,var0,var"),
    ("str_replace_vstrict", {"var1": "foo", "var2": ""},
     "str_replace_vstrict has an undefined or empty value for param var2"),
    ("str_replace_vstrict", {"var1": "foo", "var2": []},
     "str_replace_vstrict has an undefined or empty value for param var2"),
])
def test_strict_replacements_say_which_params(heat, function, params, problem):
    template = {"heat_template_version": "2018-08-31", "resources": {"v": {"type": "OS::Heat::Value", "properties": {
        "value": {function: {"template": "Template var1 string var2", "params": params}}}}}}
    assert problem in fault(heat.http.post("/validate", json={"template": template}), 400)


def test_str_replace_takes_keys_longest_first_then_alphabetically(heat):
    replaced = {"str_replace": {"template": "xbc var1 var", "params": {"xb": "2", "bc": "1", "var": "V",
                                                                              "var1": "ONE"}}}
    stack = heat.settle(value_stack(heat, "2018-08-31", replaced))
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    # "bc" before "xb" (equal length, alphabetical); "var1" before "var" (longer)
    assert heat.output(stack, "out") == "x1 ONE V"
