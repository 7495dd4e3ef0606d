"""The server list as Nova filters, sorts and pages it.

Most filters are SQL and page by keyset (the marker's sort values bound the query); the regular-expression
filters (name, ip), the flavor (in the flavor snapshot) and tags are matched in Python, and such lists page
in memory.  Most filters need admin; a non-admin only ever sees its own project.
"""

from __future__ import annotations

import re

from sqlalchemy import Select, asc, desc, or_, select
from sqlalchemy.orm import Session

from onestack.db.engine import Database
from onestack.http import listing
from onestack.http.context import Context
from onestack.http.errors import BadRequest, NotFound
from onestack.http.listing import after, page, parse_limit
from onestack.http.microversion import Version, at_least
from onestack.http.times import parse_time
from onestack.services.compute.models import Instance
from onestack.services.compute.models import states as st
from onestack.services.compute.policies import authorize
from onestack.services.compute.service.networking import InstanceNetworking

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

# the list's query string as the OpenAPI description publishes it (every name Nova takes; sort keys)
QUERY = listing.query_parameters(sorted(QUERY_PARAMS - {"sort_key", "sort_dir", "limit", "marker"}),
                                 sort_keys=SORTABLE)

# list filter -> whether a server passes, given the filter's tags and the server's
TAG_FILTERS = {
    "tags": lambda wanted, have: wanted <= have,
    "tags-any": lambda wanted, have: bool(wanted & have),
    "not-tags": lambda wanted, have: not wanted <= have,
    "not-tags-any": lambda wanted, have: not wanted & have,
}


class ServerListing:
    def __init__(self, db: Database, networking: InstanceNetworking):
        self.db = db
        self.networking = networking

    def page(self, ctx: Context, q, version: Version | None) -> tuple[list[Instance], str | None]:
        """One page of the servers the caller lists, and the marker of the next page if there is one."""
        authorize(ctx, "os_compute_api:servers:index")
        if at_least(version, "2.75"):
            unknown = sorted(set(q.keys()) - QUERY_PARAMS)
            if unknown:
                raise BadRequest(f"Invalid input for query parameters {unknown[0]}. Additional properties are not "
                                 f"allowed ('{unknown[0]}' was unexpected)")
        stmt = _query(ctx, q)
        status = q.get("status")
        if status is not None:
            vm_state = STATUS_FILTER.get(status.upper())
            if vm_state is None:
                return [], None
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
            return [], None
        limit = min(limit or MAX_PAGE, MAX_PAGE)
        in_sql = not any(q.get(k) for k in PYTHON_FILTERS) and all(c.key not in NULLABLE for c, _ in order)
        with self.db.read() as session:
            if in_sql:
                return _sql_page(session, stmt, order, q.get("marker"), limit)
            rows = list(session.scalars(stmt))
        try:
            return page(self._python_filters(rows, q), q, limit)
        except NotFound:
            raise BadRequest(f"marker [{q.get('marker')}] not found") from None

    def _python_filters(self, rows: list[Instance], q) -> list[Instance]:
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
            addresses = self.networking.addresses([r.id for r in rows])
            rows = [r for r in rows if any(pattern.search(a["addr"]) for entries in addresses[r.id].values()
                                           for a in entries)]
        return rows


def _query(ctx: Context, query) -> Select:
    """Nova's list filters: most need admin; a non-admin only ever sees its own project."""
    all_tenants = query.get("all_tenants") is not None and ctx.is_admin
    stmt = select(Instance)
    deleted = str(query.get("deleted", "")).lower() in ("true", "1", "yes") and ctx.is_admin
    stmt = stmt.where(Instance.deleted.is_(deleted))
    if not all_tenants:
        stmt = stmt.where(Instance.project_id == (query.get("project_id") if ctx.is_admin and
                                                  query.get("project_id") else ctx.project_id))
    elif query.get("project_id") or query.get("tenant_id"):
        stmt = stmt.where(Instance.project_id == (query.get("project_id") or query.get("tenant_id")))
    if query.get("image"):
        stmt = stmt.where(Instance.image_ref == query["image"].rstrip("/").rsplit("/", 1)[-1])
    if query.get("reservation_id"):
        stmt = stmt.where(Instance.reservation_id == query["reservation_id"])
    if query.get("host") and ctx.is_admin:
        stmt = stmt.where(Instance.host == query["host"])
    if query.get("availability_zone"):
        stmt = stmt.where(Instance.availability_zone == query["availability_zone"])
    if query.get("changes-since"):
        since = parse_time(query["changes-since"], "changes-since")
        stmt = stmt.where(or_(Instance.updated_at >= since, Instance.deleted.is_(True)))
    return stmt


def _sql_page(session: Session, stmt, order: list[tuple], marker: str | None,
              limit: int) -> tuple[list[Instance], str | None]:
    """One page read from the database: the marker's sort values bound the query, one row more than the
    page says whether another follows."""
    if marker is not None:
        found = session.get(Instance, marker)
        if found is None:
            raise BadRequest(f"marker [{marker}] not found")
        stmt = stmt.where(after(order, [getattr(found, c.key) for c, _ in order]))
    rows = list(session.scalars(stmt.limit(limit + 1)))
    return (rows[:limit], rows[limit - 1].id) if len(rows) > limit else (rows, None)


def _tag_filters(rows: list[Instance], q) -> list[Instance]:
    """Nova's tag filters (2.26): comma-separated tags, all or any of them, or none of those."""
    for key, passes in TAG_FILTERS.items():
        if q.get(key):
            wanted = {t for t in q[key].split(",") if t}
            rows = [r for r in rows if passes(wanted, set(r.tags or []))]
    return rows
