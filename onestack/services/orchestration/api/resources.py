"""A stack's resources and events."""

from __future__ import annotations

from onestack.http.errors import BadRequest, NotFound
from onestack.http.listing import page, parse_limit
from onestack.http.routing import Call, Reply, route
from onestack.services.orchestration import responses
from onestack.services.orchestration.api.paths import STACK, orchestration, stack, views
from onestack.services.orchestration.models import StackResource

RESOURCE_FILTERS = {"name": lambda r: r.name, "status": lambda r: r.status, "action": lambda r: r.action,
                    "type": lambda r: r.type, "id": lambda r: r.id,
                    "physical_resource_id": lambda r: r.physical_id}
EVENT_FILTERS = {"resource_status": lambda e: e.status, "resource_action": lambda e: e.action,
                 "resource_name": lambda e: e.resource_name, "resource_type": lambda e: e.resource_type,
                 "physical_resource_id": lambda e: e.physical_resource_id}
# Heat's event sort keys; both times are the event's, which ``seq`` orders exactly.
EVENT_SORT_KEYS = {"event_time": lambda e: e.seq, "created_at": lambda e: e.seq,
                   "resource_type": lambda e: e.resource_type, "resource_name": lambda e: e.resource_name,
                   "resource_status": lambda e: e.status}


def _required_by(rows: list[StackResource]) -> dict[str, list[str]]:
    needed: dict[str, list[str]] = {r.name: [] for r in rows}
    for row in rows:
        for dep in row.requires or []:
            needed.setdefault(dep, []).append(row.name)
    return {name: sorted(names) for name, names in needed.items()}


def _kept(item, query, filters) -> bool:
    for key, read in filters.items():
        wanted = query.getlist(key)
        if wanted and str(read(item)) not in wanted:
            return False
    return True


def _nested_depth(call: Call) -> int:
    raw = call.query.get("nested_depth", "0")
    try:
        depth = int(raw)
    except ValueError:
        raise BadRequest("Only integer is acceptable by 'nested_depth'.", kind="HTTPBadRequest") from None
    if depth < 0:
        raise BadRequest("nested_depth must be 0 or more", kind="HTTPBadRequest")
    return min(depth, 5)


def list_resources(call: Call) -> dict:
    """A stack's resources; with ``nested_depth``, those of its nested stacks too (each names its
    ``parent_resource`` and links to its own stack), as deep as asked."""
    found = stack(call, "resource:index")
    svc = orchestration(call)
    detail = str(call.query.get("with_detail", "false")).lower() in ("true", "1", "yes")
    v = views(call)
    shown = []
    level = [found]
    for depth in range(_nested_depth(call) + 1):
        below = []
        for current in level:
            rows = svc.resources(current)
            required = _required_by(rows)
            shown += [v.resource(current, r, required.get(r.name, []), detail=detail)
                      for r in rows if _kept(r, call.query, RESOURCE_FILTERS)]
            below += svc.children(current) if depth < 5 else []
        level = below
    return {"resources": shown}


def show_resource(call: Call) -> dict:
    found = stack(call, "resource:show")
    svc = orchestration(call)
    row = svc.resource(found, call.path["resource_name"])
    required = _required_by(svc.resources(found))
    return {"resource": views(call).resource(found, row, required.get(row.name, []), detail=True)}


def resource_metadata(call: Call) -> dict:
    found = stack(call, "resource:metadata")
    row = orchestration(call).resource(found, call.path["resource_name"])
    return {"metadata": (row.definition or {}).get("metadata") or {}}


def mark_unhealthy(call: Call) -> dict:
    found = stack(call, "resource:show")
    body = call.body if isinstance(call.body, dict) else {}
    orchestration(call).mark_unhealthy(call.ctx, found, call.path["resource_name"], body)
    return {}


