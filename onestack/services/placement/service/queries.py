"""Query-string grammar shared by provider lists and allocation candidates.

``resources=VCPU:1,MEMORY_MB:512``, ``required=T1,!T2`` (``in:T3,T4`` from 1.39, repeatable from 1.39),
``member_of=in:A,B`` (repeatable from 1.24, ``!`` from 1.32), ``in_tree=<uuid>``.
"""

from __future__ import annotations

import dataclasses
import uuid as uuidlib

from onestack.http.errors import BadRequest
from onestack.http.microversion import Version
from onestack.http.numbers import decimal
from onestack.services.placement.service import codes


def bad(message: str, kind: str = codes.QUERY_BAD_VALUE) -> BadRequest:
    return BadRequest(message, kind=kind)


def only_known(query, allowed: dict[str, str], version: Version, pattern=None) -> None:
    """Placement validates its query strings with a schema per microversion: anything else is a 400."""
    for key in query:
        since = allowed.get(key)
        if since is not None and version.at_least(since):
            continue
        if pattern is not None and pattern(key):
            continue
        raise bad(f"Invalid query string parameters: Additional properties are not allowed ('{key}' was "
                  "unexpected)")


def single(query, key: str) -> str | None:
    values = query.getlist(key)
    if len(values) > 1:
        raise bad(f"Query parameter '{key}' may only be given once.", codes.QUERY_DUPLICATE_KEY)
    return values[0] if values else None


def parse_resources(text: str, known_class, key: str = "resources") -> dict[str, int]:
    form = (f"Badly formed {key} parameter. Expected {key} query string parameter in form: "
            f"?{key}=VCPU:2,MEMORY_MB:1024. Got: ")
    if not text:
        raise bad(form + "empty string.")
    wanted: dict[str, int] = {}
    for part in text.split(","):
        rc, sep, amount = part.partition(":")
        rc = rc.strip()
        if not sep or not rc:
            raise bad(form + f"{text}.")
        try:
            value = int(amount)
        except ValueError:
            raise bad(form + f"{text}.") from None
        if value < 1:
            raise bad(f"Requested resource {rc} expected positive integer amount. Got: {amount}.")
        if rc in wanted:
            raise bad(f"Resource class {rc} was specified more than once in {key}.")
        if not known_class(rc):
            raise bad(f"Invalid resource class in {key} parameter: No such resource class {rc}.")
        wanted[rc] = value
    return wanted


@dataclasses.dataclass
class Traits:
    """All of ``required`` (each entry a set: any one of it will do) and none of ``forbidden``."""

    required: list[frozenset[str]] = dataclasses.field(default_factory=list)
    forbidden: set[str] = dataclasses.field(default_factory=set)

    def satisfied_by(self, traits: set[str]) -> bool:
        return all(any_of & traits for any_of in self.required) and not (self.forbidden & traits)

    def __bool__(self) -> bool:
        return bool(self.required or self.forbidden)


def parse_traits(values: list[str], version: Version, known_trait, key: str = "required") -> Traits:
    if len(values) > 1 and not version.at_least("1.39"):
        raise bad(f"Query parameter '{key}' may only be given once.", codes.QUERY_DUPLICATE_KEY)
    result = Traits()
    unknown: list[str] = []
    for text in values:
        if not text:
            raise bad(f"Invalid query string parameters: Expected '{key}' parameter value of the form: "
                      "HW_CPU_X86_VMX,CUSTOM_MAGIC.")
        if text.startswith("in:") and version.at_least("1.39"):
            names = text[3:].split(",")
            if any(not n or n.startswith("!") for n in names):
                raise bad(f"Invalid query string parameters: '{key}' 'in:' list takes trait names only.")
            unknown += [n for n in names if not known_trait(n)]
            result.required.append(frozenset(names))
            continue
        for name in text.split(","):
            forbidden = name.startswith("!") and version.at_least("1.22")
            name = name[1:] if forbidden else name
            if not name:
                raise bad(f"Invalid query string parameters: Expected '{key}' parameter value of the form: "
                          "HW_CPU_X86_VMX,CUSTOM_MAGIC.")
            if not known_trait(name):
                unknown.append(name)
            elif forbidden:
                result.forbidden.add(name)
            else:
                result.required.append(frozenset([name]))
    if unknown:
        raise bad(f"No such trait(s): {', '.join(sorted(set(unknown)))}")
    conflicting = {n for s in result.required if len(s) == 1 for n in s} & result.forbidden
    if conflicting:
        raise bad(f"Conflicting required and forbidden traits found in the following traits keys: "
                  f"{key}: ({', '.join(sorted(conflicting))})")
    return result


@dataclasses.dataclass(frozen=True)
class AggregateClause:
    any_of: frozenset[str]
    negated: bool = False

    def satisfied_by(self, aggregates: set[str]) -> bool:
        return bool(self.any_of & aggregates) != self.negated


def _uuids(text: str) -> frozenset[str]:
    items = text.split(",")
    try:
        return frozenset(str(uuidlib.UUID(i)) for i in items)
    except ValueError:
        raise bad("Invalid query string parameters: Expected 'member_of' parameter to contain valid UUID(s). "
                  f"Got: {text}") from None


def parse_member_of(values: list[str], version: Version) -> list[AggregateClause]:
    if len(values) > 1 and not version.at_least("1.24"):
        raise bad("Query parameter 'member_of' may only be given once.", codes.QUERY_DUPLICATE_KEY)
    clauses: list[AggregateClause] = []
    for text in values:
        negated = text.startswith("!") and version.at_least("1.32")
        body = text[1:] if negated else text
        if body.startswith("in:"):
            clauses.append(AggregateClause(_uuids(body[3:]), negated))
        elif negated:
            if "," in body:
                raise bad("Invalid query string parameters: Forbidden member_of takes one aggregate or "
                          f"'!in:' with a list. Got: {text}")
            clauses.append(AggregateClause(_uuids(body), True))
        else:
            if "," in body:
                raise bad("Invalid query string parameters: Expected 'member_of' parameter with more than one "
                          f"aggregate to start with 'in:'. Got: {text}")
            clauses.append(AggregateClause(_uuids(body), False))
    # '!in:A,B' means in none of A, B: one negated clause per aggregate says the same.
    expanded: list[AggregateClause] = []
    for clause in clauses:
        if clause.negated and len(clause.any_of) > 1:
            expanded += [AggregateClause(frozenset([a]), True) for a in clause.any_of]
        else:
            expanded.append(clause)
    return expanded


def parse_uuid(text: str, key: str) -> str:
    try:
        return str(uuidlib.UUID(text))
    except ValueError:
        raise bad(f"Invalid query string parameters: Expected '{key}' parameter to be a format of uuid. "
                  f"Got: {text}") from None


def parse_limit(text: str) -> int:
    limit = decimal(text)
    if limit is None or limit < 1:
        raise bad(f"Invalid query string parameters: Failed validating 'pattern' in limit. Got: {text}")
    return limit
