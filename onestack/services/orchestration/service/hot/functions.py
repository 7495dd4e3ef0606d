"""Evaluating HOT's intrinsic functions.

``resolve`` walks a value and replaces each function call (a one-key map whose key is a function of the
template's version) by its result.  What the values come from is a ``Scope``: the parameters, the
resources' ids and attributes, the conditions, the files.  A scope may answer ``UNKNOWN`` for what does
not exist yet (a resource not yet made); a function given an unknown argument is itself unknown, so one
evaluation both checks a template before anything exists and computes real values later.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import quote, urlencode

from onestack.services.orchestration.service.hot.versions import (
    condition_functions,
    functions,
    removed,
    removed_message,
)
from onestack.services.orchestration.service.hot.yaql_sandbox import SANDBOX, YaqlError


class TemplateError(Exception):
    """A template that cannot be evaluated; ``path`` names where (``resources.server.properties.name``)."""

    def __init__(self, path: str, message: str, kind: str = "StackValidationFailed"):
        self.path = path
        self.message = message
        self.kind = kind
        super().__init__(f"{path}: {message}" if path else message)


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()
# What a two-argument `if` yields when its condition is false: the key or item holding it disappears.
OMIT: Any = type("_Omit", (), {"__repr__": lambda self: "OMIT"})()


class Scope(Protocol):
    def param(self, name: str) -> Any: ...

    def resource_id(self, name: str) -> Any: ...

    def attribute(self, name: str, attribute: str | None) -> Any: ...

    def condition(self, name: str) -> bool: ...

    def file(self, name: str) -> str: ...

    def has_resource(self, name: str) -> bool: ...

    def facade(self, name: str) -> Any:
        """The parent resource's ``metadata``, ``deletion_policy`` or ``update_policy`` (resource_facade)."""
        ...

    def availability_zones(self) -> list[str]: ...


def unknown_in(value) -> bool:
    if value is UNKNOWN:
        return True
    if isinstance(value, dict):
        return any(unknown_in(v) for v in value.values())
    if isinstance(value, list):
        return any(unknown_in(v) for v in value)
    return False


