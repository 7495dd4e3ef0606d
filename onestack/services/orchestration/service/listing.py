"""Heat's stack list: its filters (``name``, ``status``, ``action``, ``id``, ``tenant``, ``username``,
``owner_id``, the four tag filters), ``sort_keys``/``sort_dir`` and ``limit``/``marker``."""

from __future__ import annotations

import datetime

from onestack.http.errors import BadRequest
from onestack.http.listing import page
from onestack.services.orchestration.models import Stack

SORT_KEYS = {"stack_name": "name", "name": "name", "stack_status": "status", "status": "status",
             "creation_time": "created_at", "created_at": "created_at", "updated_time": "updated_at",
             "updated_at": "updated_at"}
NEVER = datetime.datetime.min.replace(tzinfo=datetime.UTC)


def flag(value: str | None) -> bool:
    """A boolean query parameter (absent is false)."""
    if value is None:
        return False
    if value.lower() in ("true", "1", "yes", "on", "t", "y"):
        return True
    if value.lower() in ("false", "0", "no", "off", "f", "n", ""):
        return False
    raise BadRequest(f"Unrecognized value \"{value}\", acceptable values are: true, false")


def _tags(query, key: str) -> set[str] | None:
    values = [t.strip() for v in query.getlist(key) for t in v.split(",") if t.strip()]
    return set(values) if values else None


def _matches(stack: Stack, query) -> bool:
    def any_of(key: str, value: str) -> bool:
        wanted = query.getlist(key)
        return not wanted or value in wanted

    statuses = query.getlist("status")
    if statuses and not any(s in (stack.status, f"{stack.action}_{stack.status}") for s in statuses):
        return False
    if not (any_of("name", stack.name) and any_of("action", stack.action) and any_of("id", stack.id)
            and any_of("tenant", stack.project_id) and any_of("username", stack.username)
            and any_of("owner_id", stack.owner_id or "")):
        return False
    tags = set(stack.tags or [])
    every, some = _tags(query, "tags"), _tags(query, "tags_any")
    not_every, not_some = _tags(query, "not_tags"), _tags(query, "not_tags_any")
    if every is not None and not every <= tags:
        return False
    if some is not None and not some & tags:
        return False
    if not_every is not None and not_every <= tags:
        return False
    return not (not_some is not None and not_some & tags)


def filtered(stacks: list[Stack], query) -> list[Stack]:
    return [s for s in stacks if _matches(s, query)]


def sorted_page(stacks: list[Stack], query, limit: int | None) -> list[Stack]:
    """Sorted (newest first unless asked otherwise) and cut at ``marker`` and ``limit``."""
    keys = [k for v in query.getlist("sort_keys") for k in v.split(",") if k] or ["created_at"]
    direction = query.get("sort_dir", "desc")
    if direction not in ("asc", "desc"):
        raise BadRequest(f"Invalid sort direction: {direction}; one of asc, desc")
    for key in keys:
        if key not in SORT_KEYS:
            raise BadRequest(f"Invalid sort key: {key}; one of {', '.join(SORT_KEYS)}")
    columns = [SORT_KEYS[k] for k in keys]

    def key(stack: Stack):
        return tuple(getattr(stack, c) or (NEVER if c.endswith("_at") else "") for c in columns) + (stack.id,)

    ordered = sorted(stacks, key=key, reverse=direction == "desc")
    return page(ordered, query, limit)[0]
