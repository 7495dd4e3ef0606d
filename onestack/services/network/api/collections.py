"""The five routes every network resource gets from its attribute table: list, show, create
(single or bulk, in one transaction), update and delete, with Neutron's filters, ``fields=``,
sorting, limit/marker pages and ``If-Match: revision_number=N`` checks."""

from __future__ import annotations

from urllib.parse import urlencode

from sqlalchemy import asc, desc, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from onestack.http.attrmap import RENDERED, matches
from onestack.http.errors import BadRequest, PreconditionFailed
from onestack.http.listing import page, parse_limit
from onestack.http.routing import Call, Reply, route
from onestack.services.network.collection import Collection
from onestack.services.network.models import Tag

# Creates are retried when a racing transaction took the same address or segment first.
CREATE_ATTEMPTS = 5


def _service(call: Call):
    return call.runtime.network


def _tag_filters(stmt, model, query):
    def tags_of(names):
        return select(Tag.resource_id).where(Tag.tag.in_(names))

    for key in ("tags", "tags-any", "not-tags", "not-tags-any"):
        for raw in query.getlist(key):
            names = [t for t in raw.split(",") if t]
            if key in ("tags", "not-tags"):
                every = model.id.in_(select(Tag.resource_id).where(Tag.tag.in_(names)).group_by(Tag.resource_id)
                                     .having(func.count(func.distinct(Tag.tag)) == len(set(names))))
                stmt = stmt.where(every if key == "tags" else ~every)
            else:
                stmt = stmt.where(model.id.in_(tags_of(names)) if key == "tags-any" else ~model.id.in_(tags_of(names)))
    return stmt