def as_text(value) -> str:
    """A value as str_replace and list_join put it into a string: maps and lists as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return "" if value is None else str(value)


class Evaluator:
    def __init__(self, version: str, scope: Scope):
        self.version = version
        self.scope = scope
        self.mappings: dict = {}  # a CFN template's Mappings (Fn::FindInMap)
        self.known = functions(version)
        self.removed = removed(version)
        self.in_conditions = condition_functions(version)
        self._condition_depth = 0  # > 0 while a condition is evaluated: only condition functions then
        self._impl: dict[str, Callable[[Any, str], Any]] = {
            "get_param": self._get_param, "get_resource": self._get_resource, "get_attr": self._get_attr,
            "get_file": self._get_file, "str_replace": self._str_replace, "list_join": self._list_join,
            "digest": self._digest, "repeat": self._repeat, "map_merge": self._map_merge,
            "str_split": self._str_split, "map_replace": self._map_replace, "equals": self._equals,
            "if": self._if, "not": self._not, "and": self._and, "or": self._or, "filter": self._filter,
            "make_url": self._make_url, "str_replace_strict": self._str_replace_strict,
            "str_replace_vstrict": self._str_replace_vstrict, "list_concat": self._list_concat,
            "list_concat_unique": self._list_concat_unique, "contains": self._contains, "yaql": self._yaql,
            "resource_facade": self._resource_facade, **self._cfn_functions(),
        }

    # -- walking -----------------------------------------------------------------------------------------
    def _cfn_functions(self) -> dict[str, Callable[[Any, str], Any]]:
        """The CloudFormation-style functions (``Fn::*``, ``Ref``) of HOT 2013-05-23 and CFN templates."""
        return {"Ref": self._ref, "Fn::GetAtt": self._cfn_get_att, "Fn::Select": self._cfn_select,
                "Fn::Join": self._cfn_join, "Fn::Split": self._cfn_split, "Fn::Replace": self._cfn_replace,
                "Fn::Base64": self._cfn_base64, "Fn::GetAZs": self._cfn_get_azs,
                "Fn::MemberListToMap": self._cfn_member_list_to_map, "Fn::ResourceFacade": self._cfn_facade,
                "Fn::FindInMap": self._cfn_find_in_map, "Fn::Equals": self._equals, "Fn::Not": self._not,
                "Fn::And": self._and, "Fn::Or": self._or, "Fn::If": self._if}

    def function_of(self, value) -> str | None:
        if isinstance(value, dict) and len(value) == 1:
            name = next(iter(value))
            if name in self.known:
                return name
        return None

    def resolve(self, value, path: str = "") -> Any:
        name = self.function_of(value)
        if name is not None:
            if self._condition_depth and name not in self.in_conditions:
                raise TemplateError(path, f'The function "{name}" is invalid in this context')
            return self._impl[name](value[name], f"{path}.{name}" if path else name)
        if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in self.removed:
            raise TemplateError("", removed_message(next(iter(value))), "InvalidTemplateVersion")
        if isinstance(value, dict):
            out = {}
            for key, item in value.items():
                resolved = self.resolve(item, f"{path}.{key}" if path else str(key))
                if resolved is not OMIT:
                    out[key] = resolved
            return out
        if isinstance(value, list):
            items = (self.resolve(item, f"{path}[{i}]") for i, item in enumerate(value))
            return [item for item in items if item is not OMIT]
        return value

    def condition(self, value, path: str) -> Any:
        """A condition: a name from the `conditions` section, a boolean, or a condition function."""
        if isinstance(value, str) and not self.function_of(value):
            return self.scope.condition(value)
        self._condition_depth += 1
        try:
            result = self.resolve(value, path)
        finally:
            self._condition_depth -= 1
        if result is UNKNOWN:
            return UNKNOWN
        if not isinstance(result, bool):
            raise TemplateError(path, f"Invalid condition value {result!r}: a condition is a boolean, a "
                                      "condition's name or a condition function")
        return result

    # -- references ------------------------------------------------------------------------------------
    def _get_param(self, args, path):
        args = self.resolve(args, path)
        if unknown_in(args):
            return UNKNOWN
        if isinstance(args, str):
            args = [args]
        if not isinstance(args, list) or not args or not isinstance(args[0], str):
            raise TemplateError(path, "Arguments to \"get_param\" must be a parameter name or a list of a "
                                      "parameter name and keys or indices")
        value = self.scope.param(args[0])
        return _dig(value, args[1:], path)

    def _get_resource(self, args, path):
        if not isinstance(args, str):
            raise TemplateError(path, "Argument to \"get_resource\" must be a resource name")
        if not self.scope.has_resource(args):
            raise TemplateError(path, f'The specified reference "{args}" (in {_owner(path)}) is incorrect.')
        return self.scope.resource_id(args)

    def _get_attr(self, args, path):
        if not isinstance(args, list) or not args:
            raise TemplateError(path, "Arguments to \"get_attr\" must be a list of a resource name, an "
                                      "attribute name and an optional path into it")
        args = [args[0], *self.resolve(args[1:], path)]
        if not isinstance(args[0], str) or not self.scope.has_resource(args[0]):
            raise TemplateError(path, f'The specified reference "{args[0]}" (in {_owner(path)}) is incorrect.')
        if len(args) == 1:
            if self.version < "2015-10-15":
                raise TemplateError(path, "Arguments to \"get_attr\" must name an attribute")
            return self.scope.attribute(args[0], None)
        if unknown_in(args[1:]):
            return UNKNOWN
        if not isinstance(args[1], str):
            raise TemplateError(path, "The attribute name of \"get_attr\" must be a string")
        return _dig(self.scope.attribute(args[0], args[1]), args[2:], path)

    def _get_file(self, args, path):
        if not isinstance(args, str):
            raise TemplateError(path, "Argument to \"get_file\" must be a file name")
        return self.scope.file(args)

    # -- strings ---------------------------------------------------------------------------------------
    def _replace(self, args, path, name: str, strict: bool, vstrict: bool):
        args = self.resolve(args, path)
        if not isinstance(args, dict) or set(args) - {"template", "params"} or "params" not in args:
            raise TemplateError(path, f'"{name}" parameters must be a mapping with "template" and "params"')
        template, params = args.get("template"), args["params"]
        if unknown_in(args):
            return UNKNOWN
        if not isinstance(template, str):
            raise TemplateError(path, f'"{name}": "template" must be a string')
        if not isinstance(params, dict):
            raise TemplateError(path, f'"{name}": "params" must be a mapping')
        # Heat's order: the longest keys first ("$var_long" must not be eaten by "$var"), equal lengths
        # alphabetically.
        keys = sorted(sorted(params, key=str), key=lambda k: len(str(k)), reverse=True)
        if vstrict:
            for key in keys:
                if params[key] is None or params[key] in ("", {}, []):
                    raise TemplateError(path, f"str_replace_vstrict has an undefined or empty value for param {key}")
        found: set[str] = set()
        replaced = _split_replace([template], [(str(k), as_text(params[k])) for k in keys], found)[0]
        missing = [str(k) for k in keys if str(k) not in found]
        if strict and missing:
            raise TemplateError(path, f"The following params were not found in the template: {','.join(missing)}")
        return replaced

    def _str_replace(self, args, path):
        return self._replace(args, path, "str_replace", False, False)

    def _str_replace_strict(self, args, path):
        return self._replace(args, path, "str_replace_strict", True, False)

    def _str_replace_vstrict(self, args, path):
        return self._replace(args, path, "str_replace_vstrict", True, True)

    def _list_join(self, args, path):
        args = self.resolve(args, path)
        if unknown_in(args):
            return UNKNOWN
        if not isinstance(args, list) or len(args) < 2 or not isinstance(args[0], str):
            raise TemplateError(path, 'Incorrect arguments to "list_join": a delimiter and one or more lists')
        if len(args) > 2 and self.version < "2015-10-15":
            raise TemplateError(path, 'Incorrect arguments to "list_join": one list before 2015-10-15')
        items = []
        for strings in args[1:]:
            if not isinstance(strings, list):
                raise TemplateError(path, f'Incorrect arguments to "list_join": {strings!r} is not a list')
            items.extend(as_text(s) for s in strings)
        return args[0].join(items)

    def _str_split(self, args, path):
        args = self.resolve(args, path)
        if unknown_in(args):
            return UNKNOWN
        if not isinstance(args, list) or len(args) not in (2, 3) or not isinstance(args[0], str) \
                or not isinstance(args[1], str) or not args[0]:
            raise TemplateError(path, 'Incorrect arguments to "str_split": a delimiter, a string and an '
                                      'optional index')
        parts = args[1].split(args[0])
        if len(args) == 2:
            return parts
        try:
            return parts[int(args[2])]
        except (ValueError, IndexError, TypeError, OverflowError):
            raise TemplateError(path, f'Incorrect index to "str_split": {args[2]!r}') from None

    def _digest(self, args, path):
        args = self.resolve(args, path)
        if unknown_in(args):
            return UNKNOWN
        if not isinstance(args, list) or len(args) != 2 or not all(isinstance(a, str) for a in args):
            raise TemplateError(path, 'Argument to "digest" must be a list of an algorithm and a value')
        algorithm, value = args
        if algorithm not in ("md5", "sha1", "sha224", "sha256", "sha384", "sha512"):
            raise TemplateError(path, f'Algorithm must be one of md5, sha1, sha224, sha256, sha384, sha512, '
                                      f'not {algorithm}')
        return hashlib.new(algorithm, value.encode()).hexdigest()

    def _make_url(self, args, path):
        args = self.resolve(args, path)
        if unknown_in(args):
            return UNKNOWN
        allowed = {"scheme", "username", "password", "host", "port", "path", "query", "fragment"}
        if not isinstance(args, dict) or set(args) - allowed:
            raise TemplateError(path, f'"make_url" arguments must be a mapping with the keys {sorted(allowed)}')
        url = f"{args['scheme']}://" if args.get("scheme") else ""
        if args.get("username"):
            url += quote(str(args["username"]), safe="")
            if args.get("password"):
                url += ":" + quote(str(args["password"]), safe="")
            url += "@"
        host = str(args.get("host", ""))
        url += f"[{host}]" if ":" in host else host
        if args.get("port") not in (None, ""):
            try:
                port = int(args["port"])
            except (TypeError, ValueError):
                raise TemplateError(path, f'Invalid "make_url" port: {args["port"]!r}') from None
            if not 0 < port < 65536:
                raise TemplateError(path, f'Invalid "make_url" port: {port}')
            url += f":{port}"
        url += "/" + quote(str(args.get("path", "")).lstrip("/"))
        if args.get("query"):
            if not isinstance(args["query"], dict):
                raise TemplateError(path, '"make_url": "query" must be a mapping')
            url += "?" + urlencode(args["query"])
        if args.get("fragment"):
            url += "#" + quote(str(args["fragment"]))
        return url

    # -- lists and maps --------------------------------------------------------------------------------
    def _repeat(self, args, path):
        if not isinstance(args, dict) or set(args) - {"for_each", "template", "permutations"} \
                or "for_each" not in args or "template" not in args:
            raise TemplateError(path, '"repeat" arguments must be a mapping with "for_each" and "template"')
        for_each = self.resolve(args["for_each"], f"{path}.for_each")
        permutations = self.resolve(args.get("permutations", True), f"{path}.permutations")
        if unknown_in(for_each) or unknown_in(permutations):
            return UNKNOWN
        if not isinstance(for_each, dict) or not all(isinstance(v, list) for v in for_each.values()):
            raise TemplateError(path, '"repeat": "for_each" must be a mapping of placeholders to lists')
        if permutations is not True and self.version < "2016-10-14":
            raise TemplateError(path, '"repeat": "permutations" needs heat_template_version 2016-10-14')
        keys = list(for_each)
        if permutations:
            combos = itertools.product(*(for_each[k] for k in keys))
        else:
            if len({len(v) for v in for_each.values()}) > 1:
                raise TemplateError(path, '"repeat": without permutations every list must have the same length')
            combos = zip(*(for_each[k] for k in keys), strict=True)
        results = []
        for combo in combos:
            pairs = [(str(k), as_text(v)) for k, v in zip(keys, combo, strict=True)]
            results.append(self.resolve(_replace_everywhere(args["template"], pairs), f"{path}.template"))
        return results

    def _map_merge(self, args, path):
        args = self.resolve(args, path)
        if unknown_in(args):
            return UNKNOWN
        if not isinstance(args, list) or not all(isinstance(m, dict) for m in args):
            raise TemplateError(path, 'Incorrect arguments to "map_merge": a list of maps')
        merged: dict = {}
        for mapping in args:
            merged.update(mapping)
        return merged

    def _map_replace(self, args, path):
        args = self.resolve(args, path)
        if unknown_in(args):
            return UNKNOWN
        if not isinstance(args, list) or len(args) != 2 or not isinstance(args[0], dict) \
                or not isinstance(args[1], dict) or set(args[1]) - {"keys", "values"}:
            raise TemplateError(path, 'Incorrect arguments to "map_replace": a map and a map of "keys" and '
                                      '"values" replacements')
        source, spec = args
        keys, values = spec.get("keys") or {}, spec.get("values") or {}
        if not isinstance(keys, dict) or not isinstance(values, dict):
            raise TemplateError(path, '"map_replace": "keys" and "values" must be maps')
        out: dict = {}
        for key, value in source.items():
            new_key = keys.get(key, key)
            if isinstance(new_key, dict | list):  # a key of the map it makes: a list or map cannot be one
                raise TemplateError(path, f'"map_replace": {new_key!r} cannot be a key')
            if new_key in out:
                raise TemplateError(path, f'"map_replace": key collision on {new_key!r}')
            out[new_key] = values.get(value, value) if isinstance(value, str | int | float) else value
        return out

    def _list_concat(self, args, path, unique: bool = False):
        args = self.resolve(args, path)
        if unknown_in(args):
            return UNKNOWN
        if not isinstance(args, list) or not all(isinstance(item, list) for item in args):
            raise TemplateError(path, 'Incorrect arguments to "list_concat": a list of lists')
        out: list = []
        for items in args:
            for item in items:
                if not unique or item not in out:
                    out.append(item)
        return out

    def _list_concat_unique(self, args, path):
        return self._list_concat(args, path, unique=True)

    def _filter(self, args, path):
        args = self.resolve(args, path)
        if unknown_in(args):
            return UNKNOWN
        if not isinstance(args, list) or len(args) != 2 or not isinstance(args[1], list):
            raise TemplateError(path, 'Incorrect arguments to "filter": values to remove and a list')
        remove = args[0] if isinstance(args[0], list) else [args[0]]
        return [item for item in args[1] if item not in remove]

    def _contains(self, args, path):
        args = self.resolve(args, path)
        if unknown_in(args):
            return UNKNOWN
        if not isinstance(args, list) or len(args) != 2 or not isinstance(args[1], list | str | dict):
            raise TemplateError(path, 'Incorrect arguments to "contains": a value and a sequence')
        try:
            return args[0] in args[1]
        except TypeError:  # a non-string in a string, a list or map among a map's keys
            raise TemplateError(path, f'"contains": {args[0]!r} cannot be in {args[1]!r}') from None

    def _yaql(self, args, path):
        """``yaql: {expression: ..., data: ...}``: the expression evaluated with ``$.data`` as the data
        (in the bounded sandbox: a hostile expression fails, it never hangs the cloud).  While the data is
        not known yet the expression is only parsed."""
        if not isinstance(args, dict) or "expression" not in args or set(args) - {"expression", "data"}:
            raise TemplateError(path, '"yaql" syntax should be a map of "expression" (a yaql expression, '
                                      'such as "$.data.var1.sum()") and "data" (such as {var1: [3, 2, 1]})')
        expression = self.resolve(args["expression"], f"{path}.expression")
        data = self.resolve(args.get("data", {}), f"{path}.data")
        if expression is UNKNOWN:
            return UNKNOWN
        if not isinstance(expression, str):
            raise TemplateError(path, f'"yaql": the expression must be a string, not {expression!r}')
        try:
            if unknown_in(data):
                SANDBOX.evaluate(expression, parse_only=True)
                return UNKNOWN
            return SANDBOX.evaluate(expression, data)
        except YaqlError as exc:
            if exc.parse:
                raise TemplateError(path, f"Bad expression {exc}.") from None
            raise TemplateError(path, f'"yaql": {exc}') from None

    # -- the parent resource -----------------------------------------------------------------------------
    def _facade(self, args, path, name: str, allowed: tuple[str, ...]):
        args = self.resolve(args, path)
        if args not in allowed:
            raise TemplateError(path, f'Incorrect arguments to "{name}" should be one of: {", ".join(allowed)}')
        return self.scope.facade(FACADE[args])

    def _resource_facade(self, args, path):
        """``resource_facade: metadata | deletion_policy | update_policy``: that part of the resource a
        provider template (a nested stack) stands for, in its parent."""
        return self._facade(args, path, "resource_facade", ("metadata", "deletion_policy", "update_policy"))

    def _cfn_facade(self, args, path):
        return self._facade(args, path, "Fn::ResourceFacade", ("Metadata", "DeletionPolicy", "UpdatePolicy"))

    # -- CloudFormation's functions (HOT 2013-05-23 and CFN templates) -------------------------------------
    def _ref(self, args, path):
        """``Ref: <name>``: a parameter's value, or a resource's reference."""
        args = self.resolve(args, path)
        if args is UNKNOWN:
            return UNKNOWN
        if not isinstance(args, str):
            raise TemplateError(path, 'Argument to "Ref" must be a parameter or resource name')
        if self.scope.has_resource(args):
            return self.scope.resource_id(args)
        return self.scope.param(args)

    def _cfn_get_att(self, args, path):
        if not isinstance(args, list) or len(args) != 2:
            raise TemplateError(path, 'Arguments to "Fn::GetAtt" must be of the form [resource_name, attribute]')
        return self._get_attr(args, path)

    def _cfn_select(self, args, path):
        args = self.resolve(args, path)
        if unknown_in(args):
            return UNKNOWN
        if not isinstance(args, list) or len(args) != 2:
            raise TemplateError(path, 'Arguments to "Fn::Select" must be of the form: [index, collection]')
        index, collection = args
        if isinstance(collection, str):
            try:
                collection = json.loads(collection)
            except ValueError:
                pass
        if collection is None:
            return ""
        if isinstance(collection, dict):
            if not isinstance(index, str):
                raise TemplateError(path, 'Index to "Fn::Select" must be a string')
            return collection.get(index, "")
        if isinstance(collection, list):
            try:
                return collection[int(index)]
            except (TypeError, ValueError, OverflowError):
                raise TemplateError(path, 'Index to "Fn::Select" must be an integer') from None
            except IndexError:
                return ""
        raise TemplateError(path, 'Arguments to "Fn::Select" not fully resolved')

    def _cfn_join(self, args, path):
        args = self.resolve(args, path)
        if unknown_in(args):
            return UNKNOWN
        if not isinstance(args, list) or len(args) != 2 or not isinstance(args[0], str) \
                or not isinstance(args[1], list | None):
            raise TemplateError(path, 'Arguments to "Fn::Join" must be of the form [delim, [string_1, '
                                      'string_2, ...]]')
        items = []
        for item in args[1] or []:
            if item is not None and not isinstance(item, str):
                raise TemplateError(path, f"Items to join must be strings not {repr(item)[:200]}")
            items.append(item or "")
        return args[0].join(items)

    def _cfn_split(self, args, path):
        args = self.resolve(args, path)
        if unknown_in(args):
            return UNKNOWN
        if not isinstance(args, list) or len(args) != 2 or not isinstance(args[0], str) or not args[0] \
                or not isinstance(args[1], str):
            raise TemplateError(path, 'Incorrect arguments to "Fn::Split" should be: {"Fn::Split" : [ "delim", '
                                      '"string_1,string_2" ]}')
        return args[1].split(args[0])

    def _cfn_replace(self, args, path):
        args = self.resolve(args, path)
        if unknown_in(args):
            return UNKNOWN
        if not isinstance(args, list) or len(args) != 2:
            raise TemplateError(path, 'Incorrect arguments to "Fn::Replace" should be: {"Fn::Replace" : [ '
                                      '{"$var1": "foo", "%var2%": "bar"}, "$var1 is %var2%"]}')
        mapping, text = args
        if not isinstance(mapping, dict):
            raise TemplateError(path, '"Fn::Replace" parameters must be a mapping')
        if not isinstance(text, str):
            raise TemplateError(path, '"Fn::Replace" template must be a string')
        for key, value in mapping.items():
            if value is None:
                value = ""
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                raise TemplateError(path, f'"Fn::Replace" value({value!r}) for "{key}" is not a string')
            text = text.replace(str(key), str(value))
        return text

    def _cfn_base64(self, args, path):
        """As Heat's: no conversion (a server's user data is taken as plain text), only a string check."""
        args = self.resolve(args, path)
        if args is UNKNOWN:
            return UNKNOWN
        if not isinstance(args, str):
            raise TemplateError(path, 'Arguments to "Fn::Base64" must be a string')
        return args

    def _cfn_get_azs(self, args, path):
        self.resolve(args, path)  # the region's name: this cloud has one region
        return self.scope.availability_zones()

    def _cfn_member_list_to_map(self, args, path):
        """``[key_name, value_name, [".member.0.<key_name>=k", ".member.0.<value_name>=v", ...]]`` -> {k: v}."""
        args = self.resolve(args, path)
        if unknown_in(args):
            return UNKNOWN
        usage = ('Wrong Arguments try: "{"Fn::MemberListToMap": ["Name", "Value", [".member.0.Name=key", '
                 '".member.0.Value=door"]]}"')
        if not isinstance(args, list) or len(args) != 3 or not isinstance(args[0], str) \
                or not isinstance(args[1], str) or not isinstance(args[2], list):
            raise TemplateError(path, usage)
        key_name, value_name, items = args
        members: dict[str, dict[str, str]] = {}
        for item in items:
            if not isinstance(item, str) or "=" not in item:
                raise TemplateError(path, usage)
            left, value = item.split("=", 1)
            parts = left.lstrip(".").split(".")
            if len(parts) != 3 or parts[0] != "member":
                raise TemplateError(path, usage)
            members.setdefault(parts[1], {})[parts[2]] = value
        return {m[key_name]: m[value_name] for _, m in sorted(members.items(), key=lambda kv: _index_key(kv[0]))
                if key_name in m and value_name in m}

    def _cfn_find_in_map(self, args, path):
        args = self.resolve(args, path)
        if unknown_in(args):
            return UNKNOWN
        if not isinstance(args, list) or len(args) != 3:
            raise TemplateError(path, 'Arguments to "Fn::FindInMap" must be of the form: [MapName, TopLevelKey, '
                                      'SecondLevelKey]')
        found: Any = self.mappings
        for key in args:
            if not isinstance(found, dict) or key not in found:
                raise TemplateError(path, f'"Fn::FindInMap": {key!r} is not in the mapping')
            found = found[key]
        return found

    # -- conditions ------------------------------------------------------------------------------------
    def _equals(self, args, path):
        args = self.resolve(args, path)
        if not isinstance(args, list) or len(args) != 2:
            raise TemplateError(path, 'Arguments to "equals" must be a list of two values')
        if unknown_in(args):
            return UNKNOWN
        return args[0] == args[1]

    def _if(self, args, path):
        shortest = 2 if self.version >= "2021-04-16" else 3
        if not isinstance(args, list) or not shortest <= len(args) <= 3:
            raise TemplateError(path, 'Arguments to "if" must be a list of a condition, a value if true and '
                                      'a value if false')
        chosen = self.condition(args[0], f"{path}[0]")
        if chosen is UNKNOWN:
            # Checking a template: both branches must be sound.
            for i, branch in enumerate(args[1:], 1):
                self.resolve(branch, f"{path}[{i}]")
            return UNKNOWN
        if chosen:
            return self.resolve(args[1], f"{path}[1]")
        return self.resolve(args[2], f"{path}[2]") if len(args) == 3 else OMIT

    def _not(self, args, path):
        value = self.condition(args[0] if isinstance(args, list) and len(args) == 1 else args, path)
        return UNKNOWN if value is UNKNOWN else not value

    def _many(self, args, path, name):
        if not isinstance(args, list) or len(args) < 2:
            raise TemplateError(path, f'Arguments to "{name}" must be a list of at least two conditions')
        return [self.condition(arg, f"{path}[{i}]") for i, arg in enumerate(args)]

    def _and(self, args, path):
        values = self._many(args, path, "and")
        return UNKNOWN if UNKNOWN in values else all(values)

    def _or(self, args, path):
        values = self._many(args, path, "or")
        return UNKNOWN if UNKNOWN in values else any(values)


# What resource_facade's and Fn::ResourceFacade's arguments name.
FACADE = {"metadata": "metadata", "deletion_policy": "deletion_policy", "update_policy": "update_policy",
          "Metadata": "metadata", "DeletionPolicy": "deletion_policy", "UpdatePolicy": "update_policy"}


def _index_key(index: str):
    return (0, int(index), "") if index.isdigit() else (1, 0, index)


def _owner(path: str) -> str:
    """The resource or output a path lies in (``resources.server.properties...`` -> ``server``)."""
    parts = path.split(".")
    return parts[1] if len(parts) > 1 and parts[0] in ("resources", "outputs") else path


def _dig(value, keys: list, path: str):
    """Follow ``keys`` (map keys and list indices) into ``value``; a missing step gives None, as Heat."""
    for key in keys:
        if value is UNKNOWN or value is None:
            return value
        if isinstance(value, dict):
            if isinstance(key, dict | list):
                raise TemplateError(path, f"Cannot index {value!r} with {key!r}")
            value = value.get(key)
        elif isinstance(value, list):
            try:
                value = value[int(key)]
            except (ValueError, TypeError, IndexError):
                return None
        else:
            raise TemplateError(path, f"Cannot index {value!r} with {key!r}")
    return value


def _split_replace(pieces: list[str], pairs: list[tuple[str, str]], found: set[str]) -> list[str]:
    """str_replace as Heat does it: each piece split on the first key, the parts replaced by the keys after
    it, and joined with its value (so a value is never itself rewritten); ``found`` gets each key that
    occurred where its turn came."""
    if not pairs:
        return pieces
    (key, value), rest = pairs[0], pairs[1:]
    out = []
    for piece in pieces:
        parts = piece.split(key) if key else [piece]
        if len(parts) > 1:
            found.add(key)
        out.append(value.join(_split_replace(parts, rest, found)))
    return out


def _substitute(text: str, pairs: list[tuple[str, str]]) -> str:
    """Replace each key by its value in one pass, so a value is never itself rewritten by a later key."""
    out, i = [], 0
    while i < len(text):
        for key, value in pairs:
            if key and text.startswith(key, i):
                out.append(value)
                i += len(key)
                break
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _replace_everywhere(value, pairs):
    """repeat's template with each placeholder replaced, in keys and values alike."""
    if isinstance(value, str):
        return _substitute(value, pairs)
    if isinstance(value, dict):
        return {_replace_everywhere(k, pairs): _replace_everywhere(v, pairs) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_everywhere(v, pairs) for v in value]
    return value


def references(value, known_functions, resources=()) -> set[str]:
    """The resources ``value`` refers to through get_resource and get_attr (``Ref`` of one of
    ``resources`` and ``Fn::GetAtt`` in the CloudFormation style): its dependencies."""
    found: set[str] = set()
    if isinstance(value, dict):
        if len(value) == 1:
            (name, args), = value.items()
            if name in known_functions:
                if name == "get_resource" and isinstance(args, str):
                    found.add(args)
                elif name == "Ref" and isinstance(args, str) and args in resources:
                    found.add(args)
                elif name in ("get_attr", "Fn::GetAtt") and isinstance(args, list) and args \
                        and isinstance(args[0], str):
                    found.add(args[0])
        for item in value.values():
            found |= references(item, known_functions, resources)
    elif isinstance(value, list):
        for item in value:
            found |= references(item, known_functions, resources)
    return found
