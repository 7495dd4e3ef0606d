"""/resource_providers: create, list with filters, show, update, delete."""

from __future__ import annotations

import uuid as uuidlib

from onestack.http.routing import Call, Reply, route
from onestack.services.placement import catalog, providers, schemas, views
from onestack.services.placement.api.common import V, at_least, authorize, body, href, placement, reply
from onestack.services.placement.queries import (
    only_known,
    parse_member_of,
    parse_resources,
    parse_traits,
    parse_uuid,
    single,
)
from onestack.services.placement.snapshot import Snapshot

LIST_FILTERS = {"name": V(1, 0), "uuid": V(1, 0), "member_of": V(1, 3), "resources": V(1, 4),
                "in_tree": V(1, 14), "required": V(1, 18)}


def _view(call: Call, session, provider) -> dict:
    uuids = providers.uuids_by_id(session, {provider.parent_id, provider.root_id})
    return views.provider(provider, uuids.get(provider.parent_id), uuids.get(provider.root_id, provider.uuid),
                          call.version, href(call, ""))


def create_provider(call: Call) -> Reply:
    authorize(call, "resource_providers")
    data = body(call, schemas.provider(call.version, creating=True))
    svc = placement(call)
    with svc.write() as session:
        provider = providers.create(session, data.get("uuid") or str(uuidlib.uuid4()), data["name"],
                                    data.get("parent_provider_uuid"))
        location = {"Location": call.url(f"/resource_providers/{provider.uuid}")}
        if at_least(call, 1, 20):
            return reply(call, _view(call, session, provider), provider.updated_at, 200, location)
        return Reply(None, 201, location)


def list_providers(call: Call) -> Reply:
    authorize(call, "resource_providers")
    q = call.query
    only_known(q, LIST_FILTERS, call.version)
    svc = placement(call)
    with svc.read() as session:
        name, uuid = single(q, "name"), single(q, "uuid")
        member_of = parse_member_of(q.getlist("member_of"), call.version) if "member_of" in q else []
        resources = parse_resources(single(q, "resources") or "", lambda rc: catalog.resource_class_exists(
            session, rc)) if "resources" in q else {}
        in_tree = parse_uuid(single(q, "in_tree") or "", "in_tree") if "in_tree" in q else None
        traits = parse_traits(q.getlist("required"), call.version, catalog.known_traits(session)) \
            if "required" in q else None
        snap = Snapshot(session)
        anchor = snap.by_uuid.get(in_tree) if in_tree else None
        shown = []
        for node in snap.nodes.values():
            if (name is not None and node.name != name) or (uuid is not None and node.uuid != uuid):
                continue
            if in_tree is not None and (anchor is None or anchor.root_id != node.root_id):
                continue
            if not all(c.satisfied_by(node.aggregates) for c in member_of):
                continue
            if traits is not None and not traits.satisfied_by(node.traits):
                continue
            if not all(node.can_take(rc, n) for rc, n in resources.items()):
                continue
            shown.append(node)
        rows = [views.provider(n, snap.nodes[n.parent_id].uuid if n.parent_id else None,
                               snap.nodes[n.root_id].uuid, call.version, href(call, "")) for n in shown]
        return reply(call, {"resource_providers": rows})


def show_provider(call: Call) -> Reply:
    authorize(call, "resource_providers")
    with placement(call).read() as session:
        provider = providers.get(session, call.path["uuid"])
        return reply(call, _view(call, session, provider), provider.updated_at)


def update_provider(call: Call) -> Reply:
    authorize(call, "resource_providers")
    data = body(call, schemas.provider(call.version, creating=False))
    with placement(call).write() as session:
        provider = providers.get(session, call.path["uuid"])
        providers.update_provider(session, provider, data["name"], data.get("parent_provider_uuid"),
                                  "parent_provider_uuid" in data, may_reparent=at_least(call, 1, 37))
        session.flush()
        return reply(call, _view(call, session, provider), provider.updated_at)


def delete_provider(call: Call) -> Reply:
    authorize(call, "resource_providers")
    with placement(call).write() as session:
        providers.delete_provider(session, providers.get(session, call.path["uuid"]))
    return Reply(None, 204)


ROUTES = [
    route("/resource_providers", "POST", create_provider),
    route("/resource_providers", "GET", list_providers),
    route("/resource_providers/{uuid}", "GET", show_provider),
    route("/resource_providers/{uuid}", "PUT", update_provider),
    route("/resource_providers/{uuid}", "DELETE", delete_provider),
]
