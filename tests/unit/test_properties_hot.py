"""Property tests of HOT (onestack/services/orchestration/service/hot): template text and structures, and
the intrinsic functions over random nested arguments.  A template either loads and evaluates or is
refused with the template's own errors (TemplateError, which the API answers as a 400, or that 400)."""

from __future__ import annotations

import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from onestack.http.errors import BadRequest
from onestack.services.orchestration.service.hot import template as hot
from onestack.services.orchestration.service.hot.functions import OMIT, UNKNOWN, Evaluator, TemplateError
from onestack.services.orchestration.service.hot.versions import FUNCTIONS, VERSIONS
from tests.unit.properties import bounded


class Scope:
    """What a stack offers its template: two parameters, two resources (one not made yet), a condition, a file."""

    params = {"size": 3, "names": ["a", "b"], "meta": {"k": "v", "n": [1, 2]}}
    resources = {"made": {"ip": "10.0.0.5", "ports": [{"id": "p1"}]}, "pending": UNKNOWN}

    def param(self, name):
        if name not in self.params:
            raise TemplateError("", f"The Parameter ({name}) was not defined in template.")
        return self.params[name]

    def has_resource(self, name):
        return name in self.resources

    def resource_id(self, name):
        return UNKNOWN if self.resources[name] is UNKNOWN else f"{name}-id"

    def attribute(self, name, attribute):
        found = self.resources[name]
        if found is UNKNOWN or attribute is None:
            return found
        return found.get(attribute)

    def condition(self, name):
        if name != "prod":
            raise TemplateError("conditions", f'Invalid condition "{name}"')
        return True

    def facade(self, name):
        return {"metadata": {"role": "web"}, "deletion_policy": "Delete", "update_policy": {}}[name]

    def availability_zones(self):
        return ["nova"]

    def file(self, name):
        if name != "motd":
            raise TemplateError("", f'Could not fetch remote template "{name}"')
        return "hello $who"


scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 70000), st.floats(allow_nan=False),
                    st.sampled_from(["", "size", "names", "meta", "made", "pending", "prod", "motd", "ip", "ports",
                                     "0", "1", "-1", "$who", "sha256", "template", "params", "for_each", "%x%",
                                     ",", "keys", "values", "host", "port", "query", "http"]),
                    st.text(max_size=6))
keys = st.one_of(st.sampled_from(["template", "params", "for_each", "permutations", "keys", "values", "scheme", "host",
                                  "port", "path", "query", "fragment", "username", "password", "$who", "%x%"]),
                 st.text(max_size=5), st.integers(-2, 3))


def values(functions):
    """Nested lists and maps whose one-key maps are often function calls."""
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(keys, inner, max_size=3),
            st.builds(lambda name, arg: {name: arg}, st.sampled_from(functions),
                      st.one_of(inner, st.lists(inner, min_size=1, max_size=3), st.dictionaries(keys, inner, max_size=3))),
        ),
        max_leaves=14,
    )


def plain(value) -> bool:
    """Whether a resolved value holds only what a template can carry (no function left, no OMIT)."""
    if value is OMIT:
        return False
    if isinstance(value, dict):
        return all(plain(v) for v in value.values())
    if isinstance(value, list):
        return all(plain(v) for v in value)
    return True


@given(st.sampled_from(VERSIONS), values(sorted(FUNCTIONS)))
# Each of these escaped as a Python error (a 500 from the API) before the function checked it:
@example("2021-04-16", {"map_replace": [{"a": 1}, {"keys": {"a": ["x"]}}]})  # TypeError: unhashable key
@example("2021-04-16", {"contains": [1, "abc"]})  # TypeError: 'in <string>' requires a string
@example("2021-04-16", {"contains": [[1], {"a": 1}]})  # TypeError: unhashable
@example("2021-04-16", {"make_url": {"host": "h", "query": "abc"}})  # TypeError from urlencode
@example("2021-04-16", {"str_split": [",", "a,b", [1]]})  # TypeError from int()
@example("2021-04-16", {"str_split": [",", "a", float("inf")]})  # OverflowError from int()
@example("2021-04-16", {"str_split": ["", "a"]})  # ValueError: empty separator
@example("2021-04-16", {"get_param": ["meta", ["x"]]})  # TypeError: a list as a map's key
@bounded(600)
def test_functions_resolve_or_raise_the_template_error(version, value):
    evaluator = Evaluator(version, Scope())
    try:
        out = evaluator.resolve(value, "resources.r.properties")
    except TemplateError as err:
        assert isinstance(err.message, str) and str(err)
        assert hot.as_error(err).status == 400
        return
    assert out is UNKNOWN or plain(out)


names = st.sampled_from(["a", "b", "server", "made"])
structured = st.builds(
    lambda v, resources, outputs, parameters: {"heat_template_version": v, "resources": resources,
                                               "outputs": outputs, "parameters": parameters},
    st.sampled_from(VERSIONS),
    st.dictionaries(names, st.fixed_dictionaries(
        {"type": st.sampled_from(["OS::Heat::None", "OS::Heat::RandomString", "OS::Nova::Server", ""])},
        optional={"properties": values(sorted(FUNCTIONS)), "depends_on": st.one_of(names, st.lists(names, max_size=2), scalars),
                  "condition": values(["equals", "not", "get_param"]), "metadata": values(sorted(FUNCTIONS)),
                  "deletion_policy": st.sampled_from(["Delete", "Retain", "Snapshot", "bogus"])}), max_size=3),
    st.dictionaries(names, st.fixed_dictionaries({"value": values(sorted(FUNCTIONS))}), max_size=2),
    st.dictionaries(st.sampled_from(["size", "names", "meta"]), st.fixed_dictionaries(
        {"type": st.sampled_from(["string", "number", "json", "comma_delimited_list", "boolean", "bogus"])},
        optional={"default": scalars, "hidden": st.booleans()}), max_size=2),
)
documents = st.one_of(
    st.text(max_size=80),
    structured.map(yaml.safe_dump),
    structured,
    st.builds(lambda v, body: yaml.safe_dump({"heat_template_version": v, **body}),
              st.one_of(st.sampled_from([*VERSIONS, "newton", "2012-12-12"]), st.dates().map(str), scalars),
              st.dictionaries(st.sampled_from(["description", "parameters", "resources", "outputs", "conditions",
                                               "parameter_groups", "bogus"]),
                              values(sorted(FUNCTIONS)), max_size=4)),
)


@given(documents)
@bounded(300)
def test_template_text_loads_or_answers_400(source):
    try:
        template = hot.Template(hot.load(source))
    except BadRequest as err:
        assert err.status == 400
        return
    assert template.version in VERSIONS
    assert set(template.requires) == set(template.resources)
    for name, needs in template.requires.items():  # every dependency names a resource, never itself
        assert needs <= set(template.resources) and name not in needs
