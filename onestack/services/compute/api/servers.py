"""/servers: create, list, show, update, delete, and the server actions."""

from __future__ import annotations

import re
import secrets
from urllib.parse import urlencode

from sqlalchemy import asc, desc, select

from onestack.http.errors import BadRequest, NotFound
from onestack.http.listing import after, page, parse_limit
from onestack.http.microversion import at_least
from onestack.http.routing import Call, Reply, route
from onestack.services.compute import schemas, views
from onestack.services.compute.models import ComputeHost, Instance
from onestack.services.compute.models import states as st
from onestack.services.compute.service.servers import authorize

SORTABLE = {"created_at": Instance.created_at, "display_name": Instance.name, "updated_at": Instance.updated_at,
            "vm_state": Instance.vm_state, "task_state": Instance.task_state, "power_state": Instance.power_state,
            "uuid": Instance.id, "launched_at": Instance.launched_at, "host": Instance.host,
            "availability_zone": Instance.availability_zone, "key_name": Instance.key_name,
            "project_id": Instance.project_id, "user_id": Instance.user_id}
# Nova's osapi_max_limit: a list never answers more than this many servers at once.
MAX_PAGE = 1000
# Filters matched in Python (regular expressions, the flavor snapshot, addresses): their lists page in memory.
PYTHON_FILTERS = ("name", "flavor", "ip", "tags", "tags-any", "not-tags", "not-tags-any")
NULLABLE = {"task_state", "launched_at", "host", "availability_zone", "key_name"}
STATUS_FILTER = {"ACTIVE": st.ACTIVE, "BUILD": st.BUILDING, "SHUTOFF": st.STOPPED, "PAUSED": st.PAUSED,
                 "SUSPENDED": st.SUSPENDED, "ERROR": st.ERROR, "VERIFY_RESIZE": st.RESIZED, "DELETED": st.DELETED,
                 "RESCUE": st.RESCUED, "SHELVED": st.SHELVED, "SHELVED_OFFLOADED": st.SHELVED_OFFLOADED}


def compute(call: Call):
    return call.runtime.compute


def request_id(call: Call) -> str:
    return call.request.scope.get("onestack.request_id", "")


def _render(call: Call, instances: list[Instance], detail: bool = True, single: bool = False) -> list[dict]:
    svc = compute(call)
    ids = [i.id for i in instances]
    addresses, groups = svc.networking.addresses_and_groups(ids) if detail else (svc.networking.addresses(ids), {})
    statuses = _host_statuses(call, instances) if detail else {}
    return [views.server(i, call.ctx, call.url, call.version, addresses[i.id], detail=detail, single=single,
                         host_status=statuses.get(i.host), groups=groups.get(i.id, [])) for i in instances]


def _host_statuses(call: Call, instances: list[Instance]) -> dict[str, str]:
    """host -> Nova's host_status, for the admins who see it (from 2.16)."""
    if not (call.ctx.is_admin and at_least(call.version, "2.16")):
        return {}
    svc = compute(call)
    wanted = {i.host for i in instances if i.host}
    running = set(svc.hosts.names())
    with svc.db.read() as session:
        rows = session.scalars(select(ComputeHost).where(ComputeHost.host.in_(wanted))) if wanted else []
        return {row.host: views.host_status(row, row.host in running) for row in rows}


def _full_reply(call: Call) -> bool:
    """Update and rebuild answer with the whole server from 2.75, with its basic view before."""
    return at_least(call.version, "2.75")


def create_server(call: Call) -> Reply:
    body = call.body
    schemas.check(body, schemas.server_create(call.version))
    server = dict(body["server"])
    for key in ("min_count", "max_count"):
        if key in server:
            server[key] = int(server[key])
    hints = body.get("os:scheduler_hints") or body.get("OS-SCH-HNT:scheduler_hints") or {}
    svc = compute(call)
    with svc.db.write() as session:
        made = svc.servers.create(session, call.ctx, server, hints, request_id(call))
    for instance in made:
        svc.engine.wake(instance.id)
    if str(server.get("return_reservation_id", "")).lower() in ("true", "1"):
        return Reply({"reservation_id": made[0].reservation_id}, 202)
    first = made[0]
    # Nova answers with the groups as asked (its ports are not made yet): an empty list stays empty
    asked = server.get("security_groups")
    reply = {"id": first.id, "links": views.links(call.url, "servers", first.id), "OS-DCF:diskConfig": "MANUAL",
             "security_groups": [{"name": g["name"]} for g in asked] if asked is not None else [{"name": "default"}],
             "adminPass": server.get("adminPass") or secrets.token_urlsafe(9)}
    return Reply({"server": reply}, 202, {"Location": call.url(f"/v2.1/servers/{first.id}")})