def _tags_by_id(session: Session, ids: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {i: [] for i in ids}
    for start in range(0, len(ids), 500):
        for rid, tag in session.execute(select(Tag.resource_id, Tag.tag).where(Tag.resource_id.in_(ids[start:start + 500]))):
            found[rid].append(tag)
    return {k: sorted(v) for k, v in found.items()}


def _sql_attr(coll: Collection, name: str):
    attr = coll.table[name]
    if attr.field == RENDERED:
        return None
    return getattr(coll.model, attr.field, None)


def _if_match(call: Call, row) -> None:
    wanted = call.headers.get("if-match")
    if not wanted or not hasattr(row, "revision_number"):
        return
    for part in wanted.split(","):
        key, _, value = part.strip().partition("=")
        if key == "revision_number" and value.isdigit() and int(value) != row.revision_number:
            raise PreconditionFailed(f"Constrained to {wanted}, but current revision is {row.revision_number}",
                                     kind="RevisionNumberConstraintFailed")


def collection_routes(cls: type[Collection]) -> list:
    plural = cls.plural
    base = f"/v2.0/{cls.path or plural}"
    item = f"{base}/{{id}}"

    def of(call: Call) -> Collection:
        return _service(call).collection(plural)

    def list_(call: Call) -> dict:
        coll = of(call)
        ctx, q = call.ctx, call.query
        filters = coll.table.filters(q)
        fields = [f for raw in q.getlist("fields") for f in raw.split(",") if f]
        order = coll.table.sort(q)
        limit = parse_limit(q)
        coll.before_list(ctx)
        in_python: set[str] = set()
        with _service(call).db.read() as session:
            stmt = select(coll.model)
            scope = coll.scope(session, ctx)
            if scope is not None:
                stmt = stmt.where(scope)
            for name, values in filters.items():
                custom = coll.filter_clause(name, values)
                column = _sql_attr(coll, name)
                if custom is not None:
                    stmt = stmt.where(*custom)
                elif column is not None and name != "tags":
                    stmt = stmt.where(column.in_(values))
                else:
                    in_python.add(name)
            stmt = _tag_filters(stmt, coll.model, q)
            for key, direction in order:
                column = _sql_attr(coll, key)
                if column is None:
                    raise BadRequest(f"{key} is invalid attribute for sort_keys", kind="HTTPBadRequest")
                stmt = stmt.order_by(asc(column) if direction == "asc" else desc(column))
            stmt = stmt.order_by(asc(coll.model.id))
            rows = session.scalars(stmt).unique().all()  # unique: joined eager loads repeat rows
            tags = _tags_by_id(session, [r.id for r in rows])
            bodies = [coll.view(session, ctx, r, tags[r.id]) for r in rows]
        if in_python:
            bodies = [b for b in bodies if matches(b, filters, lambda n: n not in in_python)]
        shown, next_marker = page(bodies, q, limit, key=lambda b: b["id"])
        out = {coll.plural: [coll.table.shown(b, fields, ctx.is_admin) for b in shown]}
        if limit is not None:
            links = []
            if next_marker:
                kept = [(k, v) for k, v in q.multi_items() if k not in ("marker", "limit")]
                links.append({"rel": "next", "href": call.url(f"{base}?" + urlencode(
                    [*kept, ("limit", limit), ("marker", next_marker)]))})
            out[f"{coll.plural}_links"] = links
        return out

    def show(call: Call) -> dict:
        coll = of(call)
        fields = [f for raw in call.query.getlist("fields") for f in raw.split(",") if f]
        with _service(call).db.read() as session:
            row = coll.get(session, call.ctx, call.path["id"])
            body = coll.view(session, call.ctx, row)
        return {coll.singular: coll.table.shown(body, fields, call.ctx.is_admin)}

    def create(call: Call) -> Reply:
        coll = of(call)
        ctx, body = call.ctx, call.body
        if isinstance(body, dict) and isinstance(body.get(coll.plural), list):
            items, bulk = body[coll.plural], True
        elif isinstance(body, dict) and isinstance(body.get(coll.singular), dict):
            items, bulk = [body[coll.singular]], False
        else:
            raise BadRequest(f"Unable to find '{coll.singular}' in request body", kind="HTTPBadRequest")
        checked = []
        for item in items:
            if not isinstance(item, dict):
                raise BadRequest(f"Unable to find '{coll.singular}' in request body", kind="HTTPBadRequest")
            checked.append(coll.table.check(item, creating=True, is_admin=ctx.is_admin))
        svc = _service(call)
        for attempt in range(CREATE_ATTEMPTS):
            try:
                with svc.db.write() as session:
                    views = []
                    for item in checked:
                        item = dict(item)
                        tags = sorted(set(item.pop("tags", None) or []))
                        row = coll.create(session, ctx, item)
                        if tags:
                            coll.set_tags(session, row.id, tags)
                        session.flush()
                        views.append(coll.table.shown(coll.view(session, ctx, row, tags), [], ctx.is_admin))
                break
            except IntegrityError:
                if attempt == CREATE_ATTEMPTS - 1:
                    raise
        return Reply({coll.plural: views} if bulk else {coll.singular: views[0]}, 201)

    def update(call: Call) -> dict:
        coll = of(call)
        ctx, body = call.ctx, call.body
        if not isinstance(body, dict) or not isinstance(body.get(coll.singular), dict):
            raise BadRequest(f"Unable to find '{coll.singular}' in request body", kind="HTTPBadRequest")
        changes = coll.table.check(body[coll.singular], creating=False, is_admin=ctx.is_admin)
        with _service(call).db.write() as session:
            row = coll.get(session, ctx, call.path["id"])
            coll.authorize(ctx, "update", coll.target(row))
            _if_match(call, row)
            coll.update(session, ctx, row, changes)
            session.flush()
            return {coll.singular: coll.table.shown(coll.view(session, ctx, row), [], ctx.is_admin)}

    def delete(call: Call) -> Reply:
        coll = of(call)
        ctx = call.ctx
        with _service(call).db.write() as session:
            row = coll.get(session, ctx, call.path["id"])
            coll.authorize(ctx, "delete", coll.target(row))
            _if_match(call, row)
            coll.set_tags(session, row.id, [])
            coll.delete(session, ctx, row)
        return Reply(status=204)

    for fn, verb in ((list_, "list"), (show, "show"), (create, "create"), (update, "update"), (delete, "delete")):
        fn.__name__ = f"{verb}_{plural.replace('-', '_')}"
    return [route(base, "GET", list_), route(item, "GET", show), route(base, "POST", create, status=201),
            route(item, "PUT", update), route(item, "DELETE", delete)]
