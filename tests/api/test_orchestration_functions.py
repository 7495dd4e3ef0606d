"""HOT versions and their functions over HTTP, as Heat's own template classes have them: which version
brought each function (``/template_versions/{v}/functions``), a stack of every version, a function newer
than its template's version left as data, and the functions whose exact behaviour had no test:
``get_file`` from the request's files, ``str_replace``'s order of keys, ``str_replace_strict`` and
``str_replace_vstrict`` with Heat's messages."""

import pytest

from tests.api.helpers import ok
from tests.api.orchestration_helpers import fault

# What each version brought (Heat's heat/engine/hot/template.py classes).
BROUGHT = {
    "2013-05-23": {"get_attr", "get_file", "get_param", "get_resource", "list_join", "str_replace"},
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
CONDITIONS = {"equals", "not", "and", "or"}  # conditions' own (not template functions), from 2016-10-14


def functions(heat, version: str, **params) -> set[str]:
    listed = ok(heat.http.get(f"/template_versions/heat_template_version.{version}/functions", params=params))
    return {f["functions"] for f in listed["template_functions"]}


def test_each_version_offers_the_functions_heat_brought_in_it(heat):
    listed = [v["version"] for v in ok(heat.http.get("/template_versions"))["template_versions"]
              if v["type"] == "hot"]
    assert listed == [f"heat_template_version.{v}" for v in BROUGHT]
    so_far: set[str] = set()
    for version, brought in BROUGHT.items():
        so_far |= brought
        assert functions(heat, version) == so_far, version
        # the condition functions are listed when asked, as Heat's with_condition_func
        conditions = CONDITIONS if version >= "2016-10-14" else set()
        assert functions(heat, version, with_condition_func="true") == so_far | conditions, version


def value_stack(heat, version: str, value, **body) -> dict:
    template = {"heat_template_version": version, "resources": {"none": {"type": "OS::Heat::None"}},
                "outputs": {"out": {"value": value}}}
    return heat.create(template, **body)


def test_a_stack_of_every_version_and_a_function_newer_than_its_version(heat):
    made = {v: value_stack(heat, v, {"list_join": ["-", ["made", v]]}) for v in BROUGHT}
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