# Nova's server list query parameters; from 2.75 any other is a 400 (before, it is ignored).
QUERY_PARAMS = frozenset((
    "user_id", "project_id", "tenant_id", "launch_index", "image_ref", "image", "kernel_id", "ramdisk_id",
    "hostname", "key_name", "power_state", "vm_state", "task_state", "host", "node", "flavor", "reservation_id",
    "launched_at", "terminated_at", "availability_zone", "name", "display_name", "description",
    "display_description", "locked_by", "locked", "uuid", "root_device_name", "config_drive", "access_ip_v4",
    "access_ip_v6", "auto_disk_config", "progress", "sort_key", "sort_dir", "all_tenants", "soft_deleted",
    "deleted", "status", "changes-since", "changes-before", "ip", "ip6", "created_at", "block_device_mapping",
    "services", "metadata", "pci_devices", "security_groups", "info_cache", "numa_topology", "keypairs",
    "system_metadata", "fault", "tags", "tags-any", "not-tags", "not-tags-any", "limit", "marker",
    "cell_name", "instance_type_id", "key_data", "updated_at", "deleted_at", "vcpus", "memory_mb", "root_gb",
    "ephemeral_gb", "ephemeral_key_uuid", "shutdown_terminate", "disable_terminate", "cleaned", "extra",
    "default_ephemeral_device", "default_swap_device", "architecture", "os_type", "vm_mode", "launched_on",
    "user_data", "hidden", "availability_zones", "trusted_certs", "resources", "pci_requests", "ec2_ids",
    "migration_context", "vcpu_model", "flavor_id", "device_metadata",
))


def _list(call: Call, detail: bool) -> dict:
    ctx, q = call.ctx, call.query
    authorize(ctx, "os_compute_api:servers:index")
    if at_least(call.version, "2.75"):
        unknown = sorted(set(q.keys()) - QUERY_PARAMS)
        if unknown:
            raise BadRequest(f"Invalid input for query parameters {unknown[0]}. Additional properties are not "
                             f"allowed ('{unknown[0]}' was unexpected)")
    svc = compute(call)
    stmt = svc.servers.list_query(ctx, q)
    status = q.get("status")
    if status is not None:
        vm_state = STATUS_FILTER.get(status.upper())
        if vm_state is None:
            return {"servers": []}
        stmt = stmt.where(Instance.vm_state == vm_state)
    order = []
    for key, direction in zip(q.getlist("sort_key") or ["created_at"], q.getlist("sort_dir") or ["desc"],
                              strict=False):
        if key not in SORTABLE or direction not in ("asc", "desc"):
            raise BadRequest(f"Invalid sort_key or sort_dir: {key} {direction}")
        order.append((SORTABLE[key], direction))
    order.append((Instance.id, "desc"))
    stmt = stmt.order_by(*(asc(c) if d == "asc" else desc(c) for c, d in order))
    limit = parse_limit(q)
    if limit == 0:
        return {"servers": []}
    limit = min(limit or MAX_PAGE, MAX_PAGE)
    in_sql = not any(q.get(k) for k in PYTHON_FILTERS) and all(c.key not in NULLABLE for c, _ in order)
    with svc.db.read() as session:
        if in_sql:
            shown, next_marker = _sql_page(session, stmt, order, q.get("marker"), limit)
        else:
            try:
                shown, next_marker = page(_python_filters(call, list(session.scalars(stmt)), q), q, limit)
            except NotFound:
                raise BadRequest(f"marker [{q.get('marker')}] not found") from None
    out = {"servers": _render(call, shown, detail) if detail else
           [views.brief(i, call.url) for i in shown]}
    if next_marker:
        kept = [(k, v) for k, v in q.multi_items() if k not in ("marker",)]
        path = "/v2.1/servers/detail" if detail else "/v2.1/servers"
        out["servers_links"] = [{"rel": "next", "href": call.url(path + "?" + urlencode([*kept,
                                                                                         ("marker", next_marker)]))}]
    return out


