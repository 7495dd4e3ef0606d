"""Cinder's list semantics, once for volumes and snapshots: exact, like (``name~``, 3.34) and metadata
filters, ``sort``/``sort_key``, limit/marker paging and ``with_count`` (3.45)."""

from __future__ import annotations

import ast
import dataclasses

from sqlalchemy import Select
from sqlalchemy.orm import Session

from onestack.http.errors import BadRequest
from onestack.http.listing import (
    STRING,
    apply_filters,
    apply_sort,
    page,
    parse_limit,
    parse_offset,
    query_parameters,
    seek,
    sort_params,
)
from onestack.http.microversion import Version, at_least


@dataclasses.dataclass
class Page:
    rows: list
    count: int | None
    next_marker: str | None


def _metadata_filter(text: str) -> dict[str, str]:
    """``metadata={'k': 'v'}`` as clients send it (Python literal or JSON)."""
    try:
        found = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        found = None
    if not isinstance(found, dict):
        raise BadRequest(f"Invalid metadata filter: {text}.")
    return {str(k): str(v) for k, v in found.items()}


def query(filters: dict[str, str], sortable: dict[str, str], *, metadata: bool = True) -> dict[str, dict]:
    """The query string ``listing`` reads, as the OpenAPI description publishes it: each filter exact and
    like (``name~``), ``metadata``, both sort forms, limit/marker/offset and ``with_count``."""
    names = [*filters, *(f"{name}~" for name in filters), *(["metadata"] if metadata else [])]
    params = query_parameters(names, sort_keys=sortable, paging=("limit", "marker", "offset"),
                              with_count={"type": "boolean"})
    # Cinder also takes ``sort=key:dir,...``
    params["sort"] = STRING
    return params


def listing(session: Session, stmt: Select, model, query, version: Version | None, *, filters: dict[str, str],
            sortable: dict[str, str], metadata: bool = True) -> Page:
    """``metadata``: whether the rows have metadata to filter on."""
    stmt = apply_filters(stmt, model, query, filters)
    if at_least(version, "3.34"):
        for key, value in query.multi_items():
            if key.endswith("~") and key[:-1] in filters:
                column = getattr(model, filters[key[:-1]])
                stmt = stmt.where(column.contains(value, autoescape=True))
    wanted = _metadata_filter(query["metadata"]) if metadata and "metadata" in query else {}
    keys, dirs = sort_params(query)
    stmt = apply_sort(stmt, model, keys, dirs, sortable, default="created_at", default_dir="desc")
    limit = parse_limit(query)
    if (limit is not None and not wanted and not keys and not dirs and parse_offset(query) == 0
            and not _true(query.get("with_count"))):
        # default order, filters all in SQL, no count: read the marker row and limit + 1 rows after it
        rows = seek(session, stmt, model, [(model.created_at, "desc"), (model.id, "asc")], query.get("marker"), limit)
    else:
        rows = [row for row in session.scalars(stmt).unique()
                if all(row.metadata_.get(k) == v for k, v in wanted.items())]
    count = len(rows) if at_least(version, "3.45") and _true(query.get("with_count")) else None
    rows = rows[parse_offset(query):]
    shown, marker = page(rows, query, limit)
    if marker is None and limit and shown and len(shown) == limit:
        # Cinder links a next page whenever this one is full, even if that one turns out empty (Tempest's
        # paging test follows it)
        marker = shown[-1].id
    return Page(shown, count, marker)


def _true(value: str | None) -> bool:
    return (value or "").lower() in ("true", "1", "yes", "on")
