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

from onestack.services.orchestration.service.hot.versions import functions
from onestack.services.orchestration.service.hot.yaql_sandbox import SANDBOX, YaqlError


class TemplateError(Exception):
    """A template that cannot be evaluated; ``path`` names where (``resources.server.properties.name``)."""

    def __init__(self, path: str, message: str):
        self.path = path
        self.message = message
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
        self.known = functions(version)
        self._impl: dict[str, Callable[[Any, str], Any]] = {
            "get_param": self._get_param, "get_resource": self._get_resource, "get_attr": self._get_attr,
            "get_file": self._get_file, "str_replace": self._str_replace, "list_join": self._list_join,
            "digest": self._digest, "repeat": self._repeat, "map_merge": self._map_merge,
            "str_split": self._str_split, "map_replace": self._map_replace, "equals": self._equals,
            "if": self._if, "not": self._not, "and": self._and, "or": self._or, "filter": self._filter,
            "make_url": self._make_url, "str_replace_strict": self._str_replace_strict,
            "str_replace_vstrict": self._str_replace_vstrict, "list_concat": self._list_concat,
            "list_concat_unique": self._list_concat_unique, "contains": self._contains, "yaql": self._yaql,
        }

    # -- walking -----------------------------------------------------------------------------------------
    def function_of(self, value) -> str | None:
        if isinstance(value, dict) and len(value) == 1:
            name = next(iter(value))
            if name in self.known:
                return name
        return None

    def resolve(self, value, path: str = "") -> Any:
        name = self.function_of(value)
        if name is not None:
            return self._impl[name](value[name], f"{path}.{name}" if path else name)
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
        result = self.resolve(value, path)
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


def references(value, known_functions) -> set[str]:
    """The resources ``value`` refers to through get_resource and get_attr (its dependencies)."""
    found: set[str] = set()
    if isinstance(value, dict):
        if len(value) == 1:
            (name, args), = value.items()
            if name == "get_resource" and isinstance(args, str) and name in known_functions:
                found.add(args)
            elif name == "get_attr" and isinstance(args, list) and args and isinstance(args[0], str) \
                    and name in known_functions:
                found.add(args[0])
        for item in value.values():
            found |= references(item, known_functions)
    elif isinstance(value, list):
        for item in value:
            found |= references(item, known_functions)
    return found
