"""Allocation candidates: every way one provider tree can satisfy a request.

A request has request groups: the unnumbered one, whose resources may come from any providers of one
tree (each resource class from one provider), and suffixed groups (``resources1``, ``resources_NET``),
each satisfied by a single provider.  A candidate picks one way for every group in the same tree;
``group_policy=isolate`` keeps suffixed groups on different providers, ``same_subtree`` makes the
providers of the named groups hang under one of them, ``root_required`` filters on the root's traits.
Providers that share resources with other trees through aggregates (``MISC_SHARES_VIA_AGGREGATE``) are
not combined with other trees: a candidate always comes from one tree.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from onestack.http.microversion import Version
from onestack.services.placement.service import codes
from onestack.services.placement.service.queries import (
    AggregateClause,
    Traits,
    bad,
    parse_limit,
    parse_member_of,
    parse_resources,
    parse_traits,
    parse_uuid,
    single,
)
from onestack.services.placement.service.snapshot import Node, Snapshot

if TYPE_CHECKING:
    from onestack.services.placement.service.kept import Index

GROUPED = re.compile(r"^(resources|required|member_of|in_tree)(.*)$")
NUMERIC_SUFFIX = re.compile(r"^[1-9][0-9]*$")
STRING_SUFFIX = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


@dataclasses.dataclass
class Group:
    suffix: str = ""
    resources: dict[str, int] = dataclasses.field(default_factory=dict)
    traits: Traits = dataclasses.field(default_factory=Traits)
    member_of: list[AggregateClause] = dataclasses.field(default_factory=list)
    in_tree: str | None = None


@dataclasses.dataclass
class Request:
    groups: list[Group]
    group_policy: str | None = None
    root_required: Traits = dataclasses.field(default_factory=Traits)
    same_subtree: list[list[str]] = dataclasses.field(default_factory=list)
    limit: int | None = None
    nested: bool = True  # before 1.29 a candidate may use only one provider of a tree

    @property
    def requested_classes(self) -> set[str]:
        return {rc for g in self.groups for rc in g.resources}


@dataclasses.dataclass(slots=True)
class Candidate:
    allocations: dict[str, dict[str, int]]  # provider uuid -> class -> amount
    mappings: dict[str, list[str]]  # group suffix -> provider uuids
    root_id: int
    provider_ids: set[int]


ALLOWED = {"resources": "1.10", "limit": "1.16", "required": "1.17", "member_of": "1.21",
           "group_policy": "1.25", "in_tree": "1.31", "root_required": "1.35", "same_subtree": "1.36"}


def parse(query, version: Version, known_class, known_trait) -> Request:
    """The query string as Placement reads it at ``version`` (400 for anything it would refuse)."""
    groups: dict[str, Group] = {}
    for key in query:
        match = GROUPED.match(key)
        since = ALLOWED.get(key)
        suffix = match.group(2) if match else ""
        if since is not None and version.at_least(since):
            suffix = ""
        elif match and suffix and version.at_least("1.25") and (
                NUMERIC_SUFFIX.match(suffix) or (version.at_least("1.33") and STRING_SUFFIX.match(suffix))) and (
                match.group(1) != "in_tree" or version.at_least("1.31")):
            pass
        else:
            raise bad(f"Invalid query string parameters: Additional properties are not allowed ('{key}' was "
                      "unexpected)")
        if match:
            kind = match.group(1)
            group = groups.setdefault(suffix, Group(suffix))
            if kind == "resources":
                group.resources = parse_resources(single(query, key) or "", known_class, key)
            elif kind == "required":
                group.traits = parse_traits(query.getlist(key), version, known_trait, key)
            elif kind == "member_of":
                group.member_of = parse_member_of(query.getlist(key), version)
            else:
                group.in_tree = parse_uuid(single(query, key) or "", key)
    numbered = [g for s, g in groups.items() if s]
    unnumbered = groups.get("")
    if not version.at_least("1.25") and (unnumbered is None or not unnumbered.resources):
        raise bad("Invalid query string parameters: 'resources' is a required property",
                  codes.QUERY_MISSING_VALUE)
    if not any(g.resources for g in groups.values()):
        raise bad("At least one request group (`resources` or `resources{$S}`) is required.",
                  codes.QUERY_MISSING_VALUE)
    same_subtree = [[s for s in text.split(",")] for text in query.getlist("same_subtree")]
    for names in same_subtree:
        for s in names:
            if s not in groups or not s:
                raise bad(f"Real suffixes should be specified in same_subtree: {names}")
    in_subtree = {s for names in same_subtree for s in names}
    for g in numbered:
        if not g.resources and g.suffix not in in_subtree:
            raise bad(f"All request groups must specify resources; group '{g.suffix}' does not "
                      "(resourceless groups need same_subtree, microversion 1.36).")
    policy = single(query, "group_policy")
    if policy is not None and policy not in ("none", "isolate"):
        raise bad(f"Invalid query string parameters: '{policy}' is not one of ['none', 'isolate']")
    if len([g for g in numbered if g.resources]) > 1 and policy is None:
        raise bad('The "group_policy" parameter is required when specifying more than one "resources{$S}" '
                  "parameter.", codes.QUERY_MISSING_VALUE)
    root_required = (parse_traits(query.getlist("root_required"), version, known_trait, "root_required")
                     if "root_required" in query else Traits())
    limit = single(query, "limit")
    ordered = ([unnumbered] if unnumbered is not None else []) + numbered
    return Request(ordered, policy, root_required, same_subtree, parse_limit(limit) if limit else None,
                   nested=version.at_least("1.29"))


def roots_in(index: Index, snap: Snapshot, request: Request) -> set[int] | None:
    """The roots of the trees that might answer ``request``, from the kept trees' indexes: trees holding an
    inventory of every requested class, a provider with one of each set of required traits, a provider in
    one of each wanted aggregate, the ``in_tree`` anchor's tree.  Only ever a superset of the trees the
    search keeps (the search still applies every rule), so narrowing changes the cost, never the answer.
    None when nothing narrows.  (It was a query of the database, an intersection of one select per part,
    before the trees were kept.)"""
    wanted: list[set[int]] = []
    for group in request.groups:
        wanted += [index.by_class.get(rc, set()) for rc in group.resources]
        wanted += [set().union(*(index.by_trait.get(t, ()) for t in any_of)) for any_of in group.traits.required]
        wanted += [set().union(*(index.by_aggregate.get(a, ()) for a in clause.any_of))
                   for clause in group.member_of if not clause.negated]
        if group.in_tree is not None:
            anchor = snap.by_uuid.get(group.in_tree)
            wanted.append({anchor.root_id} if anchor is not None else set())
    if not wanted:
        return None
    wanted.sort(key=len)
    return wanted[0].intersection(*wanted[1:])


class Search:
    def __init__(self, snap: Snapshot, request: Request, roots: set[int] | None = None):
        """``roots``: only these trees are searched (a superset of those that answer, ``roots_in``)."""
        self.snap = snap
        self.request = request
        self.roots = roots

    def run(self) -> list[Candidate]:
        found, seen = [], set()
        limit = self.request.limit
        # One group cannot yield the same candidate twice (each pick puts a class on a different provider);
        # several groups can (two groups' picks swapped), so only then is each candidate's key kept.
        distinct = len(self.request.groups) == 1
        for candidate in self._all():
            if not distinct:
                key = (tuple(sorted((u, tuple(sorted(r.items()))) for u, r in candidate.allocations.items())),
                       tuple(sorted((s, tuple(p)) for s, p in candidate.mappings.items())))
                if key in seen:
                    continue
                seen.add(key)
            found.append(candidate)
            if limit is not None and len(found) >= limit:
                break
        return found

    def _all(self) -> Iterator[Candidate]:
        lone = self._lone_provider_group()
        trees = self.snap.trees.items()
        if self.roots is not None:
            roots = self.roots
            # in the snapshot's order (the answer's), not the set's
            trees = [(root_id, tree) for root_id, tree in trees if root_id in roots] if roots else []
        root_required = self.request.root_required or None
        lone_match = self._lone(lone) if lone is not None else None
        nodes = self.snap.nodes
        for root_id, tree in trees:
            root = nodes[root_id]
            if root_required is not None and not root_required.satisfied_by(root.traits):
                continue
            if lone_match is not None and len(tree) == 1:
                found = lone_match(root)
                if found is not None:
                    yield found
                continue
            per_group = []
            for group in self.request.groups:
                options = list(self._options(tree, root, group))
                if not options:
                    break
                per_group.append(options)
            else:
                for combo in itertools.product(*per_group):
                    candidate = self._combine(root_id, combo)
                    if candidate is not None:
                        yield candidate

    def _lone_provider_group(self) -> Group | None:
        """The request's only group when a tree of one provider answers it in one way or none: an unnumbered
        group with resources and no ``in_tree``, and no ``same_subtree`` (``_lone``)."""
        request = self.request
        if len(request.groups) != 1 or request.same_subtree:
            return None
        group = request.groups[0]
        return group if not group.suffix and group.resources and group.in_tree is None else None

    @staticmethod
    def _lone(group: Group):
        """What ``_options`` and ``_combine`` make of a tree of one provider (most compute nodes') for the
        single unnumbered group, as a function of the provider: every class from it or no candidate.  Without
        their generators, product and merging, a search of 250 such trees (an aggregate's of 1,000) took a
        third of the time; the group's parts are looked up once per search, not once per provider, and every
        candidate shares one copy of the group's resources (an answer's parts are never changed)."""
        forbidden, required, member_of = group.traits.forbidden, group.traits.required, group.member_of
        wanted = tuple(group.resources.items())
        resources = dict(group.resources)

        def match(node: Node) -> Candidate | None:
            if forbidden and forbidden & node.traits:
                return None
            if member_of and not all(c.satisfied_by(node.aggregates) for c in member_of):
                return None
            inventories, used = node.inventories, node.used
            for rc, amount in wanted:
                inv = inventories.get(rc)
                if (inv is None or amount < inv.min_unit or amount > inv.max_unit or amount % inv.step_size
                        or inv.room < used.get(rc, 0) + amount):
                    return None
            if required and not all(any_of & node.traits for any_of in required):
                return None
            uuid = node.uuid
            return Candidate({uuid: resources}, {"": [uuid]}, node.id, {node.id})

        return match

    # -- one group ---------------------------------------------------------------------------------
    def _in_tree(self, node: Node, group: Group) -> bool:
        if group.in_tree is None:
            return True
        anchor = self.snap.by_uuid.get(group.in_tree)
        return anchor is not None and anchor.root_id == node.root_id

    def _options(self, tree: list[Node], root: Node, group: Group) -> Iterator[tuple[dict, list[Node]]]:
        """(allocations by node id, providers satisfying the group) for each way this group fits."""
        if group.suffix:
            for node in tree:
                if (self._in_tree(node, group) and group.traits.satisfied_by(node.traits)
                        and all(c.satisfied_by(node.aggregates) for c in group.member_of)
                        and all(node.can_take(rc, n) for rc, n in group.resources.items())):
                    yield ({node.id: dict(group.resources)} if group.resources else {}), [node]
            return
        if not group.resources:
            yield {}, []  # traits and aggregates of a resourceless unnumbered group apply to the whole candidate
            return

        anchor = self.snap.by_uuid.get(group.in_tree) if group.in_tree is not None else None
        forbidden, member_of, required = group.traits.forbidden, group.member_of, group.traits.required

        if group.in_tree is not None and (anchor is None or anchor.root_id != root.id):
            return  # the anchor is in another tree (every node of a tree shares its root)

        def usable(node: Node) -> bool:
            if forbidden and forbidden & node.traits:
                return False
            # An aggregate on the root spans its whole tree for the unnumbered group.
            return not member_of or all(c.satisfied_by(node.aggregates | root.aggregates) for c in member_of)

        # each provider screened once, not once per requested class
        screened = [node for node in tree if usable(node)] if forbidden or member_of else tree
        if len(screened) == 1:
            # One provider (most compute nodes' trees): every class from it or no option; what the general
            # path below makes of a single choice per class, without building the product.
            node = screened[0]
            for rc, amount in group.resources.items():
                if not node.can_take(rc, amount):
                    return
            if not required or all(any_of & node.traits for any_of in required):
                yield {node.id: dict(group.resources)}, [node]
            return
        choices = [[(node, rc, amount) for node in screened if node.can_take(rc, amount)]
                   for rc, amount in group.resources.items()]
        for picks in itertools.product(*choices):
            used = {node.id: node for node, _, _ in picks}
            if required:
                union = set().union(*(n.traits for n in used.values()))
                if not all(any_of & union for any_of in required):
                    continue
            allocation: dict[int, dict[str, int]] = {}
            for node, rc, amount in picks:
                allocation.setdefault(node.id, {})[rc] = amount
            yield allocation, list(used.values())

    # -- one candidate ---------------------------------------------------------------------------------
    def _combine(self, root_id: int, combo) -> Candidate | None:
        request, nodes = self.request, self.snap.nodes
        merged: dict[int, dict[str, int]]
        if len(combo) == 1:
            # One group: its option's allocation (made for that option alone), each part checked against
            # capacity when the option was made.
            merged = combo[0][0]
        else:
            merged = {}
            for allocation, _ in combo:
                for nid, resources in allocation.items():
                    target = merged.setdefault(nid, {})
                    for rc, n in resources.items():
                        target[rc] = target.get(rc, 0) + n
            for nid, resources in merged.items():
                node = nodes[nid]
                if any(node.inventories[rc].room < node.used.get(rc, 0) + n for rc, n in resources.items()):
                    return None
        by_suffix = {group.suffix: providers for group, (_, providers) in zip(request.groups, combo, strict=True)}
        if request.group_policy == "isolate":
            numbered = [p[0].id for s, p in by_suffix.items() if s and p]
            if len(numbered) != len(set(numbered)):
                return None
        for names in request.same_subtree:
            involved = [p for s in names for p in by_suffix[s]]
            if not any(all(self.snap.is_ancestor_or_self(top, n) for n in involved) for top in involved):
                return None
        unnumbered = request.groups[0] if request.groups and not request.groups[0].suffix else None
        if unnumbered is not None and not unnumbered.resources:
            # A resourceless unnumbered group constrains the providers the candidate uses.
            used = [nodes[i] for i in merged] or [nodes[root_id]]
            union = set().union(*(n.traits for n in used))
            if not unnumbered.traits.satisfied_by(union):
                return None
        if not request.nested and len(merged) > 1:
            return None
        uuid = {nid: nodes[nid].uuid for nid in merged}
        involved_ids = set(merged) | {p.id for providers in by_suffix.values() for p in providers}
        return Candidate({uuid[nid]: res for nid, res in merged.items()},
                         {s: [p.uuid for p in providers] for s, providers in by_suffix.items() if providers},
                         root_id, involved_ids)
