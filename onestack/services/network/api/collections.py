"""The five routes every network resource gets from its attribute table: list, show, create
(single or bulk, in one transaction), update and delete, with Neutron's filters, ``fields=``,
sorting, limit/marker pages and ``If-Match: revision_number=N`` checks."""

from __future__ import annotations

from onestack.http.errors import BadRequest
from onestack.http.listing import next_link, parse_limit
from onestack.http.routing import Call, Reply, route
from onestack.services.network.service import tags
from onestack.services.network.service.collection import Collection, Listing


def fields(call: Call) -> list[str]:
    """``?fields=a,b&fields=c``: the attributes the caller wants back (all when empty)."""
    return [f for raw in call.query.getlist("fields") for f in raw.split(",") if f]


def _listing(coll: Collection, call: Call) -> Listing:
    q = call.query
    filters = coll.table.filters(q)
    wanted = fields(call)
    order = coll.table.sort(q)
    limit = parse_limit(q)
    tag_filters = [(key, [t for t in raw.split(",") if t]) for key in tags.FILTERS for raw in q.getlist(key)]
    return Listing(filters=filters, tags=tag_filters, order=order, fields=wanted, limit=limit, marker=q.get("marker"))


def _one(coll: Collection, body) -> dict:
    if not isinstance(body, dict) or not isinstance(body.get(coll.singular), dict):
        raise BadRequest(f"Unable to find '{coll.singular}' in request body", kind="HTTPBadRequest")
    return body[coll.singular]


def collection_routes(cls: type[Collection]) -> list:
    plural = cls.plural
    base = f"/v2.0/{cls.path or plural}"
    item = f"{base}/{{id}}"

    def of(call: Call) -> Collection:
        return call.runtime.network.collection(plural)

    def list_(call: Call) -> dict:
        coll = of(call)
        listing = _listing(coll, call)
        found = coll.read_list(call.ctx, listing)
        out = {plural: found.items}
        if listing.limit is not None:
            out[f"{plural}_links"] = ([next_link(call.url, base, call.query, found.next_marker, listing.limit)]
                                      if found.next_marker else [])
        return out

    def show(call: Call) -> dict:
        coll = of(call)
        return {coll.singular: coll.read_one(call.ctx, call.path["id"], fields(call))}

    def create(call: Call) -> Reply:
        coll = of(call)
        ctx, body = call.ctx, call.body
        if isinstance(body, dict) and isinstance(body.get(coll.plural), list):
            items, bulk = body[coll.plural], True
        else:
            items, bulk = [_one(coll, body)], False
        checked = []
        for entry in items:
            if not isinstance(entry, dict):
                raise BadRequest(f"Unable to find '{coll.singular}' in request body", kind="HTTPBadRequest")
            checked.append(coll.table.check(entry, creating=True, is_admin=ctx.is_admin))
        bodies = coll.create_all(ctx, checked)
        return Reply({coll.plural: bodies} if bulk else {coll.singular: bodies[0]}, 201)

    def update(call: Call) -> dict:
        coll = of(call)
        changes = coll.table.check(_one(coll, call.body), creating=False, is_admin=call.ctx.is_admin)
        return {coll.singular: coll.update_one(call.ctx, call.path["id"], changes, call.headers.get("if-match"))}

    def delete(call: Call) -> Reply:
        of(call).delete_one(call.ctx, call.path["id"], call.headers.get("if-match"))
        return Reply(status=204)

    for fn, verb in ((list_, "list"), (show, "show"), (create, "create"), (update, "update"), (delete, "delete")):
        fn.__name__ = f"{verb}_{plural.replace('-', '_')}"
    one, many = _responses(cls)
    return [route(base, "GET", list_, response=many, query=cls.table.query_parameters()), route(item, "GET", show, response=one),
            route(base, "POST", create, status=201, response={"anyOf": [one, many]}),
            route(item, "PUT", update, response=one), route(item, "DELETE", delete)]


def _responses(cls: type[Collection]) -> tuple[dict, dict]:
    """The bodies of one resource and of a list of them (a bulk create's too), from its attribute table."""
    shown = cls.table.response_schema()
    one = {"type": "object", "required": [cls.singular], "properties": {cls.singular: shown}}
    many = {"type": "object", "required": [cls.plural],
            "properties": {cls.plural: {"type": "array", "items": shown},
                           f"{cls.plural}_links": {"type": "array", "items": {"type": "object"}}}}
    return one, many