def signal(call: Call) -> Reply:
    """A signal with the caller's token, or with the resource's own signal token (a guest's curl)."""
    svc = orchestration(call)
    p = call.path
    body = call.body
    if not svc.signal_with_token(p["project_id"], p["stack_name"], p["stack_id"], p["resource_name"],
                                 call.headers.get("x-auth-token"), body, signature=call.query.get("signature")):
        svc.signal(call.ctx, stack(call, "resource:show"), p["resource_name"], body)
    return Reply(None, 200)


def _events(call: Call, resource_name: str | None):
    found = stack(call, "events:index")
    svc = orchestration(call)
    if resource_name is not None and resource_name != found.name:
        names = {r.name for r in svc.resources(found)} | {e.resource_name for e in svc.events(found)}
        if resource_name not in names:
            raise NotFound(f"The Resource ({resource_name}) could not be found in Stack {found.name}.",
                           kind="EntityNotFound")
    return found, svc.events(found, resource_name)


def _nested_events(call: Call, found) -> list:
    """``nested_depth``: the events of the stack's nested stacks too, each with its own stack."""
    svc = orchestration(call)
    pairs, level = [], [found]
    for _ in range(_nested_depth(call)):
        level = [child for current in level for child in svc.children(current)]
        pairs += [(child, e) for child in level for e in svc.events(child)]
    return pairs


def list_events(call: Call, resource_name: str | None = None) -> dict:
    found, events = _events(call, resource_name)
    owner = {e.id: found for e in events}
    if resource_name is None and call.query.get("nested_depth"):
        nested = _nested_events(call, found)
        owner.update({e.id: child for child, e in nested})
        events = sorted([*events, *(e for _, e in nested)], key=lambda e: e.seq)
    events = [e for e in events if _kept(e, call.query, EVENT_FILTERS)]
    direction = call.query.get("sort_dir", "asc")
    if direction not in ("asc", "desc"):
        raise BadRequest(f"Invalid sort direction: {direction}; one of asc, desc")
    keys = [k.strip() for value in call.query.getlist("sort_keys") for k in value.split(",") if k.strip()]
    for key in keys:
        if key not in EVENT_SORT_KEYS:
            raise BadRequest(f"Invalid sort key: {key}")
    # by the keys asked for, in their order, then as they happened (the order of time itself)
    events.sort(key=lambda e: (*(EVENT_SORT_KEYS[k](e) for k in keys), e.seq), reverse=direction == "desc")
    events, _ = page(events, call.query, parse_limit(call.query))
    v = views(call)
    return {"events": [v.event(owner[e.id], e) for e in events]}


def resource_events(call: Call) -> dict:
    return list_events(call, call.path["resource_name"])


def show_event(call: Call) -> dict:
    found, events = _events(call, call.path["resource_name"])
    for e in events:
        if e.id == call.path["event_id"]:
            return {"event": views(call).event(found, e, detail=True)}
    raise NotFound(f"The Event ({call.path['event_id']}) could not be found.", kind="EntityNotFound")


ROUTES = [
    route(f"{STACK}/resources", "GET", list_resources, response=responses.RESOURCES),
    route(f"{STACK}/resources/{{resource_name}}", "GET", show_resource, response=responses.RESOURCE),
    route(f"{STACK}/resources/{{resource_name}}", "PATCH", mark_unhealthy),
    route(f"{STACK}/resources/{{resource_name}}/metadata", "GET", resource_metadata,
          response=responses.RESOURCE_METADATA),
    # a guest signals with its resource's own signal token, which is no Keystone token (the handler checks)
    route(f"{STACK}/resources/{{resource_name}}/signal", "POST", signal, public=True),
    route(f"{STACK}/events", "GET", list_events, response=responses.EVENTS),
    route(f"{STACK}/resources/{{resource_name}}/events", "GET", resource_events, response=responses.EVENTS),
    route(f"{STACK}/resources/{{resource_name}}/events/{{event_id}}", "GET", show_event,
          response=responses.EVENT),
]
