"""Response bodies in the shape of the negotiated microversion."""

from __future__ import annotations

from onestack.http.errors import APIError
from onestack.http.microversion import Version
from onestack.services.placement import codes
from onestack.services.placement.candidates import Candidate, Request
from onestack.services.placement.snapshot import Node, Snapshot, capacity

V = Version
MIN_VERSION = V(1, 0)
MAX_VERSION = V(1, 39)


def fault(err: APIError) -> dict:
    """Placement's error document: ``code`` from 1.23, the request id, and the supported range when the
    requested version itself was refused."""
    entry = {"status": err.status, "title": err.title, "detail": err.message}
    if err.version is not None and err.version >= V(1, 23):
        entry["code"] = err.kind or codes.DEFAULT
    if err.request_id:
        entry["request_id"] = err.request_id
    if err.status == 406 and err.version is None:
        entry["max_version"], entry["min_version"] = str(MAX_VERSION), str(MIN_VERSION)
    return {"errors": [entry]}


def provider(p, parent_uuid: str | None, root_uuid: str, version: Version, prefix: str) -> dict:
    base = f"{prefix}/resource_providers/{p.uuid}"
    links = [{"rel": "self", "href": base}, {"rel": "inventories", "href": f"{base}/inventories"},
             {"rel": "usages", "href": f"{base}/usages"}]
    if version >= V(1, 1):
        links.append({"rel": "aggregates", "href": f"{base}/aggregates"})
    if version >= V(1, 6):
        links.append({"rel": "traits", "href": f"{base}/traits"})
    if version >= V(1, 11):
        links.append({"rel": "allocations", "href": f"{base}/allocations"})
    body = {"uuid": p.uuid, "name": p.name, "generation": p.generation, "links": links}
    if version >= V(1, 14):
        body["parent_provider_uuid"] = parent_uuid
        body["root_provider_uuid"] = root_uuid
    return body


def inventory(inv) -> dict:
    return {"total": inv.total, "reserved": inv.reserved, "min_unit": inv.min_unit, "max_unit": inv.max_unit,
            "step_size": inv.step_size, "allocation_ratio": inv.allocation_ratio}


def resource_class(name: str, prefix: str) -> dict:
    return {"name": name, "links": [{"rel": "self", "href": f"{prefix}/resource_classes/{name}"}]}


def allocation_request(candidate: Candidate, version: Version) -> dict:
    if version >= V(1, 12):
        body = {"allocations": {uuid: {"resources": res} for uuid, res in candidate.allocations.items()}}
    else:
        body = {"allocations": [{"resource_provider": {"uuid": uuid}, "resources": res}
                                for uuid, res in candidate.allocations.items()]}
    if version >= V(1, 34):
        body["mappings"] = candidate.mappings
    return body


def _summary(snap: Snapshot, node: Node, request: Request, version: Version) -> dict:
    wanted = None if version >= V(1, 27) else request.requested_classes
    resources = {rc: {"capacity": int(capacity(inv)), "used": node.used.get(rc, 0)}
                 for rc, inv in node.inventories.items() if wanted is None or rc in wanted}
    body: dict = {"resources": resources}
    if version >= V(1, 17):
        body["traits"] = sorted(node.traits)
    if version >= V(1, 29):
        parent = snap.nodes.get(node.parent_id) if node.parent_id else None
        body["parent_provider_uuid"] = parent.uuid if parent else None
        body["root_provider_uuid"] = snap.nodes[node.root_id].uuid
    return body


def candidates(snap: Snapshot, request: Request, found: list[Candidate], version: Version) -> dict:
    """Summaries cover every provider of the trees the candidates come from (from 1.29; before, only
    the providers the candidates use)."""
    shown: dict[int, Node] = {}
    for c in found:
        nodes = snap.trees[c.root_id] if request.nested else [snap.nodes[i] for i in c.provider_ids]
        shown.update((n.id, n) for n in nodes)
    return {"allocation_requests": [allocation_request(c, version) for c in found],
            "provider_summaries": {n.uuid: _summary(snap, n, request, version) for n in shown.values()}}