def _sql_page(session, stmt, order: list[tuple], marker: str | None, limit: int) -> tuple[list[Instance], str | None]:
    """One page read from the database: the marker's sort values bound the query, one row more than the
    page says whether another follows."""
    if marker is not None:
        found = session.get(Instance, marker)
        if found is None:
            raise BadRequest(f"marker [{marker}] not found")
        stmt = stmt.where(after(order, [getattr(found, c.key) for c, _ in order]))
    rows = list(session.scalars(stmt.limit(limit + 1)))
    return (rows[:limit], rows[limit - 1].id) if len(rows) > limit else (rows, None)


def _python_filters(call: Call, rows: list[Instance], q) -> list[Instance]:
    """Nova's regular-expression filters (name, ip) and the flavor, which lives in the flavor snapshot."""
    if q.get("name"):
        try:
            pattern = re.compile(q["name"])
        except re.error:
            raise BadRequest(f"Invalid name filter: {q['name']}") from None
        rows = [r for r in rows if pattern.search(r.name)]
    if q.get("flavor"):
        rows = [r for r in rows if str(r.flavor.get("id")) == q["flavor"].rstrip("/").rsplit("/", 1)[-1]]
    rows = _tag_filters(rows, q)
    if q.get("ip"):
        try:
            pattern = re.compile(q["ip"])
        except re.error:
            raise BadRequest(f"Invalid ip filter: {q['ip']}") from None
        addresses = compute(call).networking.addresses([r.id for r in rows])
        rows = [r for r in rows if any(pattern.search(a["addr"]) for entries in addresses[r.id].values()
                                       for a in entries)]
    return rows


# list filter -> whether a server passes, given the filter's tags and the server's
TAG_FILTERS = {
    "tags": lambda wanted, have: wanted <= have,
    "tags-any": lambda wanted, have: bool(wanted & have),
    "not-tags": lambda wanted, have: not wanted <= have,
    "not-tags-any": lambda wanted, have: not wanted & have,
}


def _tag_filters(rows: list[Instance], q) -> list[Instance]:
    """Nova's tag filters (2.26): comma-separated tags, all or any of them, or none of those."""
    for key, passes in TAG_FILTERS.items():
        if q.get(key):
            wanted = {t for t in q[key].split(",") if t}
            rows = [r for r in rows if passes(wanted, set(r.tags or []))]
    return rows


def list_servers(call: Call) -> dict:
    return _list(call, detail=False)


def list_servers_detail(call: Call) -> dict:
    return _list(call, detail=True)


def show_server(call: Call) -> dict:
    svc = compute(call)
    with svc.db.read() as session:
        instance = svc.servers.get(session, call.ctx, call.path["server_id"])
        authorize(call.ctx, "os_compute_api:servers:show", instance)
    return {"server": _render(call, [instance], single=True)[0]}


def update_server(call: Call) -> dict:
    schemas.check(call.body, schemas.server_update(call.version))
    svc = compute(call)
    with svc.db.write() as session:
        instance = svc.servers.get(session, call.ctx, call.path["server_id"])
        svc.servers.update(session, call.ctx, instance, call.body["server"])
    return {"server": _render(call, [instance], detail=_full_reply(call), single=True)[0]}


def delete_server(call: Call) -> Reply:
    svc = compute(call)
    with svc.db.write() as session:
        instance = svc.servers.get(session, call.ctx, call.path["server_id"])
        svc.servers.delete(session, call.ctx, instance, request_id(call))
    svc.engine.wake(instance.id)
    return Reply(status=204)


ROUTES = [
    route("/v2.1/servers", "POST", create_server, status=202),
    route("/v2.1/servers", "GET", list_servers),
    route("/v2.1/servers/detail", "GET", list_servers_detail),
    route("/v2.1/servers/{server_id}", "GET", show_server),
    route("/v2.1/servers/{server_id}", "PUT", update_server),
    route("/v2.1/servers/{server_id}", "DELETE", delete_server),
]
