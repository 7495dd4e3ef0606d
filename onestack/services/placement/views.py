"""Response bodies in the shape of the negotiated microversion."""

from __future__ import annotations

from typing import TYPE_CHECKING

from onestack.http.microversion import Version

if TYPE_CHECKING:
    from onestack.services.placement.service import Placed
    from onestack.services.placement.service.candidates import Candidate, Request
    from onestack.services.placement.service.snapshot import Node, Snapshot


def provider(p, parent_uuid: str | None, root_uuid: str, version: Version, prefix: str) -> dict:
    base = f"{prefix}/resource_providers/{p.uuid}"
    links = [{"rel": "self", "href": base}, {"rel": "inventories", "href": f"{base}/inventories"},
             {"rel": "usages", "href": f"{base}/usages"}]
    if version.at_least("1.1"):
        links.append({"rel": "aggregates", "href": f"{base}/aggregates"})
    if version.at_least("1.6"):
        links.append({"rel": "traits", "href": f"{base}/traits"})
    if version.at_least("1.11"):
        links.append({"rel": "allocations", "href": f"{base}/allocations"})
    body = {"uuid": p.uuid, "name": p.name, "generation": p.generation, "links": links}
    if version.at_least("1.14"):
        body["parent_provider_uuid"] = parent_uuid
        body["root_provider_uuid"] = root_uuid
    return body


def placed(p: Placed, version: Version, prefix: str) -> dict:
    """A provider with its place in its tree (``service.Placed``)."""
    return provider(p.provider, p.parent_uuid, p.root_uuid, version, prefix)


def inventory(inv) -> dict:
    return {"total": inv.total, "reserved": inv.reserved, "min_unit": inv.min_unit, "max_unit": inv.max_unit,
            "step_size": inv.step_size, "allocation_ratio": inv.allocation_ratio}


def inventories(provider, rows: dict) -> dict:
    return {"resource_provider_generation": provider.generation,
            "inventories": {rc: inventory(inv) for rc, inv in rows.items()}}


def one_inventory(provider, inv) -> dict:
    return {"resource_provider_generation": provider.generation, **inventory(inv)}


def aggregates(provider, names: list[str], version: Version) -> dict:
    """A list before 1.19, with the provider's generation from 1.19."""
    body: dict = {"aggregates": names}
    if version.at_least("1.19"):
        body["resource_provider_generation"] = provider.generation
    return body


def provider_traits(provider, names: list[str]) -> dict:
    return {"traits": names, "resource_provider_generation": provider.generation}


def consumer_allocations(rows: list, consumer, version: Version) -> dict:
    """``rows``: the consumer's (allocation, provider) pairs; ``consumer``: its row, None if it holds nothing."""
    held: dict[str, dict] = {}
    for alloc, provider in rows:
        entry = held.setdefault(provider.uuid, {"generation": provider.generation, "resources": {}})
        entry["resources"][alloc.resource_class] = alloc.used
    body: dict = {"allocations": held}
    if consumer is not None:
        if version.at_least("1.12"):
            body.update(project_id=consumer.project_id, user_id=consumer.user_id)
        if version.at_least("1.28"):
            body["consumer_generation"] = consumer.generation
        if version.at_least("1.38"):
            body["consumer_type"] = consumer.consumer_type or "unknown"
    return body


def provider_allocations(provider, rows: list, version: Version) -> dict:
    """``rows``: the (allocation, consumer) pairs held against ``provider``."""
    held: dict[str, dict] = {}
    for alloc, consumer in rows:
        entry = held.setdefault(consumer.uuid, {"resources": {}})
        if version.at_least("1.28"):
            entry["consumer_generation"] = consumer.generation
        entry["resources"][alloc.resource_class] = alloc.used
    return {"resource_provider_generation": provider.generation, "allocations": held}


def usages(provider, used: dict[str, int]) -> dict:
    return {"resource_provider_generation": provider.generation, "usages": used}


def resource_class(name: str, prefix: str) -> dict:
    return {"name": name, "links": [{"rel": "self", "href": f"{prefix}/resource_classes/{name}"}]}


def allocation_request(candidate: Candidate, version: Version) -> dict:
    return _allocation_request(candidate, version.at_least("1.12"), version.at_least("1.34"))


def _allocation_request(candidate: Candidate, keyed: bool, mappings: bool) -> dict:
    if keyed:
        body = {"allocations": {uuid: {"resources": res} for uuid, res in candidate.allocations.items()}}
    else:
        body = {"allocations": [{"resource_provider": {"uuid": uuid}, "resources": res}
                                for uuid, res in candidate.allocations.items()]}
    if mappings:
        body["mappings"] = candidate.mappings
    return body


def candidates(snap: Snapshot, request: Request, found: list[Candidate], version: Version) -> dict:
    """Summaries cover every provider of the trees the candidates come from (from 1.29; before, only
    the providers the candidates use).  The version is read once, not per candidate: an answer may hold
    thousands."""
    shown: dict[int, Node] = {}
    for c in found:
        for n in (snap.trees[c.root_id] if request.nested else [snap.nodes[i] for i in c.provider_ids]):
            shown[n.id] = n
    keyed, mappings = version.at_least("1.12"), version.at_least("1.34")
    wanted = None if version.at_least("1.27") else request.requested_classes
    traits, tree = version.at_least("1.17"), version.at_least("1.29")
    nodes = snap.nodes
    summaries = {}
    shape = (traits, tree)
    for node in shown.values():
        # Shared between answers (never changed once made) when it shows every class (from 1.27).
        body = node.summaries.get(shape) if wanted is None else None
        if body is None:
            used = node.used
            body = {"resources": {rc: {"capacity": int(inv.room), "used": used.get(rc, 0)}
                                  for rc, inv in node.inventories.items() if wanted is None or rc in wanted}}
            if traits:
                body["traits"] = sorted(node.traits)
            if tree:
                body["parent_provider_uuid"] = nodes[node.parent_id].uuid if node.parent_id else None
                body["root_provider_uuid"] = nodes[node.root_id].uuid
            if wanted is None:
                node.summaries[shape] = body
        summaries[node.uuid] = body
    return {"allocation_requests": [_allocation_request(c, keyed, mappings) for c in found],
            "provider_summaries": summaries}
