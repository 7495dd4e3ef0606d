"""The HOT versions onestack reads and the functions each one offers.

Each version keeps every function of the one before it (none was ever withdrawn from HOT), so a function
is named once, with the version that brought it in.
"""

from __future__ import annotations

from onestack.http.errors import BadRequest

VERSIONS = ("2013-05-23", "2014-10-16", "2015-04-30", "2015-10-15", "2016-04-08", "2016-10-14",
            "2017-02-24", "2017-09-01", "2018-03-02", "2018-08-31", "2021-04-16")
# The release names a template may use instead of the date.
ALIASES = {"newton": "2016-10-14", "ocata": "2017-02-24", "pike": "2017-09-01", "queens": "2018-03-02",
           "rocky": "2018-08-31", "wallaby": "2021-04-16"}

# function -> (the version that brought it, what it does): the versions of Heat's own HOT template classes
FUNCTIONS: dict[str, tuple[str, str]] = {
    "get_attr": ("2013-05-23", "A function for resolving resource attributes."),
    "get_file": ("2013-05-23", "A function for including a file inline."),
    "get_param": ("2013-05-23", "A function for resolving parameter references."),
    "get_resource": ("2013-05-23", "A function for resolving resource references."),
    "list_join": ("2013-05-23", "A function for joining strings."),
    "str_replace": ("2013-05-23", "A function for performing string substitutions."),
    "digest": ("2015-04-30", "A function for performing digest operations."),
    "repeat": ("2015-04-30", "A function for iterating over a list of items."),
    "str_split": ("2015-10-15", "A function for splitting delimited strings into a list."),
    "map_merge": ("2016-04-08", "A function for merging maps."),
    "map_replace": ("2016-10-14", "A function for performing mapping of keys and values."),
    "equals": ("2016-10-14", "A function for comparing whether two values are equal."),
    "if": ("2016-10-14", "A function to return corresponding value based on condition evaluation."),
    "not": ("2016-10-14", "A function that acts as a NOT operator on a condition."),
    "and": ("2016-10-14", "A function that acts as an AND operator on conditions."),
    "or": ("2016-10-14", "A function that acts as an OR operator on conditions."),
    "yaql": ("2016-10-14", "A function for executing a yaql expression."),
    "filter": ("2017-02-24", "A function for filtering out values from lists."),
    "str_replace_strict": ("2017-02-24", "A function for performing string substitutions, failing on a "
                                         "parameter absent from the template."),
    "make_url": ("2017-09-01", "A function for constructing a URL from its parts."),
    "list_concat": ("2017-09-01", "A function for extending lists."),
    "list_concat_unique": ("2017-09-01", "A function for extending lists with unique items."),
    "contains": ("2017-09-01", "A function for checking whether the specific value is in the sequence."),
    "str_replace_vstrict": ("2017-09-01", "A function for performing string substitutions, failing on a "
                                          "parameter absent from the template or empty."),
}
# The functions a `conditions` section may use.
CONDITION_FUNCTIONS = ("equals", "get_param", "not", "and", "or", "contains")
# Heat's condition functions that are not template functions too: its function list shows them only when
# asked (``with_condition_func``).
CONDITION_ONLY = ("equals", "not", "and", "or")
# The template's top-level sections, per version.
SECTIONS = ("heat_template_version", "description", "parameter_groups", "parameters", "resources", "outputs")
CONDITIONS_SINCE = "2016-10-14"


def canonical(value) -> str:
    """The date a ``heat_template_version`` value names (a date or a release name)."""
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    text = ALIASES.get(text, text)
    if text not in VERSIONS:
        raise BadRequest(f'The template version is invalid: "heat_template_version: {value}". "heat_template_'
                         f'version" should be one of: {", ".join(VERSIONS)}', kind="InvalidTemplateVersion")
    return text


def functions(version: str) -> dict[str, str]:
    """The functions a template of ``version`` may call, with their descriptions."""
    return {name: text for name, (since, text) in FUNCTIONS.items() if since <= version}


def sections(version: str) -> tuple[str, ...]:
    return SECTIONS + (("conditions",) if version >= CONDITIONS_SINCE else ())
