"""The HOT versions onestack reads and the functions each one offers.

A function is named once, with the version that brought it in and, for the CloudFormation-style ones the
first HOT version carried over, the version that withdrew it (Heat's ``Removed``): from then on a template
calling it is refused with Heat's ``The template version is invalid: The function Fn::Join is not
supported in this version of HOT.``; a name no version of the template's kind knows is data.
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
    "Fn::Base64": ("2013-05-23", "A placeholder function for converting to base-64."),
    "Fn::GetAZs": ("2013-05-23", "A function for retrieving the availability zones."),
    "Fn::Join": ("2013-05-23", "A function for joining strings."),
    "Fn::MemberListToMap": ("2013-05-23", "A function to convert lists with enumerated keys and values to "
                                          "mapping."),
    "Fn::Replace": ("2013-05-23", "A function for performing string substitutions."),
    "Fn::ResourceFacade": ("2013-05-23", "A function for retrieving data in a parent provider template."),
    "Fn::Select": ("2013-05-23", "A function for selecting an item from a list or map."),
    "Fn::Split": ("2013-05-23", "A function for splitting strings."),
    "Ref": ("2013-05-23", "A function for resolving parameters or resource references."),
    "resource_facade": ("2013-05-23", "A function for retrieving data in a parent provider template."),
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
# function -> the HOT version that withdrew it (Heat's ``hot_funcs.Removed`` entries, kept by every later
# version's class).
REMOVED = {"Fn::Base64": "2014-10-16", "Fn::GetAZs": "2014-10-16", "Fn::Join": "2014-10-16",
           "Fn::MemberListToMap": "2014-10-16", "Fn::Replace": "2014-10-16", "Fn::ResourceFacade": "2014-10-16",
           "Fn::Split": "2014-10-16", "Ref": "2014-10-16", "Fn::Select": "2015-10-15"}
# The functions a `conditions` section (and an `if`'s condition) may use, and the version each came in.
CONDITION_FUNCTIONS = {"equals": "2016-10-14", "get_param": "2016-10-14", "not": "2016-10-14",
                       "and": "2016-10-14", "or": "2016-10-14", "yaql": "2017-09-01", "contains": "2017-09-01"}
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
    return {name: text for name, (since, text) in FUNCTIONS.items()
            if since <= version and not REMOVED.get(name, "9999") <= version}


def removed(version: str) -> set[str]:
    """The functions an older version had and ``version`` refuses."""
    return {name for name, since in REMOVED.items() if since <= version}


def condition_functions(version: str) -> set[str]:
    return {name for name, since in CONDITION_FUNCTIONS.items() if since <= version}


def removed_message(name: str) -> str:
    return f"The template version is invalid: The function {name} is not supported in this version of HOT."


def sections(version: str) -> tuple[str, ...]:
    return SECTIONS + (("conditions",) if version >= CONDITIONS_SINCE else ())
